"""Categorical, possibly multi-valued attributes of users or items.

A column is stored as (entity row, value code) pairs over a vocabulary of distinct
values, so that a condition on values becomes a boolean mask over the vocabulary and then,
in one vectorized step, a mask over entities.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Personalize's separator for the values of a categorical field with several values.
MULTI_VALUE_SEPARATOR = "|"

Mask = NDArray[np.bool_]
Ids = NDArray[np.str_]
Codes = NDArray[np.int32]


@dataclass(frozen=True)
class AttributeColumn:
    name: str
    vocabulary: Ids
    rows: Codes
    codes: Codes

    def rows_with_any(self, value_mask: Mask, n_rows: int) -> Mask:
        """The entities that have at least one value selected by `value_mask`."""
        result = np.zeros(n_rows, dtype=np.bool_)
        result[self.rows[value_mask[self.codes]]] = True
        return result

    def rows_with_values(self, n_rows: int) -> Mask:
        result = np.zeros(n_rows, dtype=np.bool_)
        result[self.rows] = True
        return result

    def numeric_vocabulary(self) -> NDArray[np.float64]:
        """The vocabulary as numbers, NaN where a value is not one."""
        return np.array([_as_number(value) for value in self.vocabulary], dtype=np.float64)


@dataclass(frozen=True)
class AttributeTable:
    """Attribute columns of entities whose ids are `ids`, in row order."""

    ids: Ids
    columns: tuple[AttributeColumn, ...]

    def column(self, name: str) -> AttributeColumn | None:
        wanted = name.upper()
        return next((c for c in self.columns if c.name.upper() == wanted), None)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def reindexed(self, ids: Ids) -> AttributeTable:
        """The same columns over `ids` (entities without a row here get no values)."""
        order = np.argsort(self.ids, kind="stable")
        sorted_ids = self.ids[order]
        position = np.searchsorted(sorted_ids, ids)
        position = np.minimum(position, max(len(sorted_ids) - 1, 0))
        found = sorted_ids[position] == ids if len(sorted_ids) else np.zeros(len(ids), np.bool_)
        new_row_of_old = np.full(len(self.ids), -1, dtype=np.int64)
        new_row_of_old[order[position[found]]] = np.flatnonzero(found)
        columns = []
        for column in self.columns:
            new_rows = new_row_of_old[column.rows]
            keep = new_rows >= 0
            columns.append(
                AttributeColumn(
                    column.name,
                    column.vocabulary,
                    new_rows[keep].astype(np.int32),
                    column.codes[keep],
                )
            )
        return AttributeTable(ids, tuple(columns))

    def to_arrays(self, prefix: str) -> dict[str, NDArray[np.generic]]:
        arrays: dict[str, NDArray[np.generic]] = {
            f"{prefix}.ids": self.ids,
            f"{prefix}.names": np.array(self.names, dtype=np.str_),
        }
        for k, column in enumerate(self.columns):
            arrays[f"{prefix}.{k}.vocabulary"] = column.vocabulary
            arrays[f"{prefix}.{k}.rows"] = column.rows
            arrays[f"{prefix}.{k}.codes"] = column.codes
        return arrays

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, NDArray[np.generic]], prefix: str
    ) -> AttributeTable | None:
        if f"{prefix}.ids" not in arrays:
            return None
        names = [str(name) for name in arrays[f"{prefix}.names"]]
        columns = tuple(
            AttributeColumn(
                name,
                arrays[f"{prefix}.{k}.vocabulary"].astype(np.str_),
                arrays[f"{prefix}.{k}.rows"].astype(np.int32),
                arrays[f"{prefix}.{k}.codes"].astype(np.int32),
            )
            for k, name in enumerate(names)
        )
        return cls(arrays[f"{prefix}.ids"].astype(np.str_), columns)


def reindexed(table: AttributeTable | None, ids: Ids) -> AttributeTable | None:
    """`table` over `ids` (`AttributeTable.reindexed`), or None without a table."""
    return table.reindexed(ids) if table is not None else None


def build_column(name: str, cells: Sequence[str], *, multi_valued: bool = True) -> AttributeColumn:
    """A column from one raw cell per entity ("" is no value; "a|b" is two values)."""
    rows: list[int] = []
    values: list[str] = []
    for row, cell in enumerate(cells):
        for value in _split(cell, multi_valued=multi_valued):
            rows.append(row)
            values.append(value)
    return column_from_pairs(name, np.array(rows, dtype=np.int32), values)


def column_from_pairs(name: str, rows: Codes, values: Iterable[str]) -> AttributeColumn:
    """A column from (row, value) pairs; repeated pairs count once."""
    value_array = np.array(list(values), dtype=np.str_)
    if len(value_array) == 0:
        return AttributeColumn(
            name, np.array([], dtype=np.str_), rows[:0], np.array([], dtype=np.int32)
        )
    vocabulary, codes = np.unique(value_array, return_inverse=True)
    return unique_pairs(name, vocabulary, rows, codes)


def unique_pairs(
    name: str, vocabulary: Ids, rows: NDArray[np.integer], codes: NDArray[np.integer]
) -> AttributeColumn:
    """A column from (row, value code) pairs, each pair once."""
    width = max(len(vocabulary), 1)
    pairs = distinct(rows.astype(np.int64) * width + codes)
    return AttributeColumn(
        name, vocabulary, (pairs // width).astype(np.int32), (pairs % width).astype(np.int32)
    )


def distinct(keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """The sorted distinct keys (by sorting: `np.unique`'s hash path is slower here)."""
    ordered = np.sort(keys)
    if len(ordered) == 0:
        return ordered
    first = np.ones(len(ordered), dtype=np.bool_)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


def _split(cell: str, *, multi_valued: bool) -> list[str]:
    if not multi_valued:
        return [cell.strip()] if cell.strip() else []
    return [part.strip() for part in cell.split(MULTI_VALUE_SEPARATOR) if part.strip()]


def _as_number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        return math.nan
    return number if math.isfinite(number) else math.nan
