"""Security findings 3, 6 and 9 (issue 12), each attack replayed against the real app on
loopback (uvicorn in a thread over an empty temporary store, no embedder: these attacks need
no knowledge). Findings 1 and 7 are in test_security_inbox.py and test_security_redaction.py.
"""

from __future__ import annotations

import base64
import json
import logging
import select
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from amtslotse.ask.pipeline import Event
from amtslotse.web import openai_api
from amtslotse.web.deps import COOKIE
from amtslotse.web.guard import lone_surrogate
from loopback_app import serve

TENANT = "musterkreis"
PASSWORD = "Sicherheit-Test-2026"
HUGE = "9" * 25  # beyond 64 bits
PERSONAL_QUESTION = "Ich heiße Erika Pflaumbaum, wann kommt mein Geld?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("security-http"), log_level="info") as (url, services):
        services.store.ensure_tenant(TENANT)
        services.store.add_staff_user("s.sicher", TENANT, ["sachbearbeitung", "auswertung"], PASSWORD)
        yield url, services


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server[0], timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def token(api) -> str:
    response = api.post("/api/v1/staff/login", json={"name": "s.sicher", "password": PASSWORD})
    assert response.status_code == 200
    return response.json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def is_error(response: httpx.Response, status: int, code: str | None = None) -> bool:
    body = response.json()
    return response.status_code == status and set(body) == {"error"} and (code is None or body["error"]["code"] == code)


# --- finding 3: the body limit counts bytes as they arrive -------------------------------------


def send_chunked(base_url: str, path: str, total: int, chunk: int = 256 * 1024) -> tuple[int | None, dict | None, int]:
    """POST `total` bytes with Transfer-Encoding: chunked (no Content-Length) over a raw
    socket and stop sending once the server answers: (status, JSON body, bytes sent)."""
    parts = urlsplit(base_url)
    deadline = time.monotonic() + 120
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n").encode())
        payload, sent = b'{"text": "' + b"a" * (chunk - 10), 0
        try:
            while sent < total and time.monotonic() < deadline and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n" % len(payload) + payload + b"\r\n")
                sent += len(payload)
            if sent >= total:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection after its answer
        data = b""
        try:
            while time.monotonic() < deadline and (got := sock.recv(65536)):
                data += got
                head, _, body = data.partition(b"\r\n\r\n")
                lengths = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if lengths and len(body) >= lengths[0]:
                    break
        except OSError:
            pass
    if not data:
        return None, None, sent
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body or b"null"), sent


@pytest.mark.parametrize("path", ["/api/v1/inbox", "/api/v1/conversations/abcdefgh12/messages", "/v1/chat/completions",
                                  "/api/v1/handovers", "/api/v1/staff/login"])
def test_a_chunked_300_mb_body_is_stopped_at_the_limit(server, path):
    status, body, sent = send_chunked(server[0], path, 300 * 1024 * 1024)
    assert status == 413 and body["error"]["code"] == "too_large", (status, body)
    assert sent < 64 * 1024 * 1024  # stopped near the 12 MB limit, not after 300 MB


def test_a_declared_oversize_body_is_refused_before_it_is_read(api):
    response = api.post("/api/v1/conversations/abcdefgh12/messages", content=b"x" * (13 * 1024 * 1024),
                        headers={"content-type": "application/json"})
    assert is_error(response, 413, "too_large")


# --- finding 6: the OpenAI endpoint cuts the history before it redacts ---------------------------


def test_openai_history_is_cut_and_capped_before_redaction(api, server, monkeypatch):
    seen: list[int] = []
    real = openai_api.redact

    def counting(text, *args, **kwargs):
        seen.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(openai_api, "redact", counting)
    history = [{"role": "user", "content": f"Frage {n}: " + "Miete und Heizung " * 6000} for n in range(99)]
    response = api.post("/v1/chat/completions", json={"messages": history + [{"role": "user", "content": "Wer zahlt die Miete?"}]})
    assert response.status_code == 200, response.text
    settings = server[1].settings
    assert len(seen) <= settings.history_turns and all(n <= settings.max_message_chars for n in seen), seen


# --- finding 9: clear 4xx instead of 500s ----------------------------------------------------------


