"""The choices of the command line's options, each from its one list: the output writers'
table (`runner.output.writers`), the backends', the job kinds', the colour modes and the
shells that completion serves. `runner.cli` shows and checks them (typer takes an option's
choices from an enum); to mypy they are strings."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias, cast

from runner.backends import BACKEND_NAMES
from runner.kinds import KINDS
from runner.output.terminal import COLOR_CHOICES
from runner.output.writers import formats

SHELLS = ("bash", "zsh", "fish")

# A format's default is its command's first.
FORMATS = {
    command: formats(command)
    for command in ("lint", "plan", "reconcile", "status", "state list", "state show")
}


def listed(values: Sequence[str]) -> str:
    """`text, json or markdown`."""
    return ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]


def _choices(name: str, values: Sequence[str]) -> type[StrEnum]:
    """An enum of `values`."""
    return cast("type[StrEnum]", StrEnum(name, [(value, value) for value in values]))


if TYPE_CHECKING:
    LintFormat: TypeAlias = str
    PlanFormat: TypeAlias = str
    ReconcileFormat: TypeAlias = str
    StatusFormat: TypeAlias = str
    StateListFormat: TypeAlias = str
    StateShowFormat: TypeAlias = str
    BackendName: TypeAlias = str
    ColorChoice: TypeAlias = str
    ShellName: TypeAlias = str
    KindName: TypeAlias = str
else:
    LintFormat = _choices("LintFormat", FORMATS["lint"])
    PlanFormat = _choices("PlanFormat", FORMATS["plan"])
    ReconcileFormat = _choices("ReconcileFormat", FORMATS["reconcile"])
    StatusFormat = _choices("StatusFormat", FORMATS["status"])
    StateListFormat = _choices("StateListFormat", FORMATS["state list"])
    StateShowFormat = _choices("StateShowFormat", FORMATS["state show"])
    BackendName = _choices("BackendName", BACKEND_NAMES)
    ColorChoice = _choices("ColorChoice", COLOR_CHOICES)
    ShellName = _choices("ShellName", SHELLS)
    KindName = _choices("KindName", tuple(KINDS))
