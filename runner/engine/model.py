"""The local model: item-based collaborative filtering over sparse matrices.

What it computes
----------------
Let X be the binary user x item matrix (1 where the user interacted with the item at
least once; repeats, event types and timestamps do not weigh). Training computes the
cosine similarity of items over their users,

    sim(i, j) = |users(i) ∩ users(j)| / sqrt(|users(i)| · |users(j)|),

and keeps, for every item i, its `neighbors` most similar items (i itself, with
similarity 1, among them): the sparse matrix S. A query is a weight vector q over items
(one-hot for an `itemId`; uniform over the matching items for an `itemAttributes`
expression), and the score of every user u is

    score(u) = Σ_j x_uj · (q S)_j

that is: how much of the user's history lies among the nearest neighbours of the
queried items. All users are scored at once by two sparse products, `(Q S) Xᵀ`, a
block of queries at a time; the top `numResults` are chosen with `argpartition`.

Choices (and how this differs from the service)
-----------------------------------------------
- Users who already interacted with the queried item are *not* excluded: the service
  sorts users "by the probability that each user will interact with the item", and a past
  interaction is evidence of that. A filter can exclude users.
- Users with no affinity at all (score 0) still fill the segment up to `numResults`, most
  active first, like a popularity fallback: the service, too, returns `numResults` users
  when the dataset has that many. Ties are broken by activity, then by user id, so that a
  job's output is deterministic.
- The service's USER_SEGMENTATION recipes are neural models (a transformer over
  interaction sequences plus item metadata, trained with negative sampling); they use
  recency, event types and item metadata as features, and generalize to items with few
  interactions. This model only sees who interacted with what: an item without
  interactions cannot be queried, and attribute queries only reach items that have some.
- Scores are not probabilities; only the ranking is meaningful (the service does not
  output scores for segments either).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from runner.engine.attributes import (
    AttributeColumn,
    AttributeTable,
    Mask,
    reindexed,
    unique_pairs,
)
from runner.engine.datasets import EVENT_TYPE, Dataset
from runner.engine.errors import EngineError, LineError
from runner.engine.expressions import Condition, FilterExpression
from runner.engine.filters import (
    attribute_rows,
    check_event_type,
    event_type_rows,
    selected,
    value_mask,
)
from runner.engine.neighbors import (
    DEFAULT_NEIGHBORS,
    Matrix,
    check_neighbors,
    distinct_pairs,
    interaction_keys,
    item_neighbors,
    load_matrix,
    matrix_arrays,
)

ITEM_AFFINITY = "aws-item-affinity"
ITEM_ATTRIBUTE_AFFINITY = "aws-item-attribute-affinity"
RECIPES = (ITEM_AFFINITY, ITEM_ATTRIBUTE_AFFINITY)
# Queries scored together: bounds the memory of the users x queries score block.
QUERY_BLOCK = 64

UserIndexes = NDArray[np.int64]


@dataclass(frozen=True)
class SegmentModel:
    recipe: str
    # Users by rank: most active first, then by id (the tie-break of every segment).
    user_ids: NDArray[np.str_]
    item_ids: NDArray[np.str_]  # sorted
    item_users: Matrix  # items x users, binary
    similarity: Matrix  # items x items, `neighbors` per row
    item_attributes: AttributeTable | None = None
    user_attributes: AttributeTable | None = None
    user_event_types: AttributeColumn | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def item_index(self, item_id: str) -> int:
        position = int(np.searchsorted(self.item_ids, item_id))
        if position == self.n_items or self.item_ids[position] != item_id:
            raise LineError(f"Item {item_id!r} has no interactions in the training data")
        return position

    def matching_items(self, conditions: Sequence[Condition]) -> NDArray[np.int64]:
        """The items that satisfy every condition of an item attribute expression."""
        if self.item_attributes is None:
            raise LineError("The solution version was trained without an items dataset")
        mask = np.ones(self.n_items, dtype=np.bool_)
        for condition in conditions:
            column = self.item_attributes.column(condition.field)
            if column is None:
                raise LineError(
                    f"Unknown item field {condition.field!r}; the items dataset has "
                    f"{', '.join(self.item_attributes.names) or 'no fields'}"
                )
            mask &= column.rows_with_any(value_mask(column, condition), self.n_items)
        matches = np.flatnonzero(mask)
        if len(matches) == 0:
            raise LineError("No item with interactions matches the item attributes")
        return matches

    def allowed_users(self, expressions: Sequence[FilterExpression]) -> Mask:
        """The users a filter lets into segments (`runner.engine.filters`)."""
        return selected(expressions, self._user_condition, shape=(self.n_users,))

    def _user_condition(self, condition: Condition) -> Mask:
        if condition.dataset == "INTERACTIONS":
            check_event_type(condition, operators=("IN", "NOT IN", "="), use="IN or NOT IN")
            return event_type_rows(self.user_event_types, condition, self.n_users)
        return attribute_rows(self.user_attributes, condition, self.n_users)

    def segments(
        self, queries: Matrix, *, num_results: int, allowed: Mask | None = None
    ) -> list[UserIndexes]:
        """For each row of `queries` (weights over items), its top users by index."""
        segments: list[UserIndexes] = []
        for start in range(0, queries.shape[0], QUERY_BLOCK):
            block = queries[start : start + QUERY_BLOCK]
            scores = ((block @ self.similarity) @ self.item_users).tocsr()
            for row in range(scores.shape[0]):
                span = slice(scores.indptr[row], scores.indptr[row + 1])
                segments.append(
                    top_users(
                        scores.indices[span].astype(np.int64),
                        scores.data[span],
                        num_results=num_results,
                        n_users=self.n_users,
                        allowed=allowed,
                    )
                )
        return segments

    def to_arrays(self) -> dict[str, NDArray[np.generic]]:
        arrays: dict[str, NDArray[np.generic]] = {
            "recipe": np.array(self.recipe, dtype=np.str_),
            "user_ids": self.user_ids,
            "item_ids": self.item_ids,
            **matrix_arrays("item_users", self.item_users, binary=True),
            **matrix_arrays("similarity", self.similarity),
        }
        if self.item_attributes is not None:
            arrays |= self.item_attributes.to_arrays("item_attributes")
        if self.user_attributes is not None:
            arrays |= self.user_attributes.to_arrays("user_attributes")
        if self.user_event_types is not None:
            arrays |= AttributeTable(self.user_ids, (self.user_event_types,)).to_arrays(
                "user_event_types"
            )
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[np.generic]]) -> SegmentModel:
        user_ids = arrays["user_ids"].astype(np.str_)
        item_ids = arrays["item_ids"].astype(np.str_)
        n_users, n_items = len(user_ids), len(item_ids)
        item_users = load_matrix(arrays, "item_users", shape=(n_items, n_users), binary=True)
        similarity = load_matrix(arrays, "similarity", shape=(n_items, n_items))
        events = AttributeTable.from_arrays(arrays, "user_event_types")
        return cls(
            recipe=str(arrays["recipe"]),
            user_ids=user_ids,
            item_ids=item_ids,
            item_users=item_users,
            similarity=similarity,
            item_attributes=AttributeTable.from_arrays(arrays, "item_attributes"),
            user_attributes=AttributeTable.from_arrays(arrays, "user_attributes"),
            user_event_types=events.columns[0] if events is not None else None,
        )


def train(dataset: Dataset, *, recipe: str, neighbors: int = DEFAULT_NEIGHBORS) -> SegmentModel:
    if recipe not in RECIPES:
        raise EngineError(f"recipe {recipe!r} does not make segments; use {' or '.join(RECIPES)}")
    if recipe == ITEM_ATTRIBUTE_AFFINITY and not (
        dataset.item_attributes and dataset.item_attributes.columns
    ):
        raise EngineError(f"{recipe} needs an items dataset with at least one attribute column")
    check_neighbors(neighbors)
    n_users, n_items = len(dataset.user_ids), len(dataset.item_ids)
    pairs, users, items = distinct_pairs(interaction_keys(dataset), n_items=n_items)
    activity = np.bincount(users, minlength=n_users)
    by_rank = np.lexsort((np.arange(n_users), -activity))
    rank = np.empty(n_users, dtype=np.int64)
    rank[by_rank] = np.arange(n_users)
    user_ids = dataset.user_ids[by_rank]
    item_users = Matrix(
        (np.ones(len(pairs), dtype=np.float32), (items, rank[users])), shape=(n_items, n_users)
    )
    event_types = None
    if dataset.event_types is not None:
        column = dataset.event_types
        event_types = unique_pairs(
            EVENT_TYPE, column.vocabulary, rank[dataset.users[column.rows]], column.codes
        )
    return SegmentModel(
        recipe=recipe,
        user_ids=user_ids,
        item_ids=dataset.item_ids,
        item_users=item_users,
        similarity=item_neighbors(item_users, neighbors=neighbors),
        item_attributes=reindexed(dataset.item_attributes, dataset.item_ids),
        user_attributes=reindexed(dataset.user_attributes, user_ids),
        user_event_types=event_types,
    )


def top_users(
    users: UserIndexes,
    scores: NDArray[np.floating],
    *,
    num_results: int,
    n_users: int,
    allowed: Mask | None = None,
) -> UserIndexes:
    """The `num_results` best users: by score, then by index (rank); unscored ones last."""
    if allowed is not None:
        keep = allowed[users]
        users, scores = users[keep], scores[keep]
    if len(users) > num_results:
        threshold = np.partition(scores, len(scores) - num_results)[len(scores) - num_results]
        above = np.flatnonzero(scores > threshold)
        tied = np.flatnonzero(scores == threshold)
        tied = tied[np.argsort(users[tied], kind="stable")][: num_results - len(above)]
        chosen = np.concatenate([above, tied])
        users, scores = users[chosen], scores[chosen]
    ranked = users[np.lexsort((users, -scores))]
    missing = num_results - len(ranked)
    if missing <= 0:
        return ranked
    unscored = np.ones(n_users, dtype=np.bool_) if allowed is None else allowed.copy()
    unscored[ranked] = False
    return np.concatenate([ranked, np.flatnonzero(unscored)[:missing]])
