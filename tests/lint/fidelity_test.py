"""Lint against the service's own model (issue 15): every length, pattern and range limit of
botocore's Personalize model, and the tag pattern for a sample of every Unicode general
category, give the verdict the model gives, computed from the model at test time; where lint
is stricter on purpose, the row says why. Also: the generated tables are up to date,
warnings fail nothing, plan refuses what lint refuses."""

from __future__ import annotations

import copy
import gzip
import json
import re
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import botocore
import pytest
import regress

from runner.__main__ import main
from runner.findings import Severity
from runner.spec.loader import parse_specs
from runner.spec.tables import generated
from runner.spec.tables import main as tables_main
from runner.spec.unicode_ranges import UNICODE_VERSION
from tests.lint.support import REPO

Field = tuple[str | int, ...]

# Where each request field's limits live in the model.
SHAPES: dict[Field, str] = {
    ("jobName",): "Name",
    ("solutionVersionArn",): "Arn",
    ("filterArn",): "Arn",
    ("numResults",): "NumBatchResults",
    ("jobInput", "s3DataSource", "path"): "S3Location",
    ("jobInput", "s3DataSource", "kmsKeyArn"): "KmsKeyArn",
    ("jobOutput", "s3DataDestination", "path"): "S3Location",
    ("jobOutput", "s3DataDestination", "kmsKeyArn"): "KmsKeyArn",
    ("roleArn",): "RoleArn",
    ("tags",): "Tags",
    ("tags", 0, "tagKey"): "TagKey",
    ("tags", 0, "tagValue"): "TagValue",
}
SOLUTION = "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c"
KMS = "arn:aws:kms:us-east-1:123456789012:key/"
ROLE = "arn:aws:iam::123456789012:role/"
BUCKET = "s3://acme-personalize/"


def _base() -> dict[str, Any]:
    return {
        "apiVersion": "personalize-runner/v1",
        "kind": "BatchSegmentJob",
        "jobName": "holiday-promo-2026-11",
        "solutionVersionArn": SOLUTION,
        "filterArn": "arn:aws:personalize:us-east-1:123456789012:filter/exclude-churned",
        "numResults": 25,
        "jobInput": {"s3DataSource": {"path": BUCKET + "in/items.jsonl", "kmsKeyArn": KMS + "k"}},
        "jobOutput": {"s3DataDestination": {"path": BUCKET + "out/", "kmsKeyArn": KMS + "k"}},
        "roleArn": ROLE + "PersonalizeBatchRole",
        "tags": [{"tagKey": "team", "tagValue": "growth"}],
    }


@cache
def _shapes() -> dict[str, Any]:
    folder = Path(botocore.__file__).parent / "data" / "personalize"
    (path,) = sorted(folder.glob("*/service-2.json*"))
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    shapes: dict[str, Any] = json.loads(raw)["shapes"]
    return shapes


@cache
def _regex(pattern: str) -> Any:
    # The service matches the whole value; ECMA-262 with `u` reads `\d` and `\p{…}` as Java.
    return regress.Regex(f"^(?:{pattern})$", "u")


def model_accepts(shape_name: str, value: Any) -> bool:
    """The verdict of botocore's model on one member's value."""
    shape = _shapes()[shape_name]
    kind = shape["type"]
    if kind == "integer":
        return type(value) is int or (type(value) is float and value.is_integer())
    if kind == "list":
        size = len(value)
        return shape.get("min", 0) <= size <= shape.get("max", size) and all(
            model_accepts(shape["member"]["shape"], item) for item in value
        )
    if kind == "structure":
        return all(
            model_accepts(member["shape"], value[name])
            for name, member in shape["members"].items()
            if name in value
        )
    assert kind == "string"
    if not shape.get("min", 0) <= len(value) <= shape.get("max", len(value)):
        return False
    return "pattern" not in shape or _regex(shape["pattern"]).find(value) is not None


def as_yaml(document: dict[str, Any]) -> bytes:
    """`document` as YAML: JSON with every character outside ASCII escaped, as YAML spells
    the escapes (`\\U0001d4f3`, where JSON writes a surrogate pair)."""

    def code_point(pair: re.Match[str]) -> str:
        high, low = int(pair[1], 16), int(pair[2], 16)
        return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"

    return re.sub(
        r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", code_point, json.dumps(document)
    ).encode()


