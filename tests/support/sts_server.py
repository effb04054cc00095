"""moto's STS and IAM over HTTP on 127.0.0.1, with a log of the requests.

boto3 finds it through `AWS_ENDPOINT_URL_STS` (and `AWS_ENDPOINT_URL_IAM`). moto accepts
any role to assume and answers `GetCallerIdentity` with the account that the access key
belongs to: the role's account for assumed-role keys, the account of an IAM user for that
user's keys, and 123456789012 for keys it does not know.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from tests.support.fixtures import aws_environment

__all__ = ["StsCall", "StsServer", "aws_environment", "sts_server", "sts_server_session"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Application = Callable[[Environ, StartResponse], Iterable[bytes]]

MOTO_ACCOUNT = "123456789012"
"""The account of access keys moto does not know."""

_CREDENTIAL = re.compile(r"Credential=([^/]*)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class StsCall:
    """One request: its action, and the access key and region that signed it."""

    service: str
    action: str
    access_key_id: str
    region: str


class _Recording:
    def __init__(self, application: Application) -> None:
        self.application = application
        self.calls: list[StsCall] = []
        self.lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if credential is not None:
            access_key_id, region, service = credential.groups()
            action = form.get("Action", [""])[0]
            with self.lock:
                self.calls.append(StsCall(service, action, access_key_id, region))
        return self.application(environ, start_response)


class StsServer:
    """moto on an ephemeral port of 127.0.0.1, recording every request."""

    def __init__(self) -> None:
        self._recording = _Recording(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, self._recording, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def calls(self) -> list[StsCall]:
        with self._recording.lock:
            return list(self._recording.calls)

    def actions(self) -> list[str]:
        return [call.action for call in self.calls if call.service == "sts"]

    def clear_calls(self) -> None:
        with self._recording.lock:
            self._recording.calls.clear()

    def access_keys(self, account: str) -> tuple[str, str]:
        """A new IAM user's access key in `account`: moto says the key is of `account`."""
        setup = boto3.client("sts", region_name="us-east-1", endpoint_url=self.endpoint_url)
        role = setup.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
        )["Credentials"]
        iam = boto3.client(
            "iam",
            region_name="us-east-1",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=role["AccessKeyId"],
            aws_secret_access_key=role["SecretAccessKey"],
            aws_session_token=role["SessionToken"],
        )
        user = f"runner-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        self.clear_calls()
        return key["AccessKeyId"], key["SecretAccessKey"]

    def __enter__(self) -> StsServer:
        # One line per request on stderr otherwise.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture(scope="session")
def sts_server_session() -> Iterator[StsServer]:
    with StsServer() as server:
        yield server


@pytest.fixture
def sts_server(
    sts_server_session: StsServer, aws_environment: None, monkeypatch: pytest.MonkeyPatch
) -> StsServer:
    """moto's STS, found through `AWS_ENDPOINT_URL_STS`; its log starts empty."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_server_session.endpoint_url)
    sts_server_session.clear_calls()
    return sts_server_session
