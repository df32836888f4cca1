"""The learning: implicit-feedback ALS (the `implicit` library), item-to-item similarity, popularity, metrics.

Kept free of the ORM so the evaluation and the benchmark run it on plain arrays.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# implicit warns (and runs slower) when BLAS starts its own threads inside its own.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

FACTORS = 48
ITERATIONS = 12
REGULARIZATION = 0.05
ALPHA = 2.0
THREADS = 2  # the machine's cores; ALS on 1,000,000 interactions needs no more
MIN_INTERACTIONS = 20  # below this a model learns nothing the popular lists do not say


@dataclass
class Matrix:
    """Members × items confidence matrix with the index of each."""

    members: list[object]
    items: list[str]
    member_index: dict[object, int]
    item_index: dict[str, int]
    user_items: sparse.csr_matrix


def matrix_build(members: Sequence[object], items: Sequence[str], weights: Sequence[float]) -> Matrix:
    member_codes, member_list = _codes(members)
    item_codes, item_list = _codes(items)
    data = np.asarray(weights, dtype=np.float32)
    user_items = sparse.csr_matrix(
        (data, (member_codes, item_codes)), shape=(len(member_list), len(item_list)), dtype=np.float32
    )
    user_items.sum_duplicates()
    return Matrix(
        members=member_list,
        items=[str(item) for item in item_list],
        member_index={member: index for index, member in enumerate(member_list)},
        item_index={str(item): index for index, item in enumerate(item_list)},
        user_items=user_items,
    )


def _codes(values: Sequence[object]) -> tuple[np.ndarray, list[object]]:
    index: dict[object, int] = {}
    codes = np.empty(len(values), dtype=np.int32)
    for position, value in enumerate(values):
        code = index.get(value)
        if code is None:
            code = index[value] = len(index)
        codes[position] = code
    return codes, list(index)


def als_fit(user_items: sparse.csr_matrix, *, seed: int = 7, factors: int = FACTORS):  # type: ignore[no-untyped-def]
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(
        factors=factors,
        regularization=REGULARIZATION,
        alpha=ALPHA,
        iterations=ITERATIONS,
        random_state=seed,
        num_threads=THREADS,
        calculate_training_loss=False,
    )
    model.fit(user_items, show_progress=False)
    return model


def als_recommend(
    model, user_items: sparse.csr_matrix, rows: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Top `n` items for each member row, already-touched items included (the rules decide later)."""
    n = min(n, user_items.shape[1])
    ids, scores = model.recommend(
        rows, user_items[rows], N=n, filter_already_liked_items=False, recalculate_user=False
    )
    return np.atleast_2d(ids), np.atleast_2d(scores)


def als_fold_in(
    item_factors: np.ndarray, user_row: sparse.csr_matrix, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """A new member's list without retraining: ALS solves their factors against the stored item factors
    (`recalculate_user`), then scores every item."""
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(
        factors=item_factors.shape[1], regularization=REGULARIZATION, alpha=ALPHA, num_threads=1
    )
    model.item_factors = item_factors
    model.user_factors = np.zeros((1, item_factors.shape[1]), dtype=item_factors.dtype)
    n = min(n, item_factors.shape[0])
    ids, scores = model.recommend(0, user_row, N=n, filter_already_liked_items=False, recalculate_user=True)
    return ids, scores


def cooccurrence_fit(user_items: sparse.csr_matrix):  # type: ignore[no-untyped-def]
    """Item-to-item cosine similarity over who bought what: "people who bought this also bought"."""
    from implicit.nearest_neighbours import CosineRecommender

    model = CosineRecommender(K=50, num_threads=THREADS)
    binary = user_items.copy()
    binary.data[:] = 1.0
    model.fit(binary, show_progress=False)
    return model


def similar_items(model, item: int, n: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    ids, scores = model.similar_items(item, N=n + 1)
    return ids, scores


def popularity(user_items: sparse.csr_matrix) -> np.ndarray:
    """How many members touched each item (not how often: one devotee is not a crowd)."""
    counts: np.ndarray = np.asarray((user_items > 0).sum(axis=0)).ravel()
    return counts


def factors_dump(item_factors: np.ndarray, items: list[str]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, item_factors=np.asarray(item_factors, dtype=np.float32), items=np.asarray(items)
    )
    return buffer.getvalue()


def factors_load(blob: bytes) -> tuple[np.ndarray, list[str]]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as loaded:
        return loaded["item_factors"], [str(item) for item in loaded["items"]]


# --- offline metrics at k ---------------------------------------------------------------------------


def precision_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    return sum(1 for item in ranked[:k] if item in relevant) / k


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    if not relevant:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant)


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    gain = sum(1.0 / math.log2(position + 2) for position, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(position + 2) for position in range(min(len(relevant), k)))
    return gain / ideal if ideal else 0.0
