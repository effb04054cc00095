from __future__ import annotations

import numpy as np
import pytest

from runner.engine.attributes import AttributeColumn
from runner.engine.datasets import Dataset
from runner.engine.errors import EngineError
from runner.engine.expressions import ExpressionError
from runner.engine.item_filters import allowed_items, parse_item_filter
from runner.engine.recommender import RecommendationModel, train_recommender
from runner.engine.store import ModelStore
from tests.engine.conftest import N_GROUPS, Recommenders

NUM_RESULTS = 25


def _groups(recommenders: Recommenders) -> tuple[dict[str, int], dict[str, int]]:
    demo = recommenders.trained.demo
    users = dict(zip(demo.user_ids, demo.user_groups.tolist(), strict=True))
    items = dict(zip(demo.item_ids, demo.item_groups.tolist(), strict=True))
    return users, items


def _model(recommenders: Recommenders, recipe: str) -> RecommendationModel:
    return recommenders.store().load_recommender(recommenders.arns[recipe])


def test_users_are_recommended_the_items_of_their_group(recommenders: Recommenders) -> None:
    model = _model(recommenders, "aws-user-personalization-v2")
    user_groups, item_groups = _groups(recommenders)
    users = model.user_rows(list(user_groups))
    users = users[users >= 0]  # users without interactions are not in the model
    assert len(users) >= 0.95 * len(user_groups)
    precisions = []
    for start in range(0, len(users), 500):
        block = users[start : start + 500]
        for user, items in zip(
            block, model.ranked(model.user_scores(block), num_results=NUM_RESULTS), strict=True
        ):
            assert len(items) == NUM_RESULTS
            group = user_groups[str(model.user_ids[user])]
            precisions.append(np.mean([item_groups[i] == group for i in model.item_ids[items]]))
    assert np.mean(precisions) >= 0.9
    # Only users with a short history mixing groups fall below (the worst: 4 items, 3 groups).
    assert np.percentile(precisions, 5) >= 0.8


def test_related_items_are_items_of_the_same_group(recommenders: Recommenders) -> None:
    model = _model(recommenders, "aws-similar-items")
    _, item_groups = _groups(recommenders)
    items = np.arange(model.n_items)
    not_itself = np.ones((model.n_items, model.n_items), dtype=np.bool_)
    not_itself[items, items] = False
    related = model.ranked(model.item_scores(items), num_results=10, allowed=not_itself)
    precisions = []
    for item, others in zip(items, related, strict=True):
        assert item not in others
        group = item_groups[str(model.item_ids[item])]
        precisions.append(np.mean([item_groups[i] == group for i in model.item_ids[others]]))
    assert np.mean(precisions) >= 0.9


def test_a_ranking_puts_the_items_of_the_users_group_first(recommenders: Recommenders) -> None:
    model = _model(recommenders, "aws-personalized-ranking-v2")
    user_groups, _ = _groups(recommenders)
    demo = recommenders.trained.demo
    rng = np.random.default_rng(5)
    hits = []
    for user in rng.choice(len(demo.user_ids), size=200, replace=False).tolist():
        group = int(demo.user_groups[user])
        own = rng.choice(np.flatnonzero(demo.item_groups == group), size=2, replace=False)
        other = rng.choice(np.flatnonzero(demo.item_groups != group), size=6, replace=False)
        listed = model.item_rows([demo.item_ids[k] for k in rng.permutation([*own, *other])])
        [scores] = model.user_scores(model.user_rows([demo.user_ids[user]]))
        ranked = model.rank_list(scores, listed)
        assert sorted(ranked.tolist()) == sorted(listed.tolist())
        top = {str(item) for item in model.item_ids[ranked[:2]]}
        hits.append(top == {demo.item_ids[k] for k in own})
    assert np.mean(hits) >= 0.9
    assert len(user_groups) > 0


def test_popularity_count_recommends_the_items_with_most_users(recommenders: Recommenders) -> None:
    model = _model(recommenders, "aws-popularity-count")
    dataset = recommenders.trained.dataset
    distinct_users = np.array(
        [len(set(dataset.users[dataset.items == k].tolist())) for k in range(model.n_items)]
    )
    expected = np.lexsort((np.arange(model.n_items), -distinct_users))[:NUM_RESULTS]
    rows = model.user_rows([recommenders.trained.demo.user_ids[0], "nobody"])
    first, second = model.ranked(model.user_scores(rows), num_results=NUM_RESULTS)
    assert first.tolist() == second.tolist() == expected.tolist()


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


