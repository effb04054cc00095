"""The HTTP stand-in as a process of its own: `python -m tests.support.serve_personalize
FOLDER`. It serves the service persisted in FOLDER (jobs pend and run for a few tenths of
a second, and succeed), prints its endpoint URL on a line, and runs until it is killed."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.backends.local.service import PersonalizeService
from tests.support.personalize_server import PersonalizeServer


def succeed(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    return None


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    service = PersonalizeService.in_folder(
        folder, pending_seconds=0.2, running_seconds=0.5, run_job=succeed
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with PersonalizeServer(service) as server:
        print(server.endpoint_url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
