"""The install's extras: what a command needs beyond the core install, and the error if absent.

The core install has what `lint`, `plan` and the state file need; a pre-commit hook's
environment stays small. A command that needs an extra checks for it before importing it,
so that a missing one is an error naming the extra, not a traceback.
"""

from __future__ import annotations

import importlib.util

from runner.errors import UserError

# Extra -> what needs it, as the error message says.
EXTRAS = {
    "aws": "the aws backend and the S3 state",
    "local": "the local backend and the local engine",
}


class MissingExtra(UserError):
    """A command needs a library of an extra that is not installed."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"{EXTRAS[extra]} need {module}, which is not installed: "
            f"pip install 'personalize-runner[{extra}]'"
        )
        self.extra = extra
        self.module = module


def require_extra(extra: str, *modules: str) -> None:
    """Raise `MissingExtra` unless every top-level module of `extra` can be imported.

    Looks the modules up without importing them: call it before the imports it guards.
    """
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise MissingExtra(extra, module)