def test_scores_ties_and_cold_users_on_a_tiny_dataset() -> None:
    # a and b go together; c and d are bought by others, d by more users than c.
    dataset = _tiny(
        [
            *[("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b")],
            *[("u3", "c"), ("u4", "d"), ("u5", "d"), ("u5", "d")],
        ]
    )
    model = train_recommender(dataset, recipe="aws-user-personalization-v2")
    assert model.popularity.tolist() == [2, 2, 1, 2]  # repeats count once
    [u1, cold] = model.user_scores(model.user_rows(["u1", "nobody"]))
    # u1's history {a, b} scores a and b alike (1 + 1 each), c and d not at all.
    assert u1.tolist() == pytest.approx([0.5, 0.5, 0, 0])
    assert cold.tolist() == pytest.approx([2 / 7, 2 / 7, 1 / 7, 2 / 7])
    first, second = model.ranked(np.stack([u1, cold]), num_results=4)
    # Equal scores: the more popular item first, then the smaller id.
    assert model.item_ids[first].tolist() == ["a", "b", "d", "c"]
    assert model.item_ids[second].tolist() == ["a", "b", "d", "c"]
    [top] = model.ranked(u1[None, :], num_results=10)
    assert len(top) == 4


def test_a_saved_model_loads_back_the_same(recommenders: Recommenders) -> None:
    arn = recommenders.arns["aws-user-personalization-v2"]
    saved = recommenders.store().load_recommender(arn)
    loaded = ModelStore(recommenders.trained.store_root).load_recommender(arn)
    users = saved.user_rows(recommenders.trained.demo.user_ids[:20])
    first = saved.ranked(saved.user_scores(users), num_results=30)
    second = loaded.ranked(loaded.user_scores(users), num_results=30)
    assert [a.tolist() for a in first] == [b.tolist() for b in second]
    assert loaded.event_types.tolist() == ["click", "purchase"]
    assert loaded.item_attributes is not None


