from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from runner.engine.datasets import read_dataset
from runner.engine.errors import EngineError


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "text",
    [
        "user_id,Item_Id,TIMESTAMP,EVENT_TYPE\nu2,b,10,click\nu1,a,11,\nu2,a,12,purchase\n",
        # Quotes, spaces, CRLF and a blank line take the csv module's path.
        'USER_ID, ITEM_ID ,TIMESTAMP,EVENT_TYPE\r\n"u2",b, 10,click\r\n\r\nu1,"a",11,\r\n'
        'u2,a,12,"purchase"\r\n',
    ],
)
def test_interactions_are_read_into_codes(tmp_path: Path, text: str) -> None:
    dataset = read_dataset(_csv(tmp_path, "interactions.csv", text))
    assert dataset.user_ids.tolist() == ["u1", "u2"]
    assert dataset.item_ids.tolist() == ["a", "b"]
    assert dataset.users.tolist() == [1, 0, 1]
    assert dataset.items.tolist() == [1, 0, 0]
    assert dataset.timestamps.tolist() == [10, 11, 12]
    assert dataset.event_types is not None
    assert dataset.event_types.vocabulary.tolist() == ["click", "purchase"]
    assert dataset.event_types.rows.tolist() == [0, 2]
    assert dataset.event_types.codes.tolist() == [0, 1]


def test_items_and_users_have_multi_valued_attributes(tmp_path: Path) -> None:
    interactions = _csv(tmp_path, "i.csv", "USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\n")
    items = _csv(tmp_path, "items.csv", "ITEM_ID,GENRES,YEAR\na,Comedy|Drama,2001\nb,,1999\n")
    users = _csv(tmp_path, "users.csv", "USER_ID,MEMBERSHIP\nu1,gold\n")
    dataset = read_dataset(interactions, items=items, users=users)
    assert dataset.item_attributes is not None
    assert dataset.item_attributes.names == ["GENRES", "YEAR"]
    genres = dataset.item_attributes.column("genres")
    assert genres is not None
    assert genres.vocabulary.tolist() == ["Comedy", "Drama"]
    assert genres.rows.tolist() == [0, 0]
    assert genres.rows_with_any(np.array([False, True]), 2).tolist() == [True, False]
    assert dataset.user_attributes is not None
    assert dataset.user_attributes.names == ["MEMBERSHIP"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.csv", "", "empty.csv: empty file, expected a header with USER_ID, ITEM_ID"),
        (
            "header.csv",
            "USER,ITEM_ID,TIMESTAMP\nu1,a,1\n",
            "header.csv:1: the header lacks USER_ID (it has USER, ITEM_ID, TIMESTAMP)",
        ),
        ("only.csv", "USER_ID,ITEM_ID,TIMESTAMP\n", "only.csv: no interactions (only a header)"),
        ("blank.csv", "USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\n,b,2\n", "row 2: USER_ID is empty"),
        (
            "time.csv",
            "USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\nu1,b,yesterday\n",
            "row 2: TIMESTAMP 'yesterday' is not a Unix time in seconds",
        ),
        (
            "ragged.csv",
            "USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\nu1,b\n",
            "row 2 after the header has 2 fields, the header has 3",
        ),
        ("missing.csv", None, "missing.csv: cannot read: No such file or directory"),
    ],
)
def test_bad_interactions_say_where(
    tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    path = tmp_path / name if text is None else _csv(tmp_path, name, text)
    with pytest.raises(EngineError, match=re.escape(message)):
        read_dataset(path)


def test_duplicate_item_rows_are_refused(tmp_path: Path) -> None:
    interactions = _csv(tmp_path, "i.csv", "USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\n")
    items = _csv(tmp_path, "items.csv", "ITEM_ID,GENRES\na,x\nb,y\na,z\n")
    with pytest.raises(EngineError, match=re.escape("row 3: ITEM_ID 'a' is already in row 1")):
        read_dataset(interactions, items=items)


def test_the_digest_follows_the_content(tmp_path: Path) -> None:
    first = read_dataset(_csv(tmp_path, "1.csv", "USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\n"))
    same = read_dataset(_csv(tmp_path, "2.csv", "USER_ID,ITEM_ID,TIMESTAMP\nu1,a,1\n"))
    other = read_dataset(_csv(tmp_path, "3.csv", "USER_ID,ITEM_ID,TIMESTAMP\nu1,b,1\n"))
    assert first.digest() == same.digest() != other.digest()
