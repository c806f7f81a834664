"""The FastAPI app: thin routers over the flows, one error shape, size limits, retention.

    $ amtslotse serve            # http://127.0.0.1:8000/chat/musterkreis, API docs at /docs

    >>> app = create_app(Settings(home=tmp))   # tests: the real app over a temporary store
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.base import BaseHTTPMiddleware

from amtslotse.knowledge.vector_worker import VectorWorker
from amtslotse.privacy.retention import purge_expired
from amtslotse.services import Services
from amtslotse.settings import Settings, get_settings
from amtslotse.web import auth, chat_api, inbox_api, openai_api, staff, staff_api, widget
from amtslotse.web.errors import MAX_BODY_BYTES, error_response, install_error_handlers

log = logging.getLogger("amtslotse.web")

RETENTION_INTERVAL_SECONDS = 3600.0


class BodyLimit(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return error_response(413, "too_large", f"Die Anfrage ist zu groß (höchstens {MAX_BODY_BYTES // 1024 // 1024} MB).")
        return await call_next(request)


def _retention_loop(services: Services, stop: threading.Event) -> None:
    while not stop.wait(RETENTION_INTERVAL_SECONDS):
        try:
            purge_expired(services.store)
        except Exception:  # a failed round is retried in an hour; the server keeps serving
            log.exception("Löschen nach Aufbewahrungsfrist fehlgeschlagen")


def _start_vectors(app: FastAPI):
    """The vector worker: embeds at start what lacks a vector, then what uploads add."""
    services = app.state.services
    if services.embedder is None:
        return lambda: None
    app.state.vector_worker = VectorWorker(services.store, services.embedder, services.settings.embed_batch_size)
    return app.state.vector_worker.start()


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or (services.settings if services else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = services is None
        app.state.services = services or Services.open(settings)
        purge_expired(app.state.services.store)
        stop = threading.Event()
        threading.Thread(target=_retention_loop, args=(app.state.services, stop), daemon=True).start()
        stop_inbox = inbox_api.start_background(app)  # what a crash left pending, then IMAP and new mail
        stop_vectors = _start_vectors(app)
        try:
            yield
        finally:
            stop.set()
            stop_inbox()
            stop_vectors()
            if own:
                app.state.services.close()

    app = FastAPI(
        title="Amtslotse",
        description="KI-Auskunft für Jobcenter: Antworten mit Quellen, Übergabe an Mitarbeitende, Posteingang.",
        version="1",
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
    app.add_middleware(BodyLimit)
    # The widget runs on the Landkreis's own web site, another origin: it may call the citizen
    # API, without cookies (staff endpoints use a Bearer token or a same-site cookie).
    app.add_middleware(
        CORSMiddleware, allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
        allow_methods=["GET", "POST"], allow_headers=["Content-Type", "Accept"], allow_credentials=False,
    )
    install_error_handlers(app)
    for router in (chat_api.router, openai_api.router, auth.router, inbox_api.router, widget.router, staff.router, staff_api.router):
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    return app
