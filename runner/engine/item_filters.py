"""Item filters, which batch inference jobs apply to the items they recommend.

Supported locally, in Personalize's filter language:

    EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")
    EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")
    INCLUDE ItemID WHERE Items.GENRES IN ("Comedy", "Drama") AND Items.YEAR >= 2000
    EXCLUDE ItemID WHERE Items.GENRES = "Horror" | EXCLUDE ItemID WHERE Items.YEAR < 1995

- `Items.<field>` with `IN (…)`, `NOT IN (…)`, `=`, `<`, `<=`, `>`, `>=`, as segment filters
  compare user fields: both read filters the one way of `runner.engine.filters`.
- `Interactions.EVENT_TYPE IN (…)`: the items that the line's user interacted with through
  one of these event types; `"*"` is any event type. It needs a user: on a line of a
  related items job, the line's optional `userId`.
- `Interactions.EVENT_TYPE` values match without regard to case, and only a user's 100
  most recent interactions of each event type count (`FILTER_HISTORY`), as at the service.
- `AND` binds tighter than `OR`; the conditions of one expression are on one dataset.
  `|` chains expressions: `INCLUDE A | INCLUDE B | EXCLUDE C` keeps (A or B) minus C, as the
  developer guide says.
- At most 5 distinct dataset fields in a filter.

- Placeholders (`Items.GENRES IN ($GENRES)`, `Items.PRICE <= $PRICE`) take their values
  from each input line's `filterValues` (`{"GENRES": "\"horror\",\"comedy\""}`), as the
  developer guide's "Filtering batch recommendations" says; a line without them gets an
  error.

Refused: `IF CurrentUser.<field>` conditions and `Interactions.EVENT_TYPE NOT IN`.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from runner.engine.attributes import Mask
from runner.engine.expressions import (
    COMPARISONS,
    Condition,
    ExpressionError,
    FilterExpression,
    Parser,
)
from runner.engine.filters import (
    ANY_EVENT_TYPE,
    attribute_rows,
    check_event_type,
    named_event_types,
    no_event_types,
    selected,
)
from runner.engine.recommender import RecommendationModel, Rows

MAX_FIELDS = 5  # distinct dataset fields per filter, across its chained expressions
_DATASETS = ("ITEMS", "INTERACTIONS")


# Marks a placeholder (`$GENRES`) among a condition's values: no quoted value holds it.
PLACEHOLDER = "\0"
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
FilterValues = tuple[tuple[str, tuple[str, ...]], ...]  # (name, values), sorted by name


class _ItemFilterParser(Parser):
    def value(self) -> str:
        token = self.peek()
        if token is not None and token.kind == "placeholder":
            self.take()
            return PLACEHOLDER + token.text[1:]
        return super().value()


def placeholders(expressions: tuple[FilterExpression, ...]) -> frozenset[str]:
    """The names of the filter's placeholders (`$GENRES` is `GENRES`)."""
    return frozenset(
        value[len(PLACEHOLDER) :]
        for expression in expressions
        for all_of in expression.any_of
        for condition in all_of
        for value in condition.values
        if value.startswith(PLACEHOLDER)
    )


def filter_values(raw: object, names: frozenset[str]) -> FilterValues:
    """A line's `filterValues` for the placeholders `names`: `{"GENRES": "\"a\",\"b\""}`
    gives `(("GENRES", ("a", "b")),)`. Raises `ExpressionError` when one is missing."""
    if not names:
        return ()
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ExpressionError(
            f"The filter has placeholders ({', '.join('$' + n for n in sorted(names))}): the "
            'line needs "filterValues", an object of strings such as '
            '{"GENRES": "\\"horror\\",\\"comedy\\""}'
        )
    missing = sorted(names - set(raw))
    if missing:
        raise ExpressionError(
            f"filterValues has no value for {', '.join('$' + name for name in missing)}"
        )
    values = []
    for name in sorted(names):
        text = raw[name]
        quoted = [re.sub(r"\\(.)", r"\1", value) for value in _QUOTED.findall(text)]
        found = quoted or [part.strip() for part in text.split(",") if part.strip()]
        if not found:
            raise ExpressionError(f"filterValues gives no value for ${name}")
        values.append((name, tuple(found)))
    return tuple(values)


