"""The item x item cosine neighbours that both local models are built on (segments in
`runner.engine.model`, recommendations in `runner.engine.recommender`), the user-item pairs
they are computed from, and how their sparse matrices are saved.

Arrays are saved uncompressed, with int32 indices and no data array for a binary matrix
(its values are ones), so that a job loads a model in a few tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from runner.engine.attributes import distinct
from runner.engine.datasets import Dataset
from runner.engine.errors import EngineError

Matrix = sp.csr_array
Keys = NDArray[np.int64]
DEFAULT_NEIGHBORS = 100
# Elements of the dense co-occurrence block computed at a time while training.
_TRAINING_BLOCK_ELEMENTS = 16_000_000


def check_neighbors(neighbors: int) -> None:
    if neighbors < 1:
        raise EngineError(f"neighbors must be at least 1, not {neighbors}")


def interaction_keys(dataset: Dataset) -> Keys:
    """Each interaction's key `user * n_items + item`: in key order, user-major (CSR order)."""
    return dataset.users.astype(np.int64) * len(dataset.item_ids) + dataset.items


def distinct_pairs(keys: Keys, *, n_items: int) -> tuple[Keys, Keys, Keys]:
    """The distinct (user, item) pairs of interaction `keys`, sorted: keys, users, items."""
    pairs = distinct(keys)
    return pairs, pairs // n_items, pairs % n_items


def binary_matrix(
    indices: NDArray[np.generic], indptr: NDArray[np.generic], *, shape: tuple[int, int]
) -> Matrix:
    """The CSR matrix of ones at `indices` (int32) with row pointers `indptr` (int64)."""
    return Matrix(
        (
            np.ones(len(indices), dtype=np.float32),
            indices.astype(np.int32, copy=False),
            indptr.astype(np.int64, copy=False),
        ),
        shape=shape,
    )


def matrix_arrays(
    name: str, matrix: Matrix, *, binary: bool = False
) -> dict[str, NDArray[np.generic]]:
    """The arrays that save `matrix` as `name.indptr`, `name.indices` (and `name.data`)."""
    arrays: dict[str, NDArray[np.generic]] = {
        f"{name}.indptr": matrix.indptr,
        f"{name}.indices": matrix.indices,
    }
    if not binary:
        arrays[f"{name}.data"] = matrix.data
    return arrays


def load_matrix(
    arrays: Mapping[str, NDArray[np.generic]],
    name: str,
    *,
    shape: tuple[int, int],
    binary: bool = False,
) -> Matrix:
    """The matrix that `matrix_arrays` saved as `name`."""
    indices, indptr = arrays[f"{name}.indices"], arrays[f"{name}.indptr"]
    if binary:
        return binary_matrix(indices, indptr, shape=shape)
    return Matrix(
        (
            arrays[f"{name}.data"].astype(np.float32, copy=False),
            indices.astype(np.int32, copy=False),
            indptr.astype(np.int64, copy=False),
        ),
        shape=shape,
    )


def item_neighbors(item_users: Matrix, *, neighbors: int) -> Matrix:
    """Each item's `neighbors` most cosine-similar items, a dense block of rows at a time."""
    n_items = item_users.shape[0]
    user_items = item_users.T.tocsr()
    norms = np.sqrt(np.asarray(item_users.sum(axis=1), dtype=np.float32)).ravel()
    norms[norms == 0] = 1
    keep = min(neighbors, n_items)
    block = max(1, _TRAINING_BLOCK_ELEMENTS // max(n_items, 1))
    rows, columns, values = [], [], []
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        dense = (item_users[start:stop] @ user_items).toarray().astype(np.float32, copy=False)
        dense /= norms[start:stop, None]
        dense /= norms[None, :]
        if keep < n_items:
            top = np.argpartition(-dense, keep - 1, axis=1)[:, :keep]
        else:
            top = np.broadcast_to(np.arange(n_items), (stop - start, n_items))
        similarity = np.take_along_axis(dense, top, axis=1)
        positive = similarity > 0
        rows.append(np.broadcast_to(np.arange(start, stop)[:, None], top.shape)[positive])
        columns.append(top[positive])
        values.append(similarity[positive])
    return Matrix(
        (
            np.concatenate(values) if values else np.zeros(0, np.float32),
            (
                np.concatenate(rows) if rows else np.zeros(0, np.int64),
                np.concatenate(columns) if columns else np.zeros(0, np.int64),
            ),
        ),
        shape=(n_items, n_items),
    )
