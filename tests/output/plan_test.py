"""The plan's text and markdown, exactly (computing a plan: tests/planner_test.py)."""

from __future__ import annotations

from runner.output.plan import render_markdown, render_text
from runner.planner import make_plan
from runner.state import JobRecord, Snapshot, State
from tests.state.support import LINEAGE, make_record
from tests.support.job_specs import make_spec


def snapshot_of(*records: JobRecord, serial: int = 4) -> Snapshot:
    state = State(
        format_version=1,
        lineage=LINEAGE,
        serial=serial,
        jobs={record.name: record for record in records},
    )
    return Snapshot(state=state, version=f"{LINEAGE}:{serial}:{'e' * 64}")


def test_text_rendering() -> None:
    same = make_spec("same-job")
    snapshot = snapshot_of(
        make_record("same-job", request_digest=same.request_digest, status="ACTIVE"),
        make_record("gone-job"),
    )
    plan = make_plan([make_spec("new-job"), same], snapshot)

    assert render_text(plan) == (
        "Plan: 1 to create, 1 unchanged, 1 orphan (offline, state serial 4)\n"
        "\n"
        "? gone-job  orphan     us-east-1 123456789012  specs/gone-job.yaml\n"
        "    recorded, but its spec was removed: the job is kept (jobs are never deleted)\n"
        "+ new-job   create     us-east-1 123456789012  specs/new-job.yaml\n"
        "= same-job  unchanged  us-east-1 123456789012  specs/same-job.yaml  ACTIVE\n"
        "\n"
        "`personalize-runner reconcile` would submit 1 job.\n"
    )
    assert render_text(plan, color=True).splitlines()[4] == (
        "\x1b[32m+ new-job   create   \x1b[0m  us-east-1 123456789012  specs/new-job.yaml"
    )


def test_markdown_groups_by_account_and_region() -> None:
    plan = make_plan(
        [
            make_spec("west", region="us-west-2"),
            make_spec("east"),
            make_spec("other", account="210987654321"),
        ],
        None,
    )

    assert render_markdown(plan) == (
        "### personalize-runner plan\n"
        "\n"
        "**3 to create** (offline, no state yet)\n"
        "\n"
        "#### Account `123456789012`, us-east-1\n"
        "\n"
        "|  | Job | Change | Spec | Note |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `+` | `east` | create | `specs/east.yaml` |  |\n"
        "\n"
        "#### Account `123456789012`, us-west-2\n"
        "\n"
        "|  | Job | Change | Spec | Note |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `+` | `west` | create | `specs/west.yaml` |  |\n"
        "\n"
        "#### Account `210987654321`, us-east-1\n"
        "\n"
        "|  | Job | Change | Spec | Note |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `+` | `other` | create | `specs/other.yaml` |  |\n"
        "\n"
        "`personalize-runner reconcile` would submit 3 jobs.\n"
    )
