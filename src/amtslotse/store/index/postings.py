"""Adding weighted posting lists into a score array: the inner loop of lexical search.

Example (sketch, not run as a doctest)::

    scores = np.zeros(n_passages, np.float32)
    add_columns(scores, np.array([0, 3, 5], np.int32), docs, impacts, np.array([1.0, 0.5], np.float32))
    # scores[docs[0:3]] += 1.0 * impacts[0:3]; then scores[docs[3:5]] += 0.5 * impacts[3:5]

Posting lists are the columns of a sparse matrix in CSC form (indptr, indices = passages,
data = impacts), the query weights the vector: SciPy's compiled CSC matrix-vector product
adds them in place, column after column, on views of the index's arrays without copying
them. It adds a posting in about half the time of `np.add.at` (1.3 vs 2.4 ns on all federal
law, benchmarks/scale.py). The public sparse matrix API would validate and copy, so this
calls `scipy.sparse._sparsetools` directly; tests/test_lexical_index.py checks it against
`np.add.at`, and without SciPy the same sums come from NumPy.

Every score addition of the lexical index goes through this one function, so a fused
multiply-add in the compiled loop (possible on some platforms) applies to all of them
alike, and pruned and exhaustive searches keep giving the same float32 sums.
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def _compiled_matvec():
    """SciPy's CSC mat-vec, imported on first use (importing scipy.sparse takes ~0.2 s and
    ~20 MB, which commands that never search should not pay); None without SciPy."""
    try:
        from scipy.sparse._sparsetools import csc_matvec
    except ImportError:  # pragma: no cover - SciPy is a dependency; NumPy alone gives the same sums
        return None
    return csc_matvec


def add_columns(
    scores: np.ndarray, indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, weights: np.ndarray
) -> None:
    """For each column j in order: scores[indices[a:b]] += weights[j] * values[a:b] with
    a, b = indptr[j], indptr[j + 1]. indptr has the dtype of indices, weights and values
    are float32, scores a contiguous float32 array; a column's indices are distinct."""
    matvec = _compiled_matvec()
    if matvec is not None and indptr.dtype == indices.dtype:
        matvec(len(scores), len(weights), indptr, indices, values, weights, scores)
        return
    for j, (a, b) in enumerate(zip(indptr[:-1].tolist(), indptr[1:].tolist())):
        np.add.at(scores, indices[a:b], weights[j] * values[a:b])
