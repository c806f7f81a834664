"""The FastAPI app: thin routers over the flows, one error shape, request guards, retention.

    $ amtslotse serve            # http://127.0.0.1:8000/chat/musterkreis, API docs at /docs

Tests build the real app over a temporary store, e.g. ``create_app(Settings(home=tmp))``.

`RequestGuard` (web/guard.py) holds what must hold for any request (body limit, valid text,
the Origin check and headers of the staff workspace). The access log gets paths without query
strings (the staff search test sends a citizen's question in `q`). /docs is Swagger UI from the pinned
`fastapi-offline` package, served by this app: nothing is loaded from a CDN.
"""

from __future__ import annotations

import logging
import re
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response

from amtslotse.knowledge.vector_worker import VectorWorker
from amtslotse.privacy.retention import purge_expired
from amtslotse.services import Services
from amtslotse.settings import Settings, get_settings
from amtslotse.web import accounts_api, admin_api, auth, chat_api, inbox_api, oidc, openai_api, staff, staff_api, widget
from amtslotse.web.deps import COOKIE
from amtslotse.web.errors import ERROR_SCHEMA, error_response, install_error_handlers
from amtslotse.web.guard import RequestGuard, is_staff

log = logging.getLogger("amtslotse.web")

RETENTION_INTERVAL_SECONDS = 3600.0


# --- access log ---------------------------------------------------------------------------------


_CONVERSATION_ID = re.compile(r"(/conversations/)[^/]+")


class QuerylessAccessLog(logging.Filter):
    """uvicorn's access log without query strings: `q` of the staff search test is a citizen's
    question (personal data), and other parameters tell nothing an operator needs. Conversation
    ids are masked too (`/conversations/*/messages`): whoever reads the log learns no id."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = _CONVERSATION_ID.sub(r"\1*", args[2].split("?", 1)[0])
            if path != args[2]:
                record.args = (args[0], args[1], path, args[3], args[4])
        return True


class PublicCors(CORSMiddleware):
    """CORS for the citizen API only: staff routes (/api/v1/staff, /staff) answer no CORS
    headers at all, so no other web site may read them in a visitor's browser."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and is_staff(scope["path"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def install_access_log_filter() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuerylessAccessLog) for f in access.filters):
        access.addFilter(QuerylessAccessLog())


# --- OpenAPI and /docs --------------------------------------------------------------------------

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Token aus POST /api/v1/staff/login"},
    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                   "description": "Dasselbe Token als HttpOnly-Cookie (Arbeitsbereich im Browser)"},
    "integrationKey": {"type": "http", "scheme": "bearer",
                       "description": "API-Schlüssel einer Anbindung (amtslotse apikey create), für POST /api/v1/inbox"},
}
_STATUS_TEXT = {
    400: "Anfrage fehlerhaft (kein gültiges JSON, zu tief verschachtelt, ungültige Zeichen)",
    401: "Nicht angemeldet", 403: "Keine Berechtigung (Rolle, Jobcenter oder fremde Herkunft)",
    404: "Nicht gefunden", 409: "Konflikt mit dem aktuellen Zustand", 413: "Anfrage oder Nachricht zu groß",
    422: "Ungültige Angaben", 429: "Zu viele Anfragen (Kopfzeile Retry-After: Sekunden bis zum nächsten Versuch)",
    500: "Interner Fehler",
}


def _statuses(path: str, method: str) -> set[int]:
    """The error statuses an operation can answer with (the routers raise them; the guard and
    the error handlers add 400, 413, 422 and 500 everywhere)."""
    codes = {400, 413, 422, 500}
    if "{" in path or "tenant" in path or path.startswith(("/api/v1/passages", "/v1/chat")):
        codes.add(404)
    if is_staff(path) and not path.endswith("/login"):
        codes |= {401, 403, 404}
        if method != "get":
            codes.add(409)
    if path.endswith("/login"):
        codes |= {401, 403, 429}
    if path.startswith("/api/v1/conversations") or path == "/api/v1/handovers" or path == "/api/v1/inbox":
        codes |= {404, 409, 429}
    if path.startswith("/api/v1/conversations") or path == "/api/v1/handovers":
        codes.add(403)  # without the conversation's X-Conversation-Token
    if path == "/api/v1/inbox":
        codes |= {401, 403}  # a wrong or revoked API key; a key of another tenant
    if path == "/v1/chat/completions":
        codes.add(429)
    return codes


