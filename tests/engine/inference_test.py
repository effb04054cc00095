from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runner.engine.inference import execute_inference_job
from runner.engine.jobs import execute_job
from tests.engine.conftest import Recommenders, Trained

UP = "aws-user-personalization-v2"
POPULAR = "aws-popularity-count"
RANKING = "aws-personalized-ranking-v2"
RELATED = "aws-similar-items"


def _request(arn: str, *, input_path: str = "s3://bucket/in/", **extra: Any) -> dict[str, Any]:
    return {
        "jobName": "job",
        "solutionVersionArn": arn,
        "jobInput": {"s3DataSource": {"path": input_path}},
        "jobOutput": {"s3DataDestination": {"path": "s3://bucket/out/"}},
        "roleArn": "arn:aws:iam::123456789012:role/PersonalizeBatchRole",
        **extra,
    }


def _write(s3: Path, key: str, lines: list[Any]) -> None:
    path = s3 / "bucket" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")


def _output(s3: Path, key: str = "out/lines.jsonl.out") -> list[dict[str, Any]]:
    text = (s3 / "bucket" / key).read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def _run(recommenders: Recommenders, s3: Path, recipe: str, lines: list[Any], **extra: Any) -> Any:
    _write(s3, "in/lines.jsonl", lines)
    request = _request(recommenders.arns[recipe], **extra)
    assert execute_inference_job(request, s3_root=s3, models=recommenders.store()) is None
    return _output(s3)


def _groups(trained: Trained) -> tuple[dict[str, int], dict[str, int]]:
    demo = trained.demo
    return (
        dict(zip(demo.user_ids, demo.user_groups.tolist(), strict=True)),
        dict(zip(demo.item_ids, demo.item_groups.tolist(), strict=True)),
    )


def test_user_personalization_lines_have_items_scores_and_a_null_error(
    recommenders: Recommenders, tmp_path: Path
) -> None:
    user = recommenders.trained.demo.user_ids[0]
    lines = [{"userId": user}, {"itemId": "i1"}, {"userId": 5}, {"userId": "nobody"}]
    answers = _run(recommenders, tmp_path, UP, lines)
    first, wrong, number, cold = answers
    assert list(first) == ["input", "output", "error"]
    assert first["input"] == {"userId": user}
    assert first["error"] is None
    items, scores = first["output"]["recommendedItems"], first["output"]["scores"]
    assert len(items) == len(set(items)) == 25  # the default numResults
    assert len(scores) == 25
    assert scores == sorted(scores, reverse=True)
    assert 0 < sum(scores) <= 1
    assert all(round(score, 7) == score for score in scores)
    user_groups, item_groups = _groups(recommenders.trained)
    assert np.mean([item_groups[item] == user_groups[user] for item in items]) >= 0.9
    assert wrong == {
        "input": {"itemId": "i1"},
        "error": "Expected an object with userId for a USER_PERSONALIZATION solution version, "
        'such as {"userId": "4638"}',
    }
    assert number == {"input": {"userId": 5}, "error": "'userId' must be a non-empty string"}
    # A user the model does not know gets the popular items.
    popular = _run(recommenders, tmp_path, POPULAR, [{"userId": user}])
    assert cold["output"]["recommendedItems"] == popular[0]["output"]["recommendedItems"]
    assert cold["error"] is None


def test_popular_and_related_items_have_no_scores(
    recommenders: Recommenders, tmp_path: Path
) -> None:
    demo = recommenders.trained.demo
    popular = _run(
        recommenders,
        tmp_path,
        POPULAR,
        [{"userId": demo.user_ids[1]}, {"userId": "x"}],
        numResults=7,
    )
    assert [line["output"] for line in popular] == [popular[0]["output"]] * 2
    assert len(popular[0]["output"]["recommendedItems"]) == 7
    assert set(popular[0]["output"]) == {"recommendedItems"}
    item = demo.item_ids[3]
    related = _run(
        recommenders, tmp_path, RELATED, [{"itemId": item}, {"itemId": "unknown"}], numResults=10
    )
    known, unknown = related
    assert set(known["output"]) == {"recommendedItems"}
    assert known["error"] is None
    assert item not in known["output"]["recommendedItems"]
    _, item_groups = _groups(recommenders.trained)
    group = item_groups[item]
    assert np.mean([item_groups[i] == group for i in known["output"]["recommendedItems"]]) >= 0.9
    # An item the model does not know gets the popular items, as with SIMS at the service.
    recommended = unknown["output"]["recommendedItems"]
    assert recommended[:7] == popular[0]["output"]["recommendedItems"]
    assert len(recommended) == 10


