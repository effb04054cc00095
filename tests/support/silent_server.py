"""Endpoints that accept connections and do not answer in time, on 127.0.0.1: one that never
answers (`SilentServer()`), one that answers after `delay` seconds (an HTTP 503, long after
any client gave up). As an endpoint of any service (`AWS_ENDPOINT_URL_S3`,
`AWS_ENDPOINT_URL_STS`, ...): what a run under `--timeout` must survive (issue 10)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

_LATE_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n"
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)


class SilentServer:
    """Accepts every connection, reads what is sent, and holds the connection open until
    it stops (or, with `delay`, answers 503 after `delay` seconds)."""

    def __init__(self, *, delay: float | None = None) -> None:
        self.delay = delay
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.connections = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with outer._lock:
                    outer.connections += 1
                connection: socket.socket = self.request
                connection.settimeout(0.2)
                waited = 0.0
                while not outer._stopped.is_set():
                    if outer.delay is not None and waited >= outer.delay:
                        connection.sendall(_LATE_ANSWER)
                        return
                    try:
                        if connection.recv(65536) == b"":
                            return
                    except TimeoutError:
                        waited += 0.2
                    except OSError:
                        return

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """An endpoint that accepts connections and never answers."""
    with SilentServer() as server:
        yield server


@pytest.fixture
def slow_server() -> Iterator[SilentServer]:
    """An endpoint that answers (503) only after 60 s."""
    with SilentServer(delay=60.0) as server:
        yield server
