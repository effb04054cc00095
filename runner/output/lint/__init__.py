"""Lint's writers, one module per format (`runner.output.writers.WRITERS["lint"]` names them).

A lint writer writes the findings of a whole run to the stream it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from runner.findings import Finding


@dataclass(frozen=True)
class LintRun:
    """What a lint writer reports: the findings, and how much was checked."""

    findings: Sequence[Finding]
    # The spec files read, and the spec documents found in them, valid or not.
    files: int
    specs: int


class Reporter(Protocol):
    def __call__(self, run: LintRun, stream: TextIO) -> None: ...
