"""The local engine: datasets, solution versions and batch segment jobs computed offline.

The `local` backend calls `execute_job` when a job runs; the `personalize-runner local`
commands (`runner.commands.local`) import datasets, train solution versions and create
filters. See `runner.engine.model` for what a segment is here, and docs/local-engine.md.
"""

from __future__ import annotations

from runner.extras import require_extra

# numpy and scipy are the [local] extra: without them, say which extra to install.
require_extra("local", "numpy", "scipy")
