from __future__ import annotations

import re

import pytest

from runner.engine.expressions import (
    Condition,
    ExpressionError,
    FilterExpression,
    parse_filter,
    parse_item_attributes,
)


def test_item_attributes_are_equalities_joined_by_and() -> None:
    assert parse_item_attributes('ITEMS.genres = "Comedy" AND items.YEAR = 2001') == (
        Condition("ITEMS", "genres", "=", ("Comedy",)),
        Condition("ITEMS", "YEAR", "=", ("2001",)),
    )
    assert parse_item_attributes(r'ITEMS.title = "say \"hi\""') == (
        Condition("ITEMS", "title", "=", ('say "hi"',)),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('ITEMS.genres = "Comedy" OR ITEMS.genres = "Action"', "expected AND at column 25"),
        ('USERS.age = "3"', "expected Items.<field> at column 1"),
        ('ITEMS.genres IN ("Comedy")', "compare with '=' only, not IN"),
        ("ITEMS.genres =", "expected a quoted value or a number at the end"),
        ('ITEMS.genres = "Comedy" AND', "expected Items.<field> at the end"),
        ("ITEMS.genres = $GENRE", "placeholder $GENRE is not supported"),
        ('ITEMS.genres ~ "x"', "unexpected '~ \"x\"' at column 14"),
    ],
)
def test_bad_item_attributes(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_item_attributes(text)


def test_filters_select_user_ids_with_and_binding_tighter_than_or() -> None:
    assert parse_filter(
        'INCLUDE UserID WHERE Users.A IN ("x", "y") AND Users.B >= 18 OR '
        'Interactions.EVENT_TYPE NOT IN ("click") | EXCLUDE UserId WHERE Users.C = "z"'
    ) == (
        FilterExpression(
            "INCLUDE",
            (
                (
                    Condition("USERS", "A", "IN", ("x", "y")),
                    Condition("USERS", "B", ">=", ("18",)),
                ),
                (Condition("INTERACTIONS", "EVENT_TYPE", "NOT IN", ("click",)),),
            ),
        ),
        FilterExpression("EXCLUDE", ((Condition("USERS", "C", "=", ("z",)),),)),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'EXCLUDE ItemID WHERE Items.GENRE IN ("x")',
            "ItemID filters apply to item recommendations; a segment filter selects UserID",
        ),
        ("INCLUDE UserID WHERE Users.AGE < $AGE", "placeholder $AGE is not supported"),
        ('INCLUDE UserID WHERE Items.GENRE IN ("x")', "expected Users.<field> or Interactions"),
        ('KEEP UserID WHERE Users.A IN ("x")', "expected INCLUDE or EXCLUDE at column 1"),
        ('INCLUDE UserID WHERE Users.A != "x"', "operator != is not supported"),
        ('INCLUDE UserID WHERE Users.A IN ("x"', "expected ')' at the end"),
    ],
)
def test_bad_filters(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_filter(text)
