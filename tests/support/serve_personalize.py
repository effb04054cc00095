"""The HTTP stand-in as a process of its own: `python -m tests.support.serve_personalize
FOLDER [PENDING RUNNING [CALLS]]`. It serves the service persisted in FOLDER (jobs pend
PENDING and run RUNNING seconds, by default a few tenths of a second, and succeed), prints
its endpoint URL on a line, and runs until it is killed; on SIGTERM it writes the number
of requests by operation to the JSON file CALLS, if given (the benchmark's call counts)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.backends.local.service import PersonalizeService
from tests.support.personalize_server import PersonalizeServer


def succeed(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    return None


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    pending, running = (float(argv[1]), float(argv[2])) if len(argv) > 2 else (0.2, 0.5)
    service = PersonalizeService.in_folder(
        folder, pending_seconds=pending, running_seconds=running, run_job=succeed
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with PersonalizeServer(service) as server:
        print(server.endpoint_url, flush=True)
        stop.wait()
        calls = Counter(call.operation for call in server.calls)
    if len(argv) > 3:
        Path(argv[3]).write_text(json.dumps(dict(sorted(calls.items()))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
