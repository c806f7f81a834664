"""Index-time analysis of a passage: its weighted terms from body, headings and keywords."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np

from amtslotse.models import Analyzed, Passage
from amtslotse.search import analysis, keywords, tsv_data
from amtslotse.settings import Settings

ANALYZER_VERSION = "4"
"""Bump when the analysis or `Passage.embedding_text` changes in a way that needs re-indexing."""

HEADING_WEIGHT = 3.0
"""A word of the § heading, citation or title counts like this many words of the body:
headings name the topic in the law's own words ("Bedarfe für Unterkunft und Heizung")."""

KEYWORD_WEIGHT = 2.0
"""Weight of an editorial keyword (data/keywords): the citizen's word for the section's topic."""


def indexed_fields(passage: Passage) -> tuple[str, str, str]:
    """The texts a passage is indexed by: body, head (heading, citation, title), keywords."""
    head = " ".join(filter(None, (passage.heading, passage.citation, passage.title)))
    return passage.text, head, passage.keywords


def analyze_passage(passage: Passage) -> Analyzed:
    """The passage's hashed terms: body words, plus heading and keyword words weighted up
    (a heading or keyword word counts at most twice, however often it repeats)."""
    body, head, keywords = indexed_fields(passage)
    terms = analysis.hashed_terms(body)
    for extra, weight in ((head, HEADING_WEIGHT), (keywords, KEYWORD_WEIGHT)):
        for tid, count in analysis.hashed_terms(extra).items():
            terms[tid] = terms.get(tid, 0.0) + min(count, 2.0) * weight
    return Analyzed(
        np.fromiter(terms.keys(), np.int64, len(terms)),
        np.fromiter(terms.values(), np.float32, len(terms)),
    )


def index_fingerprint(tenant: str, settings: Settings) -> str:
    """Identifies everything besides the file that shapes its index entries: documents
    indexed under another fingerprint are re-indexed on the next ingest."""
    digest = hashlib.sha256(ANALYZER_VERSION.encode())
    for name in ("de_words.txt", "de_stopwords.txt"):
        digest.update(resources.files("amtslotse").joinpath("data", "lexicon", name).read_bytes())
    digest.update(keywords.fingerprint(tenant, tsv_data.folders(settings, "keywords")).encode())
    digest.update(f"{settings.law_split_chars}/{settings.page_split_chars}".encode())
    return digest.hexdigest()[:16]
