from __future__ import annotations

import os
import shutil
import tempfile

import pytest

# The backends' fixtures (local service, HTTP stand-in, dummy AWS credentials) for every test.
pytest_plugins = ["tests.support.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """The digest caches of the tests' temporary repositories go to a folder of the session's
    own, inherited by the processes the tests start, not to the user's ~/.cache."""
    cache = tempfile.mkdtemp(prefix="personalize-runner-tests-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))
