"""The published JSON Schema: up to date, valid draft 2020-12, in agreement with lint's own
validator and with the pydantic model, and no looser than the service's API model."""

from __future__ import annotations

import copy
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.spec.model import BatchSegmentJobSpec
from runner.spec.schema import SCHEMA_FILES, render
from runner.spec.validate import SCHEMA_DIR, load_schema, validator
from runner.yaml.reader import decode
from tests.lint.support import EXAMPLES, REPO, example_documents
from tests.support.json_schema import check_schema, errors, is_valid

NAME = SCHEMA_FILES["personalize-runner/v1"]
SCHEMA = load_schema(NAME)
VALIDATE = validator(NAME)
REGENERATE = "regenerate with `personalize-runner schema --output {}`"


@pytest.mark.parametrize(
    "path", [REPO / "schemas" / NAME, SCHEMA_DIR / NAME], ids=["published", "packaged"]
)
def test_committed_schema_is_up_to_date(path: Path) -> None:
    relative = path.relative_to(REPO).as_posix()
    assert path.read_text(encoding="utf-8") == render(), REGENERATE.format(relative)


def test_schema_is_valid_draft_2020_12() -> None:
    check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _assert_agree(document: Any) -> None:
    ours = VALIDATE(document)
    theirs = errors(SCHEMA, document)
    assert (not ours) == (not theirs), (document, ours, theirs)
    if not ours:
        # One way only: the model also takes null for an optional field, as left out.
        BatchSegmentJobSpec.model_validate(document)


@pytest.mark.parametrize("document", example_documents())
def test_validator_jsonschema_and_model_agree_on_examples(document: Any) -> None:
    _assert_agree(document)


def test_positive_examples_are_valid() -> None:
    positive = [
        document.data
        for path in sorted((EXAMPLES / "positive").glob("*.yaml"))
        for document in decode(path.read_text(encoding="utf-8")).documents
        # The other kinds' examples are tests/spec/inference_schema_test.py's.
        if document.data is not None and document.data["kind"] == "BatchSegmentJob"
    ]
    assert len(positive) == 7
    for document in positive:
        assert VALIDATE(document) == []
        assert is_valid(SCHEMA, document)


@pytest.mark.parametrize("value", [100.0, 1.0, 5_000_000.0, 0.0, 2.5, 5_000_001.0])
def test_integral_numbers_get_one_verdict_from_lint_and_the_schema(value: float) -> None:
    # JSON Schema counts 100.0 as an integer, as editors do: lint agrees (and sends 100).
    document = _base()
    document["numResults"] = value
    assert is_valid(SCHEMA, document) == (not VALIDATE(document))
    assert (not VALIDATE(document)) == (value.is_integer() and 1 <= value <= 5_000_000)


def _base() -> dict[str, Any]:
    return {
        "apiVersion": "personalize-runner/v1",
        "kind": "BatchSegmentJob",
        "jobName": "holiday-promo-2026-11",
        "solutionVersionArn": (
            "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c"
        ),
        "filterArn": "arn:aws:personalize:us-east-1:123456789012:filter/exclude-churned",
        "numResults": 250000,
        "jobInput": {
            "s3DataSource": {
                "path": "s3://acme-personalize/batch/in/holiday-items.jsonl",
                "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd",
            }
        },
        "jobOutput": {"s3DataDestination": {"path": "s3://acme-personalize/batch/out/holiday/"}},
        "roleArn": "arn:aws:iam::123456789012:role/PersonalizeBatchRole",
        "tags": [{"tagKey": "team", "tagValue": "growth"}],
    }


FIELD_PATHS: list[tuple[str | int, ...]] = [
    ("apiVersion",),
    ("kind",),
    ("jobName",),
    ("solutionVersionArn",),
    ("filterArn",),
    ("numResults",),
    ("jobInput",),
    ("jobInput", "s3DataSource"),
    ("jobInput", "s3DataSource", "path"),
    ("jobInput", "s3DataSource", "kmsKeyArn"),
    ("jobOutput", "s3DataDestination", "path"),
    ("roleArn",),
    ("tags",),
    ("tags", 0),
    ("tags", 0, "tagKey"),
    ("tags", 0, "tagValue"),
]

