"""moto's S3 over HTTP on 127.0.0.1, and a store in front of it that ignores conditions.

moto (5.2) answers `If-Match` / `If-None-Match` on PutObject and `If-Match` on DeleteObject
with 412 PreconditionFailed, as S3 does. But in its threaded server the check and the
store are two steps without a lock (`S3Response.put_object`), where S3 makes them one:
two racing writers could both pass. Requests are therefore handled one at a time here,
which is what S3 guarantees for one key.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from tests.support.fixtures import aws_environment

__all__ = ["S3Server", "aws_environment", "s3_bucket", "s3_server", "s3_server_session"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Application = Callable[[Environ, StartResponse], Iterable[bytes]]


class _OneAtATime:
    def __init__(self, application: Application) -> None:
        self.application = application
        self.lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # The body is read before the lock is taken: a client stopped halfway through
        # sending one (a run frozen by SIGSTOP) must not hold up every other request.
        length = environ.get("CONTENT_LENGTH")
        if length or environ.get("wsgi.input_terminated"):
            stream = environ["wsgi.input"]
            body = stream.read(int(length)) if length else stream.read()
            environ = {**environ, "wsgi.input": io.BytesIO(body)}
        with self.lock:
            return list(self.application(environ, start_response))


class _IgnoringConditions:
    """An S3-compatible store that accepts conditional headers and does not check them."""

    def __init__(self, application: Application) -> None:
        self.application = application

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ = {
            key: value
            for key, value in environ.items()
            if key not in ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")
        }
        return self.application(environ, start_response)


class _Outage:
    """While `down` is set, every request is answered 503 Service Unavailable at once."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self.down = threading.Event()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if self.down.is_set():
            start_response("503 Service Unavailable", [("Content-Type", "application/xml")])
            return [
                b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>ServiceUnavailable</Code>"
                b"<Message>outage</Message></Error>"
            ]
        return self.application(environ, start_response)


class _Stalling:
    """Requests whose method and path match a stall get no answer in time: they wait until
    the stall is lifted (`lift`) and are answered 503 without reaching S3, or, with
    `apply`, are carried out `seconds` later (a write that lands long after its client
    gave up). With `spread`, once a request matches, every later one stalls too (S3 stops
    answering midway through a run)."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self.lifted = threading.Event()
        self.stalled = 0
        self._stall: tuple[str, re.Pattern[str], float, bool, bool] | None = None
        self._spreading = False
        self._lock = threading.Lock()

    def stall(
        self,
        method: str,
        path: str,
        *,
        seconds: float = 3600.0,
        apply: bool = False,
        spread: bool = False,
    ) -> None:
        with self._lock:
            self.lifted.clear()
            self.stalled = 0
            self._spreading = False
            self._stall = (method, re.compile(path), seconds, apply, spread)

    def lift(self) -> None:
        with self._lock:
            self._stall = None
            self._spreading = False
        self.lifted.set()

    def _stalls(self, environ: Environ) -> tuple[float, bool] | None:
        with self._lock:
            if self._stall is None:
                return None
            method, path, seconds, apply, spread = self._stall
            matches = environ["REQUEST_METHOD"] == method and path.search(environ["PATH_INFO"])
            if not (matches or self._spreading):
                return None
            self._spreading = self._spreading or spread
            self.stalled += 1
            return seconds, apply and bool(matches)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        stall = self._stalls(environ)
        if stall is not None:
            seconds, apply = stall
            if apply:
                time.sleep(seconds)
            else:
                self.lifted.wait(seconds)
                start_response("503 Service Unavailable", [("Content-Type", "application/xml")])
                return [b"<Error><Code>ServiceUnavailable</Code><Message>stalled</Message></Error>"]
        return self.application(environ, start_response)


class S3Server:
    """moto's S3 on an ephemeral port; `ignoring_url` serves the same buckets without
    checking conditions; `outage_url` serves them too, but not during an `outage()`;
    `stalling_url` too, but requests that match a `stalling.stall` get no answer in time."""

    def __init__(self) -> None:
        application = _OneAtATime(DomainDispatcherApplication(create_backend_app))
        self._outage = _Outage(application)
        self.stalling = _Stalling(application)
        self._servers = [
            make_server("127.0.0.1", 0, application, threaded=True),
            make_server("127.0.0.1", 0, _IgnoringConditions(application), threaded=True),
            make_server("127.0.0.1", 0, self._outage, threaded=True),
            make_server("127.0.0.1", 0, self.stalling, threaded=True),
        ]
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True) for server in self._servers
        ]

    @staticmethod
    def _url(server: BaseWSGIServer) -> str:
        return f"http://127.0.0.1:{server.server_port}"

    @property
    def endpoint_url(self) -> str:
        return self._url(self._servers[0])

    @property
    def ignoring_url(self) -> str:
        return self._url(self._servers[1])

    @property
    def outage_url(self) -> str:
        return self._url(self._servers[2])

    @property
    def stalling_url(self) -> str:
        return self._url(self._servers[3])

    def go_down(self) -> None:
        """S3 behind `outage_url` answers 503 to everything until `come_back`."""
        self._outage.down.set()

    def come_back(self) -> None:
        self._outage.down.clear()

    def __enter__(self) -> S3Server:
        # One line per request on stderr otherwise.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stalling.lift()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()


@pytest.fixture(scope="session")
def s3_server_session() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
def s3_server(
    s3_server_session: S3Server, aws_environment: None, monkeypatch: pytest.MonkeyPatch
) -> S3Server:
    """moto's S3; boto3 finds it through `AWS_ENDPOINT_URL_S3`, with dummy credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server_session.endpoint_url)
    return s3_server_session


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket without versioning."""
    name = f"state-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server.endpoint_url).create_bucket(Bucket=name)
    return name
