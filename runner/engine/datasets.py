"""Local datasets: the CSV files Personalize imports, read into compact arrays.

- Interactions: `USER_ID,ITEM_ID,TIMESTAMP` (Personalize's interactions schema), with an
  optional `EVENT_TYPE`; other columns (`EVENT_VALUE`, …) are read past.
- Items (optional): `ITEM_ID` and attribute columns; a cell holds one value or several
  separated by `|`, as Personalize's categorical fields do.
- Users (optional): `USER_ID` and attribute columns, the same way.

Column names are matched without regard to case.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from runner.engine.attributes import AttributeColumn, AttributeTable, build_column
from runner.engine.errors import EngineError

USER_ID = "USER_ID"
ITEM_ID = "ITEM_ID"
TIMESTAMP = "TIMESTAMP"
EVENT_TYPE = "EVENT_TYPE"
# Interactions columns that are not user or item attributes.
_INTERACTION_COLUMNS = {USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, "EVENT_VALUE", "IMPRESSION"}


@dataclass(frozen=True)
class Dataset:
    """Interactions as parallel arrays of codes into `user_ids` and `item_ids` (sorted)."""

    user_ids: NDArray[np.str_]
    item_ids: NDArray[np.str_]
    users: NDArray[np.int32]
    items: NDArray[np.int32]
    timestamps: NDArray[np.int64]
    # The event type of each interaction: a column whose rows are interactions.
    event_types: AttributeColumn | None = None
    item_attributes: AttributeTable | None = None
    user_attributes: AttributeTable | None = None

    @property
    def n_interactions(self) -> int:
        return len(self.users)

    def digest(self) -> str:
        """A fingerprint of the content, so that training the same data gives the same ARN."""
        sha = hashlib.sha256()
        for array in sorted(self.to_arrays().items()):
            sha.update(array[0].encode())
            sha.update(np.ascontiguousarray(array[1]).tobytes())
        return sha.hexdigest()

    def to_arrays(self) -> dict[str, NDArray[np.generic]]:
        arrays: dict[str, NDArray[np.generic]] = {
            "user_ids": self.user_ids,
            "item_ids": self.item_ids,
            "users": self.users,
            "items": self.items,
            "timestamps": self.timestamps,
        }
        if self.event_types is not None:
            arrays |= AttributeTable(
                np.arange(self.n_interactions).astype(np.str_), (self.event_types,)
            ).to_arrays("event_types")
        if self.item_attributes is not None:
            arrays |= self.item_attributes.to_arrays("item_attributes")
        if self.user_attributes is not None:
            arrays |= self.user_attributes.to_arrays("user_attributes")
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[np.generic]]) -> Dataset:
        events = AttributeTable.from_arrays(arrays, "event_types")
        return cls(
            user_ids=arrays["user_ids"].astype(np.str_),
            item_ids=arrays["item_ids"].astype(np.str_),
            users=arrays["users"].astype(np.int32),
            items=arrays["items"].astype(np.int32),
            timestamps=arrays["timestamps"].astype(np.int64),
            event_types=events.columns[0] if events is not None else None,
            item_attributes=AttributeTable.from_arrays(arrays, "item_attributes"),
            user_attributes=AttributeTable.from_arrays(arrays, "user_attributes"),
        )


def read_dataset(
    interactions: Path, *, items: Path | None = None, users: Path | None = None
) -> Dataset:
    header, rows = _read_csv(interactions, required=(USER_ID, ITEM_ID, TIMESTAMP))
    user_cells = _cells(rows, header[USER_ID])
    item_cells = _cells(rows, header[ITEM_ID])
    for name, cells in ((USER_ID, user_cells), (ITEM_ID, item_cells)):
        empty = next((k for k, cell in enumerate(cells) if not cell), None)
        if empty is not None:
            raise EngineError(f"{interactions}:{empty + 2}: {name} is empty")
    timestamps = _timestamps(interactions, _cells(rows, header[TIMESTAMP]))
    if not rows:
        raise EngineError(f"{interactions}: no interactions (only a header)")
    user_ids, user_codes = np.unique(np.array(user_cells, dtype=np.str_), return_inverse=True)
    item_ids, item_codes = np.unique(np.array(item_cells, dtype=np.str_), return_inverse=True)
    event_types = None
    if EVENT_TYPE in header:
        event_cells = np.array(_cells(rows, header[EVENT_TYPE]), dtype=np.str_)
        present = np.flatnonzero(event_cells != "")
        vocabulary, codes = np.unique(event_cells[present], return_inverse=True)
        event_types = AttributeColumn(
            EVENT_TYPE, vocabulary, present.astype(np.int32), codes.astype(np.int32)
        )
    return Dataset(
        user_ids=user_ids,
        item_ids=item_ids,
        users=user_codes.astype(np.int32),
        items=item_codes.astype(np.int32),
        timestamps=timestamps,
        event_types=event_types,
        item_attributes=read_attributes(items, id_column=ITEM_ID) if items else None,
        user_attributes=read_attributes(users, id_column=USER_ID) if users else None,
    )


def read_attributes(path: Path, *, id_column: str) -> AttributeTable:
    header, rows = _read_csv(path, required=(id_column,))
    ids = _cells(rows, header[id_column])
    seen: dict[str, int] = {}
    for k, entity in enumerate(ids):
        if not entity:
            raise EngineError(f"{path}:{k + 2}: {id_column} is empty")
        if entity in seen:
            raise EngineError(
                f"{path}:{k + 2}: {id_column} {entity!r} is already on line {seen[entity] + 2}"
            )
        seen[entity] = k
    columns = tuple(
        build_column(name, _cells(rows, index))
        for name, index in header.items()
        if name != id_column and name not in _INTERACTION_COLUMNS
    )
    return AttributeTable(np.array(ids, dtype=np.str_), columns)


def _read_csv(path: Path, *, required: tuple[str, ...]) -> tuple[dict[str, int], list[list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream)
            first = next(reader, None)
            rows = [row for row in reader if row]
    except OSError as error:
        raise EngineError(f"{path}: cannot read: {error.strerror}") from error
    except (csv.Error, UnicodeDecodeError) as error:
        raise EngineError(f"{path}: not a UTF-8 CSV file: {error}") from error
    if first is None:
        raise EngineError(f"{path}: empty file, expected a header with {', '.join(required)}")
    header = {name.strip().upper(): k for k, name in enumerate(first)}
    missing = [name for name in required if name not in header]
    if missing:
        raise EngineError(
            f"{path}:1: the header lacks {', '.join(missing)} "
            f"(it has {', '.join(name.strip() for name in first)})"
        )
    width = len(first)
    ragged = next((k for k, row in enumerate(rows) if len(row) != width), None)
    if ragged is not None:
        raise EngineError(
            f"{path}: row {ragged + 1} after the header has {len(rows[ragged])} fields, "
            f"the header has {width}"
        )
    return header, rows


def _cells(rows: list[list[str]], index: int) -> list[str]:
    return [row[index].strip() for row in rows]


def _timestamps(path: Path, cells: list[str]) -> NDArray[np.int64]:
    try:
        return np.array(cells, dtype=np.str_).astype(np.int64)
    except ValueError:
        for k, cell in enumerate(cells):
            if not cell.lstrip("-").isdigit():
                raise EngineError(
                    f"{path}:{k + 2}: TIMESTAMP {cell!r} is not a Unix time in seconds"
                ) from None
        raise