# Text near the fields' patterns: ARN and path characters, and the troublemakers.
_PIECES = [
    *"arn:aws-cnpersonalizeiamkmsrole/solution_filter.0123456789ABZ@+=,",
    *["s3://", "arn:aws:iam::123456789012:role/", "\n", "\r", " ", "\u0661", "\u2028", "\xe9"],
]
_near_text = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=6_000_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    _near_text,
    st.sampled_from(["", "a" * 64, "a" * 63, "s3://" + "b" * 252, "aws:x"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["tagKey", "tagValue", "path", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def _set(
    document: dict[str, Any], path: tuple[str | int, ...], value: Any, *, delete: bool
) -> None:
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


_mutation = st.tuples(
    st.sampled_from(FIELD_PATHS), _values, st.sampled_from(["set", "delete", "extra"])
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(_mutation, min_size=0, max_size=3))
def test_validator_jsonschema_and_model_agree_on_near_valid_specs(
    mutations: list[tuple[tuple[str | int, ...], Any, str]],
) -> None:
    document = _base()
    for path, value, how in mutations:
        target = copy.deepcopy(document)
        try:
            if how == "extra":
                _set(target, (*path[:-1], "jobname"), value, delete=False)
            else:
                _set(target, path, value, delete=how == "delete")
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced the parent
        document = target
    _assert_agree(document)


def _service_shapes() -> dict[str, Any]:
    path = (
        Path(botocore.__file__).parent / "data" / "personalize" / "2018-05-22" / "service-2.json.gz"
    )
    model: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    shapes: dict[str, Any] = model["shapes"]
    return shapes


def _definition(name: str) -> dict[str, Any]:
    definition: dict[str, Any] = SCHEMA["$defs"][name]
    return definition


@pytest.mark.parametrize(
    ("where", "shape"),
    [
        (("jobName",), "Name"),
        (("solutionVersionArn",), "Arn"),
        (("filterArn",), "Arn"),
        (("roleArn",), "RoleArn"),
        (("S3DataSource", "path"), "S3Location"),
        (("S3DataSource", "kmsKeyArn"), "KmsKeyArn"),
        (("S3DataDestination", "path"), "S3Location"),
        (("S3DataDestination", "kmsKeyArn"), "KmsKeyArn"),
        (("Tag", "tagKey"), "TagKey"),
        (("Tag", "tagValue"), "TagValue"),
        (("tags",), "Tags"),
    ],
)
def test_limits_are_the_services_or_stricter(where: tuple[str, ...], shape: str) -> None:
    service = _service_shapes()[shape]
    if len(where) == 1:
        ours: dict[str, Any] = SCHEMA["properties"][where[0]]
        # `solutionVersionArn` is a version's ARN, or `{latestOf: <solution ARN>}`.
        ours = next((branch for branch in ours.get("anyOf", ()) if "type" in branch), ours)
    else:
        ours = _definition(where[0])["properties"][where[1]]
    if service["type"] == "list":
        low, high = ours.get("minItems", 0), ours["maxItems"]
    else:
        low, high = ours.get("minLength", 0), ours["maxLength"]
    assert high <= service["max"]
    assert low >= service.get("min", 0)


def test_request_fields_are_the_services() -> None:
    shapes = _service_shapes()
    request = shapes["CreateBatchSegmentJobRequest"]
    ours = SCHEMA["properties"]
    assert set(ours) - {"apiVersion", "kind", "schedule"} == set(request["members"])
    assert set(SCHEMA["required"]) - {"apiVersion", "kind"} == set(request["required"])
    s3 = shapes["S3DataConfig"]
    for name in ("S3DataSource", "S3DataDestination"):
        assert set(_definition(name)["properties"]) == set(s3["members"])
        assert set(_definition(name)["required"]) == set(s3["required"])
    assert set(_definition("Tag")["required"]) == set(shapes["Tag"]["required"])
    assert ours["numResults"]["minimum"] == 1
    assert ours["numResults"]["maximum"] == 5_000_000


@pytest.mark.parametrize(
    ("example", "valid"),
    [("positive/integral-num-results.yaml", True), ("negative/tag-characters.yaml", False)],
)
def test_check_jsonschema_reads_the_schema_as_lint_does(example: str, valid: bool) -> None:
    # check-jsonschema reads patterns as ECMA-262 with the `u` flag (regress), as editors'
    # language servers do: `\p{L}` is a Unicode letter there too, and 100.0 an integer.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--schemafile",
            str(REPO / "schemas" / NAME),
            str(EXAMPLES / example),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode == 0) == valid, done.stdout + done.stderr
    if not valid:
        refused = re.findall(r"\$\.(tags\[\d\]\.tag(?:Key|Value))", done.stdout)
        assert refused == [
            "tags[1].tagKey",
            "tags[1].tagValue",
            "tags[2].tagKey",
            "tags[2].tagValue",
            "tags[3].tagKey",
            "tags[3].tagValue",
            "tags[4].tagKey",
        ]
