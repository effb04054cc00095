"""Opening a backend by name.

Apart from the protocol (`runner.backends`) since it imports the implementations, which
import the protocol. Each is imported only when asked for: `aws` imports boto3.
"""

from __future__ import annotations

from typing import Any

from runner.backends import BACKEND_NAMES, Backend
from runner.errors import ConfigError


def open_backend(name: str, **options: Any) -> Backend:
    """The backend called `name`, built with `options` (its constructor's keywords)."""
    if name == "aws":
        from runner.backends.aws import AwsBackend

        return AwsBackend(**options)
    if name == "local":
        from runner.backends.local import LocalBackend

        return LocalBackend(**options)
    raise ConfigError(f"Unknown backend {name!r}: use one of {', '.join(BACKEND_NAMES)}.")
