"""What a filter expression selects: one reading for segment filters (which users) and item
filters (which items), so that the two kinds of job cannot disagree.

As the developer guide says ("Combining multiple expressions"), each expression chained
with `|` is evaluated on its own: `INCLUDE A | INCLUDE B` keeps what A or B selects,
`EXCLUDE C | EXCLUDE D` removes what C or D selects, and `INCLUDE A | INCLUDE B | EXCLUDE C
| EXCLUDE D` keeps (A or B) minus (C or D), whatever the order of the expressions. Within
one expression `AND` binds tighter than `OR` (the parsers give an OR of ANDs).

Conditions on a dataset field (`Users.<field>`, `Items.<field>`) match the values as they
are written, numbers as numbers; a row without a value for the field matches no condition
on it (neither `IN` nor `NOT IN`). Event types (`Interactions.EVENT_TYPE`) match without
regard to case ("Amazon Personalize ignores case only when matching event types"), and
`"*"` is any event type.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from numpy.typing import NDArray

from runner.engine.attributes import AttributeColumn, AttributeTable, Mask
from runner.engine.datasets import EVENT_TYPE
from runner.engine.errors import JobFailed
from runner.engine.expressions import COMPARISONS, Condition, ExpressionError, FilterExpression

ANY_EVENT_TYPE = "*"


@contextmanager
def job_filter(filter_arn: str) -> Iterator[None]:
    """A job's filter in use: what the local engine does not support fails the job."""
    try:
        yield
    except ExpressionError as error:
        raise JobFailed(
            f"filter {filter_arn} is not supported by the local engine: {error}"
        ) from None


def selected(
    expressions: Sequence[FilterExpression],
    matches: Callable[[Condition], Mask],
    *,
    shape: tuple[int, ...],
) -> Mask:
    """What a filter lets through: `matches` gives each condition's mask (of `shape`, or
    one that broadcasts with it), and the expressions combine as the developer guide says."""
    included: Mask | None = None
    excluded = np.zeros(shape, dtype=np.bool_)
    for expression in expressions:
        chosen = np.zeros(shape, dtype=np.bool_)
        for all_of in expression.any_of:
            both = np.ones(shape, dtype=np.bool_)
            for condition in all_of:
                both = both & matches(condition)
            chosen = chosen | both
        if expression.action == "INCLUDE":
            included = chosen if included is None else included | chosen
        else:
            excluded = excluded | chosen
    return ~excluded if included is None else included & ~excluded


def attribute_rows(table: AttributeTable | None, condition: Condition, n_rows: int) -> Mask:
    """The rows (users or items) whose field satisfies `condition`; `ExpressionError` when the
    solution version's dataset lacks the field."""
    column = table.column(condition.field) if table is not None else None
    if column is None:
        kind = condition.dataset.lower()
        has = ", ".join(table.names) if table is not None else f"no {kind} dataset"
        raise ExpressionError(
            f"the filter uses {condition.dataset.title()}.{condition.field}, which the {kind} "
            f"dataset of the solution version lacks ({has})"
        )
    return _rows(column, value_mask(column, condition), condition, n_rows)


def check_event_type(condition: Condition, *, operators: Collection[str], use: str) -> None:
    """Refuse an `Interactions.…` condition other than `EVENT_TYPE` with one of `operators`."""
    if condition.field.upper() != EVENT_TYPE:
        raise ExpressionError(
            f"Interactions.{condition.field} is not supported locally; only "
            "Interactions.EVENT_TYPE is"
        )
    if condition.operator not in operators:
        raise ExpressionError(
            f"Interactions.EVENT_TYPE {condition.operator} is not supported locally; use {use}"
        )


def event_type_rows(column: AttributeColumn | None, condition: Condition, n_rows: int) -> Mask:
    """The rows (users) whose event types satisfy an `Interactions.EVENT_TYPE` condition;
    `column` holds each row's event types."""
    if column is None:
        if ANY_EVENT_TYPE not in condition.values:
            raise no_event_types()
        return np.full(n_rows, condition.operator != "NOT IN", dtype=np.bool_)
    return _rows(column, named_event_types(column.vocabulary, condition.values), condition, n_rows)


def named_event_types(vocabulary: NDArray[np.str_], wanted: Sequence[str]) -> Mask:
    """Which of the `vocabulary` of event types the values `wanted` name."""
    names = {name.lower() for name in wanted}
    if ANY_EVENT_TYPE in names:
        return np.ones(len(vocabulary), dtype=np.bool_)
    return np.array([name.lower() in names for name in vocabulary.tolist()], dtype=np.bool_)


def no_event_types() -> ExpressionError:
    return ExpressionError(
        "the filter uses Interactions.EVENT_TYPE but the interactions dataset of the "
        "solution version has no EVENT_TYPE column"
    )


def _rows(column: AttributeColumn, values: Mask, condition: Condition, n_rows: int) -> Mask:
    inside = column.rows_with_any(values, n_rows)
    if condition.operator == "NOT IN":
        return column.rows_with_values(n_rows) & ~inside
    return inside


def value_mask(column: AttributeColumn, condition: Condition) -> Mask:
    """Which values of the column's vocabulary satisfy `condition` (`NOT IN`: which it names)."""
    vocabulary = column.vocabulary
    if condition.operator in COMPARISONS:
        try:
            bound = float(condition.values[0])
        except ValueError:
            raise ExpressionError(
                f"{condition.dataset.title()}.{condition.field} {condition.operator} needs a "
                f"number, not {condition.values[0]!r}"
            ) from None
        numbers = column.numeric_vocabulary()
        with np.errstate(invalid="ignore"):
            compare = {
                "<": np.less,
                "<=": np.less_equal,
                ">": np.greater,
                ">=": np.greater_equal,
            }[condition.operator]
            return np.asarray(compare(numbers, bound), dtype=np.bool_)
    mask = np.isin(vocabulary, np.array(condition.values, dtype=np.str_))
    wanted = [float(v) for v in condition.values if _is_number(v)]
    if wanted:
        mask |= np.isin(column.numeric_vocabulary(), np.array(wanted, dtype=np.float64))
    return mask


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
