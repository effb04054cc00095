from __future__ import annotations

import numpy as np
import pytest

from runner.engine.datasets import Dataset
from runner.engine.errors import EngineError
from runner.engine.expressions import parse_filter, parse_item_attributes
from runner.engine.model import ITEM_AFFINITY, ITEM_ATTRIBUTE_AFFINITY, top_users, train
from runner.engine.neighbors import Matrix
from runner.engine.store import ModelStore
from tests.engine.conftest import N_GROUPS, N_ITEMS, N_USERS, Trained

GROUP_SIZE = N_USERS // N_GROUPS


def _one_hot(items: list[int], n_items: int) -> Matrix:
    rows = np.arange(len(items))
    return Matrix(
        (np.ones(len(items), dtype=np.float32), (rows, np.array(items))),
        shape=(len(items), n_items),
    )


def _group_precision(trained: Trained, user_ids: list[str], group: int) -> float:
    groups = dict(zip(trained.demo.user_ids, trained.demo.user_groups.tolist(), strict=True))
    return float(np.mean([groups[user] == group for user in user_ids]))


def test_segment_of_an_item_is_mostly_users_of_its_group(trained: Trained) -> None:
    model = trained.store().load_model(trained.item_affinity_arn)
    items = list(range(N_ITEMS))
    num_results = int(GROUP_SIZE * 0.8)
    segments = model.segments(_one_hot(items, model.n_items), num_results=num_results)
    precisions = []
    for item, users in zip(items, segments, strict=True):
        assert len(users) == num_results
        group = int(trained.demo.item_groups[trained.demo.item_ids.index(model.item_ids[item])])
        precisions.append(_group_precision(trained, model.user_ids[users].tolist(), group))
    assert np.mean(precisions) >= 0.9
    assert np.min(precisions) >= 0.8


def test_segment_of_a_genre_is_mostly_users_of_its_group(trained: Trained) -> None:
    model = trained.store().load_model(trained.attribute_affinity_arn)
    num_results = int(GROUP_SIZE * 0.8)
    for group in range(N_GROUPS):
        genre = trained.demo.genre(group)
        items = model.matching_items(parse_item_attributes(f'ITEMS.genres = "{genre}"'))
        weights = Matrix(
            (
                np.full(len(items), 1 / len(items), dtype=np.float32),
                (np.zeros(len(items), dtype=np.int64), items),
            ),
            shape=(1, model.n_items),
        )
        [users] = model.segments(weights, num_results=num_results)
        assert _group_precision(trained, model.user_ids[users].tolist(), group) >= 0.9


def test_attribute_expressions_match_multi_valued_and_combined_fields(trained: Trained) -> None:
    model = trained.store().load_model(trained.attribute_affinity_arn)
    genres = trained.demo.item_genres
    comedy = model.matching_items(parse_item_attributes('ITEMS.GENRES = "Comedy"'))
    assert {model.item_ids[k] for k in comedy} == {
        item
        for item, genre in zip(trained.demo.item_ids, genres, strict=True)
        if "Comedy" in genre.split("|")
    }
    year = int(trained.demo.item_years[0])
    both = model.matching_items(
        parse_item_attributes(f'ITEMS.genres = "Comedy" AND ITEMS.year = "{year}"')
    )
    expected = {
        item
        for item, genre, item_year in zip(
            trained.demo.item_ids, genres, trained.demo.item_years.tolist(), strict=True
        )
        if "Comedy" in genre.split("|") and item_year == year
    }
    assert {model.item_ids[k] for k in both} == expected
    assert expected


def test_users_are_ranked_by_score_then_by_rank_and_unscored_users_fill_the_segment() -> None:
    users = np.array([5, 2, 9, 7, 3], dtype=np.int64)
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.5], dtype=np.float32)
    assert top_users(users, scores, num_results=3, n_users=10).tolist() == [2, 3, 5]
    assert top_users(users, scores, num_results=8, n_users=10).tolist() == [2, 3, 5, 9, 7, 0, 1, 4]
    allowed = np.ones(10, dtype=np.bool_)
    allowed[[2, 0]] = False
    assert top_users(users, scores, num_results=4, n_users=10, allowed=allowed).tolist() == [
        3,
        5,
        9,
        7,
    ]
    assert top_users(users, scores, num_results=20, n_users=10, allowed=allowed).tolist() == [
        3,
        5,
        9,
        7,
        1,
        4,
        6,
        8,
    ]


