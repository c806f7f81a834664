"""The citizen chat widget: its static files, the one-script-tag loader and the standalone page.

    >>> from fastapi import FastAPI
    >>> from amtslotse.web import widget
    >>> app = FastAPI()
    >>> app.include_router(widget.router)

A Landkreis embeds the chat with one tag (the loader finds the API next to its own URL)::

    <script src="https://amtslotse.example/widget.js" data-tenant="musterkreis" defer></script>

and links to the full-screen page ``https://amtslotse.example/chat/musterkreis`` (same code).
The front end is plain JavaScript modules in ``static/`` (no build step, no framework, nothing
loaded from elsewhere). This router only serves files: the data comes from ``/api/v1``.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from amtslotse.tenants import TENANT_NAME

STATIC = Path(__file__).parent / "static"

# Everything the page needs comes from this server: no inline script or style (the widget sets
# tenant colours through the CSSOM, which style-src does not govern), no framing by other sites.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The embedded widget imports its modules from a Landkreis page, i.e. cross-origin: module
# scripts are fetched in CORS mode, so the static files must allow any origin (they are public).
CROSS_ORIGIN_HEADERS = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(js|css|svg|json)$")

router = APIRouter(include_in_schema=False)


def static_file_response(request: Request, folder: Path, name: str) -> Response | None:
    """A file of `folder` by its plain name (a fixed set of names: no paths, no traversal);
    None if there is no such file."""
    path = folder / name
    if not STATIC_NAME.match(name) or not path.is_file():
        return None
    return _file_response(request, path)


@lru_cache(maxsize=64)
def _read_static(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    """A static file's bytes and ETag, read once per version of the file."""
    body = path.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _file_response(request: Request, path: Path) -> Response:
    """A static file with an ETag; browsers revalidate (no-cache) so an update shows at once."""
    body, etag = _read_static(path, path.stat().st_mtime_ns)
    headers = SECURITY_HEADERS | CROSS_ORIGIN_HEADERS | {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPES[path.suffix], headers=headers)


def _not_found(text: str) -> HTMLResponse:
    return HTMLResponse(_page("Nicht gefunden", f"<main><h1>Nicht gefunden</h1><p>{escape(text)}</p></main>"),
                        status_code=404, headers=SECURITY_HEADERS)


def _page(title: str, body: str, head: str = "") -> str:
    # Relative URLs: the page works when Amtslotse runs under a path prefix behind a proxy.
    return (
        '<!doctype html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="icon" href="../widget/icon.svg" type="image/svg+xml">\n'
        '<link rel="stylesheet" href="../widget/page.css">\n'
        f"{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


@router.get("/widget.js")
def loader(request: Request) -> Response:
    """The script a Landkreis website embeds with one tag."""
    return _file_response(request, STATIC / "widget.js")


@router.get("/widget/{name}")
def static_file(name: str, request: Request) -> Response:
    """The widget's modules, styles and icon."""
    response = static_file_response(request, STATIC, name)
    return response if response is not None else _not_found("Diese Datei gibt es nicht.")


@router.get("/chat/{tenant}", response_class=HTMLResponse)
def chat_page(tenant: str) -> Response:
    """The standalone chat page: a shell; the widget reads the tenant's name and colours from the API."""
    if not TENANT_NAME.match(tenant):
        return _not_found("Diesen Chat gibt es nicht. Bitte prüfen Sie die Adresse.")
    head = (
        f'<script src="../widget.js" data-tenant="{escape(tenant)}" data-mode="page" '
        'data-target="amtslotse-main" defer></script>\n'
    )
    body = (
        '<main id="amtslotse-main">\n'
        "<noscript><p>Bitte aktivieren Sie JavaScript, um den Chat zu nutzen.</p></noscript>\n"
        "</main>"
    )
    return HTMLResponse(_page("Chat mit dem Jobcenter", body, head), headers=SECURITY_HEADERS)
