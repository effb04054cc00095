"""The published JSON Schema of batch inference specs: up to date (both copies, and the
pre-commit hooks that say so), valid draft 2020-12, in agreement with lint's validator and
the pydantic model, with the request fields of `CreateBatchInferenceJob` and limits no
looser than the service's API model."""

from __future__ import annotations

import copy
import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.kinds import KINDS
from runner.spec.inference_model import BatchInferenceJobSpec
from runner.spec.model import BatchSegmentJobSpec
from runner.spec.schema import KIND_SCHEMA_FILES, render
from runner.spec.validate import SCHEMA_DIR, load_schema, validator
from runner.yaml.reader import decode
from tests.ci.support import read_yaml
from tests.lint.support import EXAMPLES, REPO, example_documents
from tests.support.json_schema import check_schema, errors, is_valid

NAME = KIND_SCHEMA_FILES["personalize-runner/v1", "BatchInferenceJob"]
SCHEMA = load_schema(NAME)
VALIDATE = validator(NAME)
MODELS = {"BatchSegmentJob": BatchSegmentJobSpec, "BatchInferenceJob": BatchInferenceJobSpec}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("folder", [REPO / "schemas", SCHEMA_DIR], ids=["published", "packaged"])
def test_each_kinds_committed_schema_is_up_to_date(folder: Path, kind: str) -> None:
    path = folder / KIND_SCHEMA_FILES["personalize-runner/v1", kind]
    option = "" if kind == "BatchSegmentJob" else f"--kind {kind} "
    assert path.read_text(encoding="utf-8") == render(kind=kind), (
        f"regenerate with `personalize-runner schema {option}--output "
        f"{path.relative_to(REPO).as_posix()}`"
    )


def test_a_pre_commit_hook_checks_each_schema_file() -> None:
    config = read_yaml(REPO / ".pre-commit-config.yaml")
    entries = [
        " ".join(hook["entry"].split())
        for repo in config["repos"]
        for hook in repo["hooks"]
        if "runner schema" in hook["entry"]
    ]
    wanted = {
        f"python -m runner schema {'' if kind == 'BatchSegmentJob' else f'--kind {kind} '}"
        f"--check --output {folder}/{name}"
        for (_, kind), name in KIND_SCHEMA_FILES.items()
        for folder in ("schemas", "runner/schemas")
    }
    assert set(entries) == wanted
    for entry in sorted(wanted):
        # Each hook's command passes on the committed files (what pre-commit runs).
        done = subprocess.run(
            [sys.executable, *entry.split()[1:]],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_the_check_names_the_command_that_regenerates(tmp_path: Path) -> None:
    stale = tmp_path / NAME
    stale.write_text("{}\n", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "runner",
            "schema",
            "--kind",
            "BatchInferenceJob",
            "--check",
            "--output",
            str(stale),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"{stale}: out of date; run `personalize-runner schema --kind BatchInferenceJob "
        f"--output {stale}`\n"
    )


def test_schema_is_valid_draft_2020_12() -> None:
    check_schema(SCHEMA)
    assert SCHEMA["$id"] == "urn:personalize-runner:schema:batch-inference-job.v1"
    assert SCHEMA["title"] == "Amazon Personalize batch inference job (personalize-runner/v1)"


def _assert_agree(document: Any) -> None:
    ours = VALIDATE(document)
    theirs = errors(SCHEMA, document)
    assert (not ours) == (not theirs), (document, ours, theirs)
    if not ours:
        BatchInferenceJobSpec.model_validate(document)


@pytest.mark.parametrize("document", example_documents())
def test_validator_jsonschema_and_model_agree_on_examples(document: Any) -> None:
    _assert_agree(document)


def test_positive_inference_examples_are_valid() -> None:
    positive = [
        document.data
        for path in sorted((EXAMPLES / "positive").glob("*.yaml"))
        for document in decode(path.read_text(encoding="utf-8")).documents
        if document.data is not None and document.data["kind"] == "BatchInferenceJob"
    ]
    assert len(positive) == 2
    for document in positive:
        assert VALIDATE(document) == []
        assert is_valid(SCHEMA, document)
        # What is sent is the document without the runner's own fields.
        request = BatchInferenceJobSpec.model_validate(document).request()
        assert request == {
            key: value
            for key, value in document.items()
            if key not in ("apiVersion", "kind", "schedule")
        }


def _base() -> dict[str, Any]:
    return {
        "apiVersion": "personalize-runner/v1",
        "kind": "BatchInferenceJob",
        "jobName": "nightly-recs",
        "solutionVersionArn": (
            "arn:aws:personalize:us-east-1:123456789012:solution/user-personalization/5fb79a52"
        ),
        "numResults": 25,
        "jobInput": {"s3DataSource": {"path": "s3://acme-personalize/batch/in/users/"}},
        "jobOutput": {"s3DataDestination": {"path": "s3://acme-personalize/batch/out/recs/"}},
        "roleArn": "arn:aws:iam::123456789012:role/PersonalizeBatchRole",
        "batchInferenceJobConfig": {
            "itemExplorationConfig": {"explorationWeight": "0.3"},
            "rankingInfluence": {"POPULARITY": 0.5, "FRESHNESS": 0.0},
        },
        "batchInferenceJobMode": "THEME_GENERATION",
        "themeGenerationConfig": {"fieldsForThemeGeneration": {"itemName": "TITLE"}},
    }


FIELD_PATHS: list[tuple[str, ...]] = [
    ("kind",),
    ("numResults",),
    ("batchInferenceJobConfig",),
    ("batchInferenceJobConfig", "itemExplorationConfig"),
    ("batchInferenceJobConfig", "itemExplorationConfig", "explorationWeight"),
    ("batchInferenceJobConfig", "rankingInfluence"),
    ("batchInferenceJobConfig", "rankingInfluence", "POPULARITY"),
    ("batchInferenceJobConfig", "rankingInfluence", "FRESHNESS"),
    ("batchInferenceJobMode",),
    ("themeGenerationConfig",),
    ("themeGenerationConfig", "fieldsForThemeGeneration"),
    ("themeGenerationConfig", "fieldsForThemeGeneration", "itemName"),
]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=600),
    st.floats(min_value=-0.5, max_value=1.5, allow_nan=False),
    st.sampled_from(
        ["", "TITLE", "1st", "a" * 151, "BATCH_INFERENCE", "THEMES", "0.3", "POPULARITY"]
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2),
        st.dictionaries(
            st.sampled_from(["POPULARITY", "FRESHNESS", "itemName", "x"]), inner, max_size=2
        ),
    ),
    max_leaves=4,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(FIELD_PATHS), _values, st.sampled_from(["set", "delete"])),
        max_size=3,
    )
)
def test_validator_jsonschema_and_model_agree_on_near_valid_specs(
    mutations: list[tuple[tuple[str, ...], Any, str]],
) -> None:
    document = _base()
    for path, value, how in mutations:
        target = copy.deepcopy(document)
        node: Any = target
        try:
            for part in path[:-1]:
                node = node[part]
            if how == "delete":
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, TypeError):
            continue
        document = target
    _assert_agree(document)


