"""Writing a plan for people and machines: text (a terminal, a CI log), json
(`personalize-runner/plan`, `schemas/plan.v1.json`: the form `plan --out` saves), markdown
(a pull-request comment, `$GITHUB_STEP_SUMMARY`).

Computing a plan is `runner.planner`'s business; this module only writes one.
"""

from __future__ import annotations

from collections.abc import Mapping

from runner.output import recurring
from runner.output.documents import dumps
from runner.output.markdown import cell, code, table
from runner.output.terminal import paint
from runner.planner import Change, Plan, PlannedJob

SYMBOLS: Mapping[Change, str] = {
    Change.CREATE: "+",
    Change.ADOPT: "~",
    Change.UNCHANGED: "=",
    Change.CONFLICT: "!",
    Change.ORPHAN: "?",
}
# ANSI SGR codes, used on a terminal only.
COLORS: Mapping[Change, str] = {
    Change.CREATE: "32",
    Change.ADOPT: "36",
    Change.UNCHANGED: "2",
    Change.CONFLICT: "1;31",
    Change.ORPHAN: "33",
}
# Text and markdown list unchanged jobs up to this many; beyond, one line counts them (a
# repository of 10,000 specs plans 10,000 unchanged jobs). JSON lists every job.
UNCHANGED_LISTED = 20
_PHRASES: Mapping[Change, tuple[str, str]] = {
    Change.CREATE: ("{} to create", "{} to create"),
    Change.ADOPT: ("{} to adopt", "{} to adopt"),
    Change.UNCHANGED: ("{} unchanged", "{} unchanged"),
    Change.CONFLICT: ("{} conflict", "{} conflicts"),
    Change.ORPHAN: ("{} orphan", "{} orphans"),
}


def summary(plan: Plan) -> str:
    """ "2 to create, 1 unchanged, 1 orphan": the counts that are not zero."""
    parts = [
        _PHRASES[change][count != 1].format(count)
        for change, count in plan.counts().items()
        if count
    ]
    return ", ".join(parts) if parts else "no jobs"


def _source(plan: Plan) -> str:
    consulted = "the service consulted" if plan.refreshed else "offline"
    state = "no state yet" if plan.state is None else f"state serial {plan.state.serial}"
    return f"{consulted}, {state}"


def _listed(plan: Plan) -> tuple[list[PlannedJob], int]:
    """The jobs to list one by one, and how many unchanged ones are only counted."""
    unchanged = len(plan.of(Change.UNCHANGED))
    if unchanged <= UNCHANGED_LISTED:
        return list(plan.jobs), 0
    return [job for job in plan.jobs if job.change is not Change.UNCHANGED], unchanged


def _unchanged_line(count: int) -> str:
    return f"{count} unchanged jobs not listed (`--format json` lists every job)"


def render_text(plan: Plan, *, color: bool = False, next_step: bool = True) -> str:
    """The plan; `next_step` ends it with what `reconcile` would do."""
    lines = [f"Plan: {summary(plan)} ({_source(plan)})"]
    jobs, unlisted = _listed(plan)
    if plan.jobs:
        lines.append("")
    if jobs:
        width = max(len(job.kind.display(job.name)) for job in jobs)
        for job in jobs:
            lines.extend(_text_job(job, width, color=color))
    if unlisted:
        symbol = paint(SYMBOLS[Change.UNCHANGED], COLORS[Change.UNCHANGED], color=color)
        lines.append(f"{symbol} {_unchanged_line(unlisted)}")
    lines += recurring.text_lines(plan)
    if next_step:
        lines.append("")
        lines.append(_next_step(plan))
    return "\n".join(lines) + "\n"


def _text_job(job: PlannedJob, width: int, *, color: bool) -> list[str]:
    head = f"{SYMBOLS[job.change]} {job.kind.display(job.name):<{width}}  {job.change.value:<9}"
    where = f"{job.region} {job.account}  {job.spec_file}"
    if job.change is Change.UNCHANGED and job.status:
        where += f"  {job.status}"
    lines = [paint(head, COLORS[job.change], color=color) + "  " + where]
    if job.change in (Change.ADOPT, Change.CONFLICT, Change.ORPHAN):
        lines.append(f"    {job.reason}")
    latest = recurring.latest_of_line(job)
    if latest is not None:
        lines.append(f"    solution version: {latest}")
    return lines


def _next_step(plan: Plan) -> str:
    if plan.has_conflicts:
        return "Conflicts: reconcile will submit nothing until they are resolved."
    creates = len(plan.of(Change.CREATE))
    adopts = len(plan.of(Change.ADOPT))
    if not creates and not adopts:
        return "Nothing to do."
    parts = []
    if creates:
        parts.append(f"submit {creates} job{'s' if creates != 1 else ''}")
    if adopts:
        parts.append(f"record {adopts} existing job{'s' if adopts != 1 else ''}")
    return f"`personalize-runner reconcile` would {' and '.join(parts)}."


def render_json(plan: Plan, *, color: bool = False) -> str:
    return dumps(plan.to_dict())


def render_markdown(plan: Plan, *, color: bool = False, next_step: bool = True) -> str:
    """Grouped by account and region: who reviews a pull request thinks in those."""
    lines = ["### personalize-runner plan", "", f"**{summary(plan)}** ({_source(plan)})", ""]
    jobs, unlisted = _listed(plan)
    if unlisted:
        lines += [f"{_unchanged_line(unlisted)}.", ""]
    groups: dict[tuple[str, str], list[PlannedJob]] = {}
    for job in jobs:
        groups.setdefault((job.account, job.region), []).append(job)
    for (account, region), jobs in sorted(groups.items()):
        lines += [f"#### Account `{account}`, {region}", ""]
        lines += table(
            ("", "Job", "Change", "Spec", "Note"),
            [
                [
                    code(SYMBOLS[job.change]),
                    code(job.kind.display(job.name)),
                    job.change.value,
                    code(job.spec_file),
                    cell(_note(job)),
                ]
                for job in jobs
            ],
        )
        lines.append("")
    lines += recurring.markdown_lines(plan)
    if next_step:
        lines.append(_next_step(plan))
    else:
        del lines[-1]
    return "\n".join(lines) + "\n"


def _note(job: PlannedJob) -> str:
    if job.change is Change.CREATE:
        return recurring.latest_of_line(job) or ""
    return job.reason if job.change is not Change.UNCHANGED else (job.status or "")
