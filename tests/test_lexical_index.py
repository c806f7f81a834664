"""The pruned BM25 search against a plain reference: pruning must never change the top k.

Random corpora with Zipf-distributed terms (long lists of common words, short ones of rare
words) and queries like the real ones (rare and common terms, weights 0.2 to 2). The index
constants are turned down so that small corpora take every path of the pruning: lists left
out, probed by binary search and by scanning, candidates dropped on the way.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from amtslotse.store.index import lexical as li
from amtslotse.store.index import postings
from amtslotse.store.index.lexical import NEVER, IndexRow, LexicalIndex

WEIGHTS = (0.2, 0.4, 0.5, 1.0, 2.0)


def corpus(rng: np.random.Generator, n: int = 1500, vocab: int = 400, tenants: int = 1, dated: bool = False):
    """Rows of random passages: Zipf term frequencies, weighted counts like compound parts."""
    rows = []
    probs = 1.0 / np.arange(1, vocab + 1) ** 1.1
    probs /= probs.sum()
    for i in range(n):
        size = int(rng.integers(3, 60))
        drawn = rng.choice(vocab, size=size, p=probs)
        ids, counts = np.unique(drawn, return_counts=True)
        freqs = counts.astype(np.float32) * rng.choice([0.5, 1.0], len(ids)).astype(np.float32)
        valid_from, valid_to = -NEVER, NEVER
        if dated and rng.random() < 0.3:
            valid_from = int(rng.integers(0, 100))
            valid_to = valid_from + int(rng.integers(0, 100))
        rows.append(IndexRow(1000 + 3 * i, int(rng.integers(1, tenants + 1)), valid_from, valid_to,
                             (ids * 7919 - 500).astype(np.int64), freqs))
    return rows


def query(rng: np.random.Generator, vocab: int = 400) -> dict[int, float]:
    size = int(rng.integers(1, 40))
    terms = rng.choice(vocab + 20, size=size, replace=False)  # a few terms no passage has
    return {int(t) * 7919 - 500: float(rng.choice(WEIGHTS)) for t in terms}


def reference(rows: list[IndexRow], q: dict[int, float], codes: set[int], day: int) -> dict[int, float]:
    """Plain BM25 in float64, straight from the formula: passage id -> score (> 0)."""
    n = len(rows)
    df: dict[int, int] = {}
    for r in rows:
        for t in r.term_ids.tolist():
            df[t] = df.get(t, 0) + 1
    avg = sum(float(r.term_freqs.sum()) for r in rows) / n
    out = {}
    for r in rows:
        if r.tenant_code not in codes or not r.valid_from <= day <= r.valid_to:
            continue
        length = float(r.term_freqs.sum())
        score = 0.0
        for t, f in zip(r.term_ids.tolist(), r.term_freqs.tolist()):
            if t in q:
                idf = math.log1p((n - df[t] + 0.5) / (df[t] + 0.5))
                score += q[t] * idf * f * (li.K1 + 1) / (f + li.K1 * (1 - li.B + li.B * length / avg))
        if score > 0:
            out[r.passage_id] = score
    return out


def assert_same_top(found: list[tuple[int, float]], expected: dict[int, float], limit: int) -> None:
    """The found top `limit` is the reference's, up to float32 rounding among near-equal scores."""
    best = sorted(expected.items(), key=lambda kv: -kv[1])[:limit]
    assert len(found) == len(best)
    for (pid, score), (_, want) in zip(found, best):
        assert score == pytest.approx(want, rel=1e-5)  # the k-th score at every rank
        assert expected[pid] == pytest.approx(score, rel=1e-5)  # and the passage has that score
    if len(best) == limit and len(expected) > limit:
        # Nothing left out scores clearly better than the last one found.
        last = found[-1][1]
        ids = {pid for pid, _ in found}
        assert all(s <= last * (1 + 1e-5) for pid, s in expected.items() if pid not in ids)


PRUNING = [
    # (always-scanned list length, champions per list, budget, probe factor)
    pytest.param({"SCAN_ALWAYS": 40, "HEAD": 4, "PRUNE_BUDGET": 0.25, "PROBE_FACTOR": 24}, id="defaults-scaled-down"),
    pytest.param({"SCAN_ALWAYS": 1, "HEAD": 2, "PRUNE_BUDGET": 1.0, "PROBE_FACTOR": 24}, id="prune-everything"),
    pytest.param({"SCAN_ALWAYS": 1, "HEAD": 8, "PRUNE_BUDGET": 0.9, "PROBE_FACTOR": 0}, id="scan-the-left-out"),
    pytest.param({"SCAN_ALWAYS": 10**9, "HEAD": 64, "PRUNE_BUDGET": 0.25, "PROBE_FACTOR": 24}, id="no-pruning"),
]


