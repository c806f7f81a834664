"""Choose: which curated answer fits the intent of the whole question.

A curated answer is matched by meaning, never on one shared keyword: each of its phrasings (the
question, the alternatives, the translated questions) has a vector, and the question's vector is
compared with all of them (the same multilingual embedder as the search, so a Ukrainian question
finds the German answer). Beside that similarity, a lexical check in both directions: how much of
the question the phrasing holds, and how much of the phrasing the question holds (a phrasing with
words the question lacks, "neuer Name", asks something else).

Example (it needs a store and models, so it is not run as a doctest)::

    index = CuratedIndex(store, embedder)
    matches = index.match("Ich habe 3000 Euro gespart, ist das schlimm?", vector, "musterkreis", date.today())
    matches[0].passage.external_id, round(matches[0].similarity, 2)
    # -> ('vermoegen-freibetrag', 0.91)

The vectors of phrasings are cached in the store (by model and text hash), like passage vectors,
so a restart or a second worker computes none again.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

import numpy as np

from amtslotse.ask.scope import benefit_words
from amtslotse.models import SHARED_TENANT, Passage, text_hash
from amtslotse.search import analysis
from amtslotse.search.embedders import Embedder
from amtslotse.store.protocol import Store
from amtslotse.text.fold import plain_words
from amtslotse.text.names import canonical_names

MIN_CENTERED = 3
"""Below this many phrasings there is no common direction to remove."""

REFRESH_SECONDS = 2.0
"""How long a tenant's list of curated answers is reused before the store is asked again."""


RETRIEVED_WEIGHT = 0.2
"""How much the search's rank of an answer (`retrieved`) adds to its match score. The phrasings'
meaning alone put the right answer first for 163 of our 301 paraphrases and 76 of 115 dev
questions; with the search's rank added (0.1 to 0.5 all alike) 183-188 and 78-79 (one-off study
over benchmarks/.home, session 10)."""

CURATED_FEATURES = ("similarity", "covered", "extra", "margin", "retrieved", "translated")
"""What the calibration knows about a curated match (CuratedMatch.features): the only names its
weights may use (data/calibration/model.json, checked by `amtslotse check`)."""


@dataclass
class CuratedMatch:
    passage: Passage
    similarity: float  # best cosine between the question and one of the answer's phrasings
    phrasing: str  # that phrasing
    covered: float  # share of the question's words the phrasing holds
    extra: float  # share of the phrasing's words the question lacks (weighted by rarity among the answers)
    margin: float = 0.0  # score minus the score of the next answer (for the best match only)
    language: str = "de"  # the language of the phrasing that matched
    retrieved: float = 0.0  # 1 / (1 + rank) among the curated answers the search found by their text; 0: not found
    exact: bool = False  # the question is one of the answer's phrasings word for word (text.fold.plain_words)

    @property
    def translated(self) -> float:
        """1.0 when a translated phrasing matched (a question in another language): the search
        reads German words, so its rank says less then."""
        return 0.0 if self.language == "de" else 1.0

    @property
    def score(self) -> float:
        """match_score, and the search's rank of the whole answer helps (RETRIEVED_WEIGHT)."""
        return match_score(self.similarity, self.covered, self.extra) + RETRIEVED_WEIGHT * self.retrieved

    def features(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in CURATED_FEATURES}


def search_ranks(found: Sequence[str | None]) -> dict[str, float]:
    """1 / (1 + rank) of each curated answer among the search's hits (`found`: their curated ids,
    best first; None for law, a long answer's parts once): where the search, which reads the whole
    answer and not only its phrasings, ranked it (CuratedMatch.retrieved). Two independent ways
    agreeing is the strongest sign of a right match on the hand-graded dev answers
    (scripts/calibrate.py)."""
    return {ident: 1.0 / (1 + rank) for rank, ident in enumerate(dict.fromkeys(i for i in found if i))}


def match_score(similarity, covered, extra):
    """Ranks phrasings and answers (CuratedMatch.score; floats, or arrays of every phrasing at
    once): meaning first; shared words help, words the question lacks ("... im Wechselmodell?")
    count against."""
    return similarity + 0.15 * covered - 0.1 * extra


