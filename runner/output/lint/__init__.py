"""Lint reporters: one module per output format, looked up by name.

A reporter writes the findings of a whole run to the stream it is given.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from runner.findings import Finding

FORMATS = {
    "text": "runner.reporters.text",
    "json": "runner.reporters.json_report",
    "github": "runner.reporters.github",
    "sarif": "runner.reporters.sarif",
}


@dataclass(frozen=True)
class LintRun:
    """What a reporter reports: the findings, and how much was checked."""

    findings: Sequence[Finding]
    files: int
    specs: int


class Reporter(Protocol):
    def __call__(self, run: LintRun, stream: TextIO) -> None: ...


def reporter(name: str) -> Reporter:
    module = importlib.import_module(FORMATS[name])
    report: Reporter = module.report
    return report
