"""Calls to the service for many jobs at once, a bounded number at a time (issue 11).

Onboarding a repository whose jobs already exist describes every job and lists its tags:
one at a time, 10,000 jobs took over 20 minutes. `bounded_map` runs such calls on a few
threads (`concurrency: {describe: N}` in `personalize-runner.yaml`, 8 by default) and gives
the results back in order, so that what is recorded and reported keeps the order of the
jobs; the clients of those calls retry in botocore's adaptive mode (`runner.boto`), whose
rate limiter slows them down when the service throttles them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

# Calls at once per account and region, unless `concurrency: {describe: N}` says otherwise.
DESCRIBE_CONCURRENCY = 8

Item = TypeVar("Item")
Result = TypeVar("Result")


def bounded_map(
    call: Callable[[Item], Result], items: Sequence[Item], *, workers: int
) -> list[Result]:
    """`[call(item) for item in items]`, at most `workers` calls at a time. The first
    exception (in the items' order) is raised once the calls begun have ended; the calls
    not begun yet are not made."""
    if workers <= 1 or len(items) <= 1:
        return [call(item) for item in items]
    # Imported here: `concurrent.futures` (and `logging`) cost 15 ms of a plan's start-up.
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)))
    futures: list[Future[Result]] = []
    try:
        futures = [pool.submit(call, item) for item in items]
        return [future.result() for future in futures]
    finally:
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True)
