"""Hybrid retrieval: German lexical (BM25 + vocabulary) and dense, fused by a convex
combination of normalised scores.

    >>> retriever = Retriever(store, get_embedder("use-m3"), settings)
    >>> hits = retriever.search("Muss ich mein Auto verkaufen?", tenant="musterkreis")
    >>> hits[0].passage.citation
    '§ 12 SGB II'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from amtslotse.models import Hit
from amtslotse.search import analysis, vocabulary
from amtslotse.search.embedders import Embedder
from amtslotse.settings import Settings
from amtslotse.store.protocol import Store

@dataclass
class Retriever:
    store: Store
    embedder: Embedder | None
    settings: Settings

    def query_terms(self, query: str, tenant: str) -> Counter[str]:
        terms = analysis.weighted_terms(query)
        for term, weight in vocabulary.expand(set(terms), tenant, self.settings.vocabulary_dir).items():
            terms[term] += weight
        return terms

    def search(self, query: str, tenant: str, as_of: date | None = None, limit: int = 10) -> list[Hit]:
        as_of = as_of or date.today()
        depth = max(limit, self.settings.search_candidates)
        lexical = self.store.search_lexical(tenant, analysis.hashed(self.query_terms(query, tenant)), as_of, depth)
        dense: list[tuple[int, float]] = []
        if self.embedder is not None:
            dense = self.store.search_dense(tenant, self.embedder.name, self.embedder.embed_query(query), as_of, depth)
        fused = fuse(lexical, dense, self.settings.lexical_weight)[:limit]
        passages = {p.id: p for p in self.store.get_passages(tenant, [pid for pid, _ in fused])}
        lex_rank = {pid: r for r, (pid, _) in enumerate(lexical, 1)}
        dense_rank = {pid: r for r, (pid, _) in enumerate(dense, 1)}
        return [
            Hit(passages[pid], score, lex_rank.get(pid), dense_rank.get(pid))
            for pid, score in fused
            if pid in passages
        ]


def fuse(lexical: list[tuple[int, float]], dense: list[tuple[int, float]], alpha: float) -> list[tuple[int, float]]:
    """score(d) = alpha * bm25(d) / max bm25 + (1 - alpha) * (cos(d) - min cos) / (max cos - min cos).

    A convex combination of normalised scores rather than reciprocal rank fusion: when one
    retriever is much weaker (dense models on citizens' questions against legal text), RRF
    still gives its every rank a full vote, while here a flat dense score list moves little.
    Measured on our law question sets and the public QA sets (benchmarks/retrieval_quality.py);
    see Bruch, Gai & Ingber (2023), "An Analysis of Fusion Functions for Hybrid Retrieval".
    """
    scores: dict[int, float] = {}
    if lexical:
        top = lexical[0][1] or 1.0
        for pid, score in lexical:
            scores[pid] = alpha * score / top
    if dense:
        high, low = dense[0][1], dense[-1][1]
        span = (high - low) or 1.0
        for pid, score in dense:
            scores[pid] = scores.get(pid, 0.0) + (1.0 - alpha) * (score - low) / span
    return sorted(scores.items(), key=lambda item: -item[1])
