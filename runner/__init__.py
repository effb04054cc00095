"""personalize-runner: a declarative, GitOps runner for Amazon Personalize batch segment and
batch inference jobs."""

from __future__ import annotations

__version__ = "0.1.0"