def lint_accepts(document: dict[str, Any]) -> bool:
    _, findings = parse_specs(as_yaml(document), "specs/case.yaml")
    return not [finding for finding in findings if finding.severity is Severity.ERROR]


def _with(field: Field, value: Any) -> dict[str, Any]:
    document = _base()
    node: Any = document
    for part in field[:-1]:
        node = node[part]
    node[field[-1]] = value
    return document


def _max(shape: str) -> int:
    """The model's maximum length (or size) of `shape`, read at test time."""
    limit: int = _shapes()[shape]["max"]
    return limit


def _fill(start: str, shape: str, *, over: int = 0, suffix: str = "") -> str:
    """`start`, padded to the model's maximum length of `shape` (plus `over`)."""
    return start + "x" * (_max(shape) + over - len(start) - len(suffix)) + suffix


FILTER = "arn:aws:personalize:us-east-1:123456789012:filter/"


# (field, value, why lint refuses what the model takes, or None where they agree)
CASES: list[tuple[Field, Any, str | None]] = [
    # Name: 1-63, the whole value matching the pattern.
    (("jobName",), "a", None),
    (("jobName",), "a" * _max("Name"), None),
    (("jobName",), "a" * (_max("Name") + 1), None),
    (("jobName",), "", None),
    (("jobName",), "-a", None),
    (("jobName",), "a b", None),
    (("jobName",), "a_b-9", None),
    # Arn: at most 256; the ARN checks of lint go further (a solution version, one region).
    (("solutionVersionArn",), SOLUTION, None),
    (("solutionVersionArn",), SOLUTION + "x" * (_max("Arn") - len(SOLUTION)), None),
    (("solutionVersionArn",), SOLUTION + "x" * (_max("Arn") + 1 - len(SOLUTION)), None),
    (("solutionVersionArn",), "arn:aws:personalize:us-east-1:123456789012:", None),
    (("solutionVersionArn",), "arn:AWS:personalize:us-east-1:1:solution/a/b", None),
    (("solutionVersionArn",), "arn:aws:personalize:::solution/a/b", "no region or account"),
    (("solutionVersionArn",), SOLUTION.rsplit("/", 1)[0], "a solution, not a version"),
    (("filterArn",), _fill(FILTER, "Arn"), None),
    (("filterArn",), _fill(FILTER, "Arn", over=1), None),
    (("filterArn",), "arn:aws:personalize:eu-west-1:123456789012:filter/f", "another region"),
    # NumBatchResults: an integer (JSON Schema's, so 100.0 too); lint: 1 to 5,000,000.
    (("numResults",), 1, None),
    (("numResults",), 100.0, None),
    (("numResults",), 5_000_000, None),
    (("numResults",), 2.5, None),
    (("numResults",), "25", None),
    (("numResults",), 0, "a segment holds 1 to 5 million users"),
    (("numResults",), 5_000_001, "a segment holds 1 to 5 million users"),
    # S3Location: at most 256, (s3|http|https)://.+; lint: S3 only.
    (("jobInput", "s3DataSource", "path"), _fill(BUCKET, "S3Location", suffix=".jsonl"), None),
    (
        ("jobInput", "s3DataSource", "path"),
        _fill(BUCKET, "S3Location", over=1, suffix=".jsonl"),
        None,
    ),
    (("jobInput", "s3DataSource", "path"), "s3://", None),
    (("jobInput", "s3DataSource", "path"), "ftp://bucket/in/", None),
    (("jobInput", "s3DataSource", "path"), "s3://Legacy_Bucket/in/", None),
    (("jobInput", "s3DataSource", "path"), "https://b.s3.amazonaws.com/in/", "S3 paths only"),
    (("jobOutput", "s3DataDestination", "path"), _fill(BUCKET, "S3Location"), None),
    (("jobOutput", "s3DataDestination", "path"), _fill(BUCKET, "S3Location", over=1), None),
    # KmsKeyArn: at most 2048, arn:aws.*:kms:.*:[0-9]{12}:key/.*; lint: the job's region.
    (("jobInput", "s3DataSource", "kmsKeyArn"), _fill(KMS, "KmsKeyArn"), None),
    (("jobInput", "s3DataSource", "kmsKeyArn"), _fill(KMS, "KmsKeyArn", over=1), None),
    (("jobInput", "s3DataSource", "kmsKeyArn"), "arn:aws:kms:us-east-1:12345:key/k", None),
    (("jobInput", "s3DataSource", "kmsKeyArn"), "alias/personalize", None),
    (
        ("jobOutput", "s3DataDestination", "kmsKeyArn"),
        KMS.replace("us-east-1", "eu-west-1"),
        "another region",
    ),
    (("jobOutput", "s3DataDestination", "kmsKeyArn"), _fill(KMS, "KmsKeyArn"), None),
    (("jobOutput", "s3DataDestination", "kmsKeyArn"), _fill(KMS, "KmsKeyArn", over=1), None),
    (("jobOutput", "s3DataDestination", "kmsKeyArn"), "arn:aws:kms:us-east-1:1:key/k", None),
    # RoleArn: at most 256, ...:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+
    (("roleArn",), _fill(ROLE, "RoleArn"), None),
    (("roleArn",), _fill(ROLE, "RoleArn", over=1), None),
    (("roleArn",), ROLE + "path/with,=+@.chars", None),
    (("roleArn",), ROLE + "no spaces", None),
    (("roleArn",), "arn:aws:iam::12345678901:role/r", None),
    # Tags: 0-200; TagKey 1-128 and TagValue 0-256 of the tag pattern.
    (("tags",), [], None),
    (("tags",), [{"tagKey": f"k{i}", "tagValue": "v"} for i in range(_max("Tags"))], None),
    (("tags",), [{"tagKey": f"k{i}", "tagValue": "v"} for i in range(_max("Tags") + 1)], None),
    (
        ("tags",),
        [{"tagKey": "k", "tagValue": "a"}, {"tagKey": "k", "tagValue": "b"}],
        "unique keys",
    ),
    (("tags", 0, "tagKey"), "k" * _max("TagKey"), None),
    (("tags", 0, "tagKey"), "k" * (_max("TagKey") + 1), None),
    (("tags", 0, "tagKey"), "", None),
    (("tags", 0, "tagKey"), "k", None),
    (("tags", 0, "tagKey"), "aws:team", "the prefix aws: is reserved"),
    (("tags", 0, "tagValue"), "", None),
    (("tags", 0, "tagValue"), "v" * _max("TagValue"), None),
    (("tags", 0, "tagValue"), "v" * (_max("TagValue") + 1), None),
    (("tags", 0, "tagValue"), "_.:/=+-@ 09azAZ", None),
    (("tags", 0, "tagValue"), "a\nb", None),
    (("tags", 0, "tagValue"), "trailing\n", None),
]


