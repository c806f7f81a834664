"""The conformance suite's corpus, its helpers, and the fixtures a store's test class provides.

Imports pytest at the top: only tests import `amtslotse.testing` (pytest is a test extra, not
a runtime dependency). The helpers use only the public `Store` methods.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

import numpy as np
import pytest

from amtslotse.models import SHARED_TENANT, Analyzed, Document, Passage
from amtslotse.search import analysis
from amtslotse.search.indexing import analyze_passage
from amtslotse.store.protocol import Store

T = "musterkreis"  # a tenant
U = "beispielstadt"  # another tenant, which T must never see
MODEL = "test-8d"
DIM = 8
TODAY = date(2026, 9, 1)

# (citation, heading, text): paraphrased from SGB II (public domain, § 5 UrhG) and two
# tenants' own pages.
LAW = [
    ("§ 7 SGB II", "§ 7 – Leistungsberechtigte",
     "Leistungen nach diesem Buch erhalten Personen, die das 15. Lebensjahr vollendet und die Altersgrenze "
     "noch nicht erreicht haben, erwerbsfähig und hilfebedürftig sind und ihren gewöhnlichen Aufenthalt in "
     "der Bundesrepublik Deutschland haben."),
    ("§ 12 SGB II", "§ 12 – Zu berücksichtigendes Vermögen",
     "Als Vermögen sind alle verwertbaren Vermögensgegenstände zu berücksichtigen. Nicht zu berücksichtigen "
     "sind angemessener Hausrat und für jede erwerbsfähige Person ein angemessenes Kraftfahrzeug."),
    ("§ 20 SGB II", "§ 20 – Regelbedarf zur Sicherung des Lebensunterhalts",
     "Der Regelbedarf zur Sicherung des Lebensunterhalts umfasst insbesondere Ernährung, Kleidung, "
     "Körperpflege, Hausrat und Haushaltsenergie ohne die auf die Heizung entfallenden Anteile."),
    ("§ 22 SGB II", "§ 22 – Bedarfe für Unterkunft und Heizung",
     "Bedarfe für Unterkunft und Heizung werden in Höhe der tatsächlichen Aufwendungen anerkannt, soweit "
     "diese angemessen sind."),
    ("§ 56 SGB II", "§ 56 – Anzeige- und Bescheinigungspflicht bei Arbeitsunfähigkeit",
     "Erwerbsfähige Leistungsberechtigte sind verpflichtet, dem Jobcenter eine Arbeitsunfähigkeit und deren "
     "voraussichtliche Dauer unverzüglich anzuzeigen und spätestens am dritten Kalendertag eine ärztliche "
     "Bescheinigung vorzulegen."),
]
T_PAGES = [
    ("Öffnungszeiten – Jobcenter Musterkreis", "Öffnungszeiten",
     "Das Jobcenter Musterkreis ist montags bis freitags von 8 bis 12 Uhr geöffnet. Termine am Nachmittag "
     "gibt es nach Vereinbarung."),
    ("Mietobergrenze – Jobcenter Musterkreis", "Angemessene Kosten der Unterkunft",
     "Im Musterkreis gilt für eine Person eine Bruttokaltmiete bis 420 Euro als angemessen."),
]
U_PAGES = [
    ("Mietobergrenze – Jobcenter Beispielstadt", "Angemessene Kosten der Unterkunft",
     "In Beispielstadt gilt für eine Person eine Bruttokaltmiete bis 480 Euro als angemessen. "
     "Das Stichwort für Rückfragen lautet Zwetschgendatschi."),
]




class StoreFixtures:
    """Base of every test class of the suite. A store's test class overrides `store_factory`:
    a fixture that returns a callable opening a new store object on one fresh, empty database
    at each call (as another process would open it), and closes them all after the test."""

    @pytest.fixture
    def store_factory(self) -> Callable[[], Store]:
        raise NotImplementedError("the store's test class provides the `store_factory` fixture")

    @pytest.fixture
    def store(self, store_factory: Callable[[], Store]) -> Store:
        """A fresh, empty store."""
        return store_factory()


# --- helpers -------------------------------------------------------------------------------
def make_document(
    source: str,
    entries: list[tuple[str, str | None, str]],
    *,
    tenant: str = SHARED_TENANT,
    valid_from: date | None = None,
    valid_to: date | None = None,
    kind: str = "law",
) -> tuple[Document, list[Passage], list[Analyzed]]:
    document = Document(
        source=source, title=f"Titel von {source}", tenant=tenant, valid_from=valid_from, valid_to=valid_to,
        kind=kind, url=f"https://example.org/{source}",
        content_hash=hashlib.sha256(repr((source, entries, valid_from, valid_to)).encode()).hexdigest(),
    )
    passages = [
        Passage(
            text=text, title=document.title, source=source, citation=citation, heading=heading,
            section=citation.split(" SGB")[0] if citation.startswith("§") else None,
            url=f"https://example.org/{source}#{position}", position=position,
            external_id=f"{source}-{position}",
        )
        for position, (citation, heading, text) in enumerate(entries)
    ]
    return document, passages, [analyze_passage(p) for p in passages]


def add(store, source: str, entries, **kwargs) -> list[int]:
    """Store a document; returns its passage ids in order."""
    document, passages, analyzed = make_document(source, entries, **kwargs)
    store.replace_document(document, passages, analyzed)
    return passage_ids(store, document.tenant, source, kwargs.get("valid_from"))


def passage_ids(store, tenant: str, source: str, valid_from: date | None = None) -> list[int]:
    """Ids of a document's passages, found through the public API: get_passages over all ids."""
    found = [
        p for p in store.get_passages(tenant, range(1, 3000))
        if p.source == source and p.tenant == tenant and p.valid_from == valid_from
    ]
    return [p.id for p in sorted(found, key=lambda p: p.position)]