def _service_shapes() -> dict[str, Any]:
    path = (
        Path(botocore.__file__).parent / "data" / "personalize" / "2018-05-22" / "service-2.json.gz"
    )
    shapes: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))["shapes"]
    return shapes


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A property's own schema: through `$ref`, and the typed branch of an `anyOf`."""
    if "anyOf" in node:
        node = next(branch for branch in node["anyOf"] if "type" in branch)
    if "$ref" in node:
        resolved: dict[str, Any] = SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")]
        return resolved
    return node


def _compare(ours: dict[str, Any], shape_name: str, shapes: dict[str, Any], where: str) -> None:
    """Our object schema has the shape's members (a map: its documented keys), requires
    what it requires, and its leaves are no looser than the shape's."""
    shape = shapes[shape_name]
    if shape["type"] == "map":
        key = shapes[shape["key"]["shape"]]
        value = shapes[shape["value"]["shape"]]
        if "enum" in key:
            assert set(ours["properties"]) == set(key["enum"]), where
        for name, prop in ours["properties"].items():
            _compare_leaf(_resolve(prop), value, f"{where}.{name}")
        return
    assert shape["type"] == "structure", where
    assert set(ours["properties"]) == set(shape["members"]), where
    assert set(ours.get("required", ())) == set(shape.get("required", ())), where
    for member, spec in shape["members"].items():
        prop = _resolve(ours["properties"][member])
        if prop.get("type") == "object":
            _compare(prop, spec["shape"], shapes, f"{where}.{member}")
        else:
            _compare_leaf(prop, shapes[spec["shape"]], f"{where}.{member}")


def _compare_leaf(ours: dict[str, Any], shape: dict[str, Any], where: str) -> None:
    if shape["type"] == "string":
        assert ours["type"] == "string", where
        if "max" in shape:
            assert ours["maxLength"] <= shape["max"], where
        assert ours.get("minLength", 0) >= shape.get("min", 0), where
        if "enum" in shape:
            assert set(ours["enum"]) == set(shape["enum"]), where
    elif shape["type"] in ("double", "integer"):
        assert ours["type"] in ("number", "integer"), where
        if "min" in shape:
            assert ours["minimum"] >= shape["min"], where
        if "max" in shape:
            assert ours["maximum"] <= shape["max"], where
    elif shape["type"] == "list":
        assert ours["maxItems"] <= shape["max"], where


def test_request_fields_and_limits_are_the_services() -> None:
    shapes = _service_shapes()
    request = shapes["CreateBatchInferenceJobRequest"]
    ours = {
        **SCHEMA,
        "properties": {
            name: prop
            for name, prop in SCHEMA["properties"].items()
            if name not in ("apiVersion", "kind", "schedule")
        },
        "required": [name for name in SCHEMA["required"] if name not in ("apiVersion", "kind")],
    }
    _compare(ours, "CreateBatchInferenceJobRequest", shapes, "CreateBatchInferenceJob")
    assert set(ours["properties"]) == set(request["members"])
    # The fields the describe reports and the runner compares are the create's.
    assert set(KINDS["BatchInferenceJob"].request_fields) == set(request["members"]) - {"tags"}
    assert SCHEMA["properties"]["numResults"]["minimum"] == 1
    assert SCHEMA["properties"]["numResults"]["maximum"] == 500


def test_editors_read_the_modeline_of_an_inference_spec() -> None:
    # The positive example names the schema as editors read it: relative to the file.
    example = EXAMPLES / "positive" / "inference-every-field.yaml"
    first = example.read_text(encoding="utf-8").splitlines()[0]
    target = first.removeprefix("# yaml-language-server: $schema=")
    assert (example.parent / target).resolve() == REPO / "schemas" / NAME
    schema = str(REPO / "schemas" / NAME)
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", schema, str(example)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
