"""Markdown tables (GitHub Flavored Markdown), for the plan and the report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(text: str | None) -> str:
    """Text in a table cell: `|` escaped, line breaks as `<br>`."""
    if not text:
        return ""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|")
    return escaped.replace("\r", "").replace("\n", "<br>")


def code(text: str | None) -> str:
    """Code in a table cell. A code span takes no backslash escapes, but GFM splits the row
    on `|` before it reads code spans, so `\\|` still stands for `|` there."""
    if not text:
        return ""
    return "`" + text.replace("|", "\\|").replace("\r", "").replace("\n", " ") + "`"


def row(cells: Sequence[str]) -> str:
    return "|" + "".join(f" {text} |" for text in cells)


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a table; the cells are markdown already (see `cell` and `code`)."""
    return [row(header), row(["---"] * len(header)), *(row(cells) for cells in rows)]
