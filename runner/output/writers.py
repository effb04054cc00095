"""Every writer of the command line's output, by command and format.

`WRITERS` is the one list of formats: the CLI builds each command's `--format` choices from
it (`formats`). A writer is named by its module and function and imported only when it is
used, so a plain `lint` never imports what `reconcile` writes with. No writer imports this
module (its lookups import the writers: `tests/architecture_test.py` reads the table's
names as imports, and would see the cycle).

    lint       LintRun -> stream            runner.output.lint
    plan       Plan -> str                  runner.output.plan
    reconcile  RunReport -> str             runner.output.report
    status     State | None -> str          runner.output.status
    state      state list / show            runner.output.state
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from runner.output.lint import Reporter
    from runner.planner import Plan

WRITERS: Mapping[str, Mapping[str, str]] = {
    "lint": {
        "text": "runner.output.lint.text:report",
        "json": "runner.output.lint.json_report:report",
        "github": "runner.output.lint.github:report",
        "sarif": "runner.output.lint.sarif:report",
    },
    "plan": {
        "text": "runner.output.plan:render_text",
        "json": "runner.output.plan:render_json",
        "markdown": "runner.output.plan:render_markdown",
    },
    "reconcile": {
        "text": "runner.output.report:render_report_text",
        "json": "runner.output.report:render_report_json",
        "markdown": "runner.output.report:render_report_markdown",
    },
    "status": {
        "text": "runner.output.status:render_status_text",
        "json": "runner.output.status:render_status_json",
    },
    "state list": {
        "text": "runner.output.state:render_list_text",
        "json": "runner.output.state:render_list_json",
    },
    "state show": {
        "text": "runner.output.state:render_record_text",
        "json": "runner.output.state:render_record_json",
    },
}


def formats(command: str) -> tuple[str, ...]:
    """The `--format` choices of `command`, the default first."""
    return tuple(WRITERS[command])


def writer(command: str, output_format: str) -> Any:
    """The function that writes `command`'s output in `output_format`.

    Typed `Any` because each command's writers have their own signature; the command that
    asks knows it (and its tests run every format).
    """
    module, _, name = WRITERS[command][output_format].partition(":")
    return getattr(importlib.import_module(module), name)


def reporter(name: str) -> Reporter:
    report: Reporter = writer("lint", name)
    return report


class PlanRenderer(Protocol):
    def __call__(self, plan: Plan, *, color: bool = False) -> str: ...


def render_plan(plan: Plan, output_format: str, *, color: bool = False) -> str:
    renderer: PlanRenderer = writer("plan", output_format)
    return renderer(plan, color=color)