def build_openapi(app: FastAPI) -> dict:
    """FastAPI's schema plus what it cannot know: the security schemes of the staff API and
    every error status an operation can return, each with the one error shape."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    components.setdefault("schemas", {})["Fehler"] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if is_staff(path) and not path.endswith("/login"):
                operation["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
            if path == "/api/v1/inbox":
                operation["security"] = [{"integrationKey": []}, {}]  # anonymous: without idempotency keys
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(path, method)):
                responses.setdefault(str(status), {
                    "description": _STATUS_TEXT[status],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Fehler"}}},
                })
    app.openapi_schema = schema
    return schema


DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_DOCS_PAGE = """<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Amtslotse – API</title>
<link rel="stylesheet" href="docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/static/swagger-ui-bundle.js"></script>
<script src="docs/static/start.js"></script>
</body>
</html>
"""
_DOCS_START = 'window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true});\n'
_DOCS_FILES = {"swagger-ui.css": "text/css; charset=utf-8", "swagger-ui-bundle.js": "text/javascript; charset=utf-8"}


def _swagger_folder() -> Path | None:
    """Swagger UI 5 (the first to read OpenAPI 3.1, which FastAPI writes), as shipped in the
    pinned `fastapi-offline` package (only its files are used, not its app class)."""
    try:
        import fastapi_offline
    except ImportError:  # the docs page then says so; the API works without it
        return None
    return Path(fastapi_offline.__file__).parent / "static"


def _add_docs(app: FastAPI) -> None:
    headers = {"Content-Security-Policy": DOCS_CSP, "X-Content-Type-Options": "nosniff"}

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        if _swagger_folder() is None:
            return HTMLResponse("<p>API-Dokumentation: bitte das Paket fastapi-offline installieren; "
                                "die Beschreibung steht unter /openapi.json.</p>", headers=headers)
        return HTMLResponse(_DOCS_PAGE, headers=headers)

    @app.get("/docs/static/{name}", include_in_schema=False)
    def docs_static(name: str) -> Response:
        folder = _swagger_folder()
        if name == "start.js":
            return Response(_DOCS_START, media_type="text/javascript; charset=utf-8", headers=headers)
        if folder is None or name not in _DOCS_FILES:
            return error_response(404, "not_found", "Diese Datei gibt es nicht.")
        return Response((folder / name).read_bytes(), media_type=_DOCS_FILES[name],
                        headers=headers | {"Cache-Control": "public, max-age=86400"})


# --- the app ------------------------------------------------------------------------------------


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
        install_access_log_filter()  # again: uvicorn configures its loggers after create_app
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
        docs_url=None,  # Swagger UI from the CDN: replaced by _add_docs (local files)
        redoc_url=None,
    )
    if services is not None:
        app.state.services = services
    # The widget runs on the Landkreis's own web site, another origin: it may call the citizen
    # API, without cookies (staff endpoints use a Bearer token or a same-site cookie).
    app.add_middleware(
        PublicCors, allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
        allow_methods=["GET", "POST"], allow_headers=["Content-Type", "Accept", chat_api.TOKEN_HEADER],
        expose_headers=[chat_api.TOKEN_HEADER, "Retry-After"], allow_credentials=False,
    )
    app.add_middleware(RequestGuard, settings=settings)  # added last: the outermost, sees every byte
    install_error_handlers(app)
    for router in (chat_api.router, openai_api.router, auth.router, oidc.router, inbox_api.router, widget.router, staff.router, staff_api.router,
                   admin_api.router, admin_api.public_router,  # governance: tenants, audit, usage, privacy
                   accounts_api.router):  # staff accounts and API keys
        app.include_router(router)
    _add_docs(app)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    install_access_log_filter()

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    return app
