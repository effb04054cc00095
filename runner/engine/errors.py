"""What can go wrong in the local engine, in the terms the user can act on."""

from __future__ import annotations

from runner.errors import UserError


class EngineError(UserError):
    """A local dataset, solution version or filter cannot be imported, trained or used."""


class JobFailed(EngineError):
    """A batch segment job fails as a whole; the message is its `failureReason`."""


class LineError(Exception):
    """One input line cannot be answered; the job goes on and reports it on that line."""
