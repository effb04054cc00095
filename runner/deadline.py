"""One deadline per run (`--timeout`, issue 10): what is left of it, the timeouts of a call
made now, and whether a failed attempt may be retried before it.

`runner.boto` applies these rules to every client it makes, Personalize, STS and S3 alike:
a call's connect and read timeouts are its client's own (60 s) while they end before the
deadline; closer to it, they are the whole seconds left (`call_seconds`), at least
`MIN_CALL_SECONDS`, so that a call made at or past the deadline (the state written at the
end of a run, `--timeout 0`) still gets one short try. botocore retries a failed attempt
only if its backoff, and the next attempt's timeouts, end before the deadline or at most
`LATE_RETRY_SECONDS` after it (`retry_refusal`); otherwise the call ends at once with
`DeadlineExceeded`. So a service or a store that accepts connections and never answers
costs a run its deadline plus about a second per call it still makes after it.

An instant is a `time.monotonic()` value.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Seconds left before the deadline (negative once it passed), or None: no deadline.
Remaining = Callable[[], float | None]

# The connect and read timeouts of a call made at or past the deadline: one short try.
MIN_CALL_SECONDS = 1
# How far past the deadline a retry's attempt may end (its timeouts were fitted to what was
# left when the call began; botocore cannot shorten them for a retry).
LATE_RETRY_SECONDS = 2.0
# botocore's longest backoff between attempts (standard and adaptive modes).
MAX_BACKOFF = 20.0

# Error codes of throttling answers; botocore retries them, these outlasted the retries.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
# Other error answers botocore retries (besides any 5xx).
_TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)


def until(deadline: float | None) -> Remaining | None:
    """The seconds left before `deadline` (an instant), or None without one."""
    if deadline is None:
        return None
    return lambda: deadline - time.monotonic()


def call_seconds(remaining: float | None, longest: float) -> int | None:
    """The connect and read timeouts of a call made now with `remaining` seconds left, when
    its client's own (the longer of the two: `longest`) could outlast the deadline; None
    when those fit (or there is no deadline)."""
    if remaining is None or remaining >= longest:
        return None
    return max(MIN_CALL_SECONDS, int(remaining))


def retryable(status: int, code: str, caught: bool) -> bool:
    """Whether botocore may retry an attempt: no answer, a 5xx, a 429, throttling, or a
    transient error code."""
    return (
        caught
        or status >= 500
        or status == 429
        or code in THROTTLING_CODES
        or code in _TRANSIENT_CODES
    )


def retry_refusal(
    remaining: float | None,
    *,
    attempts: int,
    attempt_seconds: float,
    status: int,
    code: str,
    caught: bool,
) -> bool:
    """Whether a failed attempt must not be retried: botocore would retry it (`retryable`),
    and the retry's backoff (at most 2^attempts s, 20 s) would outlast the deadline, or its
    attempt (timeouts of `attempt_seconds`) would end more than `LATE_RETRY_SECONDS` after
    it."""
    if remaining is None or not retryable(status, code, caught):
        return False
    return (
        remaining <= min(MAX_BACKOFF, 2.0**attempts)
        or remaining + LATE_RETRY_SECONDS < attempt_seconds
    )


def deadline_message(operation: str, attempts: int, cause: object) -> str:
    """What `DeadlineExceeded` says: the call it cut short, and why that call failed."""
    return (
        f"the run's deadline (--timeout) passed during {operation} "
        f"(after {attempts} attempt{'s' if attempts != 1 else ''}: {cause})"
    )


def brief_wait(remaining: Remaining | None, most: float) -> float:
    """How long to wait for something that ends a run (a thread, a lock released): `most`
    seconds, or, near and past the deadline, what is left of it, at least
    `MIN_CALL_SECONDS`."""
    left = None if remaining is None else remaining()
    if left is None:
        return most
    return min(most, max(float(MIN_CALL_SECONDS), left))
