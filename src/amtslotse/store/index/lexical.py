"""In-memory BM25 index over analyzed terms, rebuilt from a store's rows.

Both stores persist each passage's hashed terms and counts; this index is derived from them
and held by the store (which applies the tenant and validity filters). Keeping one scorer
for SQLite and PostgreSQL gives both the same ranking (the conformance suite relies on
it) and lets a query weight its terms (synonyms, compound parts) - which neither FTS5's
bm25() nor PostgreSQL's ts_rank can.

Example (sketch, not run as a doctest)::

    index = LexicalIndex.build(rows)  # an IndexRow per passage
    index.search({term_id: 1.0, part_id: 0.5}, tenant_codes=[1, 2], day=date.today().toordinal(), limit=50)
    # -> [(passage_id, score), ...], best first

Scores are BM25 (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework")
with k1 = 1.2, b = 0.75, precomputed per posting ("impact"). A passage's score adds up its
query terms' weighted impacts in float32, rarest term first: a fixed order, so that a
search that leaves lists out and adds them later gets exactly the same sums
(`search_exhaustive`, which adds every posting, is the reference that tests and
benchmarks/scale.py compare with).

A search does not add up every posting; it prunes like MaxScore (Turtle & Flood 1995,
"Query evaluation: strategies and optimizations"):
1. the lists below SCAN_ALWAYS postings are added up;
2. a lower bound of the `limit`-th best score comes from "champions" (Manning, Raghavan &
   Schuetze 2008, "Introduction to Information Retrieval", 7.1.3): the passages with the
   HEAD highest impacts of each query term, scored with what is added up so far plus their
   champion entries of the lists not added yet;
3. the longest lists whose bounds (weight x highest impact) add up to less than
   PRUNE_BUDGET x that bound are left out; the others are added up;
4. only passages whose sum plus everything left out can still reach the bound are
   candidates; the lists left out are probed (binary search) for them alone.
Adding up goes through `postings.add_columns` (a compiled loop, about twice as fast as
`np.add.at`). On all federal law (129,148 passages; 200 citizen questions of ~19 weighted
terms, 50 results each) `search_lexical` takes 0.3/0.5 ms (p50/p95) where adding up the
long lists first and probing from a sampled threshold took 0.66/1.06 ms (benchmarks/scale.py);
the champions add 4 MB to the 94 MB of the index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from amtslotse.store.index.postings import add_columns
from amtslotse.store.index.rows import PassageRows

K1 = 1.2
B = 0.75
NEVER = np.int32(2**31 - 1)

HEAD = 64
"""Champions per posting list (the postings with the highest impacts)."""

SCAN_ALWAYS = 16_384
"""Lists shorter than this are always added up: cheaper than deciding not to (measured on
all federal law, benchmarks/scale.py)."""

PRUNE_BUDGET = 0.25
"""Share of the score bound that the lists left out may add up to. Larger leaves out more
lists but makes more passages candidates, each probed in every list left out."""

PROBE_FACTOR = 24
"""A list left out is probed by binary search while it is this many times longer than the
candidates (about the cost ratio of a probe and of adding a posting), else added up."""

_SLACK = 1e-4
"""Relative safety margin of every bound: they are float64, the scores float32."""

_ONE = np.ones(1, np.float32)


@dataclass(frozen=True)
class IndexRow:
    passage_id: int
    tenant_code: int
    valid_from: int  # date.toordinal(); -NEVER when open
    valid_to: int  # date.toordinal(); NEVER when open
    term_ids: np.ndarray  # int64
    term_freqs: np.ndarray  # float32 (weighted counts)


class LexicalIndex(PassageRows):
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
        super().__init__(passage_ids, tenant_codes, valid_from, valid_to)
        self.vocab = vocab
        self.offsets = offsets
        self.postings = postings
        self.impacts = impacts
        # Highest impact of each term: the bound MaxScore prunes with.
        self.max_impacts = (
            np.maximum.reduceat(impacts, offsets[:-1]).astype(np.float64) if len(vocab) else np.zeros(0)
        )
        # Positions in the postings (and the posting ranges handed to the compiled loop of
        # postings.add_columns) in the postings' own dtype while they fit.
        self._span_dtype = postings.dtype if offsets[-1] < np.iinfo(postings.dtype).max else np.int64
        # Champions: positions of the HEAD highest impacts of each longer list (slot per term,
        # -1 for lists of at most HEAD postings, which are their own champions). 3 MB for all
        # federal law.
        headed = np.flatnonzero(np.diff(offsets) > HEAD)
        champions = np.empty((len(headed), HEAD), self._span_dtype)
        for i, (lo, hi) in enumerate(zip(offsets[headed].tolist(), offsets[headed + 1].tolist())):
            champions[i] = np.argpartition(impacts[lo:hi], hi - lo - HEAD)[hi - lo - HEAD :] + lo
        self.champions = champions
        self.champion_slot = np.full(len(vocab), -1, np.int32)
        self.champion_slot[headed] = np.arange(len(headed), dtype=np.int32)
        self._visible_cache: dict[tuple[frozenset[int], int], np.ndarray | None] = {}

    @classmethod
    def build(cls, rows: Iterable[IndexRow]) -> LexicalIndex:
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

    # --- search -------------------------------------------------------------------------

    def search(
        self, query: dict[int, float], tenant_codes: Iterable[int], day: int, limit: int
    ) -> list[tuple[int, float]]:
        """The `limit` best passages visible to `tenant_codes` on `day`: (passage id, score)."""
        if not len(self.passage_ids) or not query or limit <= 0:
            return []
        terms, weights, lo, hi = self._terms(query)
        if not len(terms):
            return []
        visible = self._visible(tenant_codes, day)
        count = len(terms)
        # rest[i]: what lists i.. can add at most to one passage.
        rest = np.zeros(count + 1)
        rest[:-1] = np.cumsum((weights * self.max_impacts[terms])[::-1])[::-1]
        ranges = np.stack((lo, hi), axis=1).astype(self._span_dtype)  # one (lo, hi) row per list
        partial = np.zeros(len(self.passage_ids), np.float32)
        done = int(np.searchsorted(hi - lo, SCAN_ALWAYS))
        self._add(partial, ranges[:done], weights[:done])
        floor = _Champions(self, terms, weights, ranges, visible, limit)
        theta = floor.bound(partial, done)
        # The longest lists whose bounds add up to less than the budget stay out (a suffix:
        # sums must keep the rarest-first order); the rest is added up.
        first_out = int(np.argmax(rest < PRUNE_BUDGET * theta * (1.0 - _SLACK))) if theta > 0 else count
        if first_out > done:
            self._add(partial, ranges[done:first_out], weights[done:first_out])
            done = first_out
        if done < count:
            theta = max(theta, floor.bound(partial, done))
        cut = float(theta * (1.0 - _SLACK) - rest[done])
        mask = partial >= cut if cut > 0 else partial > 0
        if visible is not None:
            mask &= visible
        candidates = np.flatnonzero(mask).astype(np.int32)
        scores = partial[candidates]
        for i in range(done, count):
            self._probe(candidates, scores, ranges[i], weights[i : i + 1])
            if len(candidates) > 2 * limit:  # drop those that can no longer reach the bound
                keep = scores >= float(theta * (1.0 - _SLACK) - rest[i + 1])
                candidates, scores = candidates[keep], scores[keep]
        return self._ranked(candidates, scores, limit)

    def search_exhaustive(
        self, query: dict[int, float], tenant_codes: Iterable[int], day: int, limit: int
    ) -> list[tuple[int, float]]:
        """`search` without pruning: every posting of every query term is added up. The
        reference that tests and benchmarks compare `search` with."""
        if not len(self.passage_ids) or not query or limit <= 0:
            return []
        _, weights, lo, hi = self._terms(query)
        scores = np.zeros(len(self.passage_ids), np.float32)
        self._add(scores, np.stack((lo, hi), axis=1).astype(self._span_dtype), weights)
        visible = self._visible(tenant_codes, day)
        candidates = np.flatnonzero(scores > 0 if visible is None else (scores > 0) & visible)
        return self._ranked(candidates, scores[candidates], limit)

    def _terms(self, query: dict[int, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The query terms the index knows, rarest first (equal lengths in query order):
        vocabulary positions, weights (float32) and posting ranges."""
        ids = np.fromiter(query.keys(), np.int64, len(query))
        weights = np.fromiter(query.values(), np.float32, len(query))
        if not len(self.vocab):
            empty = np.zeros(0, np.int64)
            return empty, weights[:0], empty, empty
        pos = np.searchsorted(self.vocab, ids)
        pos[pos >= len(self.vocab)] = 0
        found = self.vocab[pos] == ids
        terms, weights = pos[found], weights[found]
        lo, hi = self.offsets[terms], self.offsets[terms + 1]
        order = np.argsort(hi - lo, kind="stable")
        return terms[order], weights[order], lo[order], hi[order]

    def _visible(self, tenant_codes: Iterable[int], day: int) -> np.ndarray | None:
        """Passages of these tenants valid on `day`, None if that is all of them (cached: a
        few tenants and days recur)."""
        key = (frozenset(int(c) for c in tenant_codes), int(day))
        cached = self._visible_cache.get(key, self)  # self: not cached (None is a value)
        if cached is not self:
            return cached
        mask = self.visible_mask(key[0], key[1])
        visible = None if mask.all() else mask
        if len(self._visible_cache) >= 32:
            self._visible_cache.clear()
        self._visible_cache[key] = visible
        return visible

    def _add(self, scores: np.ndarray, ranges: np.ndarray, weights: np.ndarray) -> None:
        """Adds whole posting lists to `scores`, one after the other."""
        for i in range(len(ranges)):
            add_columns(scores, ranges[i], self.postings, self.impacts, weights[i : i + 1])

    def _probe(self, candidates: np.ndarray, scores: np.ndarray, span: np.ndarray, weight: np.ndarray) -> None:
        """Adds one posting list's weighted impacts to the scores of `candidates` (ascending):
        binary search for a few candidates, else the whole list into a scratch array."""
        lo, hi = int(span[0]), int(span[1])
        if len(candidates) * PROBE_FACTOR < hi - lo:
            plist = self.postings[lo:hi]
            at = plist.searchsorted(candidates)
            np.minimum(at, hi - lo - 1, out=at)
            hit = np.flatnonzero(plist[at] == candidates).astype(np.int32)
            found = self.impacts[lo + at[hit]]
        else:
            every = np.zeros(len(self.passage_ids), np.float32)
            add_columns(every, span, self.postings, self.impacts, _ONE)  # the impacts themselves
            found = every[candidates]
            hit = np.flatnonzero(found).astype(np.int32)  # impacts are positive
            found = found[hit]
        add_columns(scores, np.array((0, len(hit)), np.int32), hit, found, weight)

    def _ranked(self, candidates: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Best first; equal scores in passage order. `candidates` must be ascending."""
        if len(candidates) > limit:
            kth = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= kth
            candidates, scores = candidates[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")[:limit]
        return list(zip(self.passage_ids[candidates[order]].tolist(), scores[order].tolist()))


class _Champions:
    """A lower bound of the `limit`-th best score of one query, from the champions of its
    lists: each champion's score so far plus its champion entries of the lists not yet
    added up. Any `limit` visible passages' lower bounds bound the `limit`-th best."""

    def __init__(
        self, index: LexicalIndex, terms: np.ndarray, weights: np.ndarray, ranges: np.ndarray,
        visible: np.ndarray | None, limit: int,
    ) -> None:
        slots = index.champion_slot[terms]
        # Lists of at most HEAD postings are their own champions; being the shortest, they
        # come first in scoring order, the lists with champion entries after them.
        self.own = int(np.count_nonzero(slots < 0))
        at = index.champions[slots[self.own :]].ravel()
        docs = index.postings[at]
        self.values = index.impacts[at] * np.repeat(weights[self.own :], HEAD)
        short = [index.postings[lo:hi] for lo, hi in ranges[: self.own].tolist()]
        every = np.concatenate([docs, *short]) if short else docs
        # Distinct passages without sorting: whichever write of a passage's slot remains marks
        # exactly one of its occurrences.
        slot = np.empty(len(index.passage_ids), np.int32)
        order = np.arange(len(every), dtype=np.int32)
        slot[every] = order
        self.passages = every[slot[every] == order]
        slot[self.passages] = order[: len(self.passages)]
        self.entry_passage = slot[docs]
        self.visible = None if visible is None else visible[self.passages]
        self.limit = limit

    def bound(self, partial: np.ndarray, done: int) -> float:
        """Lower bound of the limit-th best score when lists 0..done-1 are in `partial`."""
        values = partial[self.passages]
        first = max(done - self.own, 0) * HEAD
        if first < len(self.values):
            values = values + np.bincount(self.entry_passage[first:], self.values[first:], len(values))
        if self.visible is not None:
            values = values[self.visible]
        if len(values) < self.limit:
            return 0.0
        return float(np.partition(values, len(values) - self.limit)[len(values) - self.limit])
