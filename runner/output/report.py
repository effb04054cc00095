"""Writing what `reconcile` did and what `status` knows: text for people, json (versioned,
stable) for machines."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from typing import Any

from runner.backends import ACTIVE, CREATE_FAILED
from runner.findings import Finding
from runner.plan_render import paint
from runner.planner import Change
from runner.reconciler import Outcome, Result, RunReport
from runner.state import JobRecord, State

REPORT_FORMAT = 1
STATUS_FORMAT = 1

RESULT_COLORS: Mapping[Result, str] = {
    Result.CREATED: "32",
    Result.ADOPTED: "36",
    Result.FAILED: "1;31",
    Result.CONFLICT: "1;31",
    Result.UNKNOWN: "33",
    Result.DEFERRED: "33",
}


def _time(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def render_finding(finding: Finding) -> str:
    span = finding.span
    return (
        f"{finding.path}:{span.line}:{span.col}: {finding.severity.value}: "
        f"{finding.message} [{finding.rule}]"
    )


def render_outcome(outcome: Outcome, *, color: bool = False, width: int = 0) -> str:
    """One line as the run goes: `created  holiday-promo  arn:…`, names padded to `width`."""
    head = paint(f"{outcome.result.value:<8}", RESULT_COLORS[outcome.result], color=color)
    if outcome.result is Result.CREATED:
        return f"{head} {outcome.name:<{width}}  {outcome.arn}"
    if outcome.result is Result.ADOPTED:
        return f"{head} {outcome.name:<{width}}  {outcome.arn}  ({outcome.reason})"
    return f"{head} {outcome.name}: {outcome.reason}"


def render_report_text(report: RunReport, *, color: bool = False) -> str:
    """The end of a run: the findings that stopped it, or what it did, in one summary."""
    if report.findings:
        lines = [render_finding(finding) for finding in report.findings]
        count = len(report.findings)
        lines.append(
            f"Nothing submitted: {count} problem{'s' if count != 1 else ''} in the specs "
            "must be fixed first."
        )
        return "\n".join(lines) + "\n"
    plan = report.plan
    if plan is None:
        return "Nothing to do.\n"
    if report.dry_run:
        return "Dry run: nothing submitted.\n"
    if plan.has_conflicts:
        return "Nothing submitted: the plan has conflicts (see above).\n"
    counts = {result: len(report.of(result)) for result in Result}
    parts = [f"{count} {result.value}" for result, count in counts.items() if count]
    unchanged = len(plan.of(Change.UNCHANGED))
    if unchanged:
        parts.append(f"{unchanged} unchanged")
    lines = []
    if report.waited:
        # Each change of status was shown as it came; the counts close the run.
        final = [outcome.status for outcome in report.outcomes]
        counted = [f"{final.count(status)} {status}" for status in (ACTIVE, CREATE_FAILED)]
        parts.append("then " + " and ".join(counted))
    if report.unfinished:
        lines.append(
            f"Still running when the deadline passed: {', '.join(report.unfinished)}; "
            "follow them with `personalize-runner wait`."
        )
    serial = "" if report.state_serial is None else f" (state serial {report.state_serial})"
    if not report.outcomes:
        lines.append(f"Nothing to do{serial}.")
    else:
        lines.append(f"Reconcile: {', '.join(parts)}{serial}.")
    deferred = counts[Result.DEFERRED]
    if deferred:
        lines.append(
            f"{deferred} job{'s' if deferred != 1 else ''} deferred by the quota: run "
            "`personalize-runner reconcile` again to submit "
            f"{'them' if deferred != 1 else 'it'} (exit status 3)."
        )
    return "\n".join(lines) + "\n"


def report_to_dict(report: RunReport) -> dict[str, Any]:
    plan = report.plan
    return {
        "report_format": REPORT_FORMAT,
        "exit_status": report.exit_status,
        "dry_run": report.dry_run,
        "waited": report.waited,
        "state_serial": report.state_serial,
        "planned": None
        if plan is None
        else {change.value: count for change, count in plan.counts().items()},
        "summary": {result.value: len(report.of(result)) for result in Result},
        "jobs": [
            {
                "name": outcome.name,
                "result": outcome.result.value,
                "reason": outcome.reason,
                "partition": outcome.partition,
                "region": outcome.region,
                "account": outcome.account,
                "spec_file": outcome.spec_file,
                "arn": outcome.arn,
                "status": outcome.status,
                "failure_reason": outcome.failure_reason,
            }
            for outcome in report.outcomes
        ],
        "conflicts": []
        if plan is None
        else [
            {"name": job.name, "spec_file": job.spec_file, "reason": job.reason}
            for job in plan.of(Change.CONFLICT)
        ],
        "unfinished": list(report.unfinished),
        "findings": [
            {
                "path": finding.path,
                "line": finding.span.line,
                "col": finding.span.col,
                "rule": finding.rule,
                "severity": finding.severity.value,
                "message": finding.message,
            }
            for finding in report.findings
        ],
    }


def render_report_json(report: RunReport) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"


def _records(state: State | None) -> list[JobRecord]:
    return [] if state is None else sorted(state.jobs.values(), key=lambda record: record.name)


def render_status_text(state: State | None, *, color: bool = False) -> str:
    records = _records(state)
    if not records:
        return "No jobs recorded.\n"
    header = ("JOB", "STATUS", "REGION", "ACCOUNT", "SUBMITTED", "RECORDED")
    rows = [
        (
            record.name,
            record.status,
            record.region,
            record.account,
            record.submitted_at.strftime("%Y-%m-%d %H:%M UTC"),
            record.recorded_by,
        )
        for record in records
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    for record, row in zip(records, rows, strict=True):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        code = {ACTIVE: "32", CREATE_FAILED: "1;31"}.get(record.status, "33")
        cells[1] = paint(cells[1], code, color=color)
        lines.append("  ".join(cells).rstrip())
        if record.failure_reason:
            lines.append(f"    {record.failure_reason}")
    return "\n".join(lines) + "\n"


def status_to_dict(state: State | None) -> dict[str, Any]:
    return {
        "status_format": STATUS_FORMAT,
        "jobs": [_record_to_dict(record) for record in _records(state)],
    }


def _record_to_dict(record: JobRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "arn": record.arn,
        "status": record.status,
        "failure_reason": record.failure_reason,
        "partition": record.partition,
        "region": record.region,
        "account": record.account,
        "spec_file": record.spec_file,
        "recorded_by": record.recorded_by,
        "git_commit": record.git_commit,
        "submitted_at": _time(record.submitted_at),
        "created_at": _time(record.created_at),
        "updated_at": _time(record.updated_at),
        "status_checked_at": _time(record.status_checked_at),
    }


def render_status_json(state: State | None) -> str:
    return json.dumps(status_to_dict(state), indent=2, ensure_ascii=False) + "\n"


def render_findings(findings: Iterable[Finding]) -> str:
    return "".join(render_finding(finding) + "\n" for finding in findings)
