"""Quota slots: at most a kind's quota (5) of its jobs pending or in progress per account
and region.

Each kind, account and region is served on its own, all at once: a slot is filled as soon
as a poll shows it free, counting the jobs in flight that the service lists, this run's
or not, so that `LimitExceededException` is rare (and, when it comes, means: wait for the
next poll). Jobs that the deadline (`--timeout`) leaves no slot for are *deferred*.

A job that runs T seconds is seen finished at most max(2 s, T/20) late (`poller`), so its
slot is refilled within 5% of T: the makespan of N equal jobs stays within
1.05x ⌈N/5⌉·T plus a poll.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from runner.backends import IN_FLIGHT_STATUSES, Backend
from runner.planner import Change, Group, PlannedJob
from runner.reconcile import poller
from runner.reconcile.ledger import Ledger
from runner.reconcile.poller import Clock
from runner.reconcile.submit import Full, Submitter

# Threads serving kinds, accounts and regions at once.
MAX_THREADS = 16
# Jobs to adopt taken from a group's queue at once: their describes run a few at a time
# (`Submitter.concurrency`), and the deadline is checked between such batches.
ADOPTIONS = 64


def _adopting(job: PlannedJob) -> bool:
    return job.change is Change.ADOPT


@dataclass
class _Slots:
    """One kind in one account and region: its queue, and this run's jobs in flight there."""

    group: Group
    # Jobs in flight at the service that are not this run's, as last listed.
    others: int
    # The interval while only others' jobs hold the slots (backing off).
    delay: float
    queue: deque[PlannedJob] = field(default_factory=deque)
    # This run's jobs pending or in progress: key (`JobKind.key`) → ARN, and when
    # (monotonic) they went.
    in_flight: dict[str, str] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    next_at: float = float("-inf")
    ticks: int = 0
    noted: bool = False

    def free(self, limit: int) -> int:
        return limit - len(self.in_flight) - self.others

    def busy(self, *, wait: bool) -> bool:
        return bool(self.queue) or (wait and bool(self.in_flight))


