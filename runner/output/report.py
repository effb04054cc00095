"""What `reconcile` did: text for people, JSON (`personalize-runner/report`,
`schemas/report.v1.json`) for machines, markdown for a CI job's summary. The outcomes as
the run goes, one line each, are written here too.

Which jobs failed is the report's to say (`RunReport.failures`), for every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runner.backends import ACTIVE, CREATE_FAILED, KNOWN_STATUSES
from runner.errors import ExitStatus
from runner.findings import Finding
from runner.kinds import split_key
from runner.output.documents import dumps, finding_json, header
from runner.output.markdown import cell, code, table
from runner.output.plan import render_markdown as render_plan_markdown
from runner.output.terminal import paint
from runner.planner import Change
from runner.reconcile.report import Outcome, Result, RunReport

NAME = "report"
VERSION = 1

RESULT_COLORS: Mapping[Result, str] = {
    Result.CREATED: "32",
    Result.ADOPTED: "36",
    Result.FAILED: "1;31",
    Result.CONFLICT: "1;31",
    Result.UNKNOWN: "33",
    Result.DEFERRED: "33",
}


def why(outcome: Outcome) -> str:
    """Why `outcome` is among the report's `failures`, in one line."""
    if outcome.status == CREATE_FAILED:
        return ": ".join(filter(None, [CREATE_FAILED, outcome.failure_reason]))
    return outcome.reason


def render_finding(finding: Finding) -> str:
    span = finding.span
    return (
        f"{finding.path}:{span.line}:{span.col}: {finding.severity.value}: "
        f"{finding.message} [{finding.rule}]"
    )


def render_findings(findings: Iterable[Finding]) -> str:
    return "".join(render_finding(finding) + "\n" for finding in findings)


def render_outcome(outcome: Outcome, *, color: bool = False, width: int = 0) -> str:
    """One line as the run goes: `created  holiday-promo  arn:…`, names padded to `width`."""
    head = paint(f"{outcome.result.value:<8}", RESULT_COLORS[outcome.result], color=color)
    name = outcome.kind.display(outcome.name)
    if outcome.result is Result.CREATED:
        return f"{head} {name:<{width}}  {outcome.arn}"
    if outcome.result is Result.ADOPTED:
        return f"{head} {name:<{width}}  {outcome.arn}  ({outcome.reason})"
    return f"{head} {name}: {outcome.reason}"


def _shown(key: str) -> str:
    """A job by its state key, for people: `promo`, `promo [inference]`."""
    kind, name = split_key(key)
    return kind.display(name)


def _problems(count: int) -> str:
    return f"{count} problem{'s' if count != 1 else ''} in the specs must be fixed first"


def render_report_text(report: RunReport, *, color: bool = False) -> str:
    """The end of a run: the findings that stopped it, or what it did, in one summary."""
    if report.findings:
        lines = [render_finding(finding) for finding in report.findings]
        lines.append(f"Nothing submitted: {_problems(len(report.findings))}.")
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
        # Vanished, or in a status no batch job has: dropped by the poller (issue 10).
        dropped = sorted({status for status in final if status and status not in _FOLLOWED})
        counted += [f"{final.count(status)} {status}" for status in dropped]
        parts.append("then " + " and ".join(counted))
    if report.unfinished:
        lines.append(
            f"Still running when the deadline passed: "
            f"{', '.join(_shown(key) for key in report.unfinished)}; "
            "follow them with `personalize-runner wait`."
        )
    serial = _serial(report)
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


_FOLLOWED = frozenset({None, *KNOWN_STATUSES})


def _serial(report: RunReport) -> str:
    return "" if report.state_serial is None else f" (state serial {report.state_serial})"


def report_to_dict(report: RunReport) -> dict[str, Any]:
    plan = report.plan
    return {
        **header(NAME, VERSION),
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
                "kind": outcome.kind.name,
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
        "failures": [
            {"name": outcome.name, "kind": outcome.kind.name, "message": why(outcome)}
            for outcome in report.failures
        ],
        "conflicts": []
        if plan is None
        else [
            {
                "name": job.name,
                "kind": job.kind.name,
                "spec_file": job.spec_file,
                "reason": job.reason,
            }
            for job in plan.of(Change.CONFLICT)
        ],
        "unfinished": list(report.unfinished),
        "findings": [finding_json(finding) for finding in report.findings],
    }


def render_report_json(report: RunReport, *, color: bool = False) -> str:
    return dumps(report_to_dict(report))


_HEADLINES: Mapping[int, str] = {
    ExitStatus.OK: "Done",
    ExitStatus.DEFERRED: "Done for now: jobs deferred by the quota, run again to submit them",
}


def _headline(report: RunReport) -> str:
    plan = report.plan
    if report.findings:
        return f"**Nothing submitted**: {_problems(len(report.findings))}."
    if plan is None:
        return "**Nothing to do.**"
    if report.dry_run:
        return "**Dry run**: nothing submitted."
    if plan.has_conflicts:
        return "**Nothing submitted**: the plan has conflicts."
    status = report.exit_status
    headline = _HEADLINES.get(status, f"Failed (exit status {status})")
    parts = [f"{len(report.of(result))} {result.value}" for result in Result if report.of(result)]
    unchanged = len(plan.of(Change.UNCHANGED))
    counts = ", ".join(parts or ["nothing to do"])
    if unchanged:
        counts += f", {unchanged} unchanged"
    return f"**{headline}**: {counts}{_serial(report)}."


def render_report_markdown(report: RunReport, *, color: bool = False) -> str:
    """The run for a CI job's summary: its outcome, what stopped it or the jobs that failed
    and why, every job, then the plan it carried out."""
    lines = ["### personalize-runner reconcile", "", _headline(report)]
    if report.findings:
        lines += ["", "#### Problems in the specs", ""]
        lines += table(
            ("File", "Line", "Rule", "Problem"),
            (
                [
                    code(finding.path),
                    f"{finding.span.line}:{finding.span.col}",
                    cell(finding.rule),
                    cell(finding.message),
                ]
                for finding in report.findings
            ),
        )
    conflicts = [] if report.plan is None else report.plan.of(Change.CONFLICT)
    if conflicts:
        lines += ["", "#### Conflicts", ""]
        lines += table(
            ("Job", "Spec", "Why"),
            (
                [code(job.kind.display(job.name)), cell(job.spec_file), cell(job.reason)]
                for job in conflicts
            ),
        )
    failed = report.failures
    if failed:
        lines += ["", f"#### Jobs that failed ({len(failed)})", ""]
        lines += table(
            ("Job", "Spec", "Region", "Why"),
            (
                [
                    code(outcome.kind.display(outcome.name)),
                    cell(outcome.spec_file),
                    cell(f"{outcome.region} {outcome.account}"),
                    cell(why(outcome)),
                ]
                for outcome in failed
            ),
        )
    if report.unfinished:
        names = ", ".join(code(_shown(key)) for key in report.unfinished)
        lines += [
            "",
            f"Still running at the deadline: {names} (follow them with `personalize-runner wait`).",
        ]
    if report.outcomes:
        lines += ["", "#### Jobs", ""]
        lines += table(
            ("Job", "Result", "Status", "ARN"),
            (
                [
                    code(outcome.kind.display(outcome.name)),
                    outcome.result.value,
                    cell(outcome.status),
                    cell(outcome.arn),
                ]
                for outcome in report.outcomes
            ),
        )
    text = "\n".join(lines) + "\n"
    if report.plan is not None and report.plan.jobs:
        text += "\n" + render_plan_markdown(report.plan, next_step=False)
    return text
