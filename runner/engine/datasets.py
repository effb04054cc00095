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
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from runner.engine.attributes import AttributeColumn, AttributeTable, build_column
from runner.engine.errors import EngineError
from runner.fs import NotRegularFile, open_regular

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
    header, columns = _read_csv(interactions, required=(USER_ID, ITEM_ID, TIMESTAMP))
    user_cells, item_cells = columns[header[USER_ID]], columns[header[ITEM_ID]]
    if not user_cells:
        raise EngineError(f"{interactions}: no interactions (only a header)")
    for name, cells in ((USER_ID, user_cells), (ITEM_ID, item_cells)):
        if "" in cells:
            raise EngineError(f"{interactions}: row {cells.index('') + 1}: {name} is empty")
    timestamps = _timestamps(interactions, columns[header[TIMESTAMP]])
    user_ids, user_codes = _encode(user_cells)
    item_ids, item_codes = _encode(item_cells)
    event_types = None
    if EVENT_TYPE in header:
        event_cells = columns[header[EVENT_TYPE]]
        vocabulary, codes = _encode(event_cells)
        present = np.flatnonzero(vocabulary[codes] != "")
        if len(vocabulary) and vocabulary[0] == "":  # sorted: "" comes first
            vocabulary, codes = vocabulary[1:], codes - 1
        event_types = AttributeColumn(
            EVENT_TYPE, vocabulary, present.astype(np.int32), codes[present].astype(np.int32)
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
    header, columns = _read_csv(path, required=(id_column,))
    ids = columns[header[id_column]]
    seen: dict[str, int] = {}
    for k, entity in enumerate(ids):
        if not entity:
            raise EngineError(f"{path}: row {k + 1}: {id_column} is empty")
        if entity in seen:
            raise EngineError(
                f"{path}: row {k + 1}: {id_column} {entity!r} is already in row {seen[entity] + 1}"
            )
        seen[entity] = k
    attributes = tuple(
        build_column(name, columns[index])
        for name, index in header.items()
        if name != id_column and name not in _INTERACTION_COLUMNS
    )
    return AttributeTable(np.array(ids, dtype=np.str_), attributes)


def _read_csv(path: Path, *, required: tuple[str, ...]) -> tuple[dict[str, int], list[list[str]]]:
    """The header (upper-cased name → index) and the columns; rows count after the header."""
    try:
        with os.fdopen(open_regular(path), "rb") as stream:
            text = stream.read().decode("utf-8-sig")
    except NotRegularFile as error:
        raise EngineError(f"{error}: give a CSV file") from None
    except OSError as error:
        raise EngineError(f"{path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise EngineError(f"{path}: not a UTF-8 CSV file: {error}") from error
    first_line = text.partition("\n")[0]
    names = next(csv.reader([first_line]), [])
    if not names:
        raise EngineError(f"{path}: empty file, expected a header with {', '.join(required)}")
    header = {name.strip().upper(): k for k, name in enumerate(names)}
    missing = [name for name in required if name not in header]
    if missing:
        raise EngineError(
            f"{path}:1: the header lacks {', '.join(missing)} "
            f"(it has {', '.join(name.strip() for name in names)})"
        )
    columns = _split_plain(text, len(names))
    if columns is None:
        columns = _split_quoted(path, text, len(names))
    if any(blank in text for blank in (" ,", ", ", " \n", "\n ", "\t")):
        columns = [[cell.strip() for cell in column] for column in columns]
    return header, columns


def _split_plain(text: str, width: int) -> list[list[str]] | None:
    """The columns of a CSV file without quotes, split in C; None when it needs a CSV parser."""
    if '"' in text or "\r" in text:
        return None
    body = text.partition("\n")[2].rstrip("\n")
    if not body:
        return [[] for _ in range(width)]
    if "\n\n" in body:
        return None
    lines = body.count("\n") + 1
    if body.count(",") != (width - 1) * lines:
        return None
    if any(line.count(",") != width - 1 for line in body.split("\n")):
        return None
    cells = body.replace("\n", ",").split(",")
    return [cells[k::width] for k in range(width)]


def _split_quoted(path: Path, text: str, width: int) -> list[list[str]]:
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row][1:]
    except csv.Error as error:
        raise EngineError(f"{path}: not a valid CSV file: {error}") from error
    ragged = next((k for k, row in enumerate(rows) if len(row) != width), None)
    if ragged is not None:
        raise EngineError(
            f"{path}: row {ragged + 1} after the header has {len(rows[ragged])} fields, "
            f"the header has {width}"
        )
    return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in range(width)]


def _encode(cells: list[str]) -> tuple[NDArray[np.str_], NDArray[np.int64]]:
    """The distinct values, sorted, and each cell's index among them."""
    values, codes = np.unique(np.array(cells, dtype=np.str_), return_inverse=True)
    return values, codes.astype(np.int64)


def _timestamps(path: Path, cells: list[str]) -> NDArray[np.int64]:
    try:
        return np.array(cells, dtype=np.str_).astype(np.int64)
    except ValueError:
        for k, cell in enumerate(cells):
            if not cell.lstrip("-").isdigit():
                raise EngineError(
                    f"{path}: row {k + 1}: TIMESTAMP {cell!r} is not a Unix time in seconds"
                ) from None
        raise