def test_a_ranking_reorders_the_list_and_appends_unknown_items(
    recommenders: Recommenders, tmp_path: Path
) -> None:
    demo = recommenders.trained.demo
    user = demo.user_ids[2]
    group = int(demo.user_groups[2])
    own = [demo.item_ids[k] for k in np.flatnonzero(demo.item_groups == group)[:2]]
    other = [demo.item_ids[k] for k in np.flatnonzero(demo.item_groups != group)[:3]]
    listed = [other[0], "not-an-item", own[0], other[1], own[1], other[2]]
    [answer] = _run(recommenders, tmp_path, RANKING, [{"userId": user, "itemList": listed}])
    output = answer["output"]
    assert answer["input"] == {"userId": user, "itemList": listed}
    assert sorted(output["recommendedItems"]) == sorted(listed)
    assert set(output["recommendedItems"][:2]) == set(own)
    assert output["recommendedItems"][-1] == "not-an-item"
    assert output["scores"][-1] == 0
    assert sum(output["scores"]) == pytest.approx(1, abs=1e-6)
    assert output["scores"] == sorted(output["scores"], reverse=True)
    errors = _run(
        recommenders,
        tmp_path,
        RANKING,
        [
            {"userId": user},
            {"userId": user, "itemList": []},
            {"userId": user, "itemList": ["a"] * 501},
        ],
    )
    assert [line["error"] for line in errors] == [
        "Expected an object with itemList and userId for a PERSONALIZED_RANKING solution "
        'version, such as {"userId": "891", "itemList": ["27", "886"]}',
        "'itemList' must be a non-empty list of item ids (strings)",
        "'itemList' has 501 items; at most 500 can be ranked",
    ]


def test_an_item_filter_removes_what_the_user_purchased(
    recommenders: Recommenders, tmp_path: Path
) -> None:
    demo = recommenders.trained.demo
    store = recommenders.store()
    not_purchased = store.save_filter(
        "not-purchased", 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    ).arn
    user = 4
    purchased = {
        demo.item_ids[item]
        for item, kind, who in zip(demo.items, demo.event_types, demo.users, strict=True)
        if who == user and kind == 1
    }
    lines = [{"userId": demo.user_ids[user]}]
    unfiltered = _run(recommenders, tmp_path, UP, lines, numResults=100)
    assert purchased & set(unfiltered[0]["output"]["recommendedItems"])
    filtered = _run(recommenders, tmp_path, UP, lines, numResults=100, filterArn=not_purchased)
    items = filtered[0]["output"]["recommendedItems"]
    assert len(items) == 100
    assert not purchased & set(items)
    # Related items need the line's userId for such a filter.
    item = demo.item_ids[0]
    related = _run(
        recommenders,
        tmp_path,
        RELATED,
        [{"itemId": item}, {"itemId": item, "userId": demo.user_ids[user]}],
        filterArn=not_purchased,
    )
    assert related[0] == {
        "input": {"itemId": item},
        "error": "The filter uses Interactions.EVENT_TYPE, which needs a userId on the line",
    }
    assert not purchased & set(related[1]["output"]["recommendedItems"])


def test_fewer_allowed_items_than_num_results(recommenders: Recommenders, tmp_path: Path) -> None:
    store = recommenders.store()
    year = int(recommenders.trained.demo.item_years[0])
    only = store.save_filter("one-year", f"INCLUDE ItemID WHERE Items.YEAR = {year}").arn
    expected = {
        item
        for item, item_year in zip(
            recommenders.trained.demo.item_ids,
            recommenders.trained.demo.item_years.tolist(),
            strict=True,
        )
        if item_year == year
    }
    lines = [{"userId": recommenders.trained.demo.user_ids[0]}]
    [answer] = _run(recommenders, tmp_path, UP, lines, numResults=500, filterArn=only)
    assert set(answer["output"]["recommendedItems"]) == expected
    assert len(answer["output"]["scores"]) == len(expected)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (
            {"batchInferenceJobMode": "THEME_GENERATION"},
            "theme generation is not available locally: its themes come from the service's "
            "generative model (Content Generator); use batchInferenceJobMode BATCH_INFERENCE",
        ),
        ({"numResults": 0}, "numResults must be an integer from 1 to 500"),
        ({"numResults": 501}, "numResults must be an integer from 1 to 500"),
        ({"numResults": True}, "numResults must be an integer from 1 to 500"),
        ({"jobInput": {"s3DataSource": {"path": "s3://bucket/none/"}}}, "no input file under"),
        (
            {"jobInput": {"s3DataSource": {"path": "s3://bucket/broken/"}}},
            "Invalid input data in s3://bucket/broken/lines.jsonl at line 2: the input must be "
            "JSON Lines, one JSON object per line.",
        ),
    ],
)
def test_jobs_that_fail_as_a_whole(
    recommenders: Recommenders, tmp_path: Path, extra: dict[str, Any], reason: str
) -> None:
    _write(tmp_path, "in/lines.jsonl", [{"userId": "u1"}])
    _write(tmp_path, "broken/lines.jsonl", [{"userId": "u1"}, "not json"])
    request = _request(recommenders.arns[UP]) | extra
    failure = execute_inference_job(request, s3_root=tmp_path, models=recommenders.store())
    assert failure is not None
    assert failure.startswith(reason)
    assert not (tmp_path / "bucket" / "out").exists()