@pytest.mark.parametrize("method,path", [
    ("GET", f"/api/v1/passages/{HUGE}"),
    ("POST", f"/api/v1/conversations/abcdefgh12/messages/{HUGE}/feedback"),
    ("GET", f"/api/v1/staff/inbox/{HUGE}"),
    ("GET", f"/api/v1/staff/inbox/{HUGE}/audit"),
    ("GET", f"/api/v1/staff/inbox/1/attachments/{HUGE}"),
    ("GET", f"/api/v1/staff/inbox?offset={HUGE}"),
    ("POST", f"/api/v1/staff/inbox/{HUGE}/review"),
])
def test_64_bit_overflow_ids_are_a_clear_4xx(api, token, method, path):
    response = api.request(method, path, headers=bearer(token), json={"rating": "up"} if method == "POST" else None)
    assert 400 <= response.status_code < 500 and set(response.json()) == {"error"}, (path, response.status_code, response.text)


DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.mark.parametrize("path", ["/api/v1/inbox", "/api/v1/conversations/abcdefgh12/messages", "/v1/chat/completions",
                                  "/api/v1/handovers", "/api/v1/staff/login"])
@pytest.mark.parametrize("body", [
    DEEP_ARRAY, DEEP_OBJECT, '{"tenant": "musterkreis", "text": "x", "attachments": ' + DEEP_ARRAY + "}",
    '{"messages": [{"role": "user", "content": [' + '{"a":' * 900 + "1" + "}" * 900 + "]}]}",
])
def test_1000_deep_json_is_a_clear_4xx(api, path, body):
    response = api.post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500 and set(response.json()) == {"error"}, (path, response.status_code)


@pytest.mark.parametrize("path,body", [
    ("/api/v1/inbox", '{"tenant": "musterkreis", "text": "Hallo \\ud800 Welt"}'),
    ("/api/v1/conversations/abcdefgh12/messages", '{"text": "Wer zahlt \\udc00 die Miete?"}'),
    ("/api/v1/handovers", '{"conversation_id": "abcdefgh12", "summary": "x\\ud83d", "consent": true}'),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "Miete \\ud800"}]}'),
    ("/v1/chat/completions", '{"stream": true, "messages": [{"role": "user", "content": "Miete \\udfff"}]}'),
])
def test_lone_surrogates_are_a_clear_4xx(api, path, body):
    response = api.post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert is_error(response, 400, "invalid_text"), (path, response.status_code, response.text)


def test_surrogate_pairs_and_escaped_backslashes_pass():
    assert not lone_surrogate(b'{"t": "\\ud83d\\ude00"}')
    assert not lone_surrogate(b'{"t": "\\\\ud800 is text"}')
    assert lone_surrogate(b'{"t": "\\\\\\ud800"}')
    assert not lone_surrogate(b'{"t": "\\ud83d', final=False)  # the low half may come next
    assert not lone_surrogate(b'{"t": "\\ud83d\\ude00"}', start=12)


def test_a_pair_split_across_chunks_passes(api):
    def chunks():
        yield b'{"text": "Wer zahlt die Miete? \\ud83d'
        yield b'\\ude00"}'

    response = api.post("/api/v1/conversations/abcdefgh13/messages", content=chunks(),
                        headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


def test_an_openai_stream_that_fails_ends_with_an_error_event_and_done(api, server, monkeypatch):
    def broken(question, tenant, **kwargs):
        yield Event("text", {"delta": "Die Miete "})
        raise RuntimeError("the retriever broke")

    monkeypatch.setattr(server[1].asker, "stream", broken)
    response = api.post("/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": "Miete?"}]})
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert response.status_code == 200
    assert events[-1] == "[DONE]" and json.loads(events[-2])["error"]["code"] == "internal_error"


# --- finding 9: staff cookies, caching, logs, attachments ------------------------------------------


def cookie_login(api, **headers) -> httpx.Response:
    return api.post("/api/v1/staff/login", json={"name": "s.sicher", "password": PASSWORD}, headers=headers)


