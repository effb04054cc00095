"""Crash points for the tests of crash safety (issue 11): with
`PERSONALIZE_RUNNER_CRASH_AT=<point>` in its environment, the runner kills itself
(SIGKILL: no handler, no cleanup) when it reaches that point of a state write, so that a
test can check what every step of the write path leaves behind, through the command line.
With `PERSONALIZE_RUNNER_CRASH_SIGNAL=SIGTERM` it sends itself that signal instead.

Points: `journal-torn` (half a journal line written), `journal-written` (a whole line, not
yet flushed), `journal-synced`, `backup-written` and `snapshot-written` (a compaction: the
new snapshot in place, the journal not yet removed); S3: `delta-written` and
`compaction-written` (the new snapshot stored, the deltas not yet removed).
"""

from __future__ import annotations

import os
import signal

SETTING = "PERSONALIZE_RUNNER_CRASH_AT"
# The signal sent at the point: SIGKILL unless it names another (SIGTERM: a stop that the
# runner handles, landing at that very point of the write).
SIGNAL_SETTING = "PERSONALIZE_RUNNER_CRASH_SIGNAL"


def at(point: str) -> bool:
    """Whether the run is to crash at `point`."""
    return os.environ.get(SETTING) == point


def crash() -> None:
    os.kill(os.getpid(), signal.Signals[os.environ.get(SIGNAL_SETTING, "SIGKILL")])


def crash_at(point: str) -> None:
    if at(point):
        crash()
