"""A deterministic demo dataset with planted structure, for tests, the benchmark and the README.

Users and items are split into `n_groups` groups; group g's items have the genre
`GENRES[g]`. Each interaction picks a user (some users are more active than others),
then, with probability `affinity`, an item of the user's own group, else any item
(some items are more popular than others). A good segment for an item of group g is
therefore made of users of group g.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

GENRES = (
    "Comedy",
    "Action",
    "Drama",
    "Horror",
    "Romance",
    "Documentary",
    "Animation",
    "Thriller",
    "Western",
    "Musical",
)
MEMBERSHIPS = ("gold", "silver", "bronze")
EVENT_TYPES = ("click", "purchase")
START_TIME = 1_700_000_000


@dataclass(frozen=True)
class DemoDataset:
    user_ids: list[str]
    item_ids: list[str]
    user_groups: NDArray[np.int64]
    item_groups: NDArray[np.int64]
    # One entry per interaction.
    users: NDArray[np.int64]
    items: NDArray[np.int64]
    timestamps: NDArray[np.int64]
    event_types: NDArray[np.int64]  # into EVENT_TYPES
    # Items: genres ("Comedy" or "Comedy|Drama") and year; users: membership and age.
    item_genres: list[str]
    item_years: NDArray[np.int64]
    user_memberships: NDArray[np.int64]  # into MEMBERSHIPS
    user_ages: NDArray[np.int64]

    def genre(self, group: int) -> str:
        return genre_name(group)

    def write(self, folder: Path) -> DemoFiles:
        """interactions.csv, items.csv, users.csv and two sample job inputs."""
        folder.mkdir(parents=True, exist_ok=True)
        files = DemoFiles(
            interactions=folder / "interactions.csv",
            items=folder / "items.csv",
            users=folder / "users.csv",
            item_queries=folder / "item-affinity.jsonl",
            attribute_queries=folder / "item-attribute-affinity.jsonl",
        )
        event_names = np.array(EVENT_TYPES)[self.event_types]
        user_ids = np.array(self.user_ids)[self.users]
        item_ids = np.array(self.item_ids)[self.items]
        with files.interactions.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"])
            writer.writerows(
                zip(
                    user_ids.tolist(),
                    item_ids.tolist(),
                    self.timestamps.tolist(),
                    event_names.tolist(),
                    strict=True,
                )
            )
        with files.items.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(["ITEM_ID", "GENRES", "YEAR"])
            writer.writerows(
                zip(self.item_ids, self.item_genres, self.item_years.tolist(), strict=True)
            )
        with files.users.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(["USER_ID", "MEMBERSHIP", "AGE"])
            writer.writerows(
                zip(
                    self.user_ids,
                    np.array(MEMBERSHIPS)[self.user_memberships].tolist(),
                    self.user_ages.tolist(),
                    strict=True,
                )
            )
        groups = int(self.item_groups.max()) + 1
        first_items = [
            self.item_ids[int(np.flatnonzero(self.item_groups == g)[0])] for g in range(groups)
        ]
        files.item_queries.write_text(
            "".join(json.dumps({"itemId": item}) + "\n" for item in first_items),
            encoding="utf-8",
        )
        files.attribute_queries.write_text(
            "".join(
                json.dumps({"itemAttributes": f'ITEMS.GENRES = "{genre_name(g)}"'}) + "\n"
                for g in range(min(groups, 10))
            ),
            encoding="utf-8",
        )
        return files


@dataclass(frozen=True)
class DemoFiles:
    interactions: Path
    items: Path
    users: Path
    item_queries: Path
    attribute_queries: Path


def genre_name(group: int) -> str:
    return GENRES[group] if group < len(GENRES) else f"Genre{group}"


def generate_demo_dataset(
    *,
    n_users: int = 1_000,
    n_items: int = 200,
    n_interactions: int = 20_000,
    n_groups: int = 5,
    affinity: float = 0.8,
    seed: int = 0,
) -> DemoDataset:
    if not 1 <= n_groups <= min(n_users, n_items):
        raise ValueError("n_groups must be from 1 to the number of users and of items")
    rng = np.random.default_rng(seed)
    user_groups = np.arange(n_users, dtype=np.int64) % n_groups
    item_groups = np.arange(n_items, dtype=np.int64) % n_groups
    activity = rng.lognormal(0.0, 0.5, n_users)
    popularity = rng.lognormal(0.0, 0.7, n_items)
    users = rng.choice(n_users, size=n_interactions, p=activity / activity.sum())
    items = rng.choice(n_items, size=n_interactions, p=popularity / popularity.sum())
    in_group = rng.random(n_interactions) < affinity
    for group in range(n_groups):
        chosen = np.flatnonzero(in_group & (user_groups[users] == group))
        members = np.flatnonzero(item_groups == group)
        weights = popularity[members] / popularity[members].sum()
        items[chosen] = rng.choice(members, size=len(chosen), p=weights)
    timestamps = START_TIME + np.sort(rng.integers(0, 90 * 86_400, n_interactions))
    event_types = (rng.random(n_interactions) < 0.2).astype(np.int64)
    second = rng.integers(0, n_groups, n_items)
    has_second = (rng.random(n_items) < 0.2) & (second != item_groups)
    item_genres = [
        genre_name(int(g)) + (f"|{genre_name(int(s))}" if two else "")
        for g, s, two in zip(item_groups, second, has_second, strict=True)
    ]
    return DemoDataset(
        user_ids=[f"u{k}" for k in range(n_users)],
        item_ids=[f"i{k}" for k in range(n_items)],
        user_groups=user_groups,
        item_groups=item_groups,
        users=users.astype(np.int64),
        items=items.astype(np.int64),
        timestamps=timestamps.astype(np.int64),
        event_types=event_types,
        item_genres=item_genres,
        item_years=rng.integers(1990, 2025, n_items).astype(np.int64),
        user_memberships=rng.choice(len(MEMBERSHIPS), size=n_users, p=[0.2, 0.3, 0.5]),
        user_ages=rng.integers(18, 81, n_users).astype(np.int64),
    )
