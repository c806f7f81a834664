"""In-memory BM25 index over analyzed terms, rebuilt from a store's rows.

Both stores persist each passage's hashed terms and counts; this index is derived from them
and held by the store (which applies the tenant and validity filters). Keeping one scorer
for SQLite and PostgreSQL gives both the same ranking (the conformance suite relies on
it) and lets a query weight its terms (synonyms, compound parts) - which neither FTS5's
bm25() nor PostgreSQL's ts_rank can.

Scores are BM25 (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework")
with k1 = 1.2, b = 0.75, precomputed per posting ("impact"), so a query is a few
vectorised additions over the postings of its terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

K1 = 1.2
B = 0.75
NEVER = np.int32(2**31 - 1)


@dataclass(frozen=True)
class IndexRow:
    passage_id: int
    tenant_code: int
    valid_from: int  # days since epoch; -NEVER when open
    valid_to: int  # days since epoch; NEVER when open
    term_ids: np.ndarray  # int64
    term_freqs: np.ndarray  # float32 (weighted counts)


class LexicalIndex:
    def __init__(
        self,
        passage_ids: np.ndarray,
        tenant_codes: np.ndarray,
        valid_from: np.ndarray,
        valid_to: np.ndarray,
        vocab: np.ndarray,
        offsets: np.ndarray,
        postings: np.ndarray,
        impacts: np.ndarray,
    ) -> None:
        self.passage_ids = passage_ids
        self.tenant_codes = tenant_codes
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.vocab = vocab
        self.offsets = offsets
        self.postings = postings
        self.impacts = impacts

    def __len__(self) -> int:
        return len(self.passage_ids)

    @classmethod
    def build(cls, rows: Iterable[IndexRow]) -> "LexicalIndex":
        rows = list(rows)
        n = len(rows)
        pids = np.fromiter((r.passage_id for r in rows), np.int64, n)
        tenants = np.fromiter((r.tenant_code for r in rows), np.int32, n)
        vfrom = np.fromiter((r.valid_from for r in rows), np.int32, n)
        vto = np.fromiter((r.valid_to for r in rows), np.int32, n)
        if n == 0:
            empty = np.zeros(0, np.int64)
            return cls(pids, tenants, vfrom, vto, empty, np.zeros(1, np.int64), empty.astype(np.int32), empty.astype(np.float32))
        lengths = np.fromiter((len(r.term_ids) for r in rows), np.int64, n)
        terms = np.concatenate([r.term_ids for r in rows])
        freqs = np.concatenate([r.term_freqs for r in rows]).astype(np.float32)
        docs = np.repeat(np.arange(n, dtype=np.int32), lengths)
        doc_len = np.bincount(docs, weights=freqs, minlength=n).astype(np.float32)
        avg_len = float(doc_len.mean()) or 1.0

        order = np.argsort(terms, kind="stable")
        terms, docs, freqs = terms[order], docs[order], freqs[order]
        vocab, starts, dfs = np.unique(terms, return_index=True, return_counts=True)
        offsets = np.append(starts, len(terms)).astype(np.int64)
        # Robertson/Sparck Jones idf with the +1 of Lucene, never negative.
        idf = np.log1p((n - dfs + 0.5) / (dfs + 0.5)).astype(np.float32)
        norm = K1 * (1.0 - B + B * doc_len[docs] / avg_len)
        impacts = np.repeat(idf, dfs) * freqs * (K1 + 1.0) / (freqs + norm)
        return cls(pids, tenants, vfrom, vto, vocab, offsets, docs, impacts.astype(np.float32))

    def search(
        self, query: dict[int, float], tenant_codes: Iterable[int], day: int, limit: int
    ) -> list[tuple[int, float]]:
        if not len(self.passage_ids) or not query or limit <= 0:
            return []
        ids = np.fromiter(query.keys(), np.int64, len(query))
        weights = np.fromiter(query.values(), np.float32, len(query))
        pos = np.searchsorted(self.vocab, ids)
        pos[pos >= len(self.vocab)] = 0
        found = self.vocab[pos] == ids if len(self.vocab) else np.zeros(len(ids), bool)
        scores = np.zeros(len(self.passage_ids), np.float32)
        for p, w in zip(pos[found], weights[found]):
            lo, hi = self.offsets[p], self.offsets[p + 1]
            # Doc ids are unique within one posting list, so fancy-index += is exact.
            scores[self.postings[lo:hi]] += w * self.impacts[lo:hi]
        candidates = np.flatnonzero(scores)
        if not len(candidates):
            return []
        visible = np.isin(self.tenant_codes[candidates], np.fromiter(tenant_codes, np.int32))
        visible &= (self.valid_from[candidates] <= day) & (day <= self.valid_to[candidates])
        candidates = candidates[visible]
        if len(candidates) > limit:
            top = np.argpartition(-scores[candidates], limit - 1)[:limit]
            candidates = candidates[top]
        candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [(int(self.passage_ids[c]), float(scores[c])) for c in candidates]
