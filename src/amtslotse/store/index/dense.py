"""Exact cosine search over an in-memory matrix of normalised vectors.

Used by the SQLite store (PostgreSQL uses pgvector's HNSW index instead). Exact search
over float32 is a matrix-vector product: ~1 ms per 10k passages of 512 dimensions on
one core, which is the size of a Landkreis' knowledge base plus the social-law codes.
"""

from __future__ import annotations

import threading

import numpy as np

from amtslotse.store.index.rows import PassageRows

TWO_PASS_MIN_ROWS = 50_000
"""Below this many visible rows one exact pass is fast (a few ms) and exact."""

TWO_PASS_CANDIDATES = 1_000
"""Rows scored in full after the first pass (at least 4 x the limit)."""


class DenseIndex(PassageRows):
    def __init__(
        self,
        passage_ids: np.ndarray,
        tenant_codes: np.ndarray,
        valid_from: np.ndarray,
        valid_to: np.ndarray,
        matrix: np.ndarray,
    ) -> None:
        super().__init__(passage_ids, tenant_codes, valid_from, valid_to)
        self.matrix: np.ndarray | None = matrix
        self._split: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.RLock()  # _blocks() calls _full()

    def search(
        self, vector: np.ndarray, tenant_codes, day: int, limit: int, lead_dims: int | None = None
    ) -> list[tuple[int, float]]:
        """The `limit` visible rows most similar to `vector`, best first.

        `lead_dims`: the vectors' leading dimensions rank nearly as the whole does (the main
        model of a combination, see `embedders.CombinedEmbedder`). Over TWO_PASS_MIN_ROWS
        rows the index then scores those dimensions first and the rest only for the best
        TWO_PASS_CANDIDATES: at 129,148 vectors of 896 dimensions 2x faster than scoring all.
        """
        if not len(self.passage_ids) or limit <= 0:
            return []
        rows = np.flatnonzero(self.visible_mask((int(code) for code in tenant_codes), day))
        if not len(rows):
            return []
        vector = vector.astype(np.float32)
        k = min(limit, len(rows))
        if lead_dims and len(rows) >= TWO_PASS_MIN_ROWS and 0 < lead_dims < vector.size:
            lead, rest = self._blocks(lead_dims)
            # Scoring every row and then selecting is cheaper than copying the visible rows.
            coarse = (lead @ vector[:lead_dims])[rows]
            n = min(len(rows), max(TWO_PASS_CANDIDATES, 4 * k))
            candidates = rows[np.argpartition(-coarse, n - 1)[:n]] if n < len(rows) else rows
            rows = candidates
            local = lead[rows] @ vector[:lead_dims] + rest[rows] @ vector[lead_dims:]
        else:
            local = (self._full() @ vector)[rows]
        top = np.argpartition(-local, k - 1)[:k]
        top = top[np.argsort(-local[top], kind="stable")]
        return [(int(self.passage_ids[rows[t]]), float(local[t])) for t in top]

    def _blocks(self, lead_dims: int) -> tuple[np.ndarray, np.ndarray]:
        """The matrix as two contiguous blocks, leading and remaining dimensions (kept
        instead of the whole matrix, so memory stays the same)."""
        with self._lock:
            if self._split is None or self._split[0].shape[1] != lead_dims:
                full = self._full()
                self._split = (np.ascontiguousarray(full[:, :lead_dims]), np.ascontiguousarray(full[:, lead_dims:]))
                self.matrix = None
            return self._split

    def _full(self) -> np.ndarray:
        with self._lock:
            if self.matrix is None:
                self.matrix = np.hstack(self._split)
                self._split = None
            return self.matrix
