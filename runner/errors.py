"""Errors the user can fix, each carrying the exit status it ends the run with.

Anything that is not a `UserError` is a bug in the runner and is reported as one.
"""

from __future__ import annotations

from typing import ClassVar


class ExitStatus:
    OK = 0
    ERROR = 1
    # `plan --detailed-exitcode`: there are jobs to submit.
    CHANGES = 2
    # `reconcile`: the per-region quota or the deadline left jobs for a later run.
    DEFERRED = 3


class UserError(Exception):
    """An expected failure with a message that says what is wrong and what to do."""

    exit_status: ClassVar[int] = ExitStatus.ERROR


class ConfigError(UserError):
    """`personalize-runner.yaml` or a command-line option is wrong."""


class StateError(UserError):
    """The state cannot be read, or must not be written (another lineage, newer format)."""


class LockError(UserError):
    """Another run holds the state lock."""


class BackendError(UserError):
    """The service (or the local stand-in) refused a call in a way the run cannot work around."""


class PlanError(UserError):
    """A saved plan cannot be read, or no longer applies (the state or the specs moved)."""