@pytest.fixture
def pruning(request, monkeypatch):
    for name, value in request.param.items():
        monkeypatch.setattr(li, name, value)
    return request.param


def spy(monkeypatch, name: str) -> list[int]:
    """Counts calls of a LexicalIndex method (the real one still runs)."""
    calls: list[int] = []
    real = getattr(LexicalIndex, name)

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LexicalIndex, name, counted)
    return calls


@pytest.mark.slow  # a large random index searched against a brute-force reference
@pytest.mark.parametrize("pruning", PRUNING, indirect=True)
def test_pruned_search_finds_the_reference_top_k(pruning, monkeypatch):
    rng = np.random.default_rng(7)
    rows = corpus(rng)
    index = LexicalIndex.build(rows)
    probes = spy(monkeypatch, "_probe")
    for _ in range(120):
        q = query(rng)
        limit = int(rng.choice([1, 5, 10, 50, 200]))
        found = index.search(q, [1], 0, limit)
        assert found == index.search_exhaustive(q, [1], 0, limit)  # the same float32 sums
        assert_same_top(found, reference(rows, q, {1}, 0), limit)
    if pruning["SCAN_ALWAYS"] < 10**9:
        assert probes, "no list was ever left out: the test does not exercise pruning"
    else:
        assert not probes


@pytest.mark.slow  # a large random index searched against a brute-force reference
@pytest.mark.parametrize("pruning", PRUNING[:3], indirect=True)
def test_pruning_respects_tenants_and_validity(pruning):
    rng = np.random.default_rng(11)
    rows = corpus(rng, n=1200, tenants=3, dated=True)
    index = LexicalIndex.build(rows)
    for _ in range(80):
        q = query(rng)
        codes = {int(c) for c in rng.choice([1, 2, 3], size=int(rng.integers(1, 3)), replace=False)}
        day = int(rng.integers(-5, 210))
        limit = int(rng.choice([3, 20, 60]))
        found = index.search(q, codes, day, limit)
        assert found == index.search_exhaustive(q, codes, day, limit)
        assert_same_top(found, reference(rows, q, codes, day), limit)


def test_equal_scores_rank_in_passage_order():
    # Five passages with the same text score the same: they come in passage order.
    same = np.array([11, 12], np.int64), np.array([1.0, 2.0], np.float32)
    rows = [IndexRow(pid, 1, -NEVER, NEVER, *same) for pid in (50, 10, 40, 20, 30)]
    rows.append(IndexRow(60, 1, -NEVER, NEVER, np.array([13], np.int64), np.array([1.0], np.float32)))
    index = LexicalIndex.build(rows)
    found = index.search({11: 1.0, 12: 0.5}, [1], 0, 3)
    assert [pid for pid, _ in found] == [50, 10, 40]
    assert len({score for _, score in found}) == 1


def test_empty_index_queries_and_limits():
    assert LexicalIndex.build([]).search({1: 1.0}, [1], 0, 10) == []
    index = LexicalIndex.build(corpus(np.random.default_rng(3), n=50))
    assert index.search({}, [1], 0, 10) == []
    assert index.search({123456789: 1.0}, [1], 0, 10) == []  # a term no passage has
    assert index.search({-500 + 7919: 1.0}, [1], 0, 0) == []
    assert index.search({-500 + 7919: 1.0}, [2], 0, 10) == []  # a tenant without passages
    everything = index.search({-500: 1.0, -500 + 7919: 1.0}, [1], 0, 10_000)
    assert 0 < len(everything) <= 50


@pytest.mark.parametrize("compiled", [True, False], ids=["scipy", "numpy"])
def test_adding_columns_gives_the_sums_of_np_add_at(compiled, monkeypatch):
    if compiled:
        assert postings._compiled_matvec() is not None, "SciPy is missing: searches fall back to np.add.at"
    else:
        monkeypatch.setattr(postings, "_compiled_matvec", lambda: None)
    rng = np.random.default_rng(5)
    docs = np.concatenate([np.sort(rng.choice(10_000, 1_000, replace=False)) for _ in range(3)]).astype(np.int32)
    impacts = rng.random(3_000, dtype=np.float32) * 7
    got = rng.random(10_000, dtype=np.float32)
    want = got.copy()
    # Three lists and an empty column between them: a column at a time, in order.
    indptr = np.array([100, 1_000, 1_000, 2_000, 2_900], np.int32)
    weights = np.array([0.4, 2.0, 0.2, 1.0], np.float32)
    postings.add_columns(got, indptr, docs, impacts, weights)
    for (a, b), w in zip(itertools.pairwise(indptr.tolist()), weights):
        np.add.at(want, docs[a:b], w * impacts[a:b])
    assert np.array_equal(got, want)
