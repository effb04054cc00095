"""The local model of the batch inference recipes: item-based collaborative filtering.

What it computes
----------------
X is the binary user x item matrix (1 where the user interacted with the item at least
once) and S the item x item cosine similarity that segment models use (each item's
`neighbors` most similar items, itself included; `runner.engine.model`). Per recipe type:

- USER_PERSONALIZATION: a user's score of item j is `(X S)_uj = Σ_i x_ui S_ij`, the
  similarity of j to the user's history, divided by the row's sum so that the scores of
  a user add up to 1 over all items (the service's scores are such shares, too).
- PERSONALIZED_RANKING: the same scores, of the listed items only, divided by their sum.
- RELATED_ITEMS: an item's related items are its nearest neighbours in S, itself left out.
- POPULAR_ITEMS (Popularity-Count): the items with the most distinct users, the same
  for everyone.

Where a score does not decide (ties, items without a score, a user or an item that the
model does not know), the more popular item comes first, then the smaller item id: the
service answers unknown users and items with popular items, and a job's output is
deterministic. Users are scored a block at a time with one sparse product and one
`argpartition` over a dense block of keys that order by score, then popularity.

How it differs from the service: its recipes are neural models (a transformer for the
v2 recipes) that weigh recency, event types, impressions and metadata and explore new
items; this model only knows who interacted with what, and `itemExplorationConfig` and
`rankingInfluence` change nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from runner.engine.attributes import AttributeTable, Mask, reindexed
from runner.engine.datasets import Dataset
from runner.engine.errors import EngineError
from runner.engine.neighbors import (
    DEFAULT_NEIGHBORS,
    Matrix,
    binary_matrix,
    check_neighbors,
    distinct_pairs,
    interaction_keys,
    item_neighbors,
    load_matrix,
    matrix_arrays,
)
from runner.engine.recipes import (
    INFERENCE_TYPES,
    POPULAR_ITEMS,
    RECIPE_TYPES,
    recipe_type,
)

Rows = NDArray[np.int64]
Scores = NDArray[np.float32]
# Elements of the dense score block of a batch of users: bounds a job's memory.
BLOCK_ELEMENTS = 4_000_000
# Above this share of nonzero scores, ranking the dense rows beats sorting the nonzeros.
DENSE_SHARE = 0.05
_MAX_EVENT_TYPES = 31  # one bit each in `user_item_events`
# The interactions per user and event type that the service's filters consider (the most
# recent ones; the developer guide, "Filter expressions": an adjustable quota).
FILTER_HISTORY = 100


@dataclass(frozen=True)
class RecommendationModel:
    recipe: str
    user_ids: NDArray[np.str_]  # sorted
    item_ids: NDArray[np.str_]  # sorted
    user_items: Matrix  # users x items, binary
    similarity: Matrix  # items x items; empty for POPULAR_ITEMS
    popularity: NDArray[np.int64]  # distinct users per item
    event_types: NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=np.str_))
    # Aligned with `user_items.indices`: bit k set when the pair has an event of type k.
    user_item_events: NDArray[np.int32] | None = None
    item_attributes: AttributeTable | None = None

    @property
    def recipe_type(self) -> str:
        return RECIPE_TYPES[self.recipe]

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return int(self.user_items.nnz)

    def user_rows(self, user_ids: list[str]) -> Rows:
        return _rows(self.user_ids, user_ids)

    def item_rows(self, item_ids: list[str]) -> Rows:
        return _rows(self.item_ids, item_ids)

    @cached_property
    def _tiebreak(self) -> NDArray[np.int64]:
        """Larger for more popular items, then for smaller ids: the order under equal scores."""
        by_popularity = np.lexsort((np.arange(self.n_items), -self.popularity))
        tiebreak = np.empty(self.n_items, dtype=np.int64)
        tiebreak[by_popularity] = np.arange(self.n_items - 1, -1, -1)
        return tiebreak

    @cached_property
    def popularity_share(self) -> Scores:
        total = max(int(self.popularity.sum()), 1)
        return (self.popularity / total).astype(np.float32)

    def block_size(self) -> int:
        return max(1, BLOCK_ELEMENTS // max(self.n_items, 1))

    def user_score_rows(self, users: Rows) -> Matrix:
        """Each user's scores as sparse rows adding up to 1; an empty row for a user without
        any score (unknown, or every user of a POPULAR_ITEMS model: see `popularity_share`)."""
        known = np.flatnonzero(users >= 0) if self.recipe_type != POPULAR_ITEMS else users[:0]
        pick = Matrix(
            (np.ones(len(known), dtype=np.float32), (known, users[known])),
            shape=(len(users), self.n_users),
        )
        scores: Matrix = ((pick @ self.user_items) @ self.similarity).tocsr()
        totals = np.asarray(scores.sum(axis=1), dtype=np.float32).ravel()
        totals[totals == 0] = 1
        scores.data /= np.repeat(totals, np.diff(scores.indptr))
        return scores

    def user_scores(self, users: Rows) -> Scores:
        """Each user's scores of all items, adding up to 1; popularity for users without."""
        scores = self.user_score_rows(users).toarray().astype(np.float32, copy=False)
        scores[scores.sum(axis=1) == 0] = self.popularity_share
        return scores

    def item_score_rows(self, items: Rows) -> Matrix:
        """Each item's similarity to all items as sparse rows; empty for unknown items."""
        known = np.flatnonzero(items >= 0)
        pick = Matrix(
            (np.ones(len(known), dtype=np.float32), (known, items[known])),
            shape=(len(items), self.n_items),
        )
        scores: Matrix = (pick @ self.similarity).tocsr()
        return scores

    def item_scores(self, items: Rows) -> Scores:
        """Each item's similarity to all items; zeros for unknown items."""
        return self.item_score_rows(items).toarray().astype(np.float32, copy=False)

    def best(
        self,
        scores: Matrix,
        *,
        num_results: int,
        allowed: Mask | None = None,
        fallback: Scores | None = None,
        dense_share: float = DENSE_SHARE,
    ) -> list[tuple[Rows, Scores]]:
        """Each row's best allowed items and their scores, from sparse rows of scores: what
        `ranked` gives for the dense rows.

        When the rows hold at most `dense_share` of all scores, a row with at least
        `num_results` allowed scores is answered from them alone (a score beats no score),
        by sorting its nonzeros. The other rows (all of them above that share, where a
        partition of the dense rows is faster than sorting the nonzeros) are made dense and
        ranked; a row without any score takes `fallback` as its scores when one is given.
        """
        n_rows = scores.shape[0]
        keep = min(num_results, self.n_items)
        counts = np.diff(scores.indptr)
        results: list[tuple[Rows, Scores]] = [(np.zeros(0, np.int64), np.zeros(0, np.float32))]
        results *= n_rows
        if scores.nnz > dense_share * n_rows * self.n_items:
            self._fill_dense(results, np.arange(n_rows), scores, num_results, allowed, fallback)
            return results
        rows = np.repeat(np.arange(n_rows), counts)
        columns = scores.indices.astype(np.int64)
        values = scores.data.astype(np.float32)
        if allowed is not None:
            ok = np.broadcast_to(allowed, (n_rows, self.n_items))[rows, columns]
            rows, columns, values = rows[ok], columns[ok], values[ok]
        order = np.lexsort((-_keys(values, self._tiebreak[columns], self.n_items), rows))
        rows, columns, values = rows[order], columns[order], values[order]
        starts = np.searchsorted(rows, np.arange(n_rows))
        have = np.searchsorted(rows, np.arange(n_rows), side="right") - starts
        for row, start in enumerate(starts.tolist()):
            results[row] = (columns[start : start + keep], values[start : start + keep])
        short = np.flatnonzero(have < keep)
        self._fill_dense(results, short, scores, num_results, allowed, fallback)
        return results

    def _fill_dense(
        self,
        results: list[tuple[Rows, Scores]],
        short: Rows,
        scores: Matrix,
        num_results: int,
        allowed: Mask | None,
        fallback: Scores | None,
    ) -> None:
        """`results` of the rows `short`, ranked densely; rows without scores take `fallback`
        (ranked once when the filter is the same for every row)."""
        counts = np.diff(scores.indptr)
        empty = short[counts[short] == 0] if fallback is not None else short[:0]
        if len(empty) and fallback is not None:
            shared = allowed is None or allowed.shape[0] == 1
            for k, items in self._dense_best(
                empty[:1] if shared else empty, scores, num_results, allowed, fallback
            ):
                for row in empty.tolist() if shared else [k]:
                    results[row] = items
        rest = np.setdiff1d(short, empty)
        for row, items in self._dense_best(rest, scores, num_results, allowed, None):
            results[row] = items

    def _dense_best(
        self,
        rows: Rows,
        scores: Matrix,
        num_results: int,
        allowed: Mask | None,
        fallback: Scores | None,
    ) -> list[tuple[int, tuple[Rows, Scores]]]:
        if len(rows) == 0:
            return []
        dense = (
            np.broadcast_to(fallback, (len(rows), self.n_items))
            if fallback is not None
            else scores[rows].toarray().astype(np.float32, copy=False)
        )
        row_allowed = allowed if allowed is None or allowed.shape[0] == 1 else allowed[rows]
        ranked = self.ranked(dense, num_results=num_results, allowed=row_allowed)
        return [
            (int(row), (items, dense[k, items]))
            for k, (row, items) in enumerate(zip(rows.tolist(), ranked, strict=True))
        ]

    def ranked(
        self, scores: Scores, *, num_results: int, allowed: Mask | None = None
    ) -> list[Rows]:
        """Each row's `num_results` best allowed items: by score, then by popularity.

        One partition of integer keys that hold both (see `_keys`): a partition of the
        float scores alone would be several times slower over their many equal zeros.
        """
        keep = min(num_results, self.n_items)
        keys = self._keys(scores, allowed)
        if keep < self.n_items:
            cut = self.n_items - keep
            top = np.argpartition(keys, cut, axis=1)[:, cut:]
        else:
            top = np.broadcast_to(np.arange(self.n_items), keys.shape)
        top_keys = np.take_along_axis(keys, top, axis=1)
        order = np.argsort(-top_keys, axis=1)
        ranked = np.take_along_axis(top, order, axis=1)
        valid = np.take_along_axis(top_keys, order, axis=1) >= 0
        if valid.all():
            return list(ranked)
        return [row[ok] for row, ok in zip(ranked, valid, strict=True)]

    def rank_list(self, scores: Scores, items: Rows, allowed: Mask | None = None) -> Rows:
        """`items` (rows of known items) by one user's `scores`, then by popularity."""
        keys = _keys(scores[items], self._tiebreak[items], self.n_items)
        if allowed is not None:
            keys[~allowed[items]] = -1
        order = np.argsort(-keys, kind="stable")
        return items[order[keys[order] >= 0]]

    def _keys(self, scores: Scores, allowed: Mask | None) -> NDArray[np.int64]:
        keys = _keys(scores, self._tiebreak, self.n_items)
        if allowed is not None:
            np.copyto(keys, -1, where=~allowed)
        return keys

    def to_arrays(self) -> dict[str, NDArray[np.generic]]:
        arrays: dict[str, NDArray[np.generic]] = {
            "recipe": np.array(self.recipe, dtype=np.str_),
            "user_ids": self.user_ids,
            "item_ids": self.item_ids,
            **matrix_arrays("user_items", self.user_items, binary=True),
            **matrix_arrays("similarity", self.similarity),
            "popularity": self.popularity,
            "event_types": self.event_types,
        }
        if self.user_item_events is not None:
            arrays["user_item_events"] = self.user_item_events
        if self.item_attributes is not None:
            arrays |= self.item_attributes.to_arrays("item_attributes")
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[np.generic]]) -> RecommendationModel:
        user_ids = arrays["user_ids"].astype(np.str_)
        item_ids = arrays["item_ids"].astype(np.str_)
        n_users, n_items = len(user_ids), len(item_ids)
        events = arrays.get("user_item_events")
        return cls(
            recipe=str(arrays["recipe"]),
            user_ids=user_ids,
            item_ids=item_ids,
            user_items=load_matrix(arrays, "user_items", shape=(n_users, n_items), binary=True),
            similarity=load_matrix(arrays, "similarity", shape=(n_items, n_items)),
            popularity=arrays["popularity"].astype(np.int64),
            event_types=arrays["event_types"].astype(np.str_),
            user_item_events=events.astype(np.int32) if events is not None else None,
            item_attributes=AttributeTable.from_arrays(arrays, "item_attributes"),
        )


