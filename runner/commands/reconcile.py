"""`personalize-runner reconcile`: submit the new jobs exactly once and record their ARNs.

Exit status: 0 done; 1 any error (a finding, a conflict, a job the service refused or
whose create got no answer, a job that ended CREATE FAILED or was still running at the
deadline with --wait); 3 (`ExitStatus.DEFERRED`) when the quota of 5 jobs in flight per
region left jobs unsubmitted at the deadline (--timeout): run it again to submit them.
Without --timeout the run waits for quota slots as long as it takes. With it, the deadline
bounds every call too: the service's, the state store's and STS's (`runner.deadline`).
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any

from runner import jsonread
from runner.commands.common import (
    check_output_file,
    git_commit,
    load,
    opened_backend,
    planning_time,
    write_output_file,
)
from runner.config import Settings
from runner.errors import PlanError
from runner.fs import read_regular_file
from runner.output.progress import ConsoleListener
from runner.output.report import render_report_json, render_report_text
from runner.output.writers import writer
from runner.planner import Plan
from runner.reconcile.run import Options, reconcile
from runner.saved_plan import read_plan
from runner.state import LockHolder, open_store


def run(
    settings: Settings,
    *,
    saved_plan: Path | None,
    wait: bool,
    dry_run: bool,
    timeout: float | None,
    output_format: str,
    report: Path | None,
    lock_timeout: float,
    now: str | None = None,
) -> int:
    check_output_file(report, settings, option="--report", what="the report")
    plan, plan_document = (None, None) if saved_plan is None else read_saved_plan(saved_plan)
    # The run's one deadline: the backend and the state store bound each call by it (its
    # timeouts and retries), `reconcile` the rest.
    deadline = None if timeout is None else time.monotonic() + timeout
    store = open_store(settings.state, deadline=deadline)
    # People read the plan and the submissions as they happen; with --format json they
    # go to stderr, and stdout holds the report only.
    text = output_format == "text"
    listener = ConsoleListener(sys.stdout if text else sys.stderr, show_plan=True)
    try:
        with opened_backend(settings, deadline=deadline) as backend:
            result = reconcile(
                store=store,
                backend=backend,
                load=lambda state: load(settings, state),
                options=Options(
                    dry_run=dry_run,
                    wait=wait,
                    timeout=timeout,
                    saved_plan=plan,
                    saved_plan_document=plan_document,
                    git_commit=git_commit(settings.root),
                    now=_planning_instant(now, plan),
                    quotas=settings.quotas,
                    describe_concurrency=settings.describe_concurrency,
                ),
                holder=LockHolder.current(),
                lock_timeout=lock_timeout,
                listener=listener,
            )
    finally:
        listener.close()
    if text:
        out = sys.stdout if not result.findings else sys.stderr
        out.write(render_report_text(result, color=listener.color))
    else:
        sys.stdout.write(writer("reconcile", output_format)(result))
    if report is not None:
        write_output_file(report, render_report_json(result), option="--report", what="the report")
    return result.exit_status


def _planning_instant(now: str | None, saved: Plan | None) -> datetime.datetime | None:
    """`--now`; else the instant a saved plan was made at, so that its recurring specs' due
    periods are the plan's (a tick between `plan --out` and `reconcile --plan` does not
    change what is applied); else None, the clock."""
    if now is not None:
        return planning_time(now)
    return None if saved is None else saved.planned_at


def read_saved_plan(path: Path) -> tuple[Plan, dict[str, Any]]:
    """The saved plan, and its document as read (what `reconcile` compares with the plan
    it makes)."""
    try:
        # Capped (size, depth, digits): a saved plan is read from outside (issue 10).
        data = read_regular_file(path, limit=jsonread.DEFAULT_LIMITS.max_bytes)
        document = jsonread.parse(data)
    except OSError as error:
        raise PlanError(
            f"--plan {path}: cannot read the plan: {error.strerror}; give the file that "
            "`personalize-runner plan --out FILE` saved"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError, jsonread.JsonLimitError) as error:
        raise PlanError(
            f"--plan {path}: it is not a saved plan ({error}); save one with "
            "`personalize-runner plan --out FILE`"
        ) from None
    try:
        return read_plan(document), document
    except PlanError as error:
        raise PlanError(
            f"--plan {path}: {error}; save one with `personalize-runner plan --out FILE`"
        ) from None
