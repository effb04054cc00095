from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.commands import local as commands
from runner.engine.demo import generate_demo_dataset
from runner.engine.errors import EngineError
from runner.engine.inference import execute_inference_job
from runner.engine.jobs import execute_job
from runner.engine.store import ModelStore


def test_demo_import_train_filter_and_a_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, store = tmp_path / "demo", tmp_path / "store"
    assert commands.demo(out=data, users=300, items=60, interactions=3_000, groups=3) == 0
    assert capsys.readouterr().out.splitlines() == [
        str(data / name)
        for name in (
            "interactions.csv",
            "items.csv",
            "users.csv",
            "item-affinity.jsonl",
            "item-attribute-affinity.jsonl",
        )
    ]
    status = commands.import_dataset(
        name="demo",
        interactions=data / "interactions.csv",
        items=data / "items.csv",
        users=data / "users.csv",
        store=store,
    )
    assert status == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "dataset demo: 3,000 interactions of 299 users and 60 items; "
        "60 items with GENRES, YEAR; 300 users with MEMBERSHIP, AGE ("
    )
    arns = []
    for recipe in ("aws-item-affinity", "arn:aws:personalize:::recipe/aws-item-attribute-affinity"):
        assert commands.train(dataset="demo", recipe=recipe, solution="demo", store=store) == 0
        arns.append(capsys.readouterr().out.strip())
    assert all(
        arn.startswith("arn:aws:personalize:us-east-1:123456789012:solution/demo/")
        and len(arn.rpartition("/")[2]) == 8
        for arn in arns
    )
    assert arns[0] != arns[1]
    # The same data and recipe give the same solution version.
    commands.train(dataset="demo", recipe="aws-item-affinity", solution="demo", store=store)
    assert capsys.readouterr().out.strip() == arns[0]

    expression = 'EXCLUDE UserID WHERE Users.MEMBERSHIP IN ("bronze")'
    assert commands.create_filter(name="no-bronze", expression=expression, store=store) == 0
    filter_arn = capsys.readouterr().out.strip()
    assert filter_arn == "arn:aws:personalize:us-east-1:123456789012:filter/no-bronze"

    assert commands.list_resources(store=store) == 0
    versions = sorted(
        [f"{arns[0]}\taws-item-affinity\tdemo", f"{arns[1]}\taws-item-attribute-affinity\tdemo"]
    )
    assert capsys.readouterr().out.splitlines() == [*versions, f"{filter_arn}\t{expression}"]

    s3 = tmp_path / "s3"
    (s3 / "bucket" / "in").mkdir(parents=True)
    (data / "item-affinity.jsonl").rename(s3 / "bucket" / "in" / "items.jsonl")
    request = {
        "solutionVersionArn": arns[0],
        "filterArn": filter_arn,
        "numResults": 10,
        "jobInput": {"s3DataSource": {"path": "s3://bucket/in/"}},
        "jobOutput": {"s3DataDestination": {"path": "s3://bucket/out/"}},
    }
    assert execute_job(request, s3_root=s3, models=ModelStore(store)) is None
    lines = (s3 / "bucket" / "out" / "items.jsonl.out").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["input"] for line in lines] == [
        {"itemId": "i0"},
        {"itemId": "i1"},
        {"itemId": "i2"},
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda store: commands.train(
                dataset="demo", recipe="aws-trending-now", solution="s", store=store
            ),
            "recipe aws-trending-now (POPULAR_ITEMS) has no batch recommendations at the "
            "service (only a campaign serves it), and the local engine runs only batch jobs; "
            "train another recipe",
        ),
        (
            lambda store: commands.train(
                dataset="demo",
                recipe="arn:aws:personalize:::recipe/aws-next-best-action",
                solution="s",
                store=store,
            ),
            "recipe aws-next-best-action (PERSONALIZED_ACTIONS) has no batch recommendations",
        ),
        (
            lambda store: commands.train(
                dataset="demo", recipe="aws-hrnn-nope", solution="s", store=store
            ),
            "unknown recipe 'aws-hrnn-nope'; the local engine trains aws-item-affinity, "
            "aws-item-attribute-affinity, aws-user-personalization-v2,",
        ),
        (
            lambda store: commands.create_filter(
                name="f", expression='EXCLUDE ItemID WHERE Items.GENRE NOT ("x")', store=store
            ),
            "expected IN at column 38",
        ),
        (
            lambda store: commands.train(
                dataset="nope", recipe="aws-item-affinity", solution="s", store=store
            ),
            "no local dataset 'nope' in",
        ),
        (
            lambda store: commands.create_filter(
                name="f", expression="INCLUDE UserID WHERE Users.AGE < $AGE", store=store
            ),
            "placeholder $AGE is not supported",
        ),
        (
            lambda store: commands.create_filter(
                name="bad name", expression='INCLUDE UserID WHERE Users.A = "b"', store=store
            ),
            "filter name 'bad name' is not valid",
        ),
        (
            lambda store: commands.create_filter(
                name="f",
                expression='INCLUDE UserID WHERE Users.A = "b"',
                region="mars",
                store=store,
            ),
            "region 'mars' is not a region name such as us-east-1",
        ),
        (
            lambda store: commands.demo(out=store, groups=11),
            "--groups must be from 1 to 10",
        ),
    ],
)
def test_command_errors_are_user_errors(
    tmp_path: Path, call: Callable[[Path], int], message: str
) -> None:
    with pytest.raises(EngineError) as error:
        call(tmp_path)
    assert message in str(error.value)
    assert error.value.exit_status == 1