def test_cookie_posts_from_another_origin_are_refused(api, server, token):
    reference = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Bitte um Rückruf."}).json()["reference"]
    cookie = {"Cookie": f"{COOKIE}={token}"}
    path = f"/api/v1/staff/inbox/{reference}/review"
    evil = api.post(path, headers=cookie | {"Origin": "https://boese.example"})
    assert is_error(evil, 403, "cross_origin")
    assert is_error(api.post(path, headers=cookie | {"Sec-Fetch-Site": "cross-site", "Origin": server[0]}), 403, "cross_origin")
    assert is_error(api.post(path, headers=cookie | {"Origin": "null"}), 403, "cross_origin")
    assert is_error(cookie_login(api, Origin="https://boese.example"), 403, "cross_origin")
    same = api.post(path, headers=cookie | {"Origin": server[0], "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200, same.text
    # A Bearer token is no ambient credential: the Origin does not matter.
    assert api.get(f"/api/v1/staff/inbox/{reference}", headers=bearer(token) | {"Origin": "https://boese.example"}).status_code == 200


def test_the_staff_cookie_is_secure_behind_https(api, tmp_path):
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (a proxy on the same machine).
    assert "secure" not in cookie_login(api).headers["set-cookie"].lower()
    assert "; secure" in cookie_login(api, **{"X-Forwarded-Proto": "https"}).headers["set-cookie"].lower()
    with serve(tmp_path, cookie_secure="always") as (url, services):
        services.store.add_staff_user("s.sicher", TENANT, ["sachbearbeitung"], PASSWORD)
        with httpx.Client(base_url=url, timeout=60) as other:
            assert "; secure" in cookie_login(other).headers["set-cookie"].lower()


def test_staff_data_is_not_cached(api, token):
    for path in ("/api/v1/staff/inbox", "/staff/context.json", "/api/v1/staff/analytics"):
        response = api.get(path, headers=bearer(token), params={"tenant": TENANT})
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", path
    assert cookie_login(api).headers["cache-control"] == "no-store"
    assert api.get("/api/v1/staff/inbox").headers["cache-control"] == "no-store"  # the 401 too


def test_the_access_log_has_no_search_question(api, token):
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler, access = Keep(), logging.getLogger("uvicorn.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)  # another server of this session may have set it to WARNING
    try:
        api.get("/api/v1/staff/search-test", params={"tenant": TENANT, "q": PERSONAL_QUESTION}, headers=bearer(token))
        time.sleep(0.2)
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    logged = [r for r in records if "search-test" in r]
    assert logged and not any("Pflaumbaum" in r or "q=" in r for r in logged), logged


def test_attachments_are_served_as_downloads_with_a_safe_type(api, token):
    page = b"<html><script>alert(document.cookie)</script></html>"
    reference = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Anbei.", "attachments": [
        {"filename": "rechnung.html", "content_type": "text/html", "data_base64": base64.b64encode(page).decode()},
        {"filename": "a.pdf", "content_type": "text/html\r\nX-Evil: 1", "data_base64": base64.b64encode(b"%PDF-1.4 x").decode()},
    ]}).json()["reference"]
    detail = api.get(f"/api/v1/staff/inbox/{reference}", headers=bearer(token)).json()
    assert [a["content_type"] for a in detail["attachments"]] == ["application/octet-stream"] * 2
    types = []
    for attachment in detail["attachments"]:
        response = api.get(f"/api/v1/staff/inbox/{reference}/attachments/{attachment['id']}", headers=bearer(token))
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff" and "sandbox" in response.headers["content-security-policy"]
        assert "x-evil" not in response.headers
        types.append(response.headers["content-type"])
    assert types == ["application/octet-stream", "application/pdf"]


# --- finding 9: OpenAPI and /docs ------------------------------------------------------------------


def test_openapi_names_security_schemes_and_every_error_status(api):
    schema = api.get("/openapi.json").json()
    assert {"bearerAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    staff_ops = [(p, m, op) for p, ops in schema["paths"].items() for m, op in ops.items() if p.startswith("/api/v1/staff")]
    for path, method, op in staff_ops:
        if not path.endswith("/login"):
            assert op["security"] == [{"bearerAuth": []}, {"cookieAuth": []}], path
            assert {"401", "403"} <= set(op["responses"]), path
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            assert {"400", "413", "422", "500"} <= set(op["responses"]), (method, path)
    # What the tests above got back is documented.
    seen = [("post", "/api/v1/conversations/{conversation_id}/messages", "413"), ("get", "/api/v1/passages/{passage_id}", "422"),
            ("post", "/api/v1/staff/inbox/{key}/review", "403"), ("get", "/api/v1/staff/inbox/{key}", "404"),
            ("post", "/v1/chat/completions", "400"), ("post", "/api/v1/inbox", "413")]
    for method, path, status in seen:
        assert status in schema["paths"][path][method]["responses"], (method, path, status)


def test_docs_load_nothing_from_a_cdn(api):
    page = api.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "http" not in page.text.replace('<meta name="viewport"', "")  # only relative, same-origin URLs
    assert "script-src 'self'" in page.headers["content-security-policy"]
    bundle = api.get("/docs/static/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    assert api.get("/docs/static/swagger-ui.css").status_code == 200
    assert api.get("/docs/static/start.js").status_code == 200
    assert api.get("/docs/static/..%2Fapp.py").status_code == 404
    assert api.get("/redoc").status_code == 404
