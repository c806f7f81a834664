"""The real app on a real port: uvicorn in a thread, over a temporary home with the starter
pack loaded (shared guidance + Musterkreis pages and curated answers, with vectors).

Fixtures (session scope, shared by the API, inbox and browser tests):
- `starter_settings`: Settings of that home (SQLite). The built store is kept as a template in
  the test cache (tests/embedding_cache.py's folder), keyed by the starter pack, the embedder and
  the code that fills the store (`_template_key`); a later session copies it instead of
  ingesting, embedding and warming the curated answers again.
- `app_server`: a running server; `.url` is its base URL, `.services` the app's services.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import uvicorn

import amtslotse
from amtslotse.knowledge.ingest import embed_missing
from amtslotse.knowledge.starter import SAMPLE_TENANT, load_starter, starter_dir
from amtslotse.models import SHARED_TENANT
from amtslotse.services import Services
from amtslotse.settings import Settings
from amtslotse.web.app import create_app
from embedding_cache import CachedEmbedder, cache_folder, cache_lock, model_fingerprint, seed_triage_model


@dataclass
class AppServer:
    url: str
    services: Services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def starter_settings(tmp_path_factory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("starter-home"), tenants_dir=None, llm_base_url="", llm_provider="")
    seed_triage_model(settings.home)  # inbox processing loads it instead of training (embedding_cache.py)
    template = cache_folder() / f"starter-{_template_key(settings)}.db"
    database = settings.home / "amtslotse.db"
    # Under the cache's lock: with `pytest -n 2` the other worker waits for this one's template.
    with cache_lock():
        if not template.is_file():
            _build_starter(settings)
            _save_template(database, template)
            return settings
    shutil.copyfile(template, database)  # built by an earlier session with the same pack, code and model
    return settings


def _build_starter(settings: Settings) -> None:
    with Services.open(settings) as services:
        reports = load_starter(services.store, settings)
        assert all(not r.failed for r in reports.values()), reports
        # The same vectors as the real model's, from the test cache after the first run
        # (tests/embedding_cache.py): the starter pack takes a minute or more to embed.
        embedder = CachedEmbedder(services.embedder, cache_folder())
        embed_missing(services.store, embedder, settings.embed_batch_size)
        _warm_curated_phrasings(services.store, embedder)
        embedder.save()


# The packages whose code decides what the starter store holds (schema and migrations, ingest,
# splitting, indexing, curated phrasings); a change in any of them builds the template afresh.
_TEMPLATE_CODE = ("store", "knowledge", "search", "text", "ask", "governance", "models", "privacy", "categories.py", "settings.py", "tenants.py")
_TEMPLATES_KEPT = 8  # one per checkout or worktree that shares the cache (about 17 MB each)


def _template_key(settings: Settings) -> str:
    """Hash of the starter pack's files, the code above, the embedder (name, model package
    versions, embedders.py) and this file."""
    package = Path(amtslotse.__file__).parent
    digest = hashlib.sha256(f"{settings.embedder}\n{model_fingerprint(settings.embedder)}\n".encode())
    roots = [starter_dir(), Path(__file__)] + [package / name for name in _TEMPLATE_CODE]
    missing = [str(root) for root in roots if not root.exists()]
    assert not missing, f"_TEMPLATE_CODE names what no longer exists: {missing}"
    for root in roots:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(f"{file.relative_to(root.parent)}\n".encode() + file.read_bytes())
    return digest.hexdigest()[:20]


def _save_template(database: Path, template: Path) -> None:
    """A one-file copy of the built store (SQLite's backup: no WAL beside it), written
    atomically; the oldest templates beyond _TEMPLATES_KEPT are removed."""
    template.parent.mkdir(parents=True, exist_ok=True)
    temporary = template.with_suffix(f".{os.getpid()}.tmp")
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(temporary)) as target:
        source.backup(target)
    os.replace(temporary, template)
    templates = sorted(template.parent.glob("starter-*.db"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in templates[_TEMPLATES_KEPT:]:
        old.unlink(missing_ok=True)


def _warm_curated_phrasings(store, embedder) -> None:
    """The curated answers' phrasings get their vectors at the first question (one model call
    each, minutes for the starter pack on a busy machine); they are kept in the store, so
    computing them here through the cache spares that in every session after the first."""
    from amtslotse.ask.choose import CuratedIndex

    index = CuratedIndex(store, embedder)
    for tenant in (SAMPLE_TENANT, SHARED_TENANT):
        index.match("Wie stelle ich einen Antrag?", embedder.embed_query("Wie stelle ich einen Antrag?"), tenant, date.today())


@contextmanager
def running(services: Services, log_level: str = "warning") -> Iterator[str]:
    """The real app over `services` under uvicorn in a thread of this process, on a free
    loopback port; yields its base URL (tests, and the benchmarks that import this). The socket is
    bound here and handed to uvicorn, so no other process (another xdist worker) can take the port
    between choosing and binding it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("Der Testserver ist nicht gestartet.")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def app_server(starter_settings) -> Iterator[AppServer]:
    services = Services.open(starter_settings)
    try:
        with running(services) as url:
            yield AppServer(url, services)
    finally:
        services.close()