def test_the_demo_dataset_is_deterministic() -> None:
    first = generate_demo_dataset(seed=3)
    second = generate_demo_dataset(seed=3)
    other = generate_demo_dataset(seed=4)
    assert first.users.tolist() == second.users.tolist()
    assert first.items.tolist() == second.items.tolist()
    assert first.item_genres == second.item_genres
    assert first.items.tolist() != other.items.tolist()


def test_the_demo_sets_up_batch_inference_jobs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert commands.setup_demo(root=tmp_path) == 0
    printed = capsys.readouterr().out.splitlines()
    versions = {
        line.split()[-1].strip("()"): line.split()[2]
        for line in printed
        if line.startswith("solution version")
    }
    assert versions["aws-user-personalization-v2"] == (
        "arn:aws:personalize:us-east-1:123456789012:solution/user-personalization/5fb79a52"
    )
    assert "filter            arn:aws:personalize:us-east-1:123456789012:filter/not-purchased" in (
        "\n".join(printed)
    )
    store = ModelStore(tmp_path / "engine")
    not_purchased = "arn:aws:personalize:us-east-1:123456789012:filter/not-purchased"
    for recipe, folder, key, count in (
        ("aws-user-personalization-v2", "users", "scores", 10),
        ("aws-similar-items", "related", "recommendedItems", 5),
        ("aws-personalized-ranking-v2", "ranking", "scores", 10),
    ):
        request = {
            "solutionVersionArn": versions[recipe],
            # The related items' lines have no userId for the filter to look at.
            **({"filterArn": not_purchased} if folder != "related" else {}),
            "jobInput": {"s3DataSource": {"path": f"s3://acme-personalize/batch/in/{folder}/"}},
            "jobOutput": {"s3DataDestination": {"path": f"s3://acme-personalize/out/{folder}/"}},
        }
        assert execute_inference_job(request, s3_root=tmp_path / "s3", models=store) is None
        (output,) = (tmp_path / "s3/acme-personalize/out" / folder).iterdir()
        lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
        assert len(lines) == count
        assert all(line["error"] is None and key in line["output"] for line in lines)


def test_train_prints_the_arn_of_each_inference_recipe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "demo"
    commands.demo(out=data, users=200, items=40, interactions=2_000, groups=2)
    commands.import_dataset(name="d", interactions=data / "interactions.csv", store=tmp_path)
    capsys.readouterr()
    for recipe in ("aws-sims", "arn:aws:personalize:::recipe/aws-popularity-count"):
        assert commands.train(dataset="d", recipe=recipe, solution="s", store=tmp_path) == 0
        captured = capsys.readouterr()
        assert captured.out.startswith("arn:aws:personalize:us-east-1:123456789012:solution/s/")
        name = recipe.rpartition("/")[2]
        kind = "RELATED_ITEMS" if name == "aws-sims" else "POPULAR_ITEMS"
        assert captured.err.startswith(f"trained {name} ({kind}) on d: ")
    commands.list_resources(store=tmp_path)
    listed = sorted(line.split("\t")[1] for line in capsys.readouterr().out.splitlines())
    assert listed == ["aws-popularity-count", "aws-sims"]