def test_solution_versions_and_filters_of_the_wrong_kind(
    recommenders: Recommenders, tmp_path: Path
) -> None:
    trained = recommenders.trained
    store = recommenders.store()
    _write(tmp_path, "in/lines.jsonl", [{"userId": "u1"}])
    segments = execute_inference_job(
        _request(trained.item_affinity_arn), s3_root=tmp_path, models=store
    )
    assert segments == (
        f"solution version {trained.item_affinity_arn} was trained with aws-item-affinity "
        "(USER_SEGMENTATION): it makes segments; a batch inference job needs a solution "
        "version of a USER_PERSONALIZATION, POPULAR_ITEMS, PERSONALIZED_RANKING or "
        "RELATED_ITEMS recipe"
    )
    users = store.save_filter("adults", "INCLUDE UserID WHERE Users.AGE >= 18").arn
    assert execute_inference_job(
        _request(recommenders.arns[UP], filterArn=users), s3_root=tmp_path, models=store
    ) == (
        f"filter {users} selects users (UserID); a batch inference job needs a filter of "
        "items (INCLUDE or EXCLUDE ItemID)"
    )
    unknown_field = store.save_filter("mood", 'EXCLUDE ItemID WHERE Items.MOOD IN ("sad")').arn
    assert execute_inference_job(
        _request(recommenders.arns[UP], filterArn=unknown_field), s3_root=tmp_path, models=store
    ) == (
        f"filter {unknown_field} is not supported by the local engine: the filter uses "
        "Items.MOOD, which the items dataset of the solution version lacks (GENRES, YEAR)"
    )
    # And the other way round: a segment job refuses an inference model and an item filter.
    _write(tmp_path, "in/lines.jsonl", [{"itemId": trained.demo.item_ids[0]}])
    refused = execute_job(_request(recommenders.arns[RELATED]), s3_root=tmp_path, models=store)
    assert refused == (
        f"solution version {recommenders.arns[RELATED]} was trained with aws-similar-items "
        "(RELATED_ITEMS): a batch segment job needs a USER_SEGMENTATION solution version; "
        "use this one in a batch inference job"
    )
    refused = execute_job(
        _request(trained.item_affinity_arn, filterArn=unknown_field), s3_root=tmp_path, models=store
    )
    assert refused is not None
    assert "ItemID filters apply to item recommendations" in refused


def test_every_input_file_gets_its_output_file(recommenders: Recommenders, tmp_path: Path) -> None:
    demo = recommenders.trained.demo
    _write(tmp_path, "in/a.jsonl", [{"userId": demo.user_ids[0]}])
    _write(tmp_path, "in/sub/b.jsonl", [{"userId": demo.user_ids[1]}, "", {"userId": "x"}])
    request = _request(recommenders.arns[UP], numResults=3)
    assert execute_inference_job(request, s3_root=tmp_path, models=recommenders.store()) is None
    assert [len(_output(tmp_path, key)) for key in ("out/a.jsonl.out", "out/sub/b.jsonl.out")] == [
        1,
        2,
    ]


def test_placeholders_take_each_lines_filter_values(
    recommenders: Recommenders, tmp_path: Path
) -> None:
    demo = recommenders.trained.demo
    store = recommenders.store()
    genres = store.save_filter("genres", "INCLUDE ItemID WHERE Items.GENRES IN ($GENRES)").arn
    user = demo.user_ids[0]
    item_genres = dict(zip(demo.item_ids, demo.item_genres, strict=True))
    lines = [
        {"userId": user, "filterValues": {"GENRES": '"Comedy","Drama"'}},
        {"userId": user, "filterValues": {"GENRES": '"Action"'}},
        {"userId": user},
        {"userId": user, "filterValues": {"OTHER": '"x"'}},
    ]
    both, action, without, other = _run(
        recommenders, tmp_path, UP, lines, numResults=10, filterArn=genres
    )
    assert len(both["output"]["recommendedItems"]) == 10
    assert all(
        {"Comedy", "Drama"} & set(item_genres[item].split("|"))
        for item in both["output"]["recommendedItems"]
    )
    assert all(
        "Action" in item_genres[item].split("|") for item in action["output"]["recommendedItems"]
    )
    assert without["error"] == (
        'The filter has placeholders ($GENRES): the line needs "filterValues", an object of '
        'strings such as {"GENRES": "\\"horror\\",\\"comedy\\""}'
    )
    assert other["error"] == "filterValues has no value for $GENRES"
    years = store.save_filter("recent", "INCLUDE ItemID WHERE Items.YEAR >= $YEAR").arn
    item_years = dict(zip(demo.item_ids, demo.item_years.tolist(), strict=True))
    lines = [
        {"userId": user, "filterValues": {"YEAR": "2010"}},
        {"userId": user, "filterValues": {"YEAR": '"2001","2002"'}},
        {"userId": user, "filterValues": {"YEAR": "abc"}},
    ]
    recent, two, word = _run(recommenders, tmp_path, UP, lines, numResults=10, filterArn=years)
    assert all(item_years[item] >= 2010 for item in recent["output"]["recommendedItems"])
    assert two["error"] == (
        "Invalid filterValues: Items.YEAR >= takes one value, filterValues gives 2"
    )
    assert word["error"] == "Invalid filterValues: Items.YEAR >= needs a number, not 'abc'"