def substitute(
    expressions: tuple[FilterExpression, ...], values: FilterValues
) -> tuple[FilterExpression, ...]:
    """The filter with its placeholders replaced by a line's values."""
    if not values:
        return expressions
    given = dict(values)

    def fill(condition: Condition) -> Condition:
        filled: list[str] = []
        for value in condition.values:
            filled.extend(
                given[value[len(PLACEHOLDER) :]] if value.startswith(PLACEHOLDER) else (value,)
            )
        if condition.operator in COMPARISONS and len(filled) != 1:
            raise ExpressionError(
                f"{condition.dataset.title()}.{condition.field} {condition.operator} takes one "
                f"value, filterValues gives {len(filled)}"
            )
        return replace(condition, values=tuple(filled))

    return tuple(
        replace(
            expression,
            any_of=tuple(tuple(fill(c) for c in all_of) for all_of in expression.any_of),
        )
        for expression in expressions
    )


def is_item_filter(text: str) -> bool:
    """Whether an expression filters items (`INCLUDE ItemID …`) rather than users."""
    words = text.split(None, 2)
    return len(words) >= 2 and words[1].upper() == "ITEMID"


def parse_item_filter(text: str) -> tuple[FilterExpression, ...]:
    """An item filter expression (or several chained with `|`)."""
    parser = _ItemFilterParser(text)

    def condition() -> Condition:
        found = parser.condition(_DATASETS)
        if found.dataset == "INTERACTIONS":
            check_event_type(found, operators=("IN",), use="IN")
        return found

    def check(expression: FilterExpression) -> None:
        if parser.peek_word() == "IF":
            raise parser.error("IF CurrentUser conditions are not supported locally")
        datasets = {c.dataset for conditions in expression.any_of for c in conditions}
        if len(datasets) > 1:
            raise ExpressionError(
                "Items and Interactions conditions cannot be joined in one expression; "
                f"chain two expressions with '|' instead: {text!r}"
            )

    expressions = parser.expressions("ITEMID", condition, check=check)
    fields = {
        (condition.dataset, condition.field.upper())
        for expression in expressions
        for conditions in expression.any_of
        for condition in conditions
    }
    if len(fields) > MAX_FIELDS:
        raise ExpressionError(
            f"the filter uses {len(fields)} dataset fields; a filter may use at most {MAX_FIELDS}"
        )
    return expressions


def needs_user(expressions: tuple[FilterExpression, ...]) -> bool:
    """Whether the filter depends on the user of a line (`Interactions.…`)."""
    return any(
        condition.dataset == "INTERACTIONS"
        for expression in expressions
        for all_of in expression.any_of
        for condition in all_of
    )


def allowed_items(
    model: RecommendationModel, expressions: tuple[FilterExpression, ...], users: Rows
) -> Mask:
    """Which items the filter lets through, for each of `users` (rows; -1: unknown or none).

    The mask is users x items, or 1 x items when the filter does not depend on the user.
    Chained expressions combine as for segment filters (`runner.engine.filters`).
    """

    def matches(condition: Condition) -> Mask:
        if condition.dataset == "INTERACTIONS":
            return _interacted(model, condition.values, users)
        return attribute_rows(model.item_attributes, condition, model.n_items)[None, :]

    return selected(expressions, matches, shape=(1, model.n_items))


def _interacted(model: RecommendationModel, event_types: tuple[str, ...], users: Rows) -> Mask:
    """users x items: the user interacted with the item through one of `event_types`."""
    if ANY_EVENT_TYPE not in event_types and model.user_item_events is None:
        raise no_event_types()
    result = np.zeros((len(users), model.n_items), dtype=np.bool_)
    known = np.flatnonzero(users >= 0)
    if len(known) == 0:
        return result
    matrix = model.user_items
    starts, stops = matrix.indptr[users[known]], matrix.indptr[users[known] + 1]
    lengths = stops - starts
    positions = np.repeat(stops - lengths.cumsum(), lengths) + np.arange(lengths.sum())
    rows = np.repeat(known, lengths)
    keep = np.ones(len(positions), dtype=np.bool_)
    events = model.user_item_events
    if events is not None:
        # Bits of the event types among the user's latest interactions.
        bits = 0
        for code in np.flatnonzero(named_event_types(model.event_types, event_types)).tolist():
            bits |= 1 << code
        keep = (events[positions] & bits) != 0
    result[rows[keep], matrix.indices[positions[keep]]] = True
    return result
