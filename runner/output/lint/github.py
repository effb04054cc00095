"""`--format github`: workflow commands that GitHub Actions shows on the pull request's lines.

    ::error file=specs/a.yaml,line=3,col=10,endLine=3,endColumn=31,title=personalize-runner type::…

Escaping follows @actions/core (`toolkit/packages/core/src/command.ts`): `%`, CR and LF in
the message; those and `:` and `,` in property values.
"""

from __future__ import annotations

from typing import TextIO

from runner.findings import Finding, Severity
from runner.output.lint import LintRun

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    span = finding.span
    properties = [("file", finding.path), ("line", str(span.line))]
    # GitHub ignores columns on an annotation that spans several lines.
    if span.end_line == span.line:
        properties += [
            ("col", str(span.col)),
            ("endLine", str(span.end_line)),
            ("endColumn", str(span.end_col)),
        ]
    else:
        properties.append(("endLine", str(span.end_line)))
    properties.append(("title", f"personalize-runner {finding.rule}"))
    message = finding.message + "".join(
        f"\n{related.path}:{related.span.line}:{related.span.col}: {related.message}"
        for related in finding.related
    )
    fields = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{_COMMANDS[finding.severity]} {fields}::{escape_data(message)}"


def report(run: LintRun, stream: TextIO) -> None:
    for finding in sorted(run.findings, key=lambda f: f.sort_key):
        stream.write(annotation(finding) + "\n")
    files = f"{run.files} file{'s' if run.files != 1 else ''}"
    if run.findings:
        count = len(run.findings)
        errors = sum(finding.severity is Severity.ERROR for finding in run.findings)
        stream.write(
            f"personalize-runner lint: {count} finding{'s' if count != 1 else ''} "
            f"({errors} error{'s' if errors != 1 else ''}) in {files}\n"
        )
    else:
        specs = f"{run.specs} spec{'s' if run.specs != 1 else ''}"
        stream.write(f"personalize-runner lint: {files}, {specs}: no findings\n")
