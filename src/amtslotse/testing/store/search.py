"""Conformance tests of search (`SearchStore`): lexical (BM25 over analyzed terms) and dense
(cosine), each filtered by tenant and validity date, and indexes that follow every write."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pytest

from amtslotse.models import SHARED_TENANT
from amtslotse.testing.store.corpus import (
    DENSE_VECTORS,
    DIM,
    LAW,
    MODEL,
    T_PAGES,
    TODAY,
    U_PAGES,
    StoreFixtures,
    T,
    U,
    add,
    bulk_load,
    dense_ids,
    embed_all,
    lexical_ids,
    terms,
    unit,
)


class LexicalSearchTests(StoreFixtures):
    """`search_lexical`: analyzed terms, validity dates, the tenant's layers."""

    def test_search_lexical_finds_passages_by_analyzed_terms(self, store):
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
    def test_search_lexical_respects_the_validity_date(self, store, as_of, expected):
        versions = {
            "2024": add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2024, 1, 1), valid_to=date(2024, 12, 31)),
            "2025": add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2025, 1, 1)),
        }
        always = add(store, "sgb2.md", LAW[3:4])  # undated: valid on every day
        found = set(lexical_ids(store, SHARED_TENANT, "Regelbedarf Lebensunterhalt Heizung", as_of=as_of))
        assert found == {versions[k][0] for k in expected} | set(always)

    def test_search_lexical_sees_own_and_shared_layer_only(self, store):
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


class DenseSearchTests(StoreFixtures):
    """`search_dense`: cosine ranking, validity dates, the tenant's layers, a filtered search of thousands."""

    def test_search_dense_ranks_by_cosine_similarity(self, store):
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
    def test_search_dense_respects_the_validity_date(self, store, as_of, expected):
        versions = {
            "2024": add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2024, 1, 1), valid_to=date(2024, 12, 31)),
            "2025": add(store, "regelbedarf.md", [LAW[2]], valid_from=date(2025, 1, 1)),
        }
        always = add(store, "sgb2.md", LAW[3:4])
        embed_all(store, DENSE_VECTORS)
        found = set(dense_ids(store, SHARED_TENANT, unit({0: 1.0}), as_of=as_of))
        assert found == {versions[k][0] for k in expected} | set(always)

    def test_search_dense_sees_own_and_shared_layer_only(self, store):
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

    def test_filtered_dense_search_returns_limit_rows(self, store):
        rng = np.random.default_rng(7)
        vectors = bulk_load(store, rng)
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


class FreshnessTests(StoreFixtures):
    """Indexes follow writes: this object's at once, another's within `FRESHNESS_SECONDS`."""

    def test_indexes_follow_writes_of_another_store_object(self, store_factory):
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

    def test_own_writes_count_at_once(self, store):
        assert lexical_ids(store, T, "Öffnungszeiten Jobcenter") == []  # builds the (empty) index
        own = add(store, "seiten.md", T_PAGES, tenant=T, kind="page")
        assert lexical_ids(store, T, "Öffnungszeiten Jobcenter")[0] == own[0]
        store.delete_document(T, "seiten.md")
        assert lexical_ids(store, T, "Öffnungszeiten Jobcenter") == []
