"""Plain-text tables for a terminal: columns two spaces apart, the last one not padded."""

from __future__ import annotations

from collections.abc import Sequence


def columns(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    """`rows` with every cell but the last padded to its column's width (the caller may
    colour a cell, then joins a row with two spaces)."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        for row in rows
    ]
