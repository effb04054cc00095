from __future__ import annotations

from pathlib import Path

import pytest

from runner.backends import (
    ACTIVE,
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    CREATE_PENDING,
    SERVICE_ERRORS,
    InvalidNextToken,
    ResourceAlreadyExists,
    normalize_status,
)
from runner.backends.aws import AwsBackend
from runner.backends.local import LocalBackend
from runner.backends.registry import open_backend
from runner.errors import ConfigError


@pytest.mark.parametrize(
    ("status", "normalized"),
    [
        ("PENDING", CREATE_PENDING),
        ("CREATE PENDING", CREATE_PENDING),
        ("IN PROGRESS", CREATE_IN_PROGRESS),
        ("CREATE IN_PROGRESS", CREATE_IN_PROGRESS),
        ("ACTIVE", ACTIVE),
        ("CREATE FAILED", CREATE_FAILED),
    ],
)
def test_statuses_are_normalized(status: str, normalized: str) -> None:
    assert normalize_status(status) == normalized


def test_service_errors_are_found_by_code() -> None:
    assert SERVICE_ERRORS["ResourceAlreadyExistsException"] is ResourceAlreadyExists
    assert SERVICE_ERRORS["InvalidNextTokenException"] is InvalidNextToken


def test_open_backend_by_name(tmp_path: Path) -> None:
    local = open_backend("local", root=tmp_path)
    aws = open_backend("aws", max_attempts=2)

    assert isinstance(aws, AwsBackend)
    assert aws.max_attempts == 2
    assert isinstance(local, LocalBackend)
    assert local.service.s3_root == tmp_path / "s3"


def test_unknown_backends_are_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="Unknown backend 'gcp': use one of aws, local"):
        open_backend("gcp")