def test_item_filters_select_items_and_the_users_interactions(
    recommenders: Recommenders,
) -> None:
    model = _model(recommenders, "aws-user-personalization-v2")
    demo = recommenders.trained.demo
    user = 3
    rows = model.user_rows([demo.user_ids[user]])
    purchased = {
        demo.item_ids[item]
        for item, kind, who in zip(demo.items, demo.event_types, demo.users, strict=True)
        if who == user and kind == 1
    }
    assert purchased
    mask = allowed_items(
        model,
        parse_item_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'),
        rows,
    )
    assert {str(item) for item in model.item_ids[~mask[0]]} == purchased
    seen = {demo.item_ids[item] for item, who in zip(demo.items, demo.users, strict=True)}
    mask = allowed_items(
        model, parse_item_filter('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")'), rows
    )
    assert {str(item) for item in model.item_ids[mask[0]]} == {
        demo.item_ids[item] for item, who in zip(demo.items, demo.users, strict=True) if who == user
    }
    assert seen
    comedy = 'INCLUDE ItemID WHERE Items.GENRES IN ("Comedy") AND Items.YEAR >= 2000'
    mask = allowed_items(model, parse_item_filter(comedy), rows)
    assert mask.shape == (1, model.n_items)
    assert {str(item) for item in model.item_ids[mask[0]]} == {
        item
        for item, genres, year in zip(
            demo.item_ids, demo.item_genres, demo.item_years.tolist(), strict=True
        )
        if "Comedy" in genres.split("|") and year >= 2000
    }
    chained = (
        'EXCLUDE ItemID WHERE Items.GENRES = "Comedy" | EXCLUDE ItemID WHERE Items.YEAR < 2000'
    )
    both = allowed_items(model, parse_item_filter(chained), rows)
    assert not (both & mask).any()
    assert N_GROUPS > 1


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            'INCLUDE ItemID WHERE Items.GENRES IN ("Comedy") IF CurrentUser.AGE > 18',
            "IF CurrentUser conditions are not supported locally",
        ),
        (
            'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("click")',
            "Interactions.EVENT_TYPE NOT IN is not supported locally",
        ),
        (
            'EXCLUDE ItemID WHERE Interactions.EVENT_VALUE IN ("1")',
            "Interactions.EVENT_VALUE is not supported locally",
        ),
        ('EXCLUDE ItemID WHERE Users.AGE IN ("1")', "expected Items.<field> or Interactions"),
        (
            'EXCLUDE ItemID WHERE Items.GENRES IN ("x") AND Interactions.EVENT_TYPE IN ("click")',
            "Items and Interactions conditions cannot be joined in one expression; chain two "
            "expressions with '|' instead",
        ),
        (
            " | ".join(f'EXCLUDE ItemID WHERE Items.F{k} IN ("x")' for k in range(6)),
            "the filter uses 6 dataset fields; a filter may use at most 5",
        ),
    ],
)
def test_item_filters_the_local_engine_refuses(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message.replace("$", r"\$")):
        parse_item_filter(expression)


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ("aws-trending-now", "has no batch recommendations at the service"),
        ("aws-next-best-action", "has no batch recommendations at the service"),
        ("aws-item-affinity", "is a USER_SEGMENTATION recipe; its solution versions make segments"),
        ("aws-nope", "unknown recipe 'aws-nope'"),
    ],
)
def test_training_refuses_what_it_cannot_train(recipe: str, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        train_recommender(_tiny([("u1", "a")]), recipe=recipe)


def test_an_event_type_filter_needs_event_types_in_the_interactions() -> None:
    model = train_recommender(_tiny([("u1", "a"), ("u2", "b")]), recipe="aws-sims")
    users = model.user_rows(["u1"])
    anything = allowed_items(
        model, parse_item_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")'), users
    )
    assert model.item_ids[anything[0]].tolist() == ["b"]
    with pytest.raises(ExpressionError, match="has no EVENT_TYPE column"):
        allowed_items(
            model,
            parse_item_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")'),
            np.zeros(0, dtype=np.int64),
        )


def test_chained_item_filters_combine_as_the_developer_guide_says(
    recommenders: Recommenders,
) -> None:
    model = _model(recommenders, "aws-user-personalization-v2")
    demo = recommenders.trained.demo
    rows = model.user_rows([demo.user_ids[3]])

    def mask(expression: str) -> set[str]:
        allowed = np.broadcast_to(
            allowed_items(model, parse_item_filter(expression), rows), (1, model.n_items)
        )
        return {str(item) for item in model.item_ids[allowed[0]]}

    comedy = 'Items.GENRES IN ("Comedy")'
    purchased = 'Interactions.EVENT_TYPE IN ("PURCHASE")'  # event types ignore case
    assert mask(f"EXCLUDE ItemID WHERE {purchased}") == set(model.item_ids.tolist()) - mask(
        'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    )
    # INCLUDE A | INCLUDE B: the union; INCLUDE A | EXCLUDE B (in either order): A - B.
    either = mask(f"INCLUDE ItemID WHERE {comedy} | INCLUDE ItemID WHERE {purchased}")
    assert either == mask(f"INCLUDE ItemID WHERE {comedy}") | mask(
        f"INCLUDE ItemID WHERE {purchased}"
    )
    minus = mask(f"INCLUDE ItemID WHERE {comedy}") - mask(f"INCLUDE ItemID WHERE {purchased}")
    assert mask(f"INCLUDE ItemID WHERE {comedy} | EXCLUDE ItemID WHERE {purchased}") == minus
    assert mask(f"EXCLUDE ItemID WHERE {purchased} | INCLUDE ItemID WHERE {comedy}") == minus
    assert minus
    assert either != minus


def test_event_filters_see_the_latest_100_interactions_of_each_type() -> None:
    clicks = [f"c{k:03d}" for k in range(105)]
    item_ids = np.array(sorted([*clicks, "p"]))
    items = [int(np.searchsorted(item_ids, item)) for item in [*clicks, "p"]]
    dataset = Dataset(
        user_ids=np.array(["u1"]),
        item_ids=item_ids,
        users=np.zeros(106, dtype=np.int32),
        items=np.array(items, dtype=np.int32),
        timestamps=np.array([*range(105), 0], dtype=np.int64),  # c000 is the oldest click
        event_types=AttributeColumn(
            "EVENT_TYPE",
            np.array(["click", "purchase"]),
            np.arange(106, dtype=np.int32),
            np.array([0] * 105 + [1], dtype=np.int32),
        ),
    )
    model = train_recommender(dataset, recipe="aws-user-personalization-v2")
    users = model.user_rows(["u1"])

    def included(types: str) -> list[str]:
        expression = f"INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ({types})"
        allowed = allowed_items(model, parse_item_filter(expression), users)
        return [str(item) for item in model.item_ids[allowed[0]]]

    assert included('"click"') == clicks[5:]
    assert included('"Purchase"') == ["p"]
    assert included('"*"') == [*clicks[5:], "p"]


@pytest.mark.parametrize("dense_share", [0.0, 1.0])  # rank the dense rows, or the nonzeros
@pytest.mark.parametrize("num_results", [5, 25, 60, 1_000])
@pytest.mark.parametrize(
    "expression",
    [
        None,
        'EXCLUDE ItemID WHERE Items.GENRES IN ("Comedy")',
        'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
        "INCLUDE ItemID WHERE Items.YEAR < 1995",
    ],
)
def test_the_sparse_ranking_is_the_dense_one(
    recommenders: Recommenders, num_results: int, expression: str | None, dense_share: float
) -> None:
    demo = recommenders.trained.demo
    names = [*demo.user_ids[:150], "nobody", "nobody-else"]
    for recipe in ("aws-user-personalization-v2", "aws-popularity-count"):
        model = _model(recommenders, recipe)
        users = model.user_rows(names)
        allowed = allowed_items(model, parse_item_filter(expression), users) if expression else None
        dense = model.user_scores(users)
        expected = model.ranked(dense, num_results=num_results, allowed=allowed)
        got = model.best(
            model.user_score_rows(users),
            num_results=num_results,
            allowed=allowed,
            fallback=model.popularity_share,
            dense_share=dense_share,
        )
        assert [items.tolist() for items, _ in got] == [items.tolist() for items in expected]
        for row, (items, scores) in enumerate(got):
            assert scores.tolist() == dense[row, items].tolist()
    model = _model(recommenders, "aws-similar-items")
    items = model.item_rows([*demo.item_ids[:100], "unknown"])
    not_itself = np.ones((len(items), model.n_items), dtype=np.bool_)
    not_itself[np.arange(len(items) - 1), items[:-1]] = False
    expected = model.ranked(model.item_scores(items), num_results=num_results, allowed=not_itself)
    got = model.best(
        model.item_score_rows(items),
        num_results=num_results,
        allowed=not_itself,
        dense_share=dense_share,
    )
    assert [found.tolist() for found, _ in got] == [items.tolist() for items in expected]


@pytest.mark.parametrize("num_results", [1, 5, 25, 150, 1_000])
@pytest.mark.parametrize("filtered", [False, True])
def test_ranked_is_a_full_sort_by_score_then_popularity(
    recommenders: Recommenders, num_results: int, filtered: bool
) -> None:
    model = _model(recommenders, "aws-user-personalization-v2")
    users = model.user_rows(recommenders.trained.demo.user_ids[:200])
    scores = model.user_scores(users)
    scores[::3] = np.round(scores[::3], 3)  # many ties
    scores[1::7] = 0  # rows without any score
    scores[2::7, 10:] = 0  # rows short of scores
    rng = np.random.default_rng(1)
    allowed = rng.random((len(users), model.n_items)) < 0.9 if filtered else None
    popularity_rank = np.lexsort((np.arange(model.n_items), -model.popularity))
    tiebreak = np.empty(model.n_items, dtype=np.int64)
    tiebreak[popularity_rank] = -np.arange(model.n_items)
    ranked = model.ranked(scores, num_results=num_results, allowed=allowed)
    for row, items in enumerate(ranked):
        order = np.lexsort((-tiebreak, -scores[row].astype(np.float64)))
        if allowed is not None:
            order = order[allowed[row, order]]
        assert items.tolist() == order[:num_results].tolist()
