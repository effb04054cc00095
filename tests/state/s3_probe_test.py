"""Before its first create, a reconcile over an S3 state proves that it may make each of
its writes (issue 10 point 4): a role whose policy lacks the deltas, or the state object,
is refused before any job exists, through the CLI, against moto behind a stand-in of an IAM
policy that denies those keys."""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from runner.errors import StateError
from runner.state import LockHolder, State
from runner.state.s3 import S3StateStore
from tests.state.s3_server import S3Server
from tests.state.support import make_state
from tests.support.cli import run_cli
from tests.support.job_requests import job_arn
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer

KEY = "personalize/state.json"
HOLDER = LockHolder(pid=7, host="ci-runner-1", command="personalize-runner reconcile")
_DENIED = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
    b"<Message>User is not authorized to perform this action</Message></Error>"
)


class _Policy:
    """moto's S3 (the same buckets) behind a policy: PUT and DELETE of the keys `denied`
    names (`<bucket>/<key>` exactly, or a prefix ending in `*`) are answered 403
    AccessDenied, as S3 does before it looks at any condition of the request."""

    def __init__(self) -> None:
        self.application = DomainDispatcherApplication(create_backend_app)
        self.denied: list[str] = []
        # A store that checks If-Match on an object that exists, and writes one that does
        # not exist whatever If-Match says.
        self.if_match_only_when_present = False
        self.lock = threading.Lock()

    def _exists(self, environ: dict[str, Any]) -> bool:
        head = {
            key: value
            for key, value in environ.items()
            if key not in ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "CONTENT_LENGTH")
        }
        head.update(REQUEST_METHOD="HEAD", CONTENT_LENGTH="0")
        head["wsgi.input"] = io.BytesIO()
        answered: list[str] = []
        list(self.application(head, lambda status, headers, *_: answered.append(status)))
        return answered[0].startswith("200")

    def _refuses(self, environ: dict[str, Any]) -> bool:
        if environ["REQUEST_METHOD"] not in ("PUT", "DELETE"):
            return False
        path = str(environ.get("PATH_INFO", "")).lstrip("/")
        return any(
            path.startswith(rule[:-1]) if rule.endswith("*") else path == rule
            for rule in self.denied
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self._refuses(environ):
            start_response("403 Forbidden", [("Content-Type", "application/xml")])
            return [_DENIED]
        with self.lock:
            if (
                self.if_match_only_when_present
                and environ["REQUEST_METHOD"] == "PUT"
                and "HTTP_IF_MATCH" in environ
                and not self._exists(environ)
            ):
                environ = {key: value for key, value in environ.items() if key != "HTTP_IF_MATCH"}
            return list(self.application(environ, start_response))


@pytest.fixture(scope="module")
def policy_server() -> Iterator[tuple[_Policy, str]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    policy = _Policy()
    server = make_server("127.0.0.1", 0, policy, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield policy, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def policy(
    policy_server: tuple[_Policy, str],
    s3_server: S3Server,
    personalize_server: PersonalizeServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[_Policy]:
    """The CLI's S3 behind the policy (nothing denied yet), the service behind a stand-in."""
    rules, url = policy_server
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
    yield rules
    rules.denied.clear()
    rules.if_match_only_when_present = False


@pytest.fixture
def repo(repo: Path) -> Path:
    """The shared repository (tests/support/fixtures.py) with the specs alpha and beta."""
    write_specs(repo / "specs", ["alpha", "beta"])
    return repo


def _keys(bucket: str, s3_server: S3Server) -> list[str]:
    listing = boto3.client("s3", endpoint_url=s3_server.endpoint_url).list_objects_v2(Bucket=bucket)
    return sorted(entry["Key"] for entry in listing.get("Contents", []))


def _grant(bucket: str) -> str:
    return (
        f"the role needs s3:GetObject, s3:PutObject and s3:DeleteObject on s3://{bucket}/{KEY} "
        f"and s3://{bucket}/{KEY}.deltas/*, and s3:ListBucket on the bucket {bucket} (for the "
        f"prefix {KEY}.deltas/).\n"
    )


def _error(err: str) -> str:
    """The error line, after the warning that the test bucket keeps no versions."""
    warning, error = err.splitlines(keepends=True)
    assert warning.startswith("warning: the bucket "), err
    return error


def _state(bucket: str, s3_server: S3Server) -> State | None:
    store = S3StateStore(
        bucket, KEY, client=boto3.client("s3", endpoint_url=s3_server.endpoint_url)
    )
    snapshot = store.read()
    return None if snapshot is None else snapshot.state


def test_a_role_that_may_make_every_write_goes_ahead_and_leaves_no_probe(
    repo: Path, policy: _Policy, s3_bucket: str, s3_server: S3Server
) -> None:
    ran = run_cli("reconcile", "--state", f"s3://{s3_bucket}/{KEY}")

    assert ran.status == 0, ran.err
    assert _keys(s3_bucket, s3_server) == [KEY]
    state = _state(s3_bucket, s3_server)
    assert state is not None
    assert sorted(record.arn for record in state.jobs.values()) == [
        job_arn("alpha"),
        job_arn("beta"),
    ]


@pytest.mark.parametrize("existing", [False, True], ids=["no-state", "a-state"])
def test_a_role_that_may_not_write_the_deltas_submits_nothing(
    repo: Path,
    policy: _Policy,
    s3_bucket: str,
    s3_server: S3Server,
    personalize_server: PersonalizeServer,
    existing: bool,
) -> None:
    if existing:
        # A state with the first job recorded: the next record would be a delta.
        (repo / "specs" / "beta.yaml").rename(repo / "beta.yaml")
        assert run_cli("reconcile", "--state", f"s3://{s3_bucket}/{KEY}").status == 0
        (repo / "beta.yaml").rename(repo / "specs" / "beta.yaml")
    before = _state(s3_bucket, s3_server)
    creates = personalize_server.count("CreateBatchSegmentJob")
    policy.denied.append(f"{s3_bucket}/{KEY}.deltas/*")

    ran = run_cli("reconcile", "--state", f"s3://{s3_bucket}/{KEY}")

    assert ran.status == 1
    assert ran.out.startswith("Plan: "), ran.out
    error = _error(ran.err)
    assert error.startswith(f"error: cannot write s3://{s3_bucket}/{KEY}.deltas/probe-"), error
    assert error.endswith(
        ": AccessDenied: User is not authorized to perform this action. A run writes there "
        "as it records its jobs, so nothing was submitted: " + _grant(s3_bucket)
    ), error
    assert personalize_server.count("CreateBatchSegmentJob") == creates
    assert _state(s3_bucket, s3_server) == before
    # The lock was released, and no probe is left.
    assert _keys(s3_bucket, s3_server) == ([KEY] if existing else [])


def test_a_role_that_may_not_write_the_state_object_submits_nothing(
    repo: Path,
    policy: _Policy,
    s3_bucket: str,
    s3_server: S3Server,
    personalize_server: PersonalizeServer,
) -> None:
    policy.denied.append(f"{s3_bucket}/{KEY}")

    ran = run_cli("reconcile", "--state", f"s3://{s3_bucket}/{KEY}")

    assert ran.status == 1
    assert ran.out.startswith("Plan: "), ran.out
    assert _error(ran.err) == (
        f"error: cannot write s3://{s3_bucket}/{KEY}: AccessDenied: User is not authorized to "
        "perform this action. A run writes there as it records its jobs, so nothing was "
        "submitted: " + _grant(s3_bucket)
    )
    assert personalize_server.count("CreateBatchSegmentJob") == 0
    assert _keys(s3_bucket, s3_server) == []


def test_the_probe_of_the_state_object_never_writes_it(s3_bucket: str, s3_server: S3Server) -> None:
    client = boto3.client("s3", endpoint_url=s3_server.endpoint_url)
    store = S3StateStore(s3_bucket, KEY, client=client)
    with store.lock(holder=HOLDER, timeout=1):
        assert store.read() is None
        store.check_writable()
        # Proven without making the state object.
        assert _keys(s3_bucket, s3_server) == [f"{KEY}.lock"]
        store.write(State.new(), expected=None)
    written = client.head_object(Bucket=s3_bucket, Key=KEY)["ETag"]

    other = S3StateStore(s3_bucket, KEY, client=client)
    with other.lock(holder=HOLDER, timeout=1):
        assert other.read() is not None
        other.check_writable()

    assert client.head_object(Bucket=s3_bucket, Key=KEY)["ETag"] == written
    assert _keys(s3_bucket, s3_server) == [KEY]


def test_a_store_that_ignores_if_match_on_a_missing_object_is_refused(
    policy: _Policy, s3_bucket: str, s3_server: S3Server
) -> None:
    # The probe of the state object would write it there: the store is refused first.
    policy.if_match_only_when_present = True
    client = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"])
    store = S3StateStore(s3_bucket, KEY, client=client, warn=lambda message: None)

    with pytest.raises(StateError) as info:
        store.write(make_state(), expected=None)

    assert str(info.value).startswith(
        f"the store behind s3://{s3_bucket} ignores conditional writes (If-Match on PutObject)"
    )
    assert _keys(s3_bucket, s3_server) == []
