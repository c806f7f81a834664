"""The staff workspace: HTML shells for login, inbox, message, knowledge and analytics pages,
their static files, and the page context (who is logged in, the tenant's categories and teams).

    >>> from fastapi import FastAPI
    >>> from amtslotse.web import staff
    >>> app = FastAPI()
    >>> app.include_router(staff.router)

    GET /staff/login            the login form (posts to /api/v1/staff/login; the HttpOnly cookie
                                then authenticates the pages' same-origin fetches)
    GET /staff                  the inbox, most urgent first, with filters
    GET /staff/inbox/{ref}      one message: marked personal data, fields, draft, actions, audit trail
    GET /staff/knowledge        documents and curated answers (needs the staff API of web/staff_api.py)
    GET /staff/analytics        charts, tables and the CSV export (same)
    GET /staff/verwaltung       audit check, usage, data protection, tenants (web/admin_api.py)
    GET /staff/context.json     for the pages: user, roles, tenant, categories, teams, labels

Like the citizen widget (web/widget.py) the pages are plain JavaScript modules in
``staff_static/`` (no build step, nothing from elsewhere) under the same strict
Content-Security-Policy; the data comes from /api/v1/staff. The shells hold no data: a page
loaded without a login sends the browser to /staff/login.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from amtslotse.categories import DEFAULT_CONFIG, FLAGS
from amtslotse.errors import UserError
from amtslotse.inbox.fields import FIELD_LABELS
from amtslotse.inbox.review import CLOSE_REASONS, STATE_LABELS
from amtslotse.inbox.routing import TEAMS, teams
from amtslotse.services import Services
from amtslotse.tenants import TENANT_NAME
from amtslotse.web.deps import ServicesDep, StaffDep, tenant_inbox
from amtslotse.web.errors import ApiError
from amtslotse.web.widget import SECURITY_HEADERS, static_file_response

STATIC = Path(__file__).parent / "staff_static"
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

router = APIRouter(include_in_schema=False)

# page -> (title, module). The shells use relative URLs, so the workspace also works under a
# path prefix behind a proxy.
PAGES = {
    "login": ("Anmeldung", "login.js"),
    "inbox": ("Posteingang", "inbox.js"),
    "message": ("Nachricht", "message.js"),
    "knowledge": ("Wissen", "knowledge.js"),
    "analytics": ("Auswertung", "analytics.js"),
    "admin": ("Verwaltung", "admin.js"),
}


def _shell(page: str, root: str) -> HTMLResponse:
    """`root`: the relative way from the page to the app's root ("", "../", "../../")."""
    title, module = PAGES[page]
    static = f"{root}staff/static/"
    html = (
        '<!doctype html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} – Amtslotse für Mitarbeitende</title>\n"
        f'<link rel="icon" href="{root}widget/icon.svg" type="image/svg+xml">\n'
        f'<link rel="stylesheet" href="{static}staff.css">\n'
        f'<script type="module" src="{static}{module}"></script>\n'
        "</head>\n<body>\n"
        '<a class="skip" href="#main">Zum Inhalt springen</a>\n'
        '<header class="bar" id="bar"><p class="brand">Amtslotse <span>für Mitarbeitende</span></p></header>\n'
        f'<main id="main" tabindex="-1" data-page="{page}">\n<h1>{escape(title)}</h1>\n'
        "<noscript><p>Bitte aktivieren Sie JavaScript, um den Arbeitsbereich zu nutzen.</p></noscript>\n"
        "</main>\n</body>\n</html>\n"
    )
    return HTMLResponse(html, headers=SECURITY_HEADERS | {"Cache-Control": "no-store"})


@router.get("/staff/login", response_class=HTMLResponse)
def login_page() -> Response:
    return _shell("login", "../")


@router.get("/staff", response_class=HTMLResponse)
def inbox_page() -> Response:
    return _shell("inbox", "")


@router.get("/staff/inbox/{reference}", response_class=HTMLResponse)
def message_page(reference: str) -> Response:
    if not REFERENCE.match(reference):
        return _not_found("Diese Nachricht gibt es nicht. Bitte prüfen Sie die Adresse.")
    return _shell("message", "../../")


@router.get("/staff/knowledge", response_class=HTMLResponse)
def knowledge_page() -> Response:
    return _shell("knowledge", "../")


@router.get("/staff/analytics", response_class=HTMLResponse)
def analytics_page() -> Response:
    return _shell("analytics", "../")


@router.get("/staff/verwaltung", response_class=HTMLResponse)
def admin_page() -> Response:
    """Audit check, usage, data-protection requests; the tenants for the cooperative (admin.js)."""
    return _shell("admin", "../")


@router.get("/staff/static/{name}")
def static_file(name: str, request: Request) -> Response:
    """The workspace's modules, styles and icon."""
    response = static_file_response(request, STATIC, name)
    return response if response is not None else _not_found("Diese Datei gibt es nicht.")


@router.get("/staff/context.json")
def context(services: ServicesDep, user: StaffDep, tenant: str | None = None) -> dict:
    """What every page needs besides its data: the user, the tenant worked for, the names to show."""
    tenants = services.store.tenants() if user.tenant == "*" else [user.tenant]
    name = tenant or (user.tenant if user.tenant != "*" else (tenants[0] if tenants else None))
    if name is not None and (not TENANT_NAME.match(name) or not user.may_act_for(name)):
        raise ApiError(403, "forbidden", "Sie dürfen nicht für dieses Jobcenter arbeiten.")
    categories, teams, config_error = _inbox_names(services, name)
    return {
        "user": {"name": user.name, "tenant": user.tenant, "roles": sorted(user.roles)},
        "tenant": name, "tenants": tenants,
        "tenant_name": _tenant_name(services, name),
        "config_error": config_error,  # German, naming file and key; None when the configuration is fine
        "categories": categories, "teams": teams, "flags": dict(FLAGS),
        "states": STATE_LABELS, "close_reasons": CLOSE_REASONS, "field_labels": FIELD_LABELS,
    }


def _tenant_name(services: Services, tenant: str | None) -> str | None:
    try:
        return services.tenant(tenant).name if tenant else None
    except UserError:  # a broken tenant file: config_error says why
        return tenant


def _inbox_names(services: Services, tenant: str | None) -> tuple[list[dict], list[str], str | None]:
    """The tenant's visible categories and the teams its routing rules name (for filters and
    forwarding), from `TenantConfig.inbox()`, and the configuration's error if any. A broken
    configuration gives the built-in names (the inbox stays usable; processing reports the
    error on each message, `amtslotse check` names file and line)."""
    config, error = tenant_inbox(services, tenant)
    try:
        names = teams(config)
    except UserError as problem:
        config, names, error = DEFAULT_CONFIG, sorted(TEAMS), str(problem)
    return [{"key": k, "label": config.label(k)} for k in config.keys], names, error


def _not_found(text: str) -> HTMLResponse:
    html = (
        '<!doctype html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n<title>Nicht gefunden</title>\n'
        "</head>\n<body>\n<main><h1>Nicht gefunden</h1>\n"
        f"<p>{escape(text)}</p></main>\n</body>\n</html>\n"
    )
    return HTMLResponse(html, status_code=404, headers=SECURITY_HEADERS)
