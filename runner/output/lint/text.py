"""`file:line:col: rule: message`, coloured on a terminal."""

from __future__ import annotations

from typing import TextIO

from runner.findings import Severity
from runner.output.lint import LintRun
from runner.output.terminal import wants_color

_RED = "\033[31m"
_YELLOW = "\033[33m"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def report(run: LintRun, stream: TextIO) -> None:
    colour = wants_color(stream)

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    for finding in sorted(run.findings, key=lambda finding: finding.sort_key):
        where = f"{finding.path}:{finding.span.line}:{finding.span.col}"
        level = finding.severity.value
        level = paint(level, _RED if finding.severity is Severity.ERROR else _YELLOW)
        rule = paint(f"[{finding.rule}]", _DIM)
        stream.write(f"{paint(where, _BOLD)}: {level}: {finding.message} {rule}\n")
        for related in finding.related:
            stream.write(
                f"  {related.path}:{related.span.line}:{related.span.col}: {related.message}\n"
            )
    errors = sum(finding.severity is Severity.ERROR for finding in run.findings)
    files = f"{run.files} file{'s' if run.files != 1 else ''}"
    if run.findings:
        summary = f"{len(run.findings)} finding{'s' if len(run.findings) != 1 else ''}"
        counted = f"{errors} error{'s' if errors != 1 else ''}"
        stream.write(paint(f"{summary} ({counted}) in {files}", _BOLD) + "\n")
    else:
        specs = f"{run.specs} spec{'s' if run.specs != 1 else ''}"
        stream.write(f"{files}, {specs}: no findings\n")
