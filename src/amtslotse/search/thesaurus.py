"""General German synonyms for query expansion: the paraphrase a question uses that the
text does not ("Auto" / "Pkw", "Arzt" / "Doktor", "Krankenhaus" / "Klinik").

The curated domain vocabulary (`vocabulary.py`) maps citizens' words to legal terms; this
module covers everyday German at large, from OpenThesaurus (www.openthesaurus.de, LGPL-2.1+,
bundled as `data/lexicon/de_synonyms.txt`, built by `scripts/build_lexicon.py --thesaurus`).
A thesaurus is not curated for retrieval, so its words enter a query carefully:

- only unambiguous words are expanded: a word in more than one synset ("Bank", "Zug",
  "Miete") has senses the query does not choose between, and a synset of more than
  MAX_SYNSET words (loose, mostly colloquial clusters) adds nothing;
- a synonym weighs SYNONYM_WEIGHT of the word it stands for, less than a curated vocabulary
  term (`vocabulary.EXPANSION_WEIGHT`);
- at most MAX_ADDED synonyms per query, in the order of the query's words: every added term
  costs the lexical search a posting list;
- only single words are used: phrases would add their function words as loose terms.

    >>> expand({"auto": 1.0})["pkw"]  # analyzed stems in, analyzed stems out
    0.3
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from amtslotse.search import analysis

SYNONYM_WEIGHT = 0.3
"""Weight of a synonym relative to the word it stands for."""

MAX_SYNSET = 8
"""A synset with more words than this is too loose to expand with."""

MAX_ADDED = 8
"""Synonyms added to one query at most."""

_MIN_STEM = 3  # shorter stems ("ab", "ur") match too much to be worth a guess


@lru_cache(maxsize=1)
def synsets() -> tuple[tuple[tuple[str, ...], ...], dict[str, tuple[int, ...]]]:
    """The synsets as analyzed stems, and for each stem the synsets it occurs in."""
    text = resources.files("amtslotse").joinpath("data", "lexicon", "de_synonyms.txt").read_text("utf-8")
    stop = analysis.stopwords()
    sets: list[tuple[str, ...]] = []
    senses: dict[str, list[int]] = defaultdict(list)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        words = line.lower().split(";")
        stems = tuple(sorted({s for s in (analysis.stem(w) for w in words if w not in stop) if len(s) >= _MIN_STEM}))
        if len(stems) < 2:
            continue
        for stem in stems:
            senses[stem].append(len(sets))
        sets.append(stems)
    return tuple(sets), {stem: tuple(ids) for stem, ids in senses.items()}


def expand(terms: Mapping[str, float]) -> dict[str, float]:
    """Synonyms to add to a query whose analyzed terms (with weights) are `terms`.

    A synonym of a compound part weighs as little as the part; a term the query already
    has is never added."""
    sets, senses = synsets()
    added: dict[str, float] = {}
    for term, weight in terms.items():
        ids = senses.get(term, ())
        if len(ids) != 1 or len(sets[ids[0]]) > MAX_SYNSET:
            continue
        for synonym in sets[ids[0]]:
            if synonym not in terms and synonym not in added:
                if len(added) == MAX_ADDED:
                    return added
                added[synonym] = SYNONYM_WEIGHT * min(weight, 1.0)
    return added
