from __future__ import annotations

# The backends' fixtures (local service, HTTP stand-in, dummy AWS credentials) for every test.
pytest_plugins = ["tests.support.fixtures"]
