from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from runner.backends import ResourceNotFound
from runner.backends.local import LocalBackend
from runner.backends.local.jobs import run_batch_segment_job
from runner.engine.jobs import MAX_INPUT_BYTES, execute_job
from runner.engine.store import ModelStore
from runner.kinds import BATCH_SEGMENT_JOB
from tests.engine.conftest import Trained

FILTER_PREFIX = "arn:aws:personalize:us-east-1:123456789012:filter/"
UNKNOWN_VERSION = "arn:aws:personalize:us-east-1:123456789012:solution/x/0badc0de"


def _request(
    arn: str, *, input_path: str, output_path: str = "s3://bucket/out/", **extra: Any
) -> dict[str, Any]:
    return {
        "jobName": "job",
        "solutionVersionArn": arn,
        "jobInput": {"s3DataSource": {"path": input_path}},
        "jobOutput": {"s3DataDestination": {"path": output_path}},
        "roleArn": "arn:aws:iam::123456789012:role/PersonalizeBatchRole",
        **extra,
    }


def _write(s3: Path, key: str, lines: list[str]) -> None:
    path = s3 / "bucket" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _output(s3: Path, key: str) -> list[dict[str, Any]]:
    text = (s3 / "bucket" / key).read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_every_line_gets_one_answer_in_order(trained: Trained, tmp_path: Path) -> None:
    items = trained.demo.item_ids[:3]
    lines = [
        json.dumps({"itemId": items[0]}),
        json.dumps({"itemId": items[1]}),
        json.dumps({"itemId": "no-such-item"}),
        "",
        json.dumps({"itemId": items[2], "extra": 1}),
        json.dumps({"itemId": 42}),
        json.dumps({"itemAttributes": 'ITEMS.GENRES = "Comedy"'}),
        json.dumps({"itemId": items[0]}),
    ]
    _write(tmp_path, "in/items.jsonl", lines)
    request = _request(trained.item_affinity_arn, input_path="s3://bucket/in/items.jsonl")
    assert execute_job(request, s3_root=tmp_path, models=trained.store()) is None
    answers = _output(tmp_path, "out/items.jsonl.out")
    expected_inputs = [json.loads(line) for line in lines if line]
    assert [answer["input"] for answer in answers] == expected_inputs
    ok = [answer for answer in answers if "output" in answer]
    assert [answer["input"]["itemId"] for answer in ok] == [items[0], items[1], items[0]]
    for answer in ok:
        assert set(answer) == {"input", "output"}
        assert set(answer["output"]) == {"recommendedUsers"}
        users = answer["output"]["recommendedUsers"]
        assert len(users) == 25 == len(set(users))  # the default numResults
        assert set(users) <= set(trained.demo.user_ids)
    assert ok[0] == ok[2]
    item_only = (
        "Expected an object with only 'itemId' for a solution version trained with "
        'aws-item-affinity, such as {"itemId": "105"}'
    )
    assert [answer.get("error") for answer in answers if "output" not in answer] == [
        "Item 'no-such-item' has no interactions in the training data",
        item_only,
        "'itemId' must be a non-empty string",
        item_only,
    ]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ('{"itemId": "i1"}\nnot json\n', 2),
        ('\n["itemId"]\n', 2),
        ('{"itemId": "\xff"}\n', 1),
    ],
)
def test_a_line_that_is_not_a_json_object_fails_the_job(
    trained: Trained, tmp_path: Path, content: str, line: int
) -> None:
    # The service documents only that the input is JSON; the safer reading fails the job.
    path = tmp_path / "bucket" / "in" / "bad.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(content.encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    request = _request(trained.item_affinity_arn, input_path="s3://bucket/in/bad.jsonl")
    assert execute_job(request, s3_root=tmp_path, models=trained.store()) == (
        f"Invalid input data in s3://bucket/in/bad.jsonl at line {line}: the input must be "
        "JSON Lines, one JSON object per line."
    )
    assert not (tmp_path / "bucket" / "out").exists()
    # One reader: the local service's own check of the input says the same.
    assert run_batch_segment_job(request, s3_root=tmp_path) == execute_job(
        request, s3_root=tmp_path, models=trained.store()
    )


