"""Whether output goes to a person at a terminal: colour and live progress depend on it."""

from __future__ import annotations

import os
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def wants_color(stream: TextIO) -> bool:
    """Colour on a terminal, never with NO_COLOR (https://no-color.org); FORCE_COLOR forces it."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return is_terminal(stream) and os.environ.get("TERM") != "dumb"


def paint(text: str, code: str, *, color: bool) -> str:
    """`text` in the ANSI SGR `code` (`"1;31"`), when `color`."""
    return f"\x1b[{code}m{text}\x1b[0m" if color else text