def _tiny(user_items: list[tuple[str, str]]) -> Dataset:
    users, items = zip(*user_items, strict=True)
    user_ids, user_codes = np.unique(np.array(users), return_inverse=True)
    item_ids, item_codes = np.unique(np.array(items), return_inverse=True)
    return Dataset(
        user_ids=user_ids,
        item_ids=item_ids,
        users=user_codes.astype(np.int32),
        items=item_codes.astype(np.int32),
        timestamps=np.zeros(len(users), dtype=np.int64),
    )


def test_cosine_neighbours_and_scores_on_a_tiny_dataset() -> None:
    # a and b are always bought together; c by someone else.
    dataset = _tiny([("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b"), ("u3", "c"), ("u4", "b")])
    model = train(dataset, recipe=ITEM_AFFINITY)
    assert model.user_ids.tolist() == ["u1", "u2", "u3", "u4"]  # activity, then id
    similarity = model.similarity.toarray()
    assert similarity[0].tolist() == pytest.approx([1, 2 / np.sqrt(6), 0])
    [users] = model.segments(_one_hot([0], model.n_items), num_results=4)
    # u1, u2: a (1) + b (0.816); u4: b only; u3: nothing, last.
    assert model.user_ids[users].tolist() == ["u1", "u2", "u4", "u3"]


def test_repeated_interactions_count_once() -> None:
    once = train(_tiny([("u1", "a"), ("u2", "a"), ("u2", "b")]), recipe=ITEM_AFFINITY)
    twice = train(_tiny([("u1", "a"), ("u1", "a"), ("u2", "a"), ("u2", "b")]), recipe=ITEM_AFFINITY)
    assert once.similarity.toarray().tolist() == twice.similarity.toarray().tolist()
    assert once.item_users.toarray().tolist() == twice.item_users.toarray().tolist()


def test_a_saved_model_loads_back_the_same(trained: Trained) -> None:
    saved = trained.store().load_model(trained.attribute_affinity_arn)
    loaded = ModelStore(trained.store_root).load_model(trained.attribute_affinity_arn)
    queries = _one_hot([0, 1, 2], saved.n_items)
    first = saved.segments(queries, num_results=50)
    second = loaded.segments(queries, num_results=50)
    assert [a.tolist() for a in first] == [b.tolist() for b in second]
    assert loaded.item_attributes is not None
    assert loaded.item_attributes.names == ["GENRES", "YEAR"]


def test_user_filters_select_by_attribute_and_event_type(trained: Trained) -> None:
    model = trained.store().load_model(trained.item_affinity_arn)
    demo = trained.demo
    index = {user: k for k, user in enumerate(demo.user_ids)}
    rows = [index[user] for user in model.user_ids.tolist()]
    gold = demo.user_memberships[rows] == 0
    adult = demo.user_ages[rows] >= 30
    allowed = model.allowed_users(
        parse_filter('INCLUDE UserID WHERE Users.MEMBERSHIP IN ("gold") AND Users.AGE >= 30')
    )
    assert allowed.tolist() == (gold & adult).tolist()
    allowed = model.allowed_users(
        parse_filter('EXCLUDE UserID WHERE Users.membership = "gold" OR Users.AGE < 30')
    )
    assert allowed.tolist() == (~gold & adult).tolist()
    purchased = np.zeros(len(demo.user_ids), dtype=np.bool_)
    purchased[demo.users[demo.event_types == 1]] = True
    allowed = model.allowed_users(
        parse_filter('EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    )
    assert allowed.tolist() == (~purchased[rows]).tolist()


def test_training_refuses_what_it_cannot_train(trained: Trained) -> None:
    tiny = _tiny([("u1", "a")])
    with pytest.raises(EngineError, match="recipe 'aws-similar-items' does not make segments"):
        train(tiny, recipe="aws-similar-items")
    with pytest.raises(EngineError, match="needs an items dataset"):
        train(tiny, recipe=ITEM_ATTRIBUTE_AFFINITY)
    with pytest.raises(EngineError, match="neighbors must be at least 1"):
        train(tiny, recipe=ITEM_AFFINITY, neighbors=0)
