"""The real app on a real port: uvicorn in a thread, over a temporary home with the starter
pack loaded (shared guidance + Musterkreis pages and curated answers, with vectors).

Fixtures (session scope, shared by the API, inbox and browser tests):
- `starter_settings`: Settings of that home (SQLite).
- `app_server`: a running server; `.url` is its base URL, `.services` the app's services.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
import uvicorn

from amtslotse.knowledge.ingest import embed_missing
from amtslotse.knowledge.starter import SAMPLE_TENANT, load_starter
from amtslotse.models import SHARED_TENANT
from amtslotse.services import Services
from amtslotse.settings import Settings
from amtslotse.web.app import create_app
from embedding_cache import CachedEmbedder, cache_folder, seed_triage_model


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
    with Services.open(settings) as services:
        reports = load_starter(services.store, settings)
        assert all(not r.failed for r in reports.values()), reports
        # The same vectors as the real model's, from .pytest_cache after the first run
        # (tests/embedding_cache.py): the starter pack takes a minute or more to embed.
        embedder = CachedEmbedder(services.embedder, cache_folder())
        embed_missing(services.store, embedder, settings.embed_batch_size)
        _warm_curated_phrasings(services.store, embedder)
        embedder.save()
    return settings


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
    loopback port; yields its base URL (tests, and the benchmarks that import this)."""
    server = uvicorn.Server(uvicorn.Config(create_app(services=services), host="127.0.0.1", port=free_port(), log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("Der Testserver ist nicht gestartet.")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def app_server(starter_settings) -> Iterator[AppServer]:
    services = Services.open(starter_settings)
    try:
        with running(services) as url:
            yield AppServer(url, services)
    finally:
        services.close()