def test_attribute_queries_and_their_errors(trained: Trained, tmp_path: Path) -> None:
    lines = [
        json.dumps({"itemAttributes": 'ITEMS.genres = "Comedy" AND ITEMS.genres = "Action"'}),
        json.dumps({"itemAttributes": 'ITEMS.genres = "Comedy"'}),
        json.dumps({"itemAttributes": 'ITEMS.colour = "red"'}),
        json.dumps({"itemAttributes": 'ITEMS.genres = "Opera"'}),
        json.dumps({"itemAttributes": "ITEMS.genres > 3"}),
        json.dumps({"itemId": "i1"}),
    ]
    _write(tmp_path, "in/genres.jsonl", lines)
    request = _request(
        trained.attribute_affinity_arn, input_path="s3://bucket/in/genres.jsonl", numResults=100
    )
    assert execute_job(request, s3_root=tmp_path, models=trained.store()) is None
    answers = _output(tmp_path, "out/genres.jsonl.out")
    # No `input` wrapper for item attribute affinity (the developer guide's output example).
    assert [set(answer) for answer in answers] == [
        {"itemAttributes", "output"},
        {"itemAttributes", "output"},
        {"itemAttributes", "error"},
        {"itemAttributes", "error"},
        {"itemAttributes", "error"},
        {"input", "error"},
    ]
    assert [answer.get("itemAttributes") for answer in answers[:5]] == [
        json.loads(line)["itemAttributes"] for line in lines[:5]
    ]
    assert len(answers[0]["output"]["recommendedUsers"]) == 100
    assert len(answers[1]["output"]["recommendedUsers"]) == 100
    assert [answer.get("error") for answer in answers[2:]] == [
        "Unknown item field 'colour'; the items dataset has GENRES, YEAR",
        "No item with interactions matches the item attributes",
        "Invalid itemAttributes: item attribute expressions compare with '=' only, not >: "
        "'ITEMS.genres > 3'",
        "Expected an object with only 'itemAttributes' for a solution version trained with "
        'aws-item-attribute-affinity, such as {"itemAttributes": "ITEMS.genres = \\"Comedy\\""}',
    ]


def test_a_prefix_reads_every_matching_key_and_keeps_subfolders(
    trained: Trained, tmp_path: Path
) -> None:
    line = json.dumps({"itemId": trained.demo.item_ids[0]})
    for key in ("in/a.jsonl", "in/sub/b.jsonl", "in-old/c.jsonl", "other/d.jsonl"):
        _write(tmp_path, key, [line])
    (tmp_path / "bucket" / "in" / ".hidden").write_text("x\n", encoding="utf-8")
    models = trained.store()
    request = _request(trained.item_affinity_arn, input_path="s3://bucket/in", numResults=3)
    assert execute_job(request, s3_root=tmp_path, models=models) is None
    written = sorted(
        path.relative_to(tmp_path / "bucket" / "out").as_posix()
        for path in (tmp_path / "bucket" / "out").rglob("*")
        if path.is_file()
    )
    assert written == ["in-old/c.jsonl.out", "in/a.jsonl.out", "in/sub/b.jsonl.out"]
    request = _request(
        trained.item_affinity_arn,
        input_path="s3://bucket/in/",
        output_path="s3://bucket/folder-out",
        numResults=3,
    )
    assert execute_job(request, s3_root=tmp_path, models=models) is None
    assert sorted(
        path.relative_to(tmp_path / "bucket" / "folder-out").as_posix()
        for path in (tmp_path / "bucket" / "folder-out").rglob("*")
    ) == ["a.jsonl.out", "sub", "sub/b.jsonl.out"]


