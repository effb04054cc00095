"""Whether output goes to a person at a terminal: colour and live progress depend on it.

Colour: `--color always` or `never` wins; with `auto` (the default), `NO_COLOR`
(https://no-color.org) turns it off, then `FORCE_COLOR` (https://force-color.org) on, and
otherwise a terminal gets colour unless `TERM=dumb`. The command line sets the choice once
per invocation (`choose_color`).

Live progress (a line rewritten with `\\r` and erase-line): only on a terminal that can show
it, never with `TERM=dumb` and never under `CI` (a terminal there is usually recorded into a
log, where each rewrite would be one more line); colour is not affected by `CI`: log viewers
show it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

COLOR_CHOICES = ("auto", "always", "never")


@dataclass
class _Chosen:
    color: str = COLOR_CHOICES[0]


_CHOSEN = _Chosen()


def choose_color(choice: str) -> None:
    """`--color`: one of COLOR_CHOICES, for the rest of the invocation."""
    if choice not in COLOR_CHOICES:
        raise ValueError(f"--color {choice!r}: one of {', '.join(COLOR_CHOICES)}")
    _CHOSEN.color = choice


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _dumb_terminal() -> bool:
    return os.environ.get("TERM") == "dumb"


def in_ci() -> bool:
    """`CI` set, as GitHub Actions, GitLab CI and most others set it (`CI=false` is not)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def wants_color(stream: TextIO) -> bool:
    if _CHOSEN.color != "auto":
        return _CHOSEN.color == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return is_terminal(stream) and not _dumb_terminal()


def live_progress(stream: TextIO) -> bool:
    """Whether a progress line may rewrite itself (`\\r`, `\\x1b[K`) on `stream`."""
    return is_terminal(stream) and not _dumb_terminal() and not in_ci()


def paint(text: str, code: str, *, color: bool) -> str:
    """`text` in the ANSI SGR `code` (`"1;31"`), when `color`."""
    return f"\x1b[{code}m{text}\x1b[0m" if color else text