def train_recommender(
    dataset: Dataset, *, recipe: str, neighbors: int = DEFAULT_NEIGHBORS
) -> RecommendationModel:
    kind = recipe_type(recipe)
    if kind not in INFERENCE_TYPES:
        raise EngineError(f"{recipe} is a {kind} recipe; its solution versions make segments")
    check_neighbors(neighbors)
    n_users, n_items = len(dataset.user_ids), len(dataset.item_ids)
    keys = interaction_keys(dataset)
    pairs, users, items = distinct_pairs(keys, n_items=n_items)  # CSR order
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    user_items = binary_matrix(items, indptr, shape=(n_users, n_items))
    event_types = np.array([], dtype=np.str_)
    user_item_events = None
    if dataset.event_types is not None:
        column = dataset.event_types
        if len(column.vocabulary) > _MAX_EVENT_TYPES:
            raise EngineError(
                f"the interactions have {len(column.vocabulary)} event types; "
                f"the local engine handles at most {_MAX_EVENT_TYPES}"
            )
        event_types = column.vocabulary
        # Filters see a user's most recent interactions of each event type, as the service.
        recent = _most_recent(
            dataset.users[column.rows], column.codes, dataset.timestamps[column.rows]
        )
        rows, codes = column.rows[recent], column.codes[recent]
        user_item_events = np.zeros(len(pairs), dtype=np.int32)
        for code in range(len(column.vocabulary)):
            positions = np.searchsorted(pairs, keys[rows[codes == code]])
            user_item_events[positions] |= np.int32(1 << code)
    similarity: Matrix
    if kind == POPULAR_ITEMS:
        similarity = Matrix(
            (np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(n_items + 1, np.int64)),
            shape=(n_items, n_items),
        )
    else:
        similarity = item_neighbors(user_items.T.tocsr(), neighbors=neighbors)
    return RecommendationModel(
        recipe=recipe,
        user_ids=dataset.user_ids,
        item_ids=dataset.item_ids,
        user_items=user_items,
        similarity=similarity.astype(np.float32),
        popularity=np.bincount(items, minlength=n_items).astype(np.int64),
        event_types=event_types,
        user_item_events=user_item_events,
        item_attributes=reindexed(dataset.item_attributes, dataset.item_ids),
    )


