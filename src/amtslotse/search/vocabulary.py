"""Domain vocabulary: everyday words citizens write -> the legal terms the texts use.

Data, not code: the bundled `data/vocabulary/bund.tsv` plus, per tenant, an optional
`<tenant>.tsv` in AMTSLOTSE_VOCABULARY_DIR or `vocabulary.tsv` in the tenant's own folder
(search/tsv_data.py). Format: `everyday term<TAB>term; term; ...`,
`#` starts a comment. A query that contains an entry's analyzed words (in any order) gets
the entry's legal terms added with a lower weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from amtslotse.search import analysis, tsv_data

EXPANSION_WEIGHT = 0.4
"""Weight of an added legal term relative to a word the citizen wrote."""


@dataclass(frozen=True)
class Entry:
    trigger: frozenset[str]  # analyzed stems that must all occur in the query
    expansion: tuple[tuple[str, float], ...]  # analyzed terms of the legal side with weights


def parse(text: str, origin: str) -> list[Entry]:
    entries = []
    for left, right in tsv_data.rows(text, origin, "Alltagswort und Fachbegriffen"):
        trigger = frozenset(analysis.stem(t) for t in analysis.tokens(left))
        terms: dict[str, float] = {}
        for phrase in right.split(";"):
            phrase_terms = analysis.weighted_terms(phrase)
            for term, weight in phrase_terms.items():
                terms[term] = max(terms.get(term, 0.0), weight)
        terms = {t: w for t, w in terms.items() if t not in trigger}
        if trigger and terms:
            entries.append(Entry(trigger, tuple(sorted(terms.items()))))
    return entries


@lru_cache(maxsize=64)
def entries_for(tenant: str, where: tsv_data.Folders) -> tuple[Entry, ...]:
    return tuple(
        entry
        for origin, text in tsv_data.read_files("vocabulary", tenant, where)
        for entry in parse(text, origin)
    )


_by_stem: dict[tuple[str, tsv_data.Folders], tuple[tuple[Entry, ...], dict[str, tuple[Entry, ...]]]] = {}


def _entries_by_stem(tenant: str, where: tsv_data.Folders) -> dict[str, tuple[Entry, ...]]:
    """Each entry filed under one of its trigger stems: a query then checks only the entries
    filed under its own stems instead of all of them (a few instead of ~800 subset tests).
    Rebuilt whenever `entries_for` gives a new tuple (its cache was cleared)."""
    entries = entries_for(tenant, where)
    cached = _by_stem.get((tenant, where))
    if cached is None or cached[0] is not entries:
        index: dict[str, list[Entry]] = {}
        for entry in entries:
            index.setdefault(min(entry.trigger), []).append(entry)
        cached = (entries, {stem: tuple(filed) for stem, filed in index.items()})
        _by_stem[(tenant, where)] = cached
    return cached[1]


def expand(query_stems: set[str], tenant: str, where: tsv_data.Folders) -> dict[str, float]:
    """Legal terms to add to a query whose analyzed words are `query_stems`."""
    added: dict[str, float] = {}
    index = _entries_by_stem(tenant, where)
    for stem in sorted(query_stems):  # a set's order changes between processes; scores must not
        for entry in index.get(stem, ()):
            if entry.trigger <= query_stems:
                for term, weight in entry.expansion:
                    if term not in query_stems:
                        added[term] = max(added.get(term, 0.0), weight * EXPANSION_WEIGHT)
    return added
