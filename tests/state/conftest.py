"""The servers of the state stores' tests: moto's S3 over HTTP (tests/state/s3_server.py),
and endpoints that accept connections and never answer (tests/support/silent_server.py)."""

from __future__ import annotations

from tests.state.s3_server import aws_environment, s3_bucket, s3_server, s3_server_session
from tests.support.silent_server import silent_server, slow_server

__all__ = [
    "aws_environment",
    "s3_bucket",
    "s3_server",
    "s3_server_session",
    "silent_server",
    "slow_server",
]
