"""The store contract (store/protocol.py), run against SQLite and PostgreSQL: the conformance
suite shipped in the package (`amtslotse.testing.store`), then what is particular to these two
SQL stores: their schema migrations, PostgreSQL's HNSW index and connection errors, and the
same ranking from both on the same data.

The suite's tests take the parametrised `store_factory` fixture of conftest.py, so each runs
once per store kind. Only the public `Store` methods are used, except where the contract is
about the schema itself (migrations) or PostgreSQL's index (marked as such).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from amtslotse.errors import StoreError
from amtslotse.models import SHARED_TENANT
from amtslotse.store import migrations
from amtslotse.store.migrations import MIGRATIONS, apply_migrations
from amtslotse.testing.store import StoreConformance
from amtslotse.testing.store.corpus import DIM, LAW, MODEL, T_PAGES, TODAY, T, add, bulk_load, lexical_ids, terms, unit
from conftest import make_store_factory
from shared_data import LAW as LAW_DIR
from shared_data import requires_shared


class TestSqlStores(StoreConformance):
    """The whole suite, once per store kind (SQLite, PostgreSQL)."""

    @pytest.fixture
    def store_factory(self, store_factory):  # conftest.py's, parametrised by store kind
        return store_factory


# --- migrations (named functions, recorded by name: store/migrations.py) ----------------------
def dialect_of(store) -> str:
    return "postgres" if type(store).__name__ == "PostgresStore" else "sqlite"


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


RECORDED_NAMES = [
    "documents_passages_vectors", "passage_meta", "conversations_inbox_audit_staff", "security_limits",
    "governance", "limits_tenant",
]
"""What databases made by the code so far have recorded in `migrations`: a name that changed
would run its migration again on every existing database."""


def test_applied_migrations_keep_their_names():
    assert [m.__name__ for m in MIGRATIONS[: len(RECORDED_NAMES)]] == RECORDED_NAMES
    assert len({m.__name__ for m in MIGRATIONS}) == len(MIGRATIONS)


def schema(store) -> list[tuple[str, str, str]]:
    """(table, column, type) of every table, from the database's catalogue."""
    if dialect_of(store) == "sqlite":
        rows = store._read(
            "SELECT m.name, p.name, p.type FROM sqlite_master m JOIN pragma_table_info(m.name) p "
            "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        )
    else:
        rows = store._read(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"
        )
    return sorted((str(t), str(c), str(k)) for t, c, k in rows)


@pytest.mark.parametrize("applied", [2, 4])
def test_a_database_of_an_earlier_version_migrates(store_factory, tmp_path, request, monkeypatch, applied):
    """A database made by earlier code (its first `applied` migrations recorded by name, with
    data) gets the missing migrations when a store opens it, keeps its data and ends with the
    schema of a new database."""
    fresh = store_factory()
    expected = schema(fresh)
    fresh.close()
    earlier = make_store_factory(store_factory.kind, tmp_path / "earlier", request)  # another, empty database
    request.addfinalizer(earlier.close_all)
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:applied])
        old = earlier()
    assert sorted(r[0] for r in old._read("SELECT name FROM migrations")) == sorted(RECORDED_NAMES[:applied])
    ids = add(old, "sgb2.md", LAW)
    if applied >= 4:  # rate counters and failed logins, before they named their tenant
        with old._tx() as cur:
            cur.execute("INSERT INTO rate_counters(bucket, window_start, hits) VALUES ('chat:client:1f3a', 60, 3)")
            cur.execute("INSERT INTO login_failures(key, failures, last_at, locked_until) VALUES ('account:9b1c', 2, 1.5, 0)")
    old.close()

    store = earlier()
    assert sorted(r[0] for r in store._read("SELECT name FROM migrations")) == sorted(m.__name__ for m in MIGRATIONS)
    assert schema(store) == expected
    assert [p.id for p in store.get_passages(SHARED_TENANT, ids)] == ids
    assert lexical_ids(store, SHARED_TENANT, "Kraftfahrzeug Vermögen")[0] == ids[1]
    if applied >= 4:
        assert store._read("SELECT bucket, hits, tenant FROM rate_counters") == [("chat:client:1f3a", 3, None)]
        assert store._read("SELECT key, failures, tenant FROM login_failures") == [("account:9b1c", 2, None)]


# --- PostgreSQL only ------------------------------------------------------------------------
def test_postgres_dense_search_uses_the_hnsw_index(postgres_server):
    """PostgreSQL only: the partial HNSW index exists and the planner uses it."""
    from amtslotse.store.postgres import PostgresStore, _dense_sql, _vector_literal, hnsw_index_name

    store = PostgresStore(postgres_server.new_database())
    try:
        bulk_load(store, np.random.default_rng(3))
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
