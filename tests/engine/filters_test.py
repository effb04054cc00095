"""Segment filters (users) and item filters (items) read chained expressions one way, the
developer guide's ("Combining multiple expressions"): INCLUDEs are a union, EXCLUDEs are
subtracted from it, in whatever order; event types match without regard to case."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from runner.engine.expressions import ExpressionError, parse_filter
from runner.engine.item_filters import allowed_items, parse_item_filter
from runner.engine.jobs import execute_job
from runner.engine.model import ITEM_AFFINITY, train
from tests.engine.conftest import Recommenders, Trained

Sets = Callable[[set[str], set[str], set[str], set[str]], set[str]]
# A chain of the conditions a, b, c, and what it keeps of everything (e) by the guide.
CHAINS: list[tuple[str, Sets]] = [
    ("INCLUDE {a}", lambda e, a, b, c: a),
    ("EXCLUDE {a}", lambda e, a, b, c: e - a),
    ("INCLUDE {a} | INCLUDE {b}", lambda e, a, b, c: a | b),
    ("EXCLUDE {a} | EXCLUDE {b}", lambda e, a, b, c: e - (a | b)),
    ("INCLUDE {a} | EXCLUDE {c}", lambda e, a, b, c: a - c),
    ("EXCLUDE {c} | INCLUDE {a}", lambda e, a, b, c: a - c),
    ("INCLUDE {a} | EXCLUDE {c} | INCLUDE {b}", lambda e, a, b, c: (a | b) - c),
    ("EXCLUDE {b} | INCLUDE {a} | EXCLUDE {c} | INCLUDE {c}", lambda e, a, b, c: (a | c) - b - c),
    ("INCLUDE {a} OR {b} | EXCLUDE {a} AND {b}", lambda e, a, b, c: (a | b) - (a & b)),
]


@pytest.mark.parametrize(("chain", "expected"), CHAINS, ids=[chain for chain, _ in CHAINS])
def test_segment_filters_combine_as_the_developer_guide_says(
    trained: Trained, chain: str, expected: Sets
) -> None:
    model = trained.store().load_model(trained.item_affinity_arn)
    demo = trained.demo
    users = [str(user) for user in model.user_ids.tolist()]
    index = {user: k for k, user in enumerate(demo.user_ids)}
    gold = {user for user in users if demo.user_memberships[index[user]] == 0}
    young = {user for user in users if demo.user_ages[index[user]] < 25}
    purchased = {demo.user_ids[user] for user in demo.users[demo.event_types == 1].tolist()}
    assert purchased
    assert gold - young
    assert young - gold
    # "PURCHASE": the service ignores the case of event types (and only theirs).
    text = (
        chain.format(
            a='UserID WHERE Users.MEMBERSHIP IN ("gold")',
            b="UserID WHERE Users.AGE < 25",
            c='UserID WHERE Interactions.EVENT_TYPE IN ("PURCHASE")',
        )
        .replace("OR UserID WHERE", "OR")
        .replace("AND UserID WHERE", "AND")
    )
    allowed = model.allowed_users(parse_filter(text))
    assert set(model.user_ids[allowed].tolist()) == expected(set(users), gold, young, purchased)


@pytest.mark.parametrize(("chain", "expected"), CHAINS, ids=[chain for chain, _ in CHAINS])
def test_item_filters_combine_as_segment_filters_do(
    recommenders: Recommenders, chain: str, expected: Sets
) -> None:
    model = recommenders.store().load_recommender(recommenders.arns["aws-similar-items"])
    demo = recommenders.trained.demo
    user = 3
    items = {str(item) for item in model.item_ids.tolist()}
    comedy = {
        item
        for item, genres in zip(demo.item_ids, demo.item_genres, strict=True)
        if "Comedy" in genres.split("|") and item in items
    }
    old = {
        item
        for item, year in zip(demo.item_ids, demo.item_years.tolist(), strict=True)
        if year < 1995 and item in items
    }
    purchased = {
        demo.item_ids[item]
        for item, kind, who in zip(demo.items, demo.event_types, demo.users, strict=True)
        if who == user and kind == 1
    }
    assert purchased
    assert comedy - old
    assert old - comedy
    text = (
        chain.format(
            a='ItemID WHERE Items.GENRES IN ("Comedy")',
            b="ItemID WHERE Items.YEAR < 1995",
            c='ItemID WHERE Interactions.EVENT_TYPE IN ("PURCHASE")',
        )
        .replace("OR ItemID WHERE", "OR")
        .replace("AND ItemID WHERE", "AND")
    )
    rows = model.user_rows([demo.user_ids[user]])
    allowed = np.broadcast_to(allowed_items(model, parse_item_filter(text), rows), (1, len(items)))
    assert set(model.item_ids[allowed[0]].tolist()) == expected(items, comedy, old, purchased)


def test_segment_event_type_filters_ignore_case_and_take_any_event_type(
    trained: Trained,
) -> None:
    model = trained.store().load_model(trained.item_affinity_arn)

    def users(expression: str) -> list[str]:
        allowed = model.allowed_users(parse_filter(expression))
        return [str(user) for user in model.user_ids[allowed].tolist()]

    purchased = users('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    assert 0 < len(purchased) < model.n_users
    assert users('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("Purchase")') == purchased
    assert users('INCLUDE UserID WHERE Interactions.EVENT_TYPE = "PURCHASE"') == purchased
    assert users('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("*")') == (
        model.user_ids.tolist()
    )
    assert users('EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("*")') == []
    # Only event types ignore case: the values of a user field match as written.
    assert users('INCLUDE UserID WHERE Users.MEMBERSHIP IN ("GOLD")') == []
    with pytest.raises(ExpressionError, match=r"Interactions\.EVENT_TYPE < is not supported"):
        users("INCLUDE UserID WHERE Interactions.EVENT_TYPE < 3")


def test_without_event_types_only_any_event_type_can_be_filtered(trained: Trained) -> None:
    dataset = trained.dataset
    without = type(dataset)(
        dataset.user_ids, dataset.item_ids, dataset.users, dataset.items, dataset.timestamps
    )
    model = train(without, recipe=ITEM_AFFINITY, neighbors=5)
    everyone = model.allowed_users(
        parse_filter('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("*")')
    )
    assert everyone.all()
    with pytest.raises(ExpressionError, match="has no EVENT_TYPE column"):
        model.allowed_users(parse_filter('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("x")'))


def test_a_segment_job_keeps_the_union_of_its_includes(trained: Trained, tmp_path: Path) -> None:
    models = trained.store()
    arn = models.save_filter(
        "gold-or-young",
        'INCLUDE UserID WHERE Users.MEMBERSHIP IN ("gold") | INCLUDE UserID WHERE Users.AGE < 25'
        ' | EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("Purchase")',
    ).arn
    source = tmp_path / "bucket" / "in" / "items.jsonl"
    source.parent.mkdir(parents=True)
    source.write_text(json.dumps({"itemId": trained.demo.item_ids[0]}) + "\n", encoding="utf-8")
    request = {
        "jobName": "job",
        "solutionVersionArn": trained.item_affinity_arn,
        "jobInput": {"s3DataSource": {"path": "s3://bucket/in/items.jsonl"}},
        "jobOutput": {"s3DataDestination": {"path": "s3://bucket/out/"}},
        "filterArn": arn,
        "numResults": 5_000,
    }
    assert execute_job(request, s3_root=tmp_path, models=models) is None
    [line] = (tmp_path / "bucket" / "out" / "items.jsonl.out").read_text().splitlines()
    demo = trained.demo
    purchased = {demo.user_ids[user] for user in demo.users[demo.event_types == 1].tolist()}
    expected = {
        user
        for user, membership, age in zip(
            demo.user_ids, demo.user_memberships.tolist(), demo.user_ages.tolist(), strict=True
        )
        if membership == 0 or age < 25
    } & set(trained.dataset.user_ids.tolist())
    # Fewer users than numResults pass the filter: all of them, and no one else.
    assert set(json.loads(line)["output"]["recommendedUsers"]) == expected - purchased
