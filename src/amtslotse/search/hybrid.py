"""Hybrid retrieval: German lexical (BM25 + vocabulary) and dense, fused by reciprocal rank.

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
        fused = fuse([lexical, dense], [1.0, self.settings.dense_weight], self.settings.rrf_k)[:limit]
        passages = {p.id: p for p in self.store.get_passages(tenant, [pid for pid, _ in fused])}
        lex_rank = {pid: r for r, (pid, _) in enumerate(lexical, 1)}
        dense_rank = {pid: r for r, (pid, _) in enumerate(dense, 1)}
        return [
            Hit(passages[pid], score, lex_rank.get(pid), dense_rank.get(pid))
            for pid, score in fused
            if pid in passages
        ]


def fuse(rankings: list[list[tuple[int, float]]], weights: list[float], k: int) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)).

    Cormack, Clarke & Büttcher (2009), "Reciprocal Rank Fusion outperforms Condorcet and
    individual Rank Learning Methods"; k = 60 as in the paper.
    """
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, (pid, _) in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
