"""In-memory BM25 index over analyzed terms, rebuilt from a store's rows.

Both stores persist each passage's hashed terms and counts; this index is derived from them
and held by the store (which applies the tenant and validity filters). Keeping one scorer
for SQLite and PostgreSQL gives both the same ranking (the conformance suite relies on
it) and lets a query weight its terms (synonyms, compound parts) - which neither FTS5's
bm25() nor PostgreSQL's ts_rank can.

Scores are BM25 (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework")
with k1 = 1.2, b = 0.75, precomputed per posting ("impact"), so a query is a few
vectorised additions over the postings of its terms.

A search does not add up every posting: it prunes like MaxScore (Turtle & Flood 1995,
"Query evaluation: strategies and optimizations"). Short posting lists are added up; the
long lists of common words ("leistung", "absatz") are left out as long as all they could
add together stays below the `limit`-th best score so far, and are then only probed (binary
search) for the passages that can still reach the top. Those few are finally scored again
term by term in query order, so scores are exactly those of adding up every posting
(`search_exhaustive`, the reference that benchmarks/scale.py checks against); equal scores
are ranked in passage order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

K1 = 1.2
B = 0.75
NEVER = np.int32(2**31 - 1)

PRUNE_POSTINGS = 16_384
"""Posting lists at least this long may be left out; shorter ones are always added up (a
check whether the long ones can be left out costs about as much as adding up this many)."""

PROBE_FACTOR = 8
"""A posting list is probed by binary search when it is this many times longer than the
candidate list, else scanned."""

_SLACK = 1e-4
"""Relative safety margin of every bound: partial sums are float32, added in another order."""


@dataclass(frozen=True)
class IndexRow:
    passage_id: int
    tenant_code: int
    valid_from: int  # days since epoch; -NEVER when open
    valid_to: int  # days since epoch; NEVER when open
    term_ids: np.ndarray  # int64
    term_freqs: np.ndarray  # float32 (weighted counts)


class LexicalIndex:
    """Posting lists in CSR form: the postings of vocab[t] are postings[offsets[t]:offsets[t+1]],
    passage indexes in ascending order, with their BM25 impacts beside them."""

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
        # Highest impact of each term: the bound MaxScore prunes with.
        self.max_impacts = (
            np.maximum.reduceat(impacts, offsets[:-1]).astype(np.float64) if len(vocab) else np.zeros(0)
        )
        self._visible_cache: dict[tuple[frozenset[int], int], np.ndarray | None] = {}

    def __len__(self) -> int:
        return len(self.passage_ids)

    @classmethod
    def build(cls, rows: Iterable[IndexRow]) -> "LexicalIndex":
        rows = rows if isinstance(rows, list) else list(rows)
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
        freqs = np.concatenate([r.term_freqs for r in rows]).astype(np.float32, copy=False)
        docs = np.repeat(np.arange(n, dtype=np.int32), lengths)
        doc_len = np.bincount(docs, weights=freqs, minlength=n).astype(np.float32)
        avg_len = float(doc_len.mean()) or 1.0

        # One stable sort groups the postings by term with passages ascending within a term
        # (the binary-search probes rely on that); the vocabulary falls out of the sorted ids.
        order = np.argsort(terms, kind="stable")
        terms = terms[order]
        starts = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
        vocab = terms[starts]
        del terms
        offsets = np.append(starts, len(order)).astype(np.int64)
        dfs = np.diff(offsets)
        docs, freqs = docs[order], freqs[order]
        del order
        # Robertson/Sparck Jones idf with the +1 of Lucene, never negative.
        idf = np.log1p((n - dfs + 0.5) / (dfs + 0.5)).astype(np.float32)
        # impact = idf * f * (K1 + 1) / (f + K1 * (1 - B + B * len / avg_len)), in float32 and
        # in place (the same operations as the formula written out, without its temporaries).
        norm = doc_len[docs]
        norm *= B
        norm /= avg_len
        norm += 1.0 - B
        norm *= K1
        norm += freqs
        impacts = np.repeat(idf, dfs)
        impacts *= freqs
        impacts *= K1 + 1.0
        impacts /= norm
        return cls(pids, tenants, vfrom, vto, vocab, offsets, docs, impacts)

    # --- search ---------------------------------------------------------------------------

    def search(
        self, query: dict[int, float], tenant_codes: Iterable[int], day: int, limit: int
    ) -> list[tuple[int, float]]:
        """The `limit` best passages visible to `tenant_codes` on `day`: (passage id, score)."""
        if not len(self.passage_ids) or not query or limit <= 0:
            return []
        terms, weights = self._lookup(query)
        if not len(terms):
            return []
        visible = self._visible(tenant_codes, day)
        candidates, approx = self._candidates(terms, weights, visible, limit)
        if not len(candidates):
            return []
        # Everything within the slack of the limit-th best is scored exactly.
        if len(candidates) > limit:
            kth = np.partition(approx, len(approx) - limit)[len(approx) - limit]
            candidates = candidates[approx >= kth * (1.0 - _SLACK)]
        return self._ranked(candidates, self._exact_scores(candidates, terms, weights), limit)

    def search_exhaustive(
        self, query: dict[int, float], tenant_codes: Iterable[int], day: int, limit: int
    ) -> list[tuple[int, float]]:
        """`search` without pruning: every posting of every query term is added up. The
        reference that tests and benchmarks compare `search` with."""
        if not len(self.passage_ids) or not query or limit <= 0:
            return []
        terms, weights = self._lookup(query)
        scores = np.zeros(len(self.passage_ids), np.float32)
        for t, w in zip(terms, weights):
            lo, hi = self.offsets[t], self.offsets[t + 1]
            # np.add.at: 3x faster than `scores[postings] += ...` in NumPy 2, and the same
            # float32 additions (passages are unique within one posting list).
            np.add.at(scores, self.postings[lo:hi], w * self.impacts[lo:hi])
        visible = self._visible(tenant_codes, day)
        candidates = np.flatnonzero(scores > 0 if visible is None else (scores > 0) & visible)
        return self._ranked(candidates, scores[candidates], limit)

    def _lookup(self, query: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary positions and weights of the query terms the index knows, in query order."""
        ids = np.fromiter(query.keys(), np.int64, len(query))
        weights = np.fromiter(query.values(), np.float32, len(query))
        if not len(self.vocab):
            return np.zeros(0, np.int64), weights[:0]
        pos = np.searchsorted(self.vocab, ids)
        pos[pos >= len(self.vocab)] = 0
        found = self.vocab[pos] == ids
        return pos[found], weights[found]

    def _visible(self, tenant_codes: Iterable[int], day: int) -> np.ndarray | None:
        """Passages of these tenants valid on `day`, None if that is all of them (cached: a
        few tenants and days recur)."""
        key = (frozenset(int(c) for c in tenant_codes), int(day))
        cached = self._visible_cache.get(key, self)  # self: not cached (None is a value)
        if cached is not self:
            return cached
        mask = np.zeros(len(self.passage_ids), bool)
        for code in key[0]:  # == per code: np.isin sorts, 30x slower for a handful of codes
            mask |= self.tenant_codes == code
        mask &= (self.valid_from <= day) & (day <= self.valid_to)
        visible = None if mask.all() else mask
        if len(self._visible_cache) >= 32:
            self._visible_cache.clear()
        self._visible_cache[key] = visible
        return visible

    def _candidates(
        self, terms: np.ndarray, weights: np.ndarray, visible: np.ndarray | None, limit: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Visible passages that may be among the `limit` best (ascending, int32) with their
        approximate scores (float32 sums in another order than the exact ones)."""
        lo, hi = self.offsets[terms], self.offsets[terms + 1]
        lengths = hi - lo
        bound = weights.astype(np.float64) * self.max_impacts[terms]
        partial = np.zeros(len(self.passage_ids), np.float32)
        starts, ends = lo.tolist(), hi.tolist()  # Python ints slice faster than NumPy's

        def scan(t: int) -> None:
            np.add.at(partial, self.postings[starts[t] : ends[t]], weights[t] * self.impacts[starts[t] : ends[t]])

        # Short lists are cheap: scan them all. Long ones (common words) stay unscanned
        # while their bounds together stay below the limit-th best score so far; the most
        # valuable per posting are scanned first.
        long_terms = np.flatnonzero(lengths >= PRUNE_POSTINGS)
        for t in np.flatnonzero(lengths < PRUNE_POSTINGS).tolist():
            scan(t)
        unscanned = long_terms[np.argsort(-bound[long_terms] / lengths[long_terms], kind="stable")].tolist()
        threshold, total, leaders = 0.0, bound.sum(), None
        while unscanned:
            left = bound[unscanned].sum()
            # The threshold cannot exceed what the scanned terms give (total - left).
            if left < total - left:
                if leaders is None or len(leaders) < limit:
                    threshold, leaders = self._kth_best(partial, visible, limit)
                else:
                    # The limit-th best of the leaders so far is a lower bound too, and cheap.
                    values = partial[leaders]
                    threshold = max(threshold, float(np.partition(values, len(values) - limit)[len(values) - limit]))
                if left < threshold * (1.0 - _SLACK):
                    break  # no passage can gain enough from the unscanned lists to reach the top
            scan(unscanned.pop(0))
        if not unscanned:
            candidates = self._kth_best(partial, visible, limit)[1]
            return candidates, partial[candidates]
        # Only passages whose partial score plus all that is unscanned can reach the
        # threshold stay; the unscanned lists are probed for them.
        cut = threshold * (1.0 - _SLACK) - left
        candidates = np.flatnonzero(partial >= cut if visible is None else (partial >= cut) & visible)
        candidates = candidates.astype(np.int32)
        for t in unscanned:
            plist = self.postings[starts[t] : ends[t]]
            if len(candidates) * PROBE_FACTOR < len(plist):
                at = plist.searchsorted(candidates)
                np.minimum(at, len(plist) - 1, out=at)
                hit = plist[at] == candidates
                partial[candidates[hit]] += weights[t] * self.impacts[starts[t] + at[hit]]
            else:
                scan(t)
        return candidates, partial[candidates]

    def _kth_best(self, scores: np.ndarray, visible: np.ndarray | None, k: int) -> tuple[float, np.ndarray]:
        """The k-th best visible score (0 when fewer are positive) and the visible passages
        scoring at least that (ascending, int32), without sorting all N scores: the k-th best
        of a strided sample is a lower bound that leaves only a few hundred passages."""
        masked = scores if visible is None else scores * visible
        stride = 8 if len(masked) >= 64 * k else 1
        sample = masked[::stride]
        sample = sample[sample > 0]  # np.partition is slow on many equal values (the zeros)
        if stride > 1 and len(sample) >= k:
            floor = np.partition(sample, len(sample) - k)[len(sample) - k]
            candidates = np.flatnonzero(masked >= floor * (1.0 - _SLACK))
        else:
            candidates = np.flatnonzero(masked > 0)
        candidates = candidates.astype(np.int32)
        if len(candidates) <= k:
            return 0.0, candidates
        values = masked[candidates]
        return float(np.partition(values, len(values) - k)[len(values) - k]), candidates

    def _exact_scores(self, candidates: np.ndarray, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Scores of a few passages, added up in query order exactly as `search_exhaustive` does."""
        scores = np.zeros(len(candidates), np.float32)
        postings, impacts = self.postings, self.impacts
        for lo, hi, w in zip(self.offsets[terms].tolist(), self.offsets[terms + 1].tolist(), weights):
            at = postings[lo:hi].searchsorted(candidates)
            np.minimum(at, hi - lo - 1, out=at)
            at += lo
            # Adding 0 where the term is missing leaves a float32 sum as it is.
            scores += np.where(postings[at] == candidates, w * impacts[at], np.float32(0))
        return scores

    def _ranked(self, candidates: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Best first; equal scores in passage order. `candidates` must be ascending."""
        if len(candidates) > limit:
            kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= kth
            candidates, scores = candidates[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")[:limit]
        return list(zip(self.passage_ids[candidates[order]].tolist(), scores[order].tolist()))