def _most_recent(
    users: NDArray[np.integer], codes: NDArray[np.integer], timestamps: NDArray[np.int64]
) -> Mask:
    """Which interactions are among their user's `FILTER_HISTORY` latest of their type."""
    order = np.lexsort((-timestamps, codes, users))
    group = users[order].astype(np.int64) * (int(codes.max(initial=0)) + 1) + codes[order]
    starts = np.ones(len(order), dtype=np.bool_)
    starts[1:] = group[1:] != group[:-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    recent = np.zeros(len(order), dtype=np.bool_)
    recent[order] = np.arange(len(order)) - first < FILTER_HISTORY
    return recent


def _keys(scores: Scores, tiebreak: NDArray[np.int64], n_items: int) -> NDArray[np.int64]:
    """Keys, largest first: the score's bits, then the tie-break.

    The bits of a non-negative float32 order as the floats do, so one integer holds both
    the score and the tie-break (less than `n_items`), and a partition over it is
    deterministic. Callers give what is not allowed the key -1, after every allowed item.
    """
    shift = max(int(n_items - 1).bit_length(), 1)
    keys = np.ascontiguousarray(scores, dtype=np.float32).view(np.int32).astype(np.int64)
    keys <<= shift
    keys |= tiebreak
    return keys


def _rows(ids: NDArray[np.str_], wanted: list[str]) -> Rows:
    """The rows of `wanted` ids in the sorted `ids`, -1 for those not there."""
    if not wanted:
        return np.zeros(0, dtype=np.int64)
    query = np.array(wanted, dtype=np.str_)
    position = np.minimum(np.searchsorted(ids, query), max(len(ids) - 1, 0))
    found = ids[position] == query if len(ids) else np.zeros(len(query), dtype=np.bool_)
    return np.where(found, position, -1).astype(np.int64)
