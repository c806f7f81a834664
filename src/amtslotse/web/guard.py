"""The request guard: one pure ASGI middleware, so that it sees every route and every byte, for
what must hold for any request: the body limit counted as the bytes arrive (a chunked body has
no Content-Length), no lone surrogates in a JSON body, the Origin check on the staff
workspace's cookie requests, `Cache-Control: no-store` on staff data and the `Secure` flag of
the staff cookie behind HTTPS.

    app.add_middleware(RequestGuard, settings=settings)   # added last: the outermost
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.datastructures import Headers

from amtslotse.settings import Settings
from amtslotse.text.numbers import integer
from amtslotse.web.deps import COOKIE
from amtslotse.web.errors import MAX_BODY_BYTES, BodyTooLarge, InvalidText, error_response

STAFF_PREFIXES = ("/api/v1/staff", "/staff")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# A \uD800-\uDFFF escape in JSON text that is not half of a pair: a high half not followed by a
# low one, or a low half not preceded by a high one. Found by the regex engine (C speed: a body
# of 12 MB full of valid pairs must not hold the event loop); only its rare hits are checked
# further in Python.
_LONE_SURROGATE = re.compile(  # starts with the literal \\u[dD]: the engine skips ahead fast
    rb"\\u[dD](?:(?P<high>[89abAB][0-9a-fA-F]{2})(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD])[c-fC-F][0-9a-fA-F]{2})")


def lone_surrogate(data: bytes, start: int = 0, final: bool = True) -> bool:
    """Does `data` (JSON text) hold a \\uD800-\\uDFFF escape that is not half of a pair? Such a
    string is valid JSON but no valid text: it cannot be stored or sent on. Escapes starting
    before `start` were judged already (with the chunk before); with `final=False` a high half
    at the very end waits for the next chunk."""
    # An escaped backslash is a pair, read from the left: blank the pairs out (same length, so
    # offsets stay) and every \\u left is a real escape ("\\\\uD800" is text, not a surrogate).
    if b"\\u" not in data:
        return False
    for m in _LONE_SURROGATE.finditer(data.replace(b"\\\\", b"__")):
        if m.group("high") is not None:
            if m.start() < start - 12:
                continue  # judged with the chunk before (its low half was there too)
            if len(data) - m.end() < 6 and not final:
                continue  # its low half may come with the next chunk
            return True
        if m.start() >= start:
            return True
    return False


def _same_origin(headers: Headers, trusted: frozenset[str]) -> bool:
    """May this cookie request change something? Browsers say where it comes from: the Fetch
    Metadata header (all current ones), else Origin, else Referer. The staff pages send no
    Referer (Referrer-Policy: no-referrer), so their Origin may be "null": then only Sec-Fetch-Site
    tells. A client that sends none of them is no browser, hence no cross-site forgery."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    source = headers.get("origin") or headers.get("referer")
    if source is None:
        return True
    if source == "null":
        return False
    parts = urlsplit(source)
    if f"{parts.scheme}://{parts.netloc}".lower() in trusted:
        return True
    hosts = {h.strip().lower() for h in (headers.get("host", ""), headers.get("x-forwarded-host", "")) if h.strip()}
    return parts.netloc.lower() in hosts


def is_staff(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in STAFF_PREFIXES)


class RequestGuard:
    """Pure ASGI middleware (see the module docstring): wraps `receive` to count and check the
    body as it arrives, and `send` to set the staff headers."""

    def __init__(self, app, settings: Settings, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.settings, self.max_body_bytes = app, settings, max_body_bytes
        self.trusted = frozenset(
            o.strip().rstrip("/").lower() for o in settings.trusted_origins.split(",") if o.strip()
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.max_body_bytes
        length = headers.get("content-length")
        size = integer(length) if length is not None else None
        if length is not None and (size is None or size > limit):
            error = BodyTooLarge(limit) if size is not None else InvalidText("Die Angabe Content-Length ist ungültig.")
            await error.response()(scope, receive, send)
            return
        staff_route = is_staff(scope["path"])
        if staff_route and scope["method"] not in SAFE_METHODS and self._cookie_request(headers, scope["path"]):
            if not _same_origin(headers, self.trusted):
                response = error_response(403, "cross_origin", "Diese Anfrage kommt nicht vom Arbeitsbereich selbst.")
                await response(scope, receive, send)
                return
        content_type = headers.get("content-type", "").lower()
        check_text = not content_type.startswith(("multipart/", "application/octet-stream"))
        state = {"received": 0, "tail": b"", "started": False}

        async def guarded_receive():
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                state["received"] += len(body)
                if state["received"] > limit:
                    raise BodyTooLarge(limit)
                if check_text and (body or state["tail"]):
                    window = state["tail"] + body
                    final = not message.get("more_body", False)
                    if lone_surrogate(window, start=len(state["tail"]), final=final):
                        raise InvalidText()
                    state["tail"] = window[-18:]
            return message

        secure = self._secure_cookie(scope)

        async def guarded_send(message):
            if message["type"] == "http.response.start":
                state["started"] = True
                if staff_route or secure:
                    message = dict(message, headers=self._staff_headers(message.get("headers", []), scope["path"], secure))
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except (BodyTooLarge, InvalidText) as error:
            if state["started"]:
                raise
            await error.response()(scope, receive, send)

    def _cookie_request(self, headers: Headers, path: str) -> bool:
        """Authenticated by the staff cookie (not a Bearer token), or the login form itself."""
        if headers.get("authorization", "").lower().startswith("bearer "):
            return False
        return COOKIE in headers.get("cookie", "") or path.endswith("/login")

    def _secure_cookie(self, scope) -> bool:
        mode = self.settings.cookie_secure
        return mode == "always" or (mode == "auto" and scope.get("scheme") == "https")

    @staticmethod
    def _staff_headers(raw: list, path: str, secure: bool) -> list:
        out = []
        for name, value in raw:
            if name.lower() == b"set-cookie" and secure and value.startswith(COOKIE.encode() + b"="):
                if b"secure" not in value.lower():
                    value += b"; Secure"
            if name.lower() == b"cache-control" and is_staff(path) and not path.startswith("/staff/static/"):
                continue
            out.append((name, value))
        if is_staff(path) and not path.startswith("/staff/static/"):
            out.append((b"cache-control", b"no-store"))
        return out
