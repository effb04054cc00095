"""A saved plan (`plan --out FILE`, the dictionary form of `Plan.to_dict`) read back, and
whether it still applies: `reconcile --plan FILE` carries it out only if neither the state
nor the specs have moved since it was made, and if it is, field for field, the plan made now
from the same specs and state the way it was made (offline, or with the service consulted):
a saved plan edited by hand (its `jobs` emptied, a job's region changed) is refused, not
applied as if it were the plan that was reviewed (issue 10)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from runner.errors import PlanError
from runner.kinds import KINDS
from runner.planner import (
    PLAN_FORMAT,
    PLAN_VERSION,
    Change,
    Plan,
    PlannedJob,
    SpecDigest,
    StateRef,
    spec_digests,
)
from runner.spec import JobSpec
from runner.state import Snapshot


def read_plan(document: object) -> Plan:
    """A plan's dictionary form back; `PlanError` if it is not one this version reads."""
    try:
        return _plan_from_dict(document)
    except (KeyError, TypeError, ValueError) as error:
        raise PlanError(f"it is not a personalize-runner plan ({_why(error)})") from None


def check_saved_plan(
    saved: Plan,
    specs: Sequence[JobSpec],
    snapshot: Snapshot | None,
    *,
    unchanged_files: Collection[str] = (),
) -> list[str]:
    """Why `saved` no longer applies to these specs and this state: empty if it does."""
    problems = []
    now = None if snapshot is None else snapshot.state
    if saved.state is None and now is not None:
        problems.append(
            f"the plan was made when there was no state; it is now at serial {now.serial}"
        )
    elif saved.state is not None and now is None:
        problems.append(
            f"the plan was made from the state at serial {saved.state.serial}; "
            "there is no state now"
        )
    elif saved.state is not None and snapshot is not None and now is not None:
        if saved.state.lineage != now.lineage:
            problems.append(
                f"the plan was made from a state of another lineage ({saved.state.lineage}; "
                f"the state's is {now.lineage})"
            )
        elif saved.state.version != snapshot.version:
            problems.append(
                f"the state moved from serial {saved.state.serial} to serial {now.serial} "
                "since the plan was made"
            )
    before = {(spec.file, spec.index): spec for spec in saved.specs}
    after = {
        (spec.file, spec.index): spec for spec in spec_digests(specs, snapshot, unchanged_files)
    }
    changed = sorted(
        f"{key[0]}#{key[1]}" for key in before.keys() & after.keys() if before[key] != after[key]
    )
    added = sorted(f"{key[0]}#{key[1]}" for key in after.keys() - before.keys())
    removed = sorted(f"{key[0]}#{key[1]}" for key in before.keys() - after.keys())
    for what, which in (("changed", changed), ("added", added), ("removed", removed)):
        if which:
            problems.append(f"specs {what} since the plan was made: {', '.join(which)}")
    return problems


# What a plan made with the service consulted may say otherwise a moment later: the status
# the service reports of a job in flight.
_MOVING_JOB_FIELDS = frozenset({"status"})


def plan_differences(saved: Mapping[str, Any], plan: Plan) -> list[str]:
    """How the saved plan's document differs from `plan`, made now from the same specs and
    state in the way the saved one was (`refreshed` alike): empty if it is that plan.

    Each job is compared field for field (by kind and name), but for the status a refreshed
    plan had from the service; every other part of the document (summary, specs, recurring
    specs) must be equal as a whole."""
    made: dict[str, Any] = json.loads(json.dumps(plan.to_dict()))
    ignored = _MOVING_JOB_FIELDS if plan.refreshed else frozenset()
    problems = []
    saved_jobs = _jobs_by_key(saved.get("jobs"))
    made_jobs = _jobs_by_key(made["jobs"]) or {}
    if saved_jobs is None:
        problems.append("its jobs are not a list of jobs")
    else:
        for key in sorted(made_jobs.keys() - saved_jobs.keys()):
            problems.append(f"it does not list {_job_name(key)} ({made_jobs[key]['change']})")
        for key in sorted(saved_jobs.keys() - made_jobs.keys()):
            problems.append(f"it lists {_job_name(key)}, which the plan made now does not")
        for key in sorted(saved_jobs.keys() & made_jobs.keys()):
            before, now = saved_jobs[key], made_jobs[key]
            fields = sorted(
                name
                for name in before.keys() | now.keys()
                if name not in ignored and before.get(name, _ABSENT) != now.get(name, _ABSENT)
            )
            if fields:
                changed = ", ".join(
                    f"{name} {_shown(before.get(name, _ABSENT))} "
                    f"(now {_shown(now.get(name, _ABSENT))})"
                    for name in fields
                )
                problems.append(f"{_job_name(key)}: {changed}")
    # The instant it was made at is not compared: `reconcile --plan` plans at that instant.
    for name in sorted((saved.keys() | made.keys()) - {"jobs", "planned_at"}):
        if saved.get(name, _ABSENT) != made.get(name, _ABSENT):
            problems.append(f"its {name} differs")
    return problems


