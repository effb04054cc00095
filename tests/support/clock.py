"""A clock that moves only when a test moves it."""

from __future__ import annotations

import threading

# 2023-11-14T22:13:20Z
EPOCH = 1_700_000_000.0


class ManualClock:
    """Seconds since the epoch, like `time.time`, advanced by `advance`."""

    def __init__(self, now: float = EPOCH) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
