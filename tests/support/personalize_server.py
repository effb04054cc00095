"""A real HTTP server speaking Amazon Personalize's JSON 1.1 protocol, for boto3 to call.

It serves an in-memory `PersonalizeService` on 127.0.0.1 and can misbehave on request:
throttle, answer 5xx, apply a call and lose its answer, answer late (or never), refuse a
call with any error code, or answer with something else than the service's answer (bytes
that are not JSON, `{}`, the answer rewritten: another job's ARN, a summary without its
status). Every request is
logged (operation, body and the signing access key id), so tests can count the attempts
botocore made and see whose credentials signed them. Signatures are not checked; the
region is read from the request's credential scope.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from runner.backends import ServiceError
from runner.backends.local.service import OPERATIONS, PersonalizeService

TARGET_PREFIX = "AmazonPersonalize."
CONTENT_TYPE = "application/x-amz-json-1.1"
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]*)/\d{8}/([^/]+)/personalize/aws4_request")
_ERROR_TYPES = {500: "InternalFailure", 502: "BadGateway", 503: "ServiceUnavailable"}

LoseHow = Literal["error", "close"]


@dataclass(frozen=True)
class Call:
    """One request the server received (each attempt of a retried call is one)."""

    operation: str
    body: Mapping[str, Any]
    access_key_id: str | None = None
    """Of the credentials that signed the request (SigV4's `Credential=`)."""


@dataclass
class _Fault:
    kind: Literal["throttle", "fail", "lose", "delay", "answer"]
    times: int
    operation: str | None
    status: int = 400
    code: str = ""
    seconds: float = 0.0
    how: LoseHow = "error"
    message: str = "Rate exceeded"
    # "answer": the body sent in place of the service's (bytes as they are), or how the
    # service's answer is rewritten; whether the call is made first.
    body: bytes | None = None
    change: Callable[[dict[str, Any]], object] | None = None
    apply: bool = True

    def applies_to(self, operation: str) -> bool:
        return self.times > 0 and self.operation in (None, operation)


@dataclass
class _Answer:
    status: int
    body: object = field(default_factory=dict)
    close: bool = False
    # Sent as they are, in place of `body` as JSON.
    raw: bytes | None = None


class PersonalizeServer:
    """The HTTP stand-in. Use as a context manager, or `start()` and `stop()`."""

    def __init__(self, service: PersonalizeService, *, host: str = "127.0.0.1") -> None:
        self.service = service
        self._host = host
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        # Exceptions raised while handling requests: bugs of the stand-in.
        self.errors: list[BaseException] = []
        self._faults: list[_Fault] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> PersonalizeServer:
        httpd = _HTTPServer((self._host, 0), _Handler)
        httpd.stand_in = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="personalize-server",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        thread.join()
        httpd.close_connections()
        httpd.server_close()  # joins the handler threads
        self._httpd = self._thread = None

    def __enter__(self) -> PersonalizeServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # The call log

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def count(self, operation: str | None = None) -> int:
        """How many requests (attempts) of `operation`, or of any operation, arrived."""
        return sum(operation in (None, call.operation) for call in self.calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # Fault injection: each applies to the next `times` matching requests.

    def throttle(
        self,
        times: int = 1,
        *,
        operation: str | None = None,
        code: str = "ThrottlingException",
    ) -> None:
        """Answer HTTP 400 `code` without calling the service."""
        self._add(_Fault("throttle", times, operation, status=400, code=code))

    def refuse(
        self, code: str, times: int = 1, *, operation: str | None = None, message: str = ""
    ) -> None:
        """Answer HTTP 400 `code` (`ResourceNotFoundException`) without calling the service."""
        self._add(_Fault("throttle", times, operation, code=code, message=message or code))

    def hang(self, times: int = 1, *, operation: str | None = None) -> None:
        """Never answer (until the server stops): a call that hangs."""
        self.delay(24 * 3600.0, times, operation=operation)

    def answer(
        self,
        body: bytes | object,
        times: int = 1,
        *,
        operation: str,
        apply: bool = True,
        status: int = 200,
    ) -> None:
        """Answer HTTP `status` with `body` (bytes as they are, anything else as JSON) in
        place of the service's answer; with `apply` the call is made first (a create whose
        answer is garbage may have created the job)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._add(_Fault("answer", times, operation, status=status, body=raw, apply=apply))

    def rewrite(
        self, change: Callable[[dict[str, Any]], object], times: int = 1, *, operation: str
    ) -> None:
        """Make the call, then answer `change(the service's answer)` in its place (bytes as
        they are, anything else as JSON)."""
        self._add(_Fault("answer", times, operation, status=200, change=change))

    def fail(self, times: int = 1, *, status: int = 500, operation: str | None = None) -> None:
        """Answer HTTP `status` (a 5xx) without calling the service."""
        self._add(_Fault("fail", times, operation, status=status))

    def lose_response(
        self,
        times: int = 1,
        *,
        operation: str | None = "CreateBatchSegmentJob",
        how: LoseHow = "error",
    ) -> None:
        """Call the service, then answer HTTP 500 (`error`) or close the connection."""
        self._add(_Fault("lose", times, operation, how=how))

    def delay(self, seconds: float, times: int = 1, *, operation: str | None = None) -> None:
        """Wait `seconds` before handling the request."""
        self._add(_Fault("delay", times, operation, seconds=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take(self, operation: str, kinds: tuple[str, ...]) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.applies_to(operation):
                    fault.times -= 1
                    return fault
        return None

    # Handling

    def _handle(self, target: str, payload: bytes, authorization: str) -> _Answer:
        operation = target.removeprefix(TARGET_PREFIX)
        try:
            body = json.loads(payload or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        scope = _CREDENTIAL_SCOPE.search(authorization)
        access_key_id = scope.group(1) if scope else None
        with self._lock:
            self._calls.append(
                Call(operation, body if isinstance(body, dict) else {}, access_key_id)
            )
        if not target.startswith(TARGET_PREFIX) or operation not in OPERATIONS:
            return _error(400, "UnknownOperationException", f"Unknown operation {target}")
        if not isinstance(body, dict):
            return _error(400, "SerializationException", "The request body is not a JSON object")

        delay = self._take(operation, ("delay",))
        if delay is not None:
            self._stopping.wait(delay.seconds)
        fault = self._take(operation, ("throttle", "fail"))
        if fault is not None and fault.kind == "throttle":
            return _error(fault.status, fault.code, fault.message)
        if fault is not None:
            return _error(fault.status, _ERROR_TYPES.get(fault.status, "InternalFailure"), "")

        answer = self._take(operation, ("answer",))
        if answer is not None and not answer.apply:
            return _Answer(answer.status, raw=answer.body)
        try:
            result = self.service.call(operation, body, region=scope.group(2) if scope else None)
        except ServiceError as error:
            return _error(400, error.code, error.message)
        if answer is not None and answer.change is not None:
            changed = answer.change(result)
            if isinstance(changed, bytes):
                return _Answer(answer.status, raw=changed)
            return _Answer(answer.status, changed)
        if answer is not None:
            return _Answer(answer.status, raw=answer.body)
        lost = self._take(operation, ("lose",))
        if lost is not None and lost.how == "close":
            return _Answer(0, close=True)
        if lost is not None:
            return _error(500, "InternalFailure", "The response was lost")
        return _Answer(200, result)


def _error(status: int, code: str, message: str) -> _Answer:
    return _Answer(status, {"__type": code, "message": message or code})


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    stand_in: PersonalizeServer

    def __init__(self, address: tuple[str, int], handler: type[_Handler]) -> None:
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake the handlers waiting on kept-alive connections, so that they end."""
        with self._open_lock:
            sockets = list(self._open)
        for connection in sockets:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a read timeout) leaves a broken pipe behind: not an error.
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError | TimeoutError):
            self.stand_in.errors.append(error)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer
    timeout = 30

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length)
        answer = self.server.stand_in._handle(
            self.headers.get("X-Amz-Target", ""),
            payload,
            self.headers.get("Authorization", ""),
        )
        if answer.close:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
