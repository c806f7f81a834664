"""Retrieval metrics over ranked lists of ids, one relevant set per question."""

from __future__ import annotations

import math
from typing import Sequence


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of questions with a relevant id in the top k (the usual "hit@k" for one gold)."""
    return 1.0 if relevant.intersection(ranked[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float:
    for rank, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Binary-relevance nDCG (Järvelin & Kekäläinen 2002)."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, item in enumerate(ranked[:k], start=1) if item in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def summarize(runs: list[tuple[Sequence[str], set[str]]]) -> dict[str, float]:
    n = len(runs) or 1
    return {
        "questions": len(runs),
        "recall@1": round(sum(recall_at(r, g, 1) for r, g in runs) / n, 4),
        "recall@5": round(sum(recall_at(r, g, 5) for r, g in runs) / n, 4),
        "recall@10": round(sum(recall_at(r, g, 10) for r, g in runs) / n, 4),
        "mrr": round(sum(reciprocal_rank(r, g) for r, g in runs) / n, 4),
        "ndcg@10": round(sum(ndcg_at(r, g, 10) for r, g in runs) / n, 4),
    }


def dedupe(ids: Sequence[str]) -> list[str]:
    """Keep the first occurrence: parts of one long passage count once, at their best rank."""
    seen: set[str] = set()
    return [i for i in ids if not (i in seen or seen.add(i))]
