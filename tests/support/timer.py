"""A `reconcile.poller.Clock` over a `ManualClock`: sleeping moves the clock, so that polling and
quota waits take no real time, and the local service's jobs advance with it."""

from __future__ import annotations

import datetime

from tests.support.clock import ManualClock


class ManualTimer:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock(), tz=datetime.UTC)

    def monotonic(self) -> float:
        return self.clock()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)
