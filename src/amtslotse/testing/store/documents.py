"""Conformance tests of documents and passages (`DocumentStore`), the vector cache, the store's
statistics and tenant isolation."""

from __future__ import annotations

from datetime import date

import pytest

from amtslotse.models import SHARED_TENANT, DocumentInfo
from amtslotse.testing.store.corpus import (
    DENSE_VECTORS,
    LAW,
    MODEL,
    T_PAGES,
    TODAY,
    U_PAGES,
    StoreFixtures,
    T,
    U,
    add,
    all_passages,
    dense_ids,
    embed_all,
    lexical_ids,
    make_document,
    passage_ids,
    unit,
)


class DocumentTests(StoreFixtures):
    """Tenants, document versions, passages by id (`DocumentStore`)."""

    def test_tenants_are_created_once(self, store):
        store.ensure_tenant(T)
        store.ensure_tenant(T)
        add(store, "kdu.md", U_PAGES, tenant=U, kind="page")
        assert store.tenants() == sorted([SHARED_TENANT, T, U])

    def test_replace_document_stores_passages_with_their_metadata(self, store):
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

    def test_replace_document_replaces_the_same_version(self, store):
        add(store, "sgb2.md", LAW[:2])
        new = add(store, "sgb2.md", LAW[3:4])
        assert [(p.id, p.citation) for p in all_passages(store, SHARED_TENANT)] == [(new[0], "§ 22 SGB II")]
        [info] = store.documents(SHARED_TENANT)
        assert info.passages == 1
        assert lexical_ids(store, SHARED_TENANT, "Vermögen Kraftfahrzeug") == []
        assert lexical_ids(store, SHARED_TENANT, "Unterkunft und Heizung") == new

    def test_versions_with_another_valid_from_are_kept(self, store):
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

    def test_document_hash(self, store):
        document, passages, analyzed = make_document("sgb2.md", LAW, valid_from=date(2025, 1, 1), tenant=T)
        assert store.document_hash(T, "sgb2.md", date(2025, 1, 1)) is None
        store.replace_document(document, passages, analyzed)
        assert store.document_hash(T, "sgb2.md", date(2025, 1, 1)) == document.content_hash
        assert store.document_hash(T, "sgb2.md", None) is None
        assert store.document_hash(T, "sgb2.md", date(2026, 1, 1)) is None
        assert store.document_hash(U, "sgb2.md", date(2025, 1, 1)) is None
        assert store.document_hash(SHARED_TENANT, "sgb2.md", date(2025, 1, 1)) is None

    def test_delete_document(self, store):
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

    def test_passage_ids_are_never_reused(self, store):
        """An id kept elsewhere (a citation in a stored conversation, a draft reply) must not
        point at another passage after its document was replaced or deleted."""
        old = add(store, "sgb2.md", LAW[:2])
        new = add(store, "sgb2.md", LAW[3:4])
        assert store.get_passages(SHARED_TENANT, old) == []
        store.delete_document(SHARED_TENANT, "sgb2.md")
        newer = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
        assert not set(newer) & set(old + new)

    def test_documents_lists_the_tenants_own_documents(self, store):
        add(store, "sgb2.md", LAW)
        add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
        add(store, "seiten.md", U_PAGES, tenant=U, kind="page")
        assert [(i.tenant, i.source, i.kind, i.passages) for i in store.documents(T)] == [(T, "seiten.md", "page", 2)]
        assert [(i.tenant, i.source) for i in store.documents(SHARED_TENANT)] == [(SHARED_TENANT, "sgb2.md")]
        assert store.documents("niemand") == []

    def test_get_passages_keeps_the_order_and_drops_what_the_tenant_may_not_see(self, store):
        law = add(store, "sgb2.md", LAW)
        own = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
        other = add(store, "seiten.md", U_PAGES, tenant=U, kind="page")
        asked = [own[1], other[0], law[3], 987654, law[0], own[0]]
        assert [p.id for p in store.get_passages(T, asked)] == [own[1], law[3], law[0], own[0]]
        assert [p.id for p in store.get_passages(T, list(reversed(asked)))] == [own[0], law[0], law[3], own[1]]
        assert [p.id for p in store.get_passages(SHARED_TENANT, asked)] == [law[3], law[0]]
        assert store.get_passages(T, []) == []

    def test_stats_count_what_the_tenant_sees(self, store):
        add(store, "sgb2.md", LAW)
        add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
        add(store, "seiten.md", U_PAGES, tenant=U, kind="page")
        store.put_vectors(MODEL, [(h, unit({0: 1.0})) for h, _ in store.missing_vectors(MODEL, 6)])  # 5 law + 1 of T
        stats = store.stats(T, MODEL)
        assert (stats.documents, stats.passages, stats.vectors) == (2, 7, 6)
        assert stats.size_bytes > 0
        assert (store.stats(SHARED_TENANT, MODEL).documents, store.stats(SHARED_TENANT, MODEL).passages) == (1, 5)
        assert store.stats(U, "another-model").vectors == 0


class VectorTests(StoreFixtures):
    """The vector cache, keyed by model and text hash (`SearchStore`)."""

    def test_vectors_are_cached_by_text_hash(self, store):
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

    def test_missing_vectors_pages_in_passage_order(self, store):
        add(store, "sgb2.md", LAW)
        first = store.missing_vectors(MODEL, 2)
        expected = [(p.text_hash, p.embedding_text) for p in make_document("sgb2.md", LAW)[1]]
        assert first == expected[:2]
        store.put_vectors(MODEL, [(h, unit({0: 1.0})) for h, _ in first])
        assert store.missing_vectors(MODEL, 10) == expected[2:]
        assert store.missing_vectors(MODEL, 0) == []

    def test_put_vectors_keeps_the_first_vector_of_a_text(self, store):
        [pid] = add(store, "sgb2.md", LAW[3:4])
        [(h, _)] = store.missing_vectors(MODEL, 10)
        store.put_vectors(MODEL, [(h, unit({0: 1.0}))])
        store.put_vectors(MODEL, [(h, unit({1: 1.0}))])  # already cached: ignored, no error
        [(found, similarity)] = store.search_dense(SHARED_TENANT, MODEL, unit({0: 1.0}), TODAY, 5)
        assert found == pid and similarity == pytest.approx(1.0, abs=1e-5)
        store.put_vectors(MODEL, [])


class TenantIsolationTests(StoreFixtures):
    """No read shows another tenant's passage; the tenant itself sees it through each."""

    def test_no_read_method_shows_another_tenants_passage(self, store):
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
