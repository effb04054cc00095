from __future__ import annotations

from tests.support.fixtures import (
    aws_backend,
    aws_environment,
    boto3_session,
    fast_retries,
    local_backend,
    local_root,
    local_service,
    manual_clock,
    personalize_server,
    s3_root,
)

__all__ = [
    "aws_backend",
    "aws_environment",
    "boto3_session",
    "fast_retries",
    "local_backend",
    "local_root",
    "local_service",
    "manual_clock",
    "personalize_server",
    "s3_root",
]