def all_passages(store, tenant: str) -> list[Passage]:
    return store.get_passages(tenant, range(1, 3000))


def terms(text: str) -> dict[int, float]:
    return analysis.hashed(analysis.weighted_terms(text))


def lexical_ids(store, tenant: str, query: str, as_of: date = TODAY, limit: int = 20) -> list[int]:
    return [pid for pid, _ in store.search_lexical(tenant, terms(query), as_of, limit)]


def unit(weights: dict[int, float]) -> np.ndarray:
    vector = np.zeros(DIM, np.float32)
    for axis, weight in weights.items():
        vector[axis] = weight
    return vector / np.linalg.norm(vector)


def embed_all(store, vectors_by_text: dict[str, np.ndarray], model: str = MODEL) -> None:
    """Give every passage without a vector the one chosen for its text (by body text)."""
    missing = store.missing_vectors(model, 1000)
    store.put_vectors(model, [(h, vectors_by_text[text.split("\n", 1)[1]]) for h, text in missing])


def dense_ids(store, tenant: str, vector: np.ndarray, as_of: date = TODAY, limit: int = 20) -> list[int]:
    return [pid for pid, _ in store.search_dense(tenant, MODEL, vector, as_of, limit)]


DENSE_VECTORS = {  # body text -> its vector in the dense tests
    LAW[3][2]: unit({0: 1.0}),  # § 22
    LAW[2][2]: unit({0: 1.0, 1: 1.0}),  # § 20
    LAW[1][2]: unit({1: 1.0}),  # § 12
    T_PAGES[1][2]: unit({0: 1.0, 2: 0.5}),
    T_PAGES[0][2]: unit({3: 1.0}),
    U_PAGES[0][2]: unit({0: 1.0, 2: 0.4}),
}


def bulk_load(store, rng: np.random.Generator) -> dict[int, tuple[str, np.ndarray]]:
    """2,400 passages of U and 600 of the shared layer (a tenth of them expired), with random
    unit vectors; bulk-built Analyzed rows (the lexical side is not under test here)."""
    vectors: dict[int, tuple[str, np.ndarray]] = {}
    for tenant, count, source in ((U, 2400, "u.md"), (SHARED_TENANT, 600, "bund.md")):
        document = Document(source=source, title=source, tenant=tenant, content_hash=source)
        passages = [
            Passage(text=f"Abschnitt {i} von {source}", title=source, source=source, citation=f"Nr. {i}", position=i)
            for i in range(count)
        ]
        analyzed = [Analyzed(np.array([i], np.int64), np.array([1.0], np.float32)) for i in range(count)]
        store.replace_document(document, passages, analyzed)
    expired = Document(source="alt.md", title="alt", content_hash="alt", valid_to=date(2020, 12, 31))
    old = [Passage(text=f"Alter Abschnitt {i}", title="alt", source="alt.md", citation=f"Nr. {i}", position=i) for i in range(60)]
    store.replace_document(expired, old, [Analyzed(np.array([i], np.int64), np.array([1.0], np.float32)) for i in range(60)])
    missing = store.missing_vectors(MODEL, 10_000)
    matrix = rng.normal(size=(len(missing), DIM)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    store.put_vectors(MODEL, [(h, v) for (h, _), v in zip(missing, matrix)])
    by_hash = {h: v for (h, _), v in zip(missing, matrix)}
    for p in store.get_passages(U, range(1, 5000)):
        vectors[p.id] = (p.tenant if p.valid_to is None else "expired", by_hash[p.text_hash])
    return vectors
