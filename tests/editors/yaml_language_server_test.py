"""Spec files in an editor, against the real yaml-language-server over LSP: what the
`schema-modeline` rule and the README's `yaml.schemas` setting say, and that the schemas'
`markdownDescription`s show as Markdown."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from runner.__main__ import main
from tests.editors.language_server import LanguageServer, install
from tests.lint.support import REPO

MODELINE = "# yaml-language-server: $schema=../schemas/{}.v1.json\n"
SEGMENT = MODELINE.format("batch-segment-job")
# A spec whose one error for an editor is a string for numResults (its line 5).
SPEC = """\
apiVersion: personalize-runner/v1
kind: {kind}
jobName: {name}
solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c
numResults: "many"
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/{name}.jsonl
jobOutput:
  s3DataDestination:
    path: s3://acme-personalize/batch/out/{name}/
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""
EXPECTED_INTEGER = 'Incorrect type. Expected "integer".'


def spec(name: str, kind: str = "BatchSegmentJob") -> str:
    return SPEC.format(name=name, kind=kind)


@pytest.fixture(scope="module")
def server_script() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run yaml-language-server")
    return install()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    (tmp_path / "specs").mkdir()
    return tmp_path


def _lines(diagnostics: list[tuple[int, str]], message: str) -> list[int]:
    return [line for line, text in diagnostics if text == message]


def _lint(workspace: Path, capsys: pytest.CaptureFixture[str], path: Path) -> list[str]:
    capsys.readouterr()
    main(["lint", "--format", "json", str(path), "--state", str(workspace / "state.json")])
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return [f"{f['line']} {f['rule']}" for f in document["findings"]]


def test_a_modeline_covers_its_own_document_only(
    server_script: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace / "specs" / "two.yaml"
    # Lines: the modeline, the first spec (2-13), `---` (14), the second spec (15-26).
    path.write_text(SEGMENT + spec("first") + "---\n" + spec("second"), encoding="utf-8")
    with LanguageServer(server_script, workspace, {}) as server:
        diagnostics = server.open(path)
        assert _lines(diagnostics, EXPECTED_INTEGER) == [6]
        assert server.hover(path, 6) is not None
        assert server.hover(path, 19) is None
    assert "14 schema-modeline" in _lint(workspace, capsys, path)

    path.write_text(SEGMENT + spec("first") + "---\n" + SEGMENT + spec("second"), encoding="utf-8")
    with LanguageServer(server_script, workspace, {}) as server:
        assert _lines(server.open(path), EXPECTED_INTEGER) == [6, 20]
    assert not [line for line in _lint(workspace, capsys, path) if "schema-modeline" in line]


def _readme_settings() -> dict[str, Any]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n( *\{\s*\"yaml\.schemas\".*?)```", readme, re.DOTALL)
    assert block is not None, "the README shows the yaml.schemas setting"
    settings: dict[str, Any] = json.loads(textwrap.dedent(block.group(1)))
    return {"schemas": settings["yaml.schemas"]}


def test_the_readmes_yaml_schemas_setting_covers_every_document(
    server_script: Path, workspace: Path
) -> None:
    path = workspace / "specs" / "growth" / "two.yaml"
    path.parent.mkdir()
    path.write_text(spec("first") + "---\n" + spec("second"), encoding="utf-8")
    with LanguageServer(server_script, workspace, _readme_settings()) as server:
        assert _lines(server.open(path), EXPECTED_INTEGER) == [5, 18]


def test_a_modeline_wins_over_the_setting(server_script: Path, workspace: Path) -> None:
    """An inference spec among segment specs names its own schema."""
    path = workspace / "specs" / "inference.yaml"
    text = MODELINE.format("batch-inference-job") + spec("nightly", kind="BatchInferenceJob")
    path.write_text(text, encoding="utf-8")
    with LanguageServer(server_script, workspace, _readme_settings()) as server:
        diagnostics = server.open(path)
    # Only the error the spec has: no complaint that `kind` is not BatchSegmentJob.
    assert [line for line, _ in diagnostics] == [6]


def test_descriptions_show_as_markdown(server_script: Path, workspace: Path) -> None:
    """`apiVersion`'s description quotes `personalize-runner/v1`: from markdownDescription
    the backticks render; from description alone they show escaped."""
    path = workspace / "specs" / "one.yaml"
    path.write_text(SEGMENT + spec("first"), encoding="utf-8")
    with LanguageServer(server_script, workspace, {}) as server:
        server.open(path)
        shown = server.hover(path, 2)
    assert shown is not None
    assert "`personalize-runner/v1`" in shown
    assert "\\`" not in shown

    schema_path = workspace / "schemas" / "batch-segment-job.v1.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))

    def plain(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: plain(v) for k, v in node.items() if k != "markdownDescription"}
        if isinstance(node, list):
            return [plain(item) for item in node]
        return node

    schema_path.write_text(json.dumps(plain(schema)), encoding="utf-8")
    with LanguageServer(server_script, workspace, {}) as server:
        server.open(path)
        shown = server.hover(path, 2)
    assert shown is not None
    assert "\\`personalize" in shown