@dataclass
class _Entry:
    passage: Passage
    phrasings: list[tuple[str, str]]  # (language, text)
    terms: list[dict[str, float]] = field(default_factory=list)
    keys: frozenset[str] = frozenset()  # the phrasings' plain_words


class _Loaded(NamedTuple):
    """A tenant's curated answers as matched: read at `at`, valid while the store's documents
    have the same `signature`. Everything about the phrasings that does not depend on the
    question is computed here, once per load, not per question."""

    at: float
    signature: tuple
    entries: list[_Entry]
    vectors: np.ndarray  # one row per phrasing, in entry order: centred and normalised when `mean` is set
    mean: np.ndarray | None  # what _centered took off the rows; None: raw vectors (too few phrasings)
    idf: dict[str, float]
    terms: list[dict[str, float]]  # per phrasing row: its intent terms
    own: np.ndarray  # per row: the weight of its terms, each times its idf (the denominator of `extra`)
    rows: dict[str, list[int]]  # term -> the rows whose phrasings use it
    starts: np.ndarray  # per entry with phrasings: its first row
    counts: np.ndarray  # per entry with phrasings: how many rows it has
    filled: list[int]  # the entries with phrasings (indexes into `entries`)


def phrasings(passage: Passage) -> list[tuple[str, str]]:
    """(language, text) of every way the answer's question is written."""
    found = [("de", passage.heading or passage.title)]
    found += [("de", a.strip()) for a in passage.keywords.split(";") if a.strip()]
    for language, translated in (passage.meta.get("translations") or {}).items():
        if translated.get("question"):
            found.append((language, translated["question"]))
    return [(lang, text) for lang, text in found if text]


