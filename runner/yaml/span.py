"""Positions in a YAML file: the bottom layer, which findings and every decoder share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeAlias

# The line breaks of a file as libyaml counts them once NEL, LINE SEPARATOR and PARAGRAPH
# SEPARATOR are refused (runner.yaml.reader.decode): CR LF, CR or LF; editors count the same.
_BREAK = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a file, 1-based lines and columns, the end exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int


# Where a node stands: the parser's marks for its value and, in a mapping, its key.
# Turned into a `Span` only when a finding needs it.
Marks: TypeAlias = tuple[Any, Any, Any, Any]


def marks_span(start: Any, end: Any) -> Span:
    """The span between two of libyaml's marks (0-based lines and columns)."""
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def char_span(text: str, index: int) -> Span:
    """The span of the one character at `index` of `text`, its lines counted as libyaml
    counts them."""
    line, start = 1, 0
    for found in _BREAK.finditer(text, 0, index):
        line, start = line + 1, found.end()
    col = index - start + 1
    return Span(line, col, line, col + 1)