def _case_id(case: tuple[Field, Any, str | None]) -> str:
    field, value, _ = case
    shown = repr(value) if len(repr(value)) <= 24 else f"{type(value).__name__} of {len(value)}"
    return ".".join(map(str, field)) + "=" + shown


@pytest.mark.parametrize(("field", "value", "stricter"), CASES, ids=map(_case_id, CASES))
def test_lint_gives_the_models_verdict_at_its_limits(
    field: Field, value: Any, stricter: str | None
) -> None:
    document = _with(field, value)
    model = model_accepts(SHAPES[field], value)
    if field == ("tags",) or stricter is None:
        # The whole request too: a case must not break another member.
        request = {key: item for key, item in document.items() if key not in ("apiVersion", "kind")}
        model = model and model_accepts("CreateBatchSegmentJobRequest", request)
    if stricter is None:
        assert lint_accepts(document) == model
    else:
        assert model, stricter
        assert not lint_accepts(document), stricter


@pytest.mark.parametrize(
    "field", sorted(SHAPES, key=str), ids=lambda field: ".".join(map(str, field))
)
def test_the_table_holds_every_limit_of_the_model(field: Field) -> None:
    shape = _shapes()[SHAPES[field]]
    sizes = {
        len(value)
        for case, value, _ in CASES
        if case == field and not isinstance(value, int | float)
    }
    if "max" in shape:
        assert {shape["max"], shape["max"] + 1} <= sizes
    if shape.get("min", 0) > 0:
        assert {shape["min"], shape["min"] - 1} <= sizes
    if "pattern" in shape:
        verdicts = {
            model_accepts(SHAPES[field], value) for case, value, _ in CASES if case == field
        }
        assert verdicts == {True, False}


