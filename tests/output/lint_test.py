"""Each lint reporter's exact output for the same run."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from runner.findings import Finding, Related
from runner.output.lint import LintRun
from runner.output.lint.github import escape_data, escape_property
from runner.output.writers import formats, reporter
from runner.rules import RULES
from runner.rules.docs import rule_markdown, rule_text
from runner.yaml.span import Span
from tests.lint.support import EXAMPLES, REPO, run_lint
from tests.support.json_schema import errors_of_its_draft

RUN = LintRun(
    findings=[
        Finding(
            "specs/b.yaml",
            Span(3, 10, 3, 31),
            "duplicate-job-name",
            "jobName: 'promo' is also the name of the job in specs/a.yaml:3",
            related=(Related("specs/a.yaml", Span(3, 10, 3, 15), "the same jobName"),),
        ),
        Finding(
            "specs/a.yaml",
            Span(5, 13, 5, 17),
            "type",
            'numResults: expected an integer, got the string "25"',
        ),
        Finding(
            "specs/a b.yaml",
            Span(2, 1, 4, 3),
            "bucket-name",
            "100% wrong,\r\nsee: here",
        ),
    ],
    files=3,
    specs=1,
)
CLEAN = LintRun(findings=[], files=2, specs=3)


def _render(name: str, run: LintRun) -> str:
    stream = io.StringIO()
    reporter(name)(run, stream)
    return stream.getvalue()


def test_every_format_has_a_reporter() -> None:
    assert formats("lint") == ("text", "json", "github", "sarif")
    for name in formats("lint"):
        assert callable(reporter(name))


def test_text() -> None:
    assert _render("text", RUN) == (
        "specs/a b.yaml:2:1: warning: 100% wrong,\r\nsee: here [bucket-name]\n"
        "specs/a.yaml:5:13: error: numResults: expected an integer, "
        'got the string "25" [type]\n'
        "specs/b.yaml:3:10: error: jobName: 'promo' is also the name of the job in "
        "specs/a.yaml:3 [duplicate-job-name]\n"
        "  specs/a.yaml:3:10: the same jobName\n"
        "3 findings (2 errors) in 3 files\n"
    )


def test_text_clean() -> None:
    assert _render("text", CLEAN) == "2 files, 3 specs: no findings\n"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_is_coloured_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    run = LintRun(findings=[RUN.findings[1]], files=1, specs=0)
    tty = _Tty()
    reporter("text")(run, tty)
    assert tty.getvalue() == (
        "\033[1mspecs/a.yaml:5:13\033[0m: \033[31merror\033[0m: numResults: expected an "
        'integer, got the string "25" \033[2m[type]\033[0m\n'
        "\033[1m1 finding (1 error) in 1 file\033[0m\n"
    )
    plain = (
        'specs/a.yaml:5:13: error: numResults: expected an integer, got the string "25" [type]\n'
        "1 finding (1 error) in 1 file\n"
    )
    assert _render("text", run) == plain
    monkeypatch.setenv("NO_COLOR", "1")
    tty = _Tty()
    reporter("text")(run, tty)
    assert tty.getvalue() == plain


def test_json() -> None:
    location: dict[str, Any] = {"line": 5, "column": 13, "end_line": 5, "end_column": 17}
    assert json.loads(_render("json", RUN)) == {
        "format": "personalize-runner/lint",
        "version": 1,
        "files": 3,
        "specs": 1,
        "findings": [
            {
                "path": "specs/a b.yaml",
                "line": 2,
                "column": 1,
                "end_line": 4,
                "end_column": 3,
                "rule": "bucket-name",
                "severity": "warning",
                "message": "100% wrong,\r\nsee: here",
                "related": [],
            },
            {
                "path": "specs/a.yaml",
                **location,
                "rule": "type",
                "severity": "error",
                "message": 'numResults: expected an integer, got the string "25"',
                "related": [],
            },
            {
                "path": "specs/b.yaml",
                "line": 3,
                "column": 10,
                "end_line": 3,
                "end_column": 31,
                "rule": "duplicate-job-name",
                "severity": "error",
                "message": "jobName: 'promo' is also the name of the job in specs/a.yaml:3",
                "related": [
                    {
                        "path": "specs/a.yaml",
                        "line": 3,
                        "column": 10,
                        "end_line": 3,
                        "end_column": 15,
                        "message": "the same jobName",
                    }
                ],
            },
        ],
    }


def test_json_bytes_are_stable() -> None:
    """`format` and `version` first, as in every document of the family (docs/json.md)."""
    assert _render("json", CLEAN) == (
        "{\n"
        '  "format": "personalize-runner/lint",\n'
        '  "version": 1,\n'
        '  "files": 2,\n'
        '  "specs": 3,\n'
        '  "findings": []\n'
        "}\n"
    )


def test_github() -> None:
    assert _render("github", RUN) == (
        "::warning file=specs/a b.yaml,line=2,endLine=4,"
        "title=personalize-runner bucket-name::100%25 wrong,%0D%0Asee: here\n"
        "::error file=specs/a.yaml,line=5,col=13,endLine=5,endColumn=17,"
        'title=personalize-runner type::numResults: expected an integer, got the string "25"\n'
        "::error file=specs/b.yaml,line=3,col=10,endLine=3,endColumn=31,"
        "title=personalize-runner duplicate-job-name::jobName: 'promo' is also the name of the "
        "job in specs/a.yaml:3%0Aspecs/a.yaml:3:10: the same jobName\n"
        "personalize-runner lint: 3 findings (2 errors) in 3 files\n"
    )
    assert _render("github", CLEAN) == "personalize-runner lint: 2 files, 3 specs: no findings\n"


def test_github_escaping() -> None:
    assert escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"


# The OASIS SARIF 2.1.0 schema (draft-04), as published in oasis-tcs/sarif-spec
# (sarif-2.1/schema/sarif-schema-2.1.0.json at commit a560296ca8c9), committed as data:
# the PyPI packages of SARIF tools ship none.
SARIF_SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).parent / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)


def sarif_errors(document: dict[str, Any]) -> list[str]:
    return errors_of_its_draft(SARIF_SCHEMA, document)


def test_the_sarif_schema_is_the_oasis_one() -> None:
    assert SARIF_SCHEMA["id"] == (
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    # It refuses what it should: a result without a message.
    assert sarif_errors(
        {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "x"}]}],
        }
    )


def test_sarif() -> None:
    document = json.loads(_render("sarif", RUN))
    assert sarif_errors(document) == []

    def location(uri: str, region: tuple[int, int, int, int]) -> dict[str, Any]:
        keys = ("startLine", "startColumn", "endLine", "endColumn")
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": dict(zip(keys, region, strict=True)),
            }
        }

    run = document["runs"][0]
    driver = run["tool"]["driver"]
    assert document["version"] == "2.1.0"
    assert (driver["name"], driver["version"]) == ("personalize-runner", "0.1.0")
    assert driver["informationUri"] == ("https://github.com/%3Cowner%3E/personalize-runner#readme")
    assert [rule["id"] for rule in driver["rules"]] == ["bucket-name", "duplicate-job-name", "type"]
    for entry in driver["rules"]:
        rule = RULES[entry["id"]]
        assert entry == {
            "id": rule.id,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.description},
            "help": {"text": rule_text(rule), "markdown": rule_markdown(rule)},
            "helpUri": "https://github.com/%3Cowner%3E/personalize-runner/blob/main/"
            f"docs/rules.md#{rule.id}",
            "defaultConfiguration": {"level": rule.level.value},
        }
    assert "```yaml\njobInput:" in driver["rules"][0]["help"]["markdown"]
    fingerprints = [result.pop("partialFingerprints") for result in run["results"]]
    assert [list(found) for found in fingerprints] == [["personalizeRunnerFinding/v1"]] * 3
    assert len({found["personalizeRunnerFinding/v1"] for found in fingerprints}) == 3
    assert run["results"] == [
        {
            "ruleId": "bucket-name",
            "ruleIndex": 0,
            "level": "warning",
            "message": {"text": "100% wrong,\r\nsee: here"},
            "locations": [location("specs/a%20b.yaml", (2, 1, 4, 3))],
        },
        {
            "ruleId": "type",
            "ruleIndex": 2,
            "level": "error",
            "message": {"text": 'numResults: expected an integer, got the string "25"'},
            "locations": [location("specs/a.yaml", (5, 13, 5, 17))],
        },
        {
            "ruleId": "duplicate-job-name",
            "ruleIndex": 1,
            "level": "error",
            "message": {"text": "jobName: 'promo' is also the name of the job in specs/a.yaml:3"},
            "locations": [location("specs/b.yaml", (3, 10, 3, 31))],
            "relatedLocations": [
                {
                    "id": 1,
                    **location("specs/a.yaml", (3, 10, 3, 15)),
                    "message": {"text": "the same jobName"},
                }
            ],
        },
    ]


def _sarif_of(capsys: pytest.CaptureFixture[str], path: Path, state: Path) -> list[dict[str, Any]]:
    status, out, err = run_lint(capsys, "--format", "sarif", str(path), state=state)
    assert (status, err) == (1, "")
    document = json.loads(out)
    assert sarif_errors(document) == []
    results: list[dict[str, Any]] = document["runs"][0]["results"]
    return results


def test_sarif_fingerprints_do_not_move_with_the_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same findings after lines are added above them: other lines, same fingerprints;
    two findings equal but for their place keep distinct ones."""
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state.json"
    spec = Path("spec.yaml")
    text = (EXAMPLES / "negative" / "kms-key-mismatch.yaml").read_text(encoding="utf-8")
    text += "tags:\n  - {tagKey: team, tagValue: a}\n  - {tagKey: team, tagValue: b}\n"
    text += "  - {tagKey: team, tagValue: c}\n"
    spec.write_text(text, encoding="utf-8")
    before = _sarif_of(capsys, spec, state)
    spec.write_text("# moved\n# down\n# three lines\n" + text, encoding="utf-8")
    after = _sarif_of(capsys, spec, state)

    def lines(results: list[dict[str, Any]]) -> list[int]:
        return [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]

    assert lines(after) == [line + 3 for line in lines(before)]
    prints = [r["partialFingerprints"] for r in before]
    assert [r["partialFingerprints"] for r in after] == prints
    assert len({p["personalizeRunnerFinding/v1"] for p in prints}) == len(before) > 3
    assert [r["ruleId"] for r in before].count("tag-duplicate") == 2


