"""`python -m runner.rules > docs/rules.md`: the rules page, rendered from the table."""

from __future__ import annotations

import sys

from runner.rules.docs import render

sys.stdout.write(render())