class _Absent:
    def __repr__(self) -> str:
        return "absent"


_ABSENT: Any = _Absent()


def _jobs_by_key(jobs: object) -> dict[tuple[str, str], dict[str, Any]] | None:
    """The jobs of a plan's document by (kind, name); None if they are not a list of jobs
    (or two share a kind and name)."""
    if not isinstance(jobs, list):
        return None
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for job in jobs:
        if not isinstance(job, dict):
            return None
        key = (str(job.get("kind")), str(job.get("name")))
        if key in by_key:
            return None
        by_key[key] = job
    return by_key


def _job_name(key: tuple[str, str]) -> str:
    kind, name = key
    return f"the {kind} {name}"


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, _Absent) else json.dumps(value)


def _why(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r}"
    return str(error)


def _dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} must be an array")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string")
    return value


def _optional_str(value: object, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be true or false")
    return value


def _int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an integer")
    return value


def _plan_from_dict(document: object) -> Plan:
    document = _dict(document, "the plan")
    name = _str(document["format"], "format")
    if name != PLAN_FORMAT:
        raise ValueError(f"its format is {name!r}, not {PLAN_FORMAT!r}")
    version = _int(document["version"], "version")
    if version != PLAN_VERSION:
        raise ValueError(f"version {version}; this personalize-runner reads version {PLAN_VERSION}")
    state_doc = document["state"]
    state = None
    if state_doc is not None:
        state_doc = _dict(state_doc, "state")
        state = StateRef(
            lineage=_str(state_doc["lineage"], "state.lineage"),
            serial=_int(state_doc["serial"], "state.serial"),
            version=_str(state_doc["version"], "state.version"),
        )
    jobs = []
    for entry in _list(document["jobs"], "jobs"):
        item = _dict(entry, "a job")
        jobs.append(
            PlannedJob(
                name=_str(item["name"], "jobs[].name"),
                kind=KINDS[_str(item["kind"], "jobs[].kind")],
                change=Change(item["change"]),
                reason=_str(item["reason"], "jobs[].reason"),
                partition=_str(item["partition"], "jobs[].partition"),
                region=_str(item["region"], "jobs[].region"),
                account=_str(item["account"], "jobs[].account"),
                spec_file=_str(item["spec_file"], "jobs[].spec_file"),
                request_digest=_optional_str(item["request_digest"], "jobs[].request_digest"),
                arn=_optional_str(item["arn"], "jobs[].arn"),
                status=_optional_str(item["status"], "jobs[].status"),
            )
        )
    specs = []
    for entry in _list(document["specs"], "specs"):
        item = _dict(entry, "a spec")
        specs.append(
            SpecDigest(
                file=_str(item["file"], "specs[].file"),
                index=_int(item["index"], "specs[].index"),
                job_name=_str(item["job_name"], "specs[].job_name"),
                request_digest=_str(item["request_digest"], "specs[].request_digest"),
                file_digest=_str(item["file_digest"], "specs[].file_digest"),
            )
        )
    return Plan(
        jobs=tuple(jobs),
        spec_source=lambda: tuple(specs),
        state=state,
        refreshed=_bool(document["refreshed"], "refreshed"),
        planned_at=_planned_at(document.get("planned_at")),
    )


def _planned_at(value: object) -> datetime.datetime | None:
    """When the plan was made: absent or null in a plan saved before it was recorded."""
    if value is None:
        return None
    moment = datetime.datetime.fromisoformat(_str(value, "planned_at"))
    if moment.utcoffset() is None:
        raise ValueError("planned_at has no time zone")
    return moment
