"""What a run shows as it goes: a line per event, and on a terminal a progress line that
rewrites itself while jobs are polled (in CI logs, plain lines only)."""

from __future__ import annotations

from typing import TextIO

from runner.backends import JobSummary
from runner.kinds import kind_of_arn
from runner.output.plan import render_text
from runner.output.report import render_outcome
from runner.output.terminal import live_progress, wants_color
from runner.planner import Plan
from runner.reconcile.report import Outcome


class ConsoleListener:
    """A `reconcile.report.Listener` writing to `stream`; `show_plan` prints the plan first."""

    def __init__(self, stream: TextIO, *, show_plan: bool = True) -> None:
        self.stream = stream
        self.show_plan = show_plan
        self.color = wants_color(stream)
        self.live = live_progress(stream)
        self._progress = False
        # The longest job name of the plan, to line the run's lines up.
        self._width = 0

    def _line(self, text: str) -> None:
        self._clear()
        self.stream.write(text + "\n")
        self.stream.flush()

    def _clear(self) -> None:
        if self._progress:
            self.stream.write("\r\x1b[K")
            self._progress = False

    def planned(self, plan: Plan) -> None:
        self._width = max((len(job.kind.display(job.name)) for job in plan.jobs), default=0)
        if self.show_plan:
            self._line(render_text(plan, color=self.color, next_step=False))

    def outcome(self, outcome: Outcome) -> None:
        self._line(render_outcome(outcome, color=self.color, width=self._width))

    def note(self, message: str) -> None:
        self._line(message)

    def status_changed(self, summary: JobSummary) -> None:
        reason = f": {summary.failure_reason}" if summary.failure_reason else ""
        name = kind_of_arn(summary.arn).display(summary.name)
        self._line(f"{name + ':':<{self._width + 1}} {summary.status}{reason}")

    def polled(self, *, final: int, total: int) -> None:
        if not self.live:
            return
        self._clear()
        self.stream.write(f"{final}/{total} jobs final, waiting…")
        self.stream.flush()
        self._progress = True

    def close(self) -> None:
        self._clear()
        self.stream.flush()