class CuratedIndex:
    """The curated answers a tenant sees (its own and the shared layer's) with phrasing vectors."""

    def __init__(self, store: Store, embedder: Embedder | None) -> None:
        self.store = store
        self.embedder = embedder
        self._lock = threading.Lock()
        self._tenants: dict[str, _Loaded] = {}
        self._laws: dict[str, dict[str, list[Passage]]] = {}  # law file -> § -> passages (law_passage)

    def law_passage(self, source: str | None, section: str | None, day: date) -> int | None:
        """The id of the shared layer's passage of `section` in law file `source` valid on `day`
        (its first part): what the source dialog opens for a curated answer's citation."""
        if not source or not section:
            return None
        with self._lock:
            sections = self._laws.get(source)
            if sections is None:
                sections = {}
                for p in self.store.document_passages(SHARED_TENANT, source):
                    if p.section:
                        sections.setdefault(p.section, []).append(p)
                self._laws[source] = sections
        for p in sections.get(" ".join(section.split()), []):
            if p.valid_on(day):
                return p.id
        return None

    def invalidate(self, tenant: str | None = None) -> None:
        """Forget a tenant's list (all, for None): the next question reads its curated answers
        again, so an editor's change is live at once in this process (others within
        REFRESH_SECONDS)."""
        with self._lock:
            if tenant is None or tenant == SHARED_TENANT:
                self._tenants.clear()
                self._laws.clear()
            else:
                self._tenants.pop(tenant, None)

    def _key(self, text: str) -> str:
        return text_hash(f"phrasing\x00{text}")

    def _load(self, tenant: str) -> _Loaded:
        now = time.monotonic()
        cached = self._tenants.get(tenant)
        if cached and now - cached.at < REFRESH_SECONDS:
            return cached
        layers = [tenant] if tenant == SHARED_TENANT else [tenant, SHARED_TENANT]
        documents = [(layer, d) for layer in layers for d in self.store.documents(layer) if d.kind == "records"]
        signature = tuple((layer, d.source, d.content_hash, d.valid_from) for layer, d in documents)
        if cached and cached.signature == signature:
            self._tenants[tenant] = cached._replace(at=now)
            return self._tenants[tenant]
        entries: dict[tuple[str, str], _Entry] = {}
        for layer, d in documents:
            for p in self.store.document_passages(layer, d.source):
                if p.meta.get("kind") != "curated":
                    continue
                key = (layer, p.external_id or str(p.id))
                if key in entries:  # a long answer the splitter cut into parts: one answer again
                    first = entries[key].passage
                    entries[key].passage = replace(first, text=f"{first.text}\n\n{p.text}")
                else:
                    entries[key] = _Entry(p, phrasings(p))
        own = {ident for layer, ident in entries if layer != SHARED_TENANT}
        # A tenant's answer with the id of a shared one replaces it for that tenant.
        found = [e for (layer, ident), e in entries.items() if layer != SHARED_TENANT or ident not in own]
        for entry in found:
            entry.terms = [_intent_terms(text) for _, text in entry.phrasings]
            entry.keys = frozenset(plain_words(text) for _, text in entry.phrasings)
        self._tenants[tenant] = self._prepared(now, signature, found)
        return self._tenants[tenant]

    def _prepared(self, at: float, signature: tuple, found: list[_Entry]) -> _Loaded:
        matrix = self._vectors([text for e in found for _, text in e.phrasings])
        mean = None
        if matrix.shape[1] and len(matrix) >= MIN_CENTERED:
            mean, matrix = self._centered(matrix)
        idf = _answer_idf(found)
        terms = [t for e in found for t in e.terms]
        rows: dict[str, list[int]] = {}
        for row, phrasing in enumerate(terms):
            for term in phrasing:
                rows.setdefault(term, []).append(row)
        own = np.array([sum(w * idf.get(t, 1.0) for t, w in phrasing.items()) for phrasing in terms], np.float64)
        counts = [len(e.phrasings) for e in found]
        starts = np.cumsum([0, *counts[:-1]], dtype=np.int64)
        filled = [i for i, n in enumerate(counts) if n]
        return _Loaded(at, signature, found, matrix, mean, idf, terms, own, rows,
                       starts[filled], np.array(counts, np.int64)[filled], filled)

    @staticmethod
    def _centered(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, the rows minus the mean, normalised). All phrasings are questions to a
        Jobcenter and share a large common direction; without it the cosines spread and the
        intent, not the setting, decides (Mu & Viswanath 2018, "All-but-the-Top")."""
        mean = matrix.mean(axis=0)
        centered = matrix - mean
        norms = np.linalg.norm(centered, axis=1, keepdims=True)
        return mean, centered / np.maximum(norms, 1e-6)

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self.embedder is None or not texts:
            return np.zeros((len(texts), 0), np.float32)
        texts = [canonical_names(t) for t in texts]  # as the question is embedded (Retriever.query_vector)
        keys = [self._key(t) for t in texts]
        known = self.store.get_vectors(self.embedder.name, keys)
        missing = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in known]
        if missing:
            fresh = [(k, self.embedder.embed_query(t)) for k, t in missing]
            self.store.put_vectors(self.embedder.name, fresh)
            known.update(fresh)
        return np.vstack([known[k] for k in keys]).astype(np.float32)

    def match(
        self, question: str, vector: np.ndarray | None, tenant: str, day: date, limit: int = 5,
        written: Mapping[str, float] | None = None, keep: Callable[[Passage], bool] | None = None,
        exclude: Collection[str] = (), found: Sequence[str | None] = (),
    ) -> list[CuratedMatch]:
        """The best-fitting curated answers valid on `day`, best first (one entry per answer).
        `vector`: the question's, as Retriever.query_vector embeds it (with one name for the
        benefit, like the phrasings); `written`: the question's analysed words, if the caller has
        them (analysis.weighted_terms); `keep`: which answers may be matched at all (the
        question's scope); `exclude`: ids of answers that may not. Both apply before the margin
        to the next answer is measured: the margin is to an answer that could have been shown.
        `found`: the curated ids of the search's hits for the question, best first (see
        search_ranks); empty: the search was not asked."""
        with self._lock:
            loaded = self._load(tenant)
        entries = loaded.entries
        if not loaded.filled:
            return []
        asked = _intent_terms(question, written)
        total = sum(asked.values())
        key = plain_words(question)
        # Only the phrasings that share a word with the question need the word sums: the others
        # hold none of it (covered 0.0) and lack all their own words (extra 1.0: own / own).
        shared = sorted({row for t in asked for row in loaded.rows.get(t, ())})
        covered = np.zeros(len(loaded.terms))
        extra = (loaded.own > 0).astype(np.float64)
        for row in shared:
            terms = loaded.terms[row]
            covered[row] = sum(w for t, w in asked.items() if t in terms) / total if total else 0.0
            # Weighted by how few answers use a word: a phrasing's "Wechselmodell" that the
            # question lacks says "another question" far more than its "bekommen" does.
            own = float(loaded.own[row])
            extra[row] = sum(w * loaded.idf.get(t, 1.0) for t, w in terms.items() if t not in asked) / own if own else 0.0
        if vector is not None and loaded.vectors.shape[1]:
            if loaded.mean is not None:
                query = vector - loaded.mean
                sims = (loaded.vectors @ (query / max(float(np.linalg.norm(query)), 1e-6))).astype(np.float64)
            else:
                sims = (loaded.vectors @ vector).astype(np.float64)
        else:  # no embedder: the words decide (see _word_cosine); no shared word, no similarity
            sims = np.zeros(len(loaded.terms))
            for row in shared:
                sims[row] = _word_cosine(asked, loaded.terms[row])
        scores = match_score(sims, covered, extra)
        # Each answer's best phrasing (the first of equal ones), then the answers that may be matched.
        best = np.maximum.reduceat(scores, loaded.starts)
        at_best = np.where(scores == np.repeat(best, loaded.counts), np.arange(len(scores)), len(scores))
        best_rows = np.minimum.reduceat(at_best, loaded.starts)
        allowed = [
            i for i, e in enumerate(loaded.filled)
            if (p := entries[e].passage).valid_on(day) and p.external_id not in exclude and (keep is None or keep(p))
        ]
        ranks = search_ranks(found)
        retrieved = np.array([ranks.get(entries[loaded.filled[i]].passage.external_id or "", 0.0) for i in allowed])
        # best first (as CuratedMatch.score); equal scores in entry order
        order = np.argsort(-(best[allowed] + RETRIEVED_WEIGHT * retrieved), kind="stable")
        results: list[CuratedMatch] = []
        for i in order[: max(limit, 2)].tolist():
            entry, row = entries[loaded.filled[allowed[i]]], int(best_rows[allowed[i]])
            language, phrasing = entry.phrasings[row - int(loaded.starts[allowed[i]])]
            results.append(CuratedMatch(entry.passage, float(sims[row]), phrasing, float(covered[row]),
                                        float(extra[row]), language=language, retrieved=float(retrieved[i]),
                                        exact=key in entry.keys))
        if len(results) > 1:
            results[0].margin = results[0].score - results[1].score
        return results[:limit]


@lru_cache(maxsize=1)
def _benefit_terms() -> frozenset[str]:
    return frozenset(analysis.weighted_terms(" ".join(benefit_words())))


def _answer_idf(entries: Sequence[_Entry]) -> dict[str, float]:
    """log(1 + answers / answers whose phrasings use the word), per word."""
    counts: dict[str, int] = {}
    for entry in entries:
        for term in {t for terms in entry.terms for t in terms}:
            counts[term] = counts.get(term, 0) + 1
    return {t: float(np.log1p(len(entries) / n)) for t, n in counts.items()}


def _word_cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two weighted term sets: the similarity where no embedder is configured (the
    calibration has its own model for that case, trained the same way)."""
    dot = sum(w * b[t] for t, w in a.items() if t in b)
    if not dot:
        return 0.0
    return dot / (sum(w * w for w in a.values()) ** 0.5 * sum(w * w for w in b.values()) ** 0.5)


def _intent_terms(text: str, written: Mapping[str, float] | None = None) -> dict[str, float]:
    """The words of a question that carry its intent: without the benefit's names, which nearly
    every question to a Jobcenter contains. `written`: the text's analysed words, if known."""
    generic = _benefit_terms()
    terms = analysis.weighted_terms(text) if written is None else written
    return {t: w for t, w in terms.items() if t not in generic}