def _category_samples() -> Iterator[tuple[str, int]]:
    """A few code points of every general category: the first, the last, and some between,
    of those Python's Unicode database (the tables' version) and the test's agree on."""
    members: dict[str, list[int]] = {}
    for code_point in range(sys.maxunicode + 1):
        members.setdefault(unicodedata.category(chr(code_point)), []).append(code_point)
    # Unassigned code points: a later Unicode version may assign most, but not these.
    members["Cn"] = [0x0378, 0xFDD0, 0xFFFE, 0x1FFFF, 0x10FFFF]
    for category, points in sorted(members.items()):
        if category == "Cs":
            continue  # a lone surrogate cannot be written in a UTF-8 spec at all
        step = max(1, len(points) // 5)
        for code_point in sorted({*points[::step], points[-1]}):
            yield category, code_point


SAMPLES = list(_category_samples())


@pytest.mark.parametrize(
    ("category", "code_point"), SAMPLES, ids=[f"{c}-U+{p:04X}" for c, p in SAMPLES]
)
def test_tag_characters_get_the_models_verdict(category: str, code_point: int) -> None:
    value = f"a{chr(code_point)}b"
    for field in (("tags", 0, "tagKey"), ("tags", 0, "tagValue")):
        expected = model_accepts(SHAPES[field], value)
        assert expected == (category[0] in "LZN" or chr(code_point) in "_.:/=+-@")
        assert lint_accepts(_with(field, value)) == expected, (category, hex(code_point))


def test_every_category_is_sampled() -> None:
    assert {category for category, _ in SAMPLES} | {"Cs"} == {
        unicodedata.category(chr(point)) for point in range(sys.maxunicode + 1)
    }


@pytest.mark.parametrize("path", sorted(generated()), ids=lambda path: path.name)
def test_generated_tables_are_up_to_date(path: Path) -> None:
    if path.name == "unicode_ranges.py" and unicodedata.unidata_version != UNICODE_VERSION:
        pytest.skip(
            f"this Python has Unicode {unicodedata.unidata_version}, the table is of "
            f"{UNICODE_VERSION}: regenerate with the Python of CI"
        )
    assert path.read_text(encoding="utf-8") == generated()[path], (
        "regenerate with `python -m runner.spec.tables --write`"
    )


def test_a_warning_is_shown_and_fails_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    spec = tmp_path / "legacy.yaml"
    spec.write_text(json.dumps(_with(("jobInput", "s3DataSource", "path"), "s3://Old_B/in/")))
    state = str(tmp_path / "state.json")
    capsys.readouterr()
    assert main(["lint", str(spec), "--state", state]) == 0
    out = capsys.readouterr().out
    assert "warning: jobInput.s3DataSource.path: the bucket name 'Old_B' breaks" in out
    assert out.endswith("1 finding (0 errors) in 1 file\n")
    broken = copy.deepcopy(json.loads(spec.read_text()))
    broken["numResults"] = 0
    spec.write_text(json.dumps(broken))
    assert main(["lint", str(spec), "--state", state]) == 1


def test_an_integral_number_is_sent_as_an_integer() -> None:
    specs, findings = parse_specs(
        json.dumps(_with(("numResults",), 100.0)).encode(), "specs/case.yaml"
    )
    assert findings == []
    assert type(specs[0].request["numResults"]) is int
    assert specs[0].request["numResults"] == 100


def test_plan_refuses_a_region_without_personalize(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    document = _base()
    for field in ("solutionVersionArn", "filterArn"):
        document[field] = (
            document[field].replace("aws:", "aws-us-gov:").replace("us-east-1", "us-gov-west-1")
        )
    document["roleArn"] = document["roleArn"].replace("aws:", "aws-us-gov:")
    del document["jobInput"]["s3DataSource"]["kmsKeyArn"]
    del document["jobOutput"]["s3DataDestination"]["kmsKeyArn"]
    (tmp_path / "specs" / "gov.yaml").write_text(json.dumps(document))
    capsys.readouterr()
    status = main(["plan", "--specs", "specs", "--state", str(tmp_path / "state.json")])
    err = capsys.readouterr().err
    assert status == 1
    assert "Amazon Personalize is not offered anywhere in partition 'aws-us-gov'" in err, err


def test_the_table_generator_checks_without_writing(capsys: pytest.CaptureFixture[str]) -> None:
    if unicodedata.unidata_version != UNICODE_VERSION:
        pytest.skip(f"this Python has Unicode {unicodedata.unidata_version}")
    assert tables_main([]) == 0
    assert capsys.readouterr().err == ""
