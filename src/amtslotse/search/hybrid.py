"""Hybrid retrieval: German lexical (BM25 + vocabulary + thesaurus) and dense, fused by a
convex combination of normalised scores, whose lexical share follows how much of the
question the best lexical passage covers.

Example (it needs a store and models, so it is not run as a doctest)::

    retriever = Retriever(store, get_embedder("e5-small"), settings)
    hits = retriever.search("Muss ich mein Auto verkaufen?", tenant="musterkreis")
    hits[0].passage.citation
    # -> '§ 12 SGB II'
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from amtslotse.models import Hit, Passage
from amtslotse.search import analysis, indexing, thesaurus, tsv_data, vocabulary
from amtslotse.search.embedders import Embedder
from amtslotse.settings import Settings
from amtslotse.store.protocol import Store
from amtslotse.text.names import canonical_names

TYPICAL_COVERAGE = 0.6
"""Coverage (see `coverage`) at which the lexical weight applies unchanged."""

COVERAGE_SLOPE = 0.4
"""Change of the lexical share per unit of coverage: 0.04 per 10 points. With the default
lexical weight 0.5 the share runs from 0.26 (no question word in the best lexical passage)
to 0.66 (all of them). Chosen on our development set (tests/data/retrieval_dev.jsonl)."""

LEXICAL_WEIGHTS = {"e5-small+use-m3": 0.5, "e5-small": 0.6, "use-m3": 0.75}
"""The lexical weight tuned for each built-in embedder (the default when
AMTSLOTSE_LEXICAL_WEIGHT is empty): the better the dense ranking, the more say it gets.
Chosen on our development set; for the default, 0.5 rather than 0.55 (equal there) because
MLQA-de, a public set of paraphrased questions, favoured it (benchmarks/retrieval_quality.py).
Other embedders get DEFAULT_LEXICAL_WEIGHT."""

DEFAULT_LEXICAL_WEIGHT = 0.6

QUERY_CHARS = 4000
"""What of a question is embedded: its first 4,000 characters (at a word's end), about two of
e5-small's 512-token windows. A long letter in the inbox asked whole cost 25 CPU seconds for
20,000 characters (the engine embeds every window and averages them), and the averaged vector
says less about what is asked than its beginning; the words of the whole text still go to the
lexical search."""


@dataclass(frozen=True)
class Query:
    """A question analysed once, for every step of the Ask flow that needs its words (search,
    curated matching, the extract): `written`, its analysed words (analysis.weighted_terms);
    `terms`, those plus the tenant's vocabulary and general synonyms, weighted down (what the
    lexical search and the extract look for). Made by `Retriever.analyze` for one tenant."""

    text: str
    written: Counter[str]
    terms: Counter[str]


@dataclass
class Retriever:
    store: Store
    embedder: Embedder | None
    settings: Settings
    _vectors: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)
    _vectors_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def lexical_weight(self) -> float:
        if self.settings.lexical_weight is not None:
            return self.settings.lexical_weight
        name = self.embedder.name if self.embedder else ""
        return LEXICAL_WEIGHTS.get(name, DEFAULT_LEXICAL_WEIGHT)

    def query_terms(self, query: str, tenant: str) -> Counter[str]:
        """The query's analyzed words, plus the legal terms of the domain vocabulary and
        general synonyms, both weighted down (`analyze(query, tenant).terms`)."""
        return self.analyze(query, tenant).terms

    def analyze(self, text: str, tenant: str, written: Counter[str] | None = None) -> Query:
        """`text` analysed for `tenant`: its words, plus the legal terms of the domain vocabulary
        and general synonyms, both weighted down. `written`: its analysed words, if the caller
        has them already (analysis.weighted_terms(text))."""
        written = analysis.weighted_terms(text) if written is None else written
        return Query(text, written, self._expanded(written, tenant))

    def _expanded(self, written: Counter[str], tenant: str) -> Counter[str]:
        # Both expansions start from the words written: a synonym does not trigger a
        # vocabulary entry, nor a legal term a synonym.
        terms = Counter(written)
        for term, weight in vocabulary.expand(set(written), tenant, tsv_data.folders(self.settings, "vocabulary")).items():
            terms[term] += weight
        for term, weight in thesaurus.expand(written).items():
            terms[term] += weight
        return terms

    def query_vector(self, query: str) -> np.ndarray | None:
        """The embedder's vector of `query`, computed once for the last few queries (the Ask
        flow needs it for the search and for matching curated answers). The benefit has one name
        in what is embedded (text/names.py): "Bürgergeld" and "Hartz IV" mean Grundsicherungsgeld."""
        if self.embedder is None:
            return None
        with self._vectors_lock:
            vector = self._vectors.get(query)
        if vector is None:
            vector = self.embedder.embed_query(canonical_names(_head(query)))
            with self._vectors_lock:
                self._vectors[query] = vector
                while len(self._vectors) > 64:
                    self._vectors.pop(next(iter(self._vectors)))
        return vector

    def search(
        self, query: str | Query, tenant: str, as_of: date | None = None, limit: int = 10,
        keep: Callable[[Passage], bool] | None = None,
    ) -> list[Hit]:
        """The best `limit` passages; `keep`: only passages it accepts (e.g. the question's scope).
        `query`: a text, or a Query the caller analysed already (for this tenant)."""
        as_of = as_of or date.today()
        depth = max(limit, self.settings.search_candidates)
        analyzed = query if isinstance(query, Query) else self.analyze(query, tenant)
        written = analyzed.written
        query_ids = analysis.hashed(analyzed.terms)
        lexical = self.store.search_lexical(tenant, query_ids, as_of, depth)
        dense: list[tuple[int, float]] = []
        if self.embedder is not None:
            dense = self.store.search_dense(
                tenant, self.embedder.name, self.query_vector(analyzed.text), as_of, depth,
                lead_dims=getattr(self.embedder, "lead_dims", None),
            )
        weight = self.lexical_weight
        passages: dict[int, Passage] = {}
        if lexical and dense:
            best = self.store.get_passages(tenant, [lexical[0][0]])
            if best:
                passages[lexical[0][0]] = best[0]
                weight = adapted_weight(weight, coverage(written, query_ids, best[0]))
        fused = fuse(lexical, dense, weight)[: limit if keep is None else depth]
        passages.update(
            (p.id, p) for p in self.store.get_passages(tenant, [pid for pid, _ in fused if pid not in passages])
        )
        if keep is not None:
            fused = [(pid, score) for pid, score in fused if pid in passages and keep(passages[pid])][:limit]
        lex_rank = {pid: r for r, (pid, _) in enumerate(lexical, 1)}
        dense_rank = {pid: r for r, (pid, _) in enumerate(dense, 1)}
        return [
            Hit(passages[pid], score, lex_rank.get(pid), dense_rank.get(pid))
            for pid, score in fused
            if pid in passages
        ]


def coverage(written: Mapping[str, float], query_ids: Mapping[int, float], passage: Passage) -> float:
    """Share of the question that `passage` holds: the weights of the query terms found in
    its index entry (expansions with their lower weights, so "Auto" is partly covered by
    "Kraftfahrzeug") over the weight of the words written, at most 1. The same measure as
    the extractive answer's confidence (`ask.extractive.confidence`), on the whole passage."""
    own = sum(written.values())
    if own <= 0:
        return 0.0
    held = analysis.hashed_terms(" ".join(indexing.indexed_fields(passage)))  # its index entry's terms
    return min(1.0, sum(w for tid, w in query_ids.items() if tid in held) / own)


def adapted_weight(weight: float, coverage: float) -> float:
    """The lexical share for a query whose best lexical passage has this coverage.

    A query-performance prediction: when even the best lexical match lacks most of the
    question's words (the question paraphrases the text: "Wer hat ... erfunden?" against
    "... entwickelte ..."), the lexical ranking rests on a few words and the dense one, which
    compares meaning, deserves more say; when it holds them all, the lexical ranking is
    precise (a § cited by name, a rare word) and the dense one may only blur it. A weight
    of 0 or 1 (dense or lexical only) stays as configured."""
    if not 0.0 < weight < 1.0:
        return weight
    return min(1.0, max(0.0, weight + COVERAGE_SLOPE * (coverage - TYPICAL_COVERAGE)))


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


def _head(text: str) -> str:
    """`text` cut to QUERY_CHARS at the end of a word.

    >>> _head("kurz"), len(_head("Wort " * 2000)) <= QUERY_CHARS
    ('kurz', True)
    """
    if len(text) <= QUERY_CHARS:
        return text
    cut = text[:QUERY_CHARS]
    return cut[: cut.rfind(" ")] if " " in cut else cut
