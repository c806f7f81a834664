"""The exact in-memory dense index (SQLite store): one pass, and two passes for combined
vectors at scale, which must find what one exact pass finds."""

from __future__ import annotations

import numpy as np

from amtslotse.store.index.dense import TWO_PASS_MIN_ROWS, DenseIndex

LEAD, REST = 48, 64


def _unit(m: np.ndarray) -> np.ndarray:
    return (m / np.linalg.norm(m, axis=-1, keepdims=True)).astype(np.float32)


def _combined(rng: np.random.Generator, n: int) -> np.ndarray:
    """Vectors shaped like CombinedEmbedder's: a main model's part (80 %) and a second
    model's (20 %) that agrees with it only roughly."""
    main = _unit(rng.standard_normal((n, LEAD)))
    second = _unit(main @ rng.standard_normal((LEAD, REST)) + rng.standard_normal((n, REST)))
    return np.hstack([np.sqrt(0.8) * main, np.sqrt(0.2) * second]).astype(np.float32)


def _index(matrix: np.ndarray, tenants: np.ndarray) -> DenseIndex:
    n = len(matrix)
    never = np.int32(2**31 - 1)
    return DenseIndex(np.arange(100, 100 + n, dtype=np.int64), tenants.astype(np.int32),
                      np.full(n, -never, np.int32), np.full(n, never, np.int32), matrix)


def test_two_passes_find_what_one_exact_pass_finds():
    rng = np.random.default_rng(7)
    n = TWO_PASS_MIN_ROWS * 2  # half of them another tenant's: the first pass must not see them
    matrix = _combined(rng, n)
    tenants = np.where(np.arange(n) % 2 == 0, 1, 2)
    index = _index(matrix, tenants)
    queries = _unit(matrix[rng.choice(np.flatnonzero(tenants == 1), 20)] + 0.05 * rng.standard_normal((20, LEAD + REST)))
    for query in queries:
        two_pass = index.search(query, [1], 0, 10, lead_dims=LEAD)
        exact = index.search(query, [1], 0, 10)
        assert [pid for pid, _ in two_pass] == [pid for pid, _ in exact]
        np.testing.assert_allclose([s for _, s in two_pass], [s for _, s in exact], atol=1e-5)
        assert all((pid - 100) % 2 == 0 for pid, _ in two_pass)  # tenant 1 only
        # and both are what scoring every visible row by hand gives
        scores = matrix[::2] @ query
        assert [pid for pid, _ in exact] == [100 + 2 * int(i) for i in np.argsort(-scores)[:10]]


def test_small_indexes_take_one_exact_pass():
    rng = np.random.default_rng(3)
    matrix = _combined(rng, 500)
    index = _index(matrix, np.ones(500))
    query = _unit(rng.standard_normal(LEAD + REST))
    expected = [100 + int(i) for i in np.argsort(-(matrix @ query))[:5]]
    assert [pid for pid, _ in index.search(query, [1], 0, 5, lead_dims=LEAD)] == expected
    assert [pid for pid, _ in index.search(query, [1], 0, 5)] == expected
