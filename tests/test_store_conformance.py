"""The store contract (store/protocol.py), run unchanged against SQLite and PostgreSQL.

Every test takes the parametrised `store` / `store_factory` fixtures (conftest.py), so it runs
once per store kind. Only the public `Store` methods are used, except where the contract is
about the schema itself (migrations) or PostgreSQL's index (marked as such).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from amtslotse.errors import StoreError
from amtslotse.models import SHARED_TENANT, Analyzed, Document, DocumentInfo, Passage
from amtslotse.search import analysis
from amtslotse.search.indexing import analyze_passage
from amtslotse.store.migrations import MIGRATIONS, apply_migrations
from conftest import make_store_factory
from shared_data import LAW as LAW_DIR
from shared_data import requires_shared

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


def dialect_of(store) -> str:
    return "postgres" if type(store).__name__ == "PostgresStore" else "sqlite"


# --- migrations and tenants ----------------------------------------------------------------
def test_migrations_are_recorded_by_name_and_idempotent(store_factory):
    first = store_factory()
    assert first.tenants() == [SHARED_TENANT]
    ids = add(first, "sgb2.md", LAW)
    second = store_factory()  # opening again applies nothing and loses nothing
    assert apply_migrations(second, dialect_of(second)) == []
    names = sorted(r[0] for r in second._read("SELECT name FROM migrations"))
    assert names == sorted(m.__name__ for m in MIGRATIONS)
    assert second.tenants() == [SHARED_TENANT]
    assert [p.id for p in second.get_passages(SHARED_TENANT, ids)] == ids


def test_a_store_with_numbered_migrations_keeps_its_data(store_factory):
    """Stores from before named migrations recorded numbers: they are read as names once."""
    first = store_factory()
    ids = add(first, "sgb2.md", LAW)
    with first._tx() as cur:
        cur.execute("DELETE FROM migrations")
        cur.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        for version in (1, 2, 3):
            cur.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", (version, "2026-01-01T00:00:00+00:00"))
    applied = apply_migrations(first, dialect_of(first))
    assert applied == [m.__name__ for m in MIGRATIONS[3:]]
    assert [p.id for p in first.get_passages(SHARED_TENANT, ids)] == ids


def test_tenants_are_created_once(store):
    store.ensure_tenant(T)
    store.ensure_tenant(T)
    add(store, "kdu.md", U_PAGES, tenant=U, kind="page")
    assert store.tenants() == sorted([SHARED_TENANT, T, U])


# --- documents -----------------------------------------------------------------------------
def test_replace_document_stores_passages_with_their_metadata(store):
    document, passages, analyzed = make_document(
        "sgb2.md", LAW[:3], valid_from=date(2025, 1, 1), valid_to=date(2026, 6, 30)
    )
    doc_id = store.replace_document(document, passages, analyzed)
    ids = passage_ids(store, SHARED_TENANT, "sgb2.md", date(2025, 1, 1))
    stored = store.get_passages(SHARED_TENANT, ids)
    assert len(stored) == 3
    for given, got in zip(passages, stored):
        assert isinstance(got.id, int)
        assert (got.text, got.citation, got.heading, got.section, got.url, got.position, got.external_id) == (
            given.text, given.citation, given.heading, given.section, given.url, given.position, given.external_id
        )
        assert (got.tenant, got.source, got.title, got.language) == (SHARED_TENANT, "sgb2.md", document.title, "de")
        assert (got.valid_from, got.valid_to) == (date(2025, 1, 1), date(2026, 6, 30))
        assert got.text_hash == given.text_hash
    assert store.documents(SHARED_TENANT) == [
        DocumentInfo(doc_id, SHARED_TENANT, "sgb2.md", document.title, "law", date(2025, 1, 1),
                     date(2026, 6, 30), document.content_hash, 3)
    ]


def all_passages(store, tenant: str) -> list[Passage]:
    return store.get_passages(tenant, range(1, 3000))


def test_replace_document_replaces_the_same_version(store):
    add(store, "sgb2.md", LAW[:2])
    new = add(store, "sgb2.md", LAW[3:4])
    assert [(p.id, p.citation) for p in all_passages(store, SHARED_TENANT)] == [(new[0], "§ 22 SGB II")]
    [info] = store.documents(SHARED_TENANT)
    assert info.passages == 1
    assert lexical_ids(store, SHARED_TENANT, "Vermögen Kraftfahrzeug") == []
    assert lexical_ids(store, SHARED_TENANT, "Unterkunft und Heizung") == new


def test_versions_with_another_valid_from_are_kept(store):
    v2024 = add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2024, 1, 1), valid_to=date(2024, 12, 31))
    add(store, "regelbedarf.md", [LAW[1]], valid_from=date(2025, 1, 1))
    v2025 = add(store, "regelbedarf.md", LAW[2:4], valid_from=date(2025, 1, 1))  # replaces 2025 only
    assert [(p.id, p.valid_from, p.citation) for p in all_passages(store, SHARED_TENANT)] == [
        (v2024[0], date(2024, 1, 1), "§ 20 SGB II"),
        (v2025[0], date(2025, 1, 1), "§ 20 SGB II"),
        (v2025[1], date(2025, 1, 1), "§ 22 SGB II"),
    ]
    infos = store.documents(SHARED_TENANT)
    assert [(i.source, i.valid_from, i.passages) for i in infos] == [
        ("regelbedarf.md", date(2024, 1, 1), 1),
        ("regelbedarf.md", date(2025, 1, 1), 2),
    ]


def test_document_hash(store):
    document, passages, analyzed = make_document("sgb2.md", LAW, valid_from=date(2025, 1, 1), tenant=T)
    assert store.document_hash(T, "sgb2.md", date(2025, 1, 1)) is None
    store.replace_document(document, passages, analyzed)
    assert store.document_hash(T, "sgb2.md", date(2025, 1, 1)) == document.content_hash
    assert store.document_hash(T, "sgb2.md", None) is None
    assert store.document_hash(T, "sgb2.md", date(2026, 1, 1)) is None
    assert store.document_hash(U, "sgb2.md", date(2025, 1, 1)) is None
    assert store.document_hash(SHARED_TENANT, "sgb2.md", date(2025, 1, 1)) is None


def test_delete_document(store):
    add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2024, 1, 1), valid_to=date(2024, 12, 31))
    v2025 = add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2025, 1, 1))
    undated = add(store, "regelbedarf.md", [LAW[2]])
    kept = add(store, "sgb2.md", LAW[3:4])
    foreign = add(store, "regelbedarf.md", [LAW[2]], tenant=U)

    assert store.delete_document(SHARED_TENANT, "regelbedarf.md", date(2024, 1, 1)) == 1
    assert store.delete_document(SHARED_TENANT, "regelbedarf.md", date(2024, 1, 1)) == 0
    query = "Regelbedarf Lebensunterhalt"
    assert set(lexical_ids(store, SHARED_TENANT, query, as_of=date(2024, 6, 1))) == set(undated + kept)
    assert set(lexical_ids(store, SHARED_TENANT, query, as_of=date(2025, 6, 1))) == set(v2025 + undated + kept)
    assert store.delete_document(T, "regelbedarf.md") == 0  # another tenant's source of that name
    assert store.delete_document(SHARED_TENANT, "regelbedarf.md") == 2  # all remaining versions
    assert [p.source for p in all_passages(store, SHARED_TENANT)] == ["sgb2.md"]
    assert lexical_ids(store, SHARED_TENANT, query) == kept
    assert [i.source for i in store.documents(SHARED_TENANT)] == ["sgb2.md"]
    assert [p.id for p in store.get_passages(SHARED_TENANT, kept)] == kept
    assert [p.id for p in store.get_passages(U, foreign)] == foreign


def test_passage_ids_are_never_reused(store):
    """An id kept elsewhere (a citation in a stored conversation, a draft reply) must not
    point at another passage after its document was replaced or deleted."""
    old = add(store, "sgb2.md", LAW[:2])
    new = add(store, "sgb2.md", LAW[3:4])
    assert store.get_passages(SHARED_TENANT, old) == []
    store.delete_document(SHARED_TENANT, "sgb2.md")
    newer = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    assert not set(newer) & set(old + new)


def test_documents_lists_the_tenants_own_documents(store):
    add(store, "sgb2.md", LAW)
    add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    add(store, "seiten.md", U_PAGES, tenant=U, kind="page")
    assert [(i.tenant, i.source, i.kind, i.passages) for i in store.documents(T)] == [(T, "seiten.md", "page", 2)]
    assert [(i.tenant, i.source) for i in store.documents(SHARED_TENANT)] == [(SHARED_TENANT, "sgb2.md")]
    assert store.documents("niemand") == []


# --- passages ------------------------------------------------------------------------------
def test_get_passages_keeps_the_order_and_drops_what_the_tenant_may_not_see(store):
    law = add(store, "sgb2.md", LAW)
    own = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    other = add(store, "seiten.md", U_PAGES, tenant=U, kind="page")
    asked = [own[1], other[0], law[3], 987654, law[0], own[0]]
    assert [p.id for p in store.get_passages(T, asked)] == [own[1], law[3], law[0], own[0]]
    assert [p.id for p in store.get_passages(T, list(reversed(asked)))] == [own[0], law[0], law[3], own[1]]
    assert [p.id for p in store.get_passages(SHARED_TENANT, asked)] == [law[3], law[0]]
    assert store.get_passages(T, []) == []


# --- lexical search ------------------------------------------------------------------------
def test_search_lexical_finds_passages_by_analyzed_terms(store):
    law = add(store, "sgb2.md", LAW)
    hits = store.search_lexical(SHARED_TENANT, terms("Wer zahlt die Kosten für Unterkunft und Heizung?"), TODAY, 10)
    assert hits[0][0] == law[3]  # § 22
    scores = [score for _, score in hits]
    assert all(s > 0 for s in scores) and scores == sorted(scores, reverse=True)
    # Inflected and compound forms meet the law's words: "Arbeitsunfähigkeit" via "arbeitsunfähig".
    assert lexical_ids(store, SHARED_TENANT, "Ich bin arbeitsunfähig, brauche ich eine Bescheinigung?")[0] == law[4]
    assert lexical_ids(store, SHARED_TENANT, "Muss ich mein Kraftfahrzeug verkaufen?")[0] == law[1]
    assert len(store.search_lexical(SHARED_TENANT, terms("Person angemessen Heizung"), TODAY, 2)) == 2
    assert store.search_lexical(SHARED_TENANT, terms("Zwetschgendatschi"), TODAY, 10) == []
    assert store.search_lexical(SHARED_TENANT, {}, TODAY, 10) == []


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2023, 12, 31), set()),
        (date(2024, 1, 1), {"2024"}),  # valid_from is inclusive
        (date(2024, 12, 31), {"2024"}),  # valid_to is inclusive
        (date(2025, 1, 1), {"2025"}),
        (date(2040, 1, 1), {"2025"}),  # open end
    ],
)
def test_search_lexical_respects_the_validity_date(store, as_of, expected):
    versions = {
        "2024": add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2024, 1, 1), valid_to=date(2024, 12, 31)),
        "2025": add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2025, 1, 1)),
    }
    always = add(store, "sgb2.md", LAW[3:4])  # undated: valid on every day
    found = set(lexical_ids(store, SHARED_TENANT, "Regelbedarf Lebensunterhalt Heizung", as_of=as_of))
    assert found == {versions[k][0] for k in expected} | set(always)


def test_search_lexical_sees_own_and_shared_layer_only(store):
    law = add(store, "sgb2.md", LAW)
    own = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    other = add(store, "seiten.md", U_PAGES, tenant=U, kind="page")
    query = "Angemessene Kosten der Unterkunft Bruttokaltmiete Person"
    seen_by_t = set(lexical_ids(store, T, query))
    assert own[1] in seen_by_t and law[3] in seen_by_t and other[0] not in seen_by_t
    seen_by_u = set(lexical_ids(store, U, query))
    assert other[0] in seen_by_u and law[3] in seen_by_u and not seen_by_u & set(own)
    seen_by_bund = set(lexical_ids(store, SHARED_TENANT, query))
    assert law[3] in seen_by_bund and not seen_by_bund & set(own + other)
    assert set(lexical_ids(store, "niemand", query)) <= set(law)


# --- dense search --------------------------------------------------------------------------
DENSE_VECTORS = {
    LAW[3][2]: unit({0: 1.0}),  # § 22
    LAW[2][2]: unit({0: 1.0, 1: 1.0}),  # § 20
    LAW[1][2]: unit({1: 1.0}),  # § 12
    T_PAGES[1][2]: unit({0: 1.0, 2: 0.5}),
    T_PAGES[0][2]: unit({3: 1.0}),
    U_PAGES[0][2]: unit({0: 1.0, 2: 0.4}),
}


def test_search_dense_ranks_by_cosine_similarity(store):
    law = add(store, "sgb2.md", [LAW[3], LAW[2], LAW[1]])
    own = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    embed_all(store, DENSE_VECTORS)
    hits = store.search_dense(T, MODEL, unit({0: 1.0}), TODAY, 10)
    ids = [pid for pid, _ in hits]
    assert ids[:3] == [law[0], own[1], law[1]] and set(ids[3:]) == {own[0], law[2]}  # the last two tie at 0
    similarities = dict(hits)
    assert similarities[law[0]] == pytest.approx(1.0, abs=1e-5)
    assert similarities[own[1]] == pytest.approx(float(unit({0: 1.0, 2: 0.5})[0]), abs=1e-5)
    assert similarities[law[1]] == pytest.approx(float(np.sqrt(0.5)), abs=1e-5)
    assert [pid for pid, _ in store.search_dense(T, MODEL, unit({0: 1.0}), TODAY, 2)] == [law[0], own[1]]
    assert store.search_dense(T, "another-model", unit({0: 1.0}), TODAY, 10) == []
    assert store.search_dense(T, MODEL, unit({0: 1.0}), TODAY, 0) == []


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2023, 12, 31), set()),
        (date(2024, 1, 1), {"2024"}),
        (date(2024, 12, 31), {"2024"}),
        (date(2025, 1, 1), {"2025"}),
        (date(2040, 1, 1), {"2025"}),
    ],
)
def test_search_dense_respects_the_validity_date(store, as_of, expected):
    versions = {
        "2024": add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2024, 1, 1), valid_to=date(2024, 12, 31)),
        "2025": add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2025, 1, 1)),
    }
    always = add(store, "sgb2.md", LAW[3:4])
    embed_all(store, DENSE_VECTORS)
    found = set(dense_ids(store, SHARED_TENANT, unit({0: 1.0}), as_of=as_of))
    assert found == {versions[k][0] for k in expected} | set(always)


def test_search_dense_sees_own_and_shared_layer_only(store):
    law = add(store, "sgb2.md", [LAW[3], LAW[2], LAW[1]])
    own = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    other = add(store, "seiten.md", U_PAGES, tenant=U, kind="page")
    embed_all(store, DENSE_VECTORS)
    query = unit({0: 1.0, 2: 0.4})  # the closest passage is U's
    assert set(dense_ids(store, T, query)) == set(law + own)
    assert set(dense_ids(store, U, query)) == set(law + other)
    assert dense_ids(store, U, query)[0] == other[0]
    assert set(dense_ids(store, SHARED_TENANT, query)) == set(law)
    assert set(dense_ids(store, "niemand", query)) == set(law)


# --- vectors -------------------------------------------------------------------------------
def test_vectors_are_cached_by_text_hash(store):
    add(store, "sgb2.md", LAW[3:4])
    add(store, "sgb2-kopie.md", LAW[3:4], tenant=T)  # the same passage text in another tenant
    missing = store.missing_vectors(MODEL, 10)
    [(h, text)] = missing  # two passages, one text: one vector
    passage = make_document("x", LAW[3:4])[1][0]
    assert (h, text) == (passage.text_hash, passage.embedding_text)
    store.put_vectors(MODEL, [(h, unit({0: 1.0}))])
    assert store.missing_vectors(MODEL, 10) == []
    assert store.missing_vectors("another-model", 10) == missing  # per model
    add(store, "sgb2-neu.md", LAW[3:4], valid_from=date(2026, 1, 1))  # re-ingest of the same text
    assert store.missing_vectors(MODEL, 10) == []
    assert store.stats(T, MODEL).vectors == 3


def test_missing_vectors_pages_in_passage_order(store):
    add(store, "sgb2.md", LAW)
    first = store.missing_vectors(MODEL, 2)
    expected = [(p.text_hash, p.embedding_text) for p in make_document("sgb2.md", LAW)[1]]
    assert first == expected[:2]
    store.put_vectors(MODEL, [(h, unit({0: 1.0})) for h, _ in first])
    assert store.missing_vectors(MODEL, 10) == expected[2:]
    assert store.missing_vectors(MODEL, 0) == []


def test_put_vectors_keeps_the_first_vector_of_a_text(store):
    [pid] = add(store, "sgb2.md", LAW[3:4])
    [(h, _)] = store.missing_vectors(MODEL, 10)
    store.put_vectors(MODEL, [(h, unit({0: 1.0}))])
    store.put_vectors(MODEL, [(h, unit({1: 1.0}))])  # already cached: ignored, no error
    [(found, similarity)] = store.search_dense(SHARED_TENANT, MODEL, unit({0: 1.0}), TODAY, 5)
    assert found == pid and similarity == pytest.approx(1.0, abs=1e-5)
    store.put_vectors(MODEL, [])


# --- stats ---------------------------------------------------------------------------------
def test_stats_count_what_the_tenant_sees(store):
    add(store, "sgb2.md", LAW)
    add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    add(store, "seiten.md", U_PAGES, tenant=U, kind="page")
    store.put_vectors(MODEL, [(h, unit({0: 1.0})) for h, _ in store.missing_vectors(MODEL, 6)])  # 5 law + 1 of T
    stats = store.stats(T, MODEL)
    assert (stats.documents, stats.passages, stats.vectors) == (2, 7, 6)
    assert stats.size_bytes > 0
    assert (store.stats(SHARED_TENANT, MODEL).documents, store.stats(SHARED_TENANT, MODEL).passages) == (1, 5)
    assert store.stats(U, "another-model").vectors == 0


# --- freshness across store objects (processes) ----------------------------------------------
def test_indexes_follow_writes_of_another_store_object(store_factory):
    # Another process's writes count within FRESHNESS_SECONDS (SQLite: at once).
    reader, writer = store_factory(), store_factory()
    assert lexical_ids(reader, T, "Öffnungszeiten Jobcenter") == []  # builds the (empty) index
    assert dense_ids(reader, T, unit({3: 1.0})) == []
    own = add(writer, "seiten.md", T_PAGES, tenant=T, kind="page")
    time.sleep(reader.FRESHNESS_SECONDS)
    assert lexical_ids(reader, T, "Öffnungszeiten Jobcenter")[0] == own[0]
    assert dense_ids(reader, T, unit({3: 1.0})) == []  # no vectors yet
    embed_all(writer, DENSE_VECTORS)
    assert dense_ids(reader, T, unit({3: 1.0}))[0] == own[0]
    writer.delete_document(T, "seiten.md")
    assert reader.get_passages(T, own) == []  # a stale index never brings a deleted passage back
    time.sleep(reader.FRESHNESS_SECONDS)
    assert lexical_ids(reader, T, "Öffnungszeiten Jobcenter") == []
    assert dense_ids(reader, T, unit({3: 1.0})) == []


def test_own_writes_count_at_once(store):
    assert lexical_ids(store, T, "Öffnungszeiten Jobcenter") == []  # builds the (empty) index
    own = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    assert lexical_ids(store, T, "Öffnungszeiten Jobcenter")[0] == own[0]
    store.delete_document(T, "seiten.md")
    assert lexical_ids(store, T, "Öffnungszeiten Jobcenter") == []


# --- tenant isolation ----------------------------------------------------------------------
def test_no_read_method_shows_another_tenants_passage(store):
    add(store, "sgb2.md", LAW)
    add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
    embed_all(store, {**DENSE_VECTORS, LAW[0][2]: unit({4: 1.0}), LAW[4][2]: unit({5: 1.0})})
    before = store.stats(T, MODEL)
    [secret] = add(store, "geheim.md", U_PAGES, tenant=U, kind="page")
    store.put_vectors(MODEL, [(h, unit({7: 1.0})) for h, _ in store.missing_vectors(MODEL, 10)])

    for tenant in (T, SHARED_TENANT, "niemand"):
        assert store.get_passages(tenant, [secret]) == []
        assert secret not in lexical_ids(store, tenant, "Zwetschgendatschi Beispielstadt Bruttokaltmiete", limit=100)
        assert secret not in dense_ids(store, tenant, unit({7: 1.0}), limit=100)
        assert "geheim.md" not in [i.source for i in store.documents(tenant)]
        assert all(i.tenant == tenant for i in store.documents(tenant))
    after = store.stats(T, MODEL)
    assert (after.documents, after.passages, after.vectors) == (before.documents, before.passages, before.vectors)
    # ... while U itself does see it through each of them.
    assert [p.id for p in store.get_passages(U, [secret])] == [secret]
    assert lexical_ids(store, U, "Zwetschgendatschi")[0] == secret
    assert dense_ids(store, U, unit({7: 1.0}))[0] == secret
    assert [i.source for i in store.documents(U)] == ["geheim.md"]
    assert store.stats(U, MODEL).passages == len(LAW) + 1


# --- filtered dense search on a few thousand vectors -----------------------------------------
def _bulk_load(store, rng: np.random.Generator) -> dict[int, tuple[str, np.ndarray]]:
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


def test_filtered_dense_search_returns_limit_rows(store):
    rng = np.random.default_rng(7)
    vectors = _bulk_load(store, rng)
    visible = {pid: v for pid, (tenant, v) in vectors.items() if tenant == SHARED_TENANT}
    assert len(visible) == 600
    for _ in range(5):
        query = rng.normal(size=DIM).astype(np.float32)
        query /= np.linalg.norm(query)
        hits = store.search_dense(T, MODEL, query, TODAY, 50)  # T sees the shared 600 of 3,060
        ids = [pid for pid, _ in hits]
        assert len(ids) == 50 and set(ids) <= set(visible)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        exact = sorted(visible, key=lambda pid: -float(visible[pid] @ query))[:50]
        assert len(set(ids) & set(exact)) >= 45  # HNSW is approximate; SQLite is exact


def test_postgres_dense_search_uses_the_hnsw_index(postgres_server):
    """PostgreSQL only: the partial HNSW index exists and the planner uses it."""
    from amtslotse.store.postgres import PostgresStore, _dense_sql, _vector_literal, hnsw_index_name

    store = PostgresStore(postgres_server.new_database())
    try:
        _bulk_load(store, np.random.default_rng(3))
        name = hnsw_index_name(MODEL, DIM)
        with store._tx() as cur:
            assert cur.raw.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None
            cur.raw.execute("ANALYZE")
        with store._tx() as cur:
            cur.raw.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            plan = "\n".join(
                r[0] for r in cur.raw.execute(
                    "EXPLAIN " + _dense_sql(DIM, f"'{MODEL}'", "tenant IN (%s, %s)"),
                    (_vector_literal(unit({0: 1.0})), T, SHARED_TENANT, TODAY, TODAY, 10),
                ).fetchall()
            )
        assert f"Index Scan using {name}" in plan, plan
    finally:
        store.close()


def test_postgres_connection_errors_name_the_server_but_not_the_password():
    from amtslotse.store.postgres import PostgresStore

    with pytest.raises(StoreError) as error:
        PostgresStore("postgresql://amtslotse:Geheim-42x@127.0.0.1:1/wissen?connect_timeout=3")
    message = str(error.value)
    assert "127.0.0.1:1" in message and "wissen" in message and "Keine Verbindung" in message
    assert "Geheim-42x" not in message and "Geheim-42x" not in repr(error.value.__cause__)
    with pytest.raises(StoreError) as error:
        PostgresStore("postgresql://amtslotse:Geheim-42x@host:kein-port/wissen")
    assert "Geheim-42x" not in str(error.value)


# --- the same data, the same ranking -------------------------------------------------------
def _law_sections(path: Path) -> list[tuple[str, str | None, str]]:
    """`# § N – Überschrift` sections of a law file in the shared data (a minimal splitter,
    so that this test does not depend on the real one)."""
    text = path.read_text("utf-8")
    sections = []
    for block in re.split(r"^# ", text, flags=re.M)[1:]:
        heading, _, body = block.partition("\n")
        match = re.match(r"§\s*(\d+[a-z]?)", heading)
        if match and body.strip():
            sections.append((f"§ {match.group(1)} SGB II", heading.strip(), body.strip()[:4000]))
    return sections


@requires_shared("data/law/current/SGB_2-BJNR295500003.md")
def test_both_stores_rank_the_same_data_the_same(tmp_path, request):
    law_file = LAW_DIR / "current" / "SGB_2-BJNR295500003.md"
    questions_file = Path(__file__).parent / "data" / "retrieval_dev.jsonl"
    sections = _law_sections(law_file)
    assert len(sections) > 100
    questions = [json.loads(line)["question"] for line in questions_file.read_text("utf-8").splitlines()[:25]]
    rng = np.random.default_rng(11)
    vectors = {}
    stores = {}
    for kind in ("sqlite", "postgres"):
        factory = make_store_factory(kind, tmp_path / kind, request)
        request.addfinalizer(factory.close_all)
        store = stores[kind] = factory()
        add(store, "SGB_2.md", sections)
        add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
        for h, _ in store.missing_vectors(MODEL, 1000):
            if h not in vectors:
                v = rng.normal(size=DIM).astype(np.float32)
                vectors[h] = v / np.linalg.norm(v)
        store.put_vectors(MODEL, [(h, vectors[h]) for h, _ in store.missing_vectors(MODEL, 1000)])
    sqlite, postgres = stores["sqlite"], stores["postgres"]
    for question in questions:
        query = terms(question)
        a = sqlite.search_lexical(T, query, TODAY, 5)
        b = postgres.search_lexical(T, query, TODAY, 5)
        assert [pid for pid, _ in a] == [pid for pid, _ in b], question
        assert [s for _, s in a] == pytest.approx([s for _, s in b], rel=1e-5)
    for _ in range(10):
        query = rng.normal(size=DIM).astype(np.float32)
        query /= np.linalg.norm(query)
        a = sqlite.search_dense(T, MODEL, query, TODAY, 5)
        b = postgres.search_dense(T, MODEL, query, TODAY, 5)
        assert [pid for pid, _ in a] == [pid for pid, _ in b]
        assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=1e-5)