def test_sarif_clean_run_is_valid() -> None:
    document = json.loads(_render("sarif", CLEAN))
    assert sarif_errors(document) == []
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["tool"]["driver"]["rules"] == []


@pytest.mark.parametrize("output_format", formats("lint"))
def test_exit_status_through_the_cli(
    output_format: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(REPO)
    state = tmp_path / "state.json"
    good = (EXAMPLES / "positive").relative_to(REPO).as_posix()
    bad = (EXAMPLES / "negative" / "wrong-type.yaml").relative_to(REPO).as_posix()
    status, out, err = run_lint(capsys, "--format", output_format, good, state=state)
    assert (status, err) == (0, "")
    status, out, err = run_lint(capsys, "--format", output_format, good, bad, state=state)
    assert (status, err) == (1, "")
    if output_format == "sarif":
        assert sarif_errors(json.loads(out)) == []


# RFC 3986: a URI reference holds only unreserved and reserved characters and %XX escapes.
# The SARIF schema's `uri` and `uri-reference` formats, which the installed jsonschema does
# not check (it needs a URI package the project does not depend on).
URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")


def _uris(value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith(("uri", "Uri")) and isinstance(item, str):
                yield key, item
            else:
                yield from _uris(item)
    elif isinstance(value, list):
        for item in value:
            yield from _uris(item)


def test_every_sarif_uri_is_an_rfc_3986_uri(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The repository's links (whose owner is a `<owner>` placeholder for now) and the file
    names (a space, a non-ASCII letter, `#` and `%`) are escaped where SARIF needs URIs."""
    monkeypatch.chdir(tmp_path)
    bad = (EXAMPLES / "negative" / "wrong-type.yaml").read_text(encoding="utf-8")
    (tmp_path / "my spec é#1 50%.yaml").write_text(bad, encoding="utf-8")
    status, out, _ = run_lint(
        capsys, "--format", "sarif", "my spec é#1 50%.yaml", state=tmp_path / "state.json"
    )

    assert status == 1
    found = list(_uris(json.loads(out)))
    assert {key for key, _ in found} == {"informationUri", "helpUri", "uri"}
    for key, uri in found:
        assert URI_CHARACTERS.fullmatch(uri), (key, uri)
        if key != "uri":
            assert urlsplit(uri).scheme == "https", (key, uri)
    assert ("uri", "my%20spec%20%C3%A9%231%2050%25.yaml") in found
