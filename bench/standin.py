"""The Personalize stand-in for the scale figures (issue 11), as a process of its own:

    python -m bench.standin FOLDER CALLS [SPECS]

The HTTP stand-in of the tests (`tests.support.personalize_server`) over the local service
whose jobs finish at once, kept in memory as it is (the tests' stores copy, or rewrite as
JSON, every job on every call, which would make the stand-in, not the runner, what a
figure over 10,000 jobs measures), and whose jobs settle as the service's do, looking only
at the jobs not yet final. With SPECS (a folder of spec files), the jobs of those specs
exist at the start, created as the runner creates them: what onboarding adopts. Prints its
URL on a line; on SIGTERM writes the requests by operation to the JSON file CALLS.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from runner.backends.local.service import PersonalizeService
from runner.backends.local.store import State, empty_state
from tests.support.personalize_server import PersonalizeServer


class LiveStore:
    """The service's jobs in memory, changed in place under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = empty_state()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        with self._lock:
            yield self._state


class SettlingService(PersonalizeService):
    """The local service, whose `_advance` skips the jobs at the front that are final (the
    jobs are kept in the order they were created; each settles in order)."""

    settled = 0

    def _advance(self, state: State) -> None:
        jobs = state["jobs"]
        recent = {"formatVersion": state["formatVersion"], "jobs": jobs[self.settled :]}
        super()._advance(recent)
        while self.settled < len(jobs) and jobs[self.settled]["job"]["status"] in (
            "ACTIVE",
            "CREATE FAILED",
        ):
            self.settled += 1


def succeed(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    return None


def main(argv: list[str]) -> int:
    folder, calls_file = Path(argv[0]), Path(argv[1])
    service = SettlingService(
        LiveStore(),
        s3_root=folder / "s3",
        pending_seconds=0.0,
        running_seconds=0.0,
        run_job=succeed,
    )
    if len(argv) > 2:
        from runner.spec.loader import load_specs

        root = Path(argv[2])
        loaded = load_specs([root / "specs"], root=root)
        assert not loaded.findings, loaded.findings[:3]
        for spec in loaded.specs:
            service.create_job(spec.kind, spec.request)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with PersonalizeServer(service) as server:
        print(server.endpoint_url, flush=True)
        stop.wait()
        calls = Counter(call.operation for call in server.calls)
    calls_file.write_text(json.dumps(dict(sorted(calls.items()))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
