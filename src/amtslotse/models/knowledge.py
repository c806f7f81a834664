"""Knowledge: the objects that flow through ingest and search.

A `Document` is what a loader reads from one source file; the splitter cuts it into
`Passage`s, the unit that is indexed, retrieved and cited. A `Hit` is a passage found by
a search, with its score. `Analyzed` is a passage's lexical form as the store keeps it;
`DocumentInfo` and `StoreStats` are what the store reports about documents.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np

SHARED_TENANT = "bund"
EMBEDDED_TEXT_CHARS = 1000  # of a passage's text, after its card, go into its vector
"""The shared layer (federal law, common guidance) that every tenant also sees."""



@dataclass(frozen=True)
class Record:
    """A passage given ready-made by its source (one JSONL line), kept as it is.

    Curated answers (staff-approved question/answer pairs) are records too: the answer is the
    text, the question its heading, the other phrasings its keywords, and `meta` holds
    {"kind": "curated", "sources": [...], "topic": ...}; they may carry their own validity."""

    text: str
    external_id: str | None = None
    title: str | None = None
    url: str | None = None
    heading: str | None = None
    keywords: str = ""
    meta: dict = field(default_factory=dict)
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass
class Document:
    """One source file as read by a loader.

    `text` is normalised Markdown-like text: headings as `# ...` lines so that the splitter
    can cut by structure whatever the original format was. Sources that arrive already cut
    into passages (JSONL) carry `records` instead and an empty `text`.
    """

    source: str  # file name (or given id); with tenant and valid_from it identifies the document
    title: str
    text: str = ""
    records: list[Record] = field(default_factory=list)
    tenant: str = SHARED_TENANT
    url: str | None = None
    language: str = "de"
    valid_from: date | None = None
    valid_to: date | None = None
    kind: str = "page"  # "law" | "page" | "records"
    law: str | None = None  # readable law abbreviation ("SGB II") when kind == "law"
    content_hash: str = ""  # hash of the file bytes and the metadata that shape its passages

    def valid_on(self, day: date) -> bool:
        return valid_on(self.valid_from, self.valid_to, day)


@dataclass
class Passage:
    """The unit of retrieval and citation: a § (or Absatz group) of a law, a page section."""

    text: str
    title: str  # the document's title
    source: str
    citation: str  # readable, e.g. "§ 22 SGB II" or "Öffnungszeiten – Jobcenter Musterkreis"
    heading: str | None = None  # e.g. "§ 22 – Bedarfe für Unterkunft und Heizung"
    section: str | None = None  # normalised "§ 22", "§ 7b", "Art 3"; None for non-law text
    external_id: str | None = None
    url: str | None = None
    keywords: str = ""  # editorial keywords ("Schlagwörter", data/keywords) attached at ingest
    meta: dict = field(default_factory=dict)  # e.g. {"kind": "curated", "sources": [...]}
    position: int = 0  # order within the document
    # Filled in by the store:
    id: int | None = None
    tenant: str = SHARED_TENANT
    language: str = "de"
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return valid_on(self.valid_from, self.valid_to, day)

    @property
    def text_hash(self) -> str:
        """Key of the vector cache: the text the embedder sees."""
        return text_hash(self.embedding_text)

    @property
    def embedding_text(self) -> str:
        """What the embedder sees: a short card of topic words before the start of the text.

        Citizens' questions are short and everyday; a card of heading and keywords lies much
        closer to them than a long legal text (benchmarks/retrieval_quality.py)."""
        card = " – ".join(filter(None, (self.citation, self.heading if self.heading != self.citation else None)))
        if self.keywords:
            card += f". {self.keywords}"
        return f"{card}\n{self.text[:EMBEDDED_TEXT_CHARS]}"


@dataclass
class Hit:
    passage: Passage
    score: float
    lexical_rank: int | None = None
    dense_rank: int | None = None

    def to_dict(self) -> dict:
        p = self.passage
        return {
            "passage_id": p.id,
            "external_id": p.external_id,
            "source": p.source,
            "title": p.title,
            "section": p.section,
            "citation": p.citation,
            "heading": p.heading,
            "url": p.url,
            "tenant": p.tenant,
            "valid_from": p.valid_from.isoformat() if p.valid_from else None,
            "valid_to": p.valid_to.isoformat() if p.valid_to else None,
            "score": round(self.score, 6),
            "text": p.text,
        }


@dataclass(frozen=True)
class Analyzed:
    """A passage's lexical representation: hashed analyzed terms and their counts."""

    term_ids: np.ndarray  # int64, unique
    term_freqs: np.ndarray  # int32, same length


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document version, as listed (with its number of passages)."""

    id: int
    tenant: str
    source: str
    title: str
    kind: str
    valid_from: date | None
    valid_to: date | None
    content_hash: str
    passages: int


@dataclass(frozen=True)
class StoreStats:
    documents: int
    passages: int
    vectors: int  # passages that have a vector for the active model
    size_bytes: int


def valid_on(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    """Validity is inclusive at both ends; an open end is unbounded."""
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
