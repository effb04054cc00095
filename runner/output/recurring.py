"""The plan's part about recurring specs, for people: per spec its schedule, the periods
due now, those recorded, the next tick, and from which period an edit applies (text and
markdown; JSON has it as `recurring`). And how a `latestOf` job is shown before it is
submitted: offline, the version is not known yet."""

from __future__ import annotations

from runner.output.markdown import cell, code, table
from runner.planner import Change, Plan, PlannedJob
from runner.recurring import RecurringPlan


def latest_of_line(job: PlannedJob) -> str | None:
    """The solution version of a job still to submit, when its spec says `latestOf`."""
    if job.latest_of is None or job.change not in (Change.CREATE, Change.ADOPT):
        return None
    return f"latest ACTIVE version of {job.latest_of}, resolved at submission"


def text_lines(plan: Plan) -> list[str]:
    """The recurring specs, one block each; none without recurring specs."""
    if not plan.recurring:
        return []
    lines = ["", "Recurring specs:"]
    for item in plan.recurring:
        lines.append(f"  {item.spec_file}  {item.job_name}  {_schedule(item)}")
        lines.append(f"    due now:   {_due(item)}")
        lines.append(f"    recorded:  {_recorded(item)}")
        lines.append(f"    next tick: {item.next_tick or 'none'}")
        if item.edit_applies_from is not None:
            lines.append(f"    {_edit(item)}")
    return lines


def markdown_lines(plan: Plan) -> list[str]:
    if not plan.recurring:
        return []
    lines = ["#### Recurring specs", ""]
    lines += table(
        ("Spec", "Job name", "Schedule", "Due now", "Recorded", "Next tick"),
        [
            [
                code(item.spec_file),
                code(item.job_name),
                cell(_schedule(item)),
                cell(_due(item)),
                cell(_recorded(item))
                + ("" if item.edit_applies_from is None else "<br>" + cell(_edit(item))),
                code(item.next_tick) if item.next_tick else "none",
            ]
            for item in plan.recurring
        ],
    )
    lines.append("")
    return lines


def _schedule(item: RecurringPlan) -> str:
    return f'"{item.cron}" in {item.timezone}'


def _due(item: RecurringPlan) -> str:
    recorded = {period.name for period in item.recorded}
    if not item.due:
        return "none (no tick at or after start yet)"
    return ", ".join(
        f"{name} ({'recorded' if name in recorded else 'to submit'})" for name in item.due
    )


def _recorded(item: RecurringPlan) -> str:
    if not item.recorded:
        return "none"
    newest = item.recorded[-1]
    count = len(item.recorded)
    periods = f"{count} period{'s' if count != 1 else ''}"
    return f"{periods}, the newest {newest.name} ({newest.period}, {newest.status})"


def _edit(item: RecurringPlan) -> str:
    return (
        "the spec changed since its newest recorded period: the change applies from the "
        f"period {item.edit_applies_from} on; recorded jobs keep theirs"
    )
