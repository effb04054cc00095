"""The one markdown table helper, and the plain-text columns of status and state list."""

from __future__ import annotations

from runner.output.columns import columns
from runner.output.markdown import cell, code, table


def test_a_cell_escapes_what_would_break_the_table() -> None:
    assert cell("a | b\r\nc \\ d") == "a \\| b<br>c \\\\ d"
    assert cell(None) == cell("") == ""


def test_code_in_a_cell_keeps_its_backslashes() -> None:
    assert code("specs/a|b\\c.yaml") == "`specs/a\\|b\\c.yaml`"
    assert code(None) == ""


def test_a_table_writes_every_cell_between_single_spaces() -> None:
    assert table(("", "Job"), [["`+`", "`a`"], ["", ""]]) == [
        "|  | Job |",
        "| --- | --- |",
        "| `+` | `a` |",
        "|  |  |",
    ]


def test_columns_pad_every_cell_but_the_last() -> None:
    assert columns([("JOB", "STATUS", "SPEC"), ("alpha-long", "ACTIVE", "specs/a.yaml")]) == [
        ["JOB       ", "STATUS", "SPEC"],
        ["alpha-long", "ACTIVE", "specs/a.yaml"],
    ]
    assert columns([]) == []