def test_a_filter_keeps_only_the_users_it_selects(trained: Trained, tmp_path: Path) -> None:
    models = trained.store()
    arn = models.save_filter("gold", 'INCLUDE UserID WHERE Users.MEMBERSHIP IN ("gold")').arn
    _write(tmp_path, "in/items.jsonl", [json.dumps({"itemId": trained.demo.item_ids[0]})])
    request = _request(
        trained.item_affinity_arn,
        input_path="s3://bucket/in/items.jsonl",
        filterArn=arn,
        numResults=5_000,
    )
    assert execute_job(request, s3_root=tmp_path, models=models) is None
    [answer] = _output(tmp_path, "out/items.jsonl.out")
    gold = {
        user
        for user, membership in zip(
            trained.demo.user_ids, trained.demo.user_memberships.tolist(), strict=True
        )
        if membership == 0
    }
    # Fewer users than numResults pass the filter: all of them, and no one else.
    assert set(answer["output"]["recommendedUsers"]) == gold & set(
        trained.dataset.user_ids.tolist()
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"solutionVersionArn": UNKNOWN_VERSION},
            f"solution version {UNKNOWN_VERSION} does not exist in the local engine's store",
        ),
        (
            {"solutionVersionArn": "arn:aws:personalize:us-east-1:123456789012:solution/x"},
            "'arn:aws:personalize:us-east-1:123456789012:solution/x' is not a solution version ARN",
        ),
        (
            {"filterArn": FILTER_PREFIX + "missing"},
            f"filter {FILTER_PREFIX}missing does not exist in the local engine's store",
        ),
        ({"numResults": 0}, "numResults must be an integer from 1 to 5,000,000"),
        ({"numResults": 5_000_001}, "numResults must be an integer from 1 to 5,000,000"),
        ({"numResults": "25"}, "numResults must be an integer from 1 to 5,000,000"),
        ({"jobInput": {}}, "the request has no jobInput.s3DataSource.path"),
        (
            {"jobInput": {"s3DataSource": {"path": "/local/in"}}},
            "jobInput.s3DataSource.path '/local/in' is not an s3://bucket/key path",
        ),
        (
            {"jobOutput": {"s3DataDestination": {"path": "s3://bucket/../escape/"}}},
            "jobOutput.s3DataDestination.path 's3://bucket/../escape/': the local engine "
            "refuses '..' in keys",
        ),
        (
            {"jobInput": {"s3DataSource": {"path": "s3://bucket/nothing/"}}},
            "no input file under s3://bucket/nothing/",
        ),
    ],
)
def test_a_job_fails_with_a_reason(
    trained: Trained, tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    _write(tmp_path, "in/items.jsonl", [json.dumps({"itemId": trained.demo.item_ids[0]})])
    request = _request(trained.item_affinity_arn, input_path="s3://bucket/in/") | change
    failure = execute_job(request, s3_root=tmp_path, models=trained.store())
    assert failure is not None
    assert failure.startswith(reason)
    assert not (tmp_path / "bucket" / "out").exists()


def test_unsupported_filters_fail_the_job(trained: Trained, tmp_path: Path) -> None:
    models = trained.store()
    _write(tmp_path, "in/items.jsonl", [json.dumps({"itemId": trained.demo.item_ids[0]})])
    cases = {
        "value": "EXCLUDE UserID WHERE Interactions.EVENT_VALUE > 3",
        "shoe": 'INCLUDE UserID WHERE Users.SHOE_SIZE IN ("42")',
    }
    reasons = {}
    for name, expression in cases.items():
        arn = models.save_filter(name, expression).arn
        request = _request(trained.item_affinity_arn, input_path="s3://bucket/in/", filterArn=arn)
        reasons[name] = execute_job(request, s3_root=tmp_path, models=models)
    assert reasons == {
        "value": f"filter {FILTER_PREFIX}value is not supported by the local engine: "
        "Interactions.EVENT_VALUE is not supported locally; only Interactions.EVENT_TYPE is",
        "shoe": f"filter {FILTER_PREFIX}shoe is not supported by the local engine: the filter "
        "uses Users.SHOE_SIZE, which the users dataset of the solution version lacks "
        "(MEMBERSHIP, AGE)",
    }


def test_the_service_limits_fail_the_job(trained: Trained, tmp_path: Path) -> None:
    models = trained.store()
    line = json.dumps({"itemId": trained.demo.item_ids[0]})
    _write(tmp_path, "many/q.jsonl", [line] * 501)
    request = _request(trained.item_affinity_arn, input_path="s3://bucket/many/")
    assert execute_job(request, s3_root=tmp_path, models=models) == (
        "input file many/q.jsonl has 501 queries; with aws-item-affinity a file may hold at "
        "most 500"
    )
    _write(tmp_path, "many/q.jsonl", [line] * 500)
    assert execute_job(request, s3_root=tmp_path, models=models) is None

    attributes = json.dumps({"itemAttributes": 'ITEMS.genres = "Comedy"'})
    _write(tmp_path, "genres/q.jsonl", [attributes] * 11)
    request = _request(trained.attribute_affinity_arn, input_path="s3://bucket/genres/")
    assert execute_job(request, s3_root=tmp_path, models=models) == (
        "input file genres/q.jsonl has 11 queries; with aws-item-attribute-affinity a file may "
        "hold at most 10"
    )

    for k in range(1_001):
        _write(tmp_path, f"files/{k:04}.jsonl", [line])
    request = _request(trained.item_affinity_arn, input_path="s3://bucket/files/")
    assert execute_job(request, s3_root=tmp_path, models=models) == (
        "s3://bucket/files/ holds 1,001 input files; a job reads at most 1,000"
    )

    big = tmp_path / "bucket" / "big" / "q.jsonl"
    big.parent.mkdir(parents=True)
    with big.open("wb") as stream:  # sparse: no gigabyte written
        stream.truncate(MAX_INPUT_BYTES + 1)
    request = _request(trained.item_affinity_arn, input_path="s3://bucket/big/")
    assert execute_job(request, s3_root=tmp_path, models=models) == (
        "the input under s3://bucket/big/ is 1,000,000,001 bytes; a job reads at most 1 GB"
    )


def test_an_unknown_store_fails_with_the_way_out(trained: Trained, tmp_path: Path) -> None:
    request = _request(trained.item_affinity_arn, input_path="s3://bucket/in/")
    failure = execute_job(request, s3_root=tmp_path, models=ModelStore(tmp_path / "empty"))
    assert failure is not None
    assert failure.endswith(
        "train one with `personalize-runner local train` and use the ARN it prints"
    )


def test_the_local_backend_refuses_a_missing_filter_at_create(
    trained: Trained, tmp_path: Path
) -> None:
    # As the service: ResourceNotFoundException at create, not a CREATE FAILED job later.
    shutil.copytree(trained.store_root, tmp_path / "local" / "engine")
    backend = LocalBackend(root=tmp_path / "local")
    request = _request(
        trained.item_affinity_arn,
        input_path="s3://bucket/in/items.jsonl",
        filterArn=FILTER_PREFIX + "not-made-yet",
    )
    with pytest.raises(ResourceNotFound, match=r"Could not find filter: .*not-made-yet"):
        backend.create_job(BATCH_SEGMENT_JOB, request)
    ModelStore(tmp_path / "local" / "engine").save_filter(
        "not-made-yet", 'EXCLUDE UserID WHERE Users.MEMBERSHIP IN ("bronze")'
    )
    arn = backend.create_job(BATCH_SEGMENT_JOB, request)
    assert arn.endswith(":batch-segment-job/job")
