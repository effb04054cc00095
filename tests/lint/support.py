"""Running `lint` in-process through the real entry point, and its output as lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.__main__ import main
from runner.yaml.document import YamlSyntaxError
from runner.yaml.reader import decode

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).resolve().parent


def run_lint(capsys: pytest.CaptureFixture[str], *args: str, state: Path) -> tuple[int, str, str]:
    """`personalize-runner lint ARGS --state STATE`: the status, stdout and stderr."""
    capsys.readouterr()
    status = main(["lint", *args, "--state", str(state)])
    out, err = capsys.readouterr()
    return status, out, err


def finding_lines(document: dict[str, Any], prefix: str) -> list[str]:
    """`line:col rule message` per finding (`file:line:col …` outside `prefix`)."""

    def where(item: dict[str, Any]) -> str:
        path: str = item["path"]
        name = "" if path == prefix.rstrip("/") else path.removeprefix(prefix) + ":"
        return f"{name}{item['line']}:{item['column']}"

    lines = []
    for finding in document["findings"]:
        lines.append(f"{where(finding)} {finding['rule']} {finding['message']}")
        lines.extend(
            f"  related {where(related)} {related['message']}" for related in finding["related"]
        )
    return lines


def lint_json(
    capsys: pytest.CaptureFixture[str], *args: str, state: Path
) -> tuple[int, dict[str, Any]]:
    status, out, err = run_lint(capsys, "--format", "json", *args, state=state)
    assert err == ""
    document: dict[str, Any] = json.loads(out)
    return status, document


def example_documents() -> list[Any]:
    """Every decodable document of every example file."""
    documents: list[Any] = []
    for path in sorted(EXAMPLES.glob("*/**/*.yaml")):
        try:
            decoded = decode(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, YamlSyntaxError):
            continue
        documents += [document.data for document in decoded.documents]
    return documents