class Scheduler:
    def __init__(
        self,
        *,
        backend: Backend,
        submitter: Submitter,
        ledger: Ledger,
        clock: Clock,
        deadline: float | None,
        wait: bool,
        max_in_flight: int | None,
        poll_first: float,
        quotas: Mapping[str, int] | None = None,
        poll_max: float,
    ) -> None:
        self.backend = backend
        self.submitter = submitter
        self.ledger = ledger
        self.clock = clock
        self.deadline = deadline
        self.wait = wait
        # None: each kind's quota, or the one set for it (`quotas`, by kind name).
        self.max_in_flight = max_in_flight
        self.quotas = quotas or {}
        self.poll_first = poll_first
        self.poll_max = poll_max

    def carry_out(
        self,
        jobs: Sequence[PlannedJob],
        *,
        busy: Mapping[Group, frozenset[str]] | None = None,
    ) -> tuple[str, ...]:
        """Submit (or adopt) `jobs`, every kind, account and region at once, keeping each
        one's slots full; with `--wait`, until this run's jobs are final. `busy`: the jobs
        in flight at the service per group, as the plan's listing found them. The jobs
        still unfinished at the deadline (with `--wait`)."""
        busy = busy or {}
        groups: dict[Group, _Slots] = {}
        for job in jobs:
            group = (job.kind, job.scope)
            if group not in groups:
                groups[group] = _Slots(group, others=0, delay=self.poll_first)
            groups[group].queue.append(job)
        for slots in groups.values():
            # Jobs to adopt that are in flight count once they are adopted, as this run's.
            ours = {job.name for job in slots.queue}
            slots.others = len(busy.get(slots.group, frozenset()) - ours)
        wait = self.wait
        pool = (
            ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(groups)))
            if len(groups) > 1
            else None
        )
        try:
            while True:
                active = [slots for slots in groups.values() if slots.busy(wait=wait)]
                if not active:
                    break
                if self._past_deadline():
                    for slots in active:
                        for job in slots.queue:
                            self.submitter.defer(job)
                        slots.queue.clear()
                    break
                now = self.clock.monotonic()
                due = [slots for slots in active if slots.next_at <= now]
                if not due:
                    self._sleep(min(slots.next_at for slots in active) - now)
                    continue
                if pool is None or len(due) == 1:
                    for slots in due:
                        self._tick(slots)
                else:
                    for future in [pool.submit(self._tick, slots) for slots in due]:
                        future.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        if not wait:
            return ()
        return tuple(sorted(name for slots in groups.values() for name in slots.in_flight))

    def _limit(self, slots: _Slots) -> int:
        kind, _ = slots.group
        if self.max_in_flight is not None:
            return self.max_in_flight
        return self.quotas.get(kind.name, kind.quota)

    def _tick(self, slots: _Slots) -> None:
        """Poll the group (but the first time: the plan's listing is fresh), fill its free
        slots, and say when to come back."""
        if slots.ticks:
            self._poll(slots)
        slots.ticks += 1
        progressed = self._fill(slots)
        now = self.clock.monotonic()
        if slots.in_flight:
            interval = poller.age_interval(
                now - min(slots.started.values()), first=self.poll_first, maximum=self.poll_max
            )
            slots.delay = self.poll_first
        else:
            # Every slot is taken by jobs not of this run: nothing tells when they end.
            interval = slots.delay
            slots.delay = poller.backed_off(slots.delay, maximum=self.poll_max)
        slots.next_at = now + interval
        if slots.queue and not progressed and not slots.noted:
            slots.noted = True
            kind, (_, region, account) = slots.group
            self.ledger.note(
                f"waiting for quota slots in {region} ({account}): at most "
                f"{self._limit(slots)} {kind.noun}s may be pending or in progress per region"
            )
        elif progressed:
            slots.noted = False

    def _fill(self, slots: _Slots) -> bool:
        """Submit the group's queued jobs while it has free slots; whether any went."""
        limit = self._limit(slots)
        progressed = False
        while slots.queue:
            job = slots.queue[0]
            if job.change is not Change.ADOPT and slots.free(limit) <= 0:
                break
            if self._past_deadline():
                # No create is begun past the deadline (a previous one took the time).
                for late in slots.queue:
                    self.submitter.defer(late, why="no time left")
                slots.queue.clear()
                break
            if job.change is Change.ADOPT:
                # The jobs to adopt next, their describes a few at a time (issue 11).
                batch = list(
                    itertools.takewhile(_adopting, itertools.islice(slots.queue, ADOPTIONS))
                )
                arns = self.submitter.adopt_all(batch, reason="existed at the service")
                for adopted, arn in zip(batch, arns, strict=True):
                    slots.queue.popleft()
                    if arn is not None:
                        slots.in_flight[adopted.key] = arn
                        slots.started[adopted.key] = self.clock.monotonic()
                progressed = True
                continue
            else:
                created = self.submitter.create(job)
                if isinstance(created, Full):
                    # Jobs the last poll did not show hold the slots: wait for the next.
                    slots.others = max(slots.others, limit - len(slots.in_flight))
                    break
                arn = created
            slots.queue.popleft()
            progressed = True
            if arn is not None:
                slots.in_flight[job.key] = arn
                slots.started[job.key] = self.clock.monotonic()
        return progressed

    def _poll(self, slots: _Slots) -> None:
        """One poll of the group: this run's jobs' statuses, and how many jobs not of this
        run are in flight there."""
        result = poller.poll(self.backend, slots.group, slots.in_flight)
        if result.failed is not None:
            self.ledger.note(f"{poller.listing_failed(slots.group, result.failed)}; trying again")
        if result.others is not None:
            slots.others = result.others
        for name, error in sorted(result.errors.items()):
            self.ledger.note(f"{name}: could not get its status ({error}); trying again later")
        self.ledger.update(result.seen)
        # A job dropped (vanished, or in a status no batch job has) holds no slot here: the
        # service's refusal of a create says when the quota is taken.
        self.ledger.drop(result.dropped)
        for name, summary in [*result.seen.items(), *result.dropped.items()]:
            if summary.status not in IN_FLIGHT_STATUSES:
                del slots.in_flight[name]
                del slots.started[name]

    def _past_deadline(self) -> bool:
        return self.deadline is not None and self.clock.monotonic() >= self.deadline

    def _sleep(self, seconds: float) -> None:
        if self.deadline is not None:
            seconds = min(seconds, self.deadline - self.clock.monotonic())
        self.clock.sleep(max(0.0, seconds))
