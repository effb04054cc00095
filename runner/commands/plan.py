"""`personalize-runner plan`: the specs against the state (and, with --refresh, the service)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from runner.commands.common import (
    check_output_file,
    load,
    opened_backend,
    planning_time,
    write_output_file,
)
from runner.config import Settings
from runner.errors import ExitStatus
from runner.output.terminal import wants_color
from runner.output.writers import render_plan
from runner.planner import make_plan
from runner.state import open_store

if TYPE_CHECKING:
    from runner.planner import RemoteView


def run(
    settings: Settings,
    *,
    refresh: bool,
    output_format: str,
    out: Path | None,
    detailed_exitcode: bool,
    now: str | None = None,
) -> int:
    from runner.recurring import at

    instant = planning_time(now)
    check_output_file(out, settings, option="--out", what="the plan")
    snapshot = open_store(settings.state).read()
    loaded, recurring = at(load(settings, None if snapshot is None else snapshot.state), instant)
    if loaded.findings:
        from runner.output.report import render_findings

        sys.stderr.write(render_findings(sorted(loaded.findings, key=lambda f: f.sort_key)))
        sys.stderr.write("No plan: fix the specs first (personalize-runner lint).\n")
        return ExitStatus.ERROR
    remote: RemoteView | None = None
    if refresh:
        from runner.remote import fetch_remote_view

        with opened_backend(settings) as backend:
            remote = fetch_remote_view(
                backend,
                loaded.specs,
                None if snapshot is None else snapshot.state,
                concurrency=settings.describe_concurrency,
            )
        for note in remote.notes:
            sys.stderr.write(f"warning: {note}\n")
    plan = make_plan(
        loaded.specs,
        snapshot,
        remote,
        unchanged_files=loaded.unchanged_files,
        recurring=recurring,
        planned_at=instant,
    )
    sys.stdout.write(render_plan(plan, output_format, color=wants_color(sys.stdout)))
    if out is not None:
        from runner.output.plan import render_json

        write_output_file(out, render_json(plan), option="--out", what="the plan")
    if plan.has_conflicts:
        return ExitStatus.ERROR
    if detailed_exitcode and plan.has_changes:
        return ExitStatus.CHANGES
    return ExitStatus.OK
