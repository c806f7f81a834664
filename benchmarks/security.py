"""Security benchmark: replay the attacks of issue 12 against a real server on loopback.

    cd benchmarks && ../.venv/bin/python security.py            # every attack: held or FAILED
    cd benchmarks && ../.venv/bin/python security.py --only 3   # the attacks of one finding

The server is started as tests/app_server.py does it (the real app under uvicorn in a thread
of this process, over a temporary data folder with the starter pack; no embedder: no attack
needs vectors). Each attack is sent over HTTP as an attacker would send it and judged by what
the server answered, stored or logged. Findings 1, 3, 6, 7 and 9 are replayed here, the access
attacks (2 conversation secret, 4 login, 5 idempotency keys, 8 sessions, 10 limits) in
security_access.py; they run in the order of the findings.

Budgets: the attachment reader gets a CPU budget of 10 s here instead of the default 60 s, so
that the PDF bomb is judged in seconds (the mechanism is the same; `--default-budget` keeps
60 s). Run it against an older checkout (PYTHONPATH=<checkout>/src) to see what failed before:
an attack that raises counts as FAILED.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import resource
import select
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import serving  # noqa: E402
from amtslotse.knowledge.starter import load_starter
from amtslotse.services import Services
from amtslotse.settings import Settings
from attack_files import docx_bomb, pdf_bomb  # noqa: E402

TENANT = "musterkreis"
PASSWORD = "Benchmark-Sicherheit-2026"
PII = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii_messages.jsonl"
FIRST_GAP_ROW = 210  # pii-210 and later: the redaction gaps of finding 7


@dataclass
class Context:
    url: str
    services: Services
    client: httpx.Client
    token: str
    notes: dict = field(default_factory=dict)

    @property
    def staff(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


ATTACKS: list[tuple[str, str, Callable[[Context], tuple[bool, str]]]] = []


def attack(finding: str, name: str):
    def register(function):
        ATTACKS.append((finding, name, function))
        return function
    return register


# --- attack material --------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def peak_rss_mb() -> float:
    """Peak resident memory of this process (the server runs in it), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait_for(predicate: Callable[[], bool], seconds: float) -> float | None:
    """Seconds until `predicate()` holds, or None after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    return None


# --- 1: attachment bombs ------------------------------------------------------------------------


@attack("1", "DOCX bomb (20 MB document.xml) and PDF bomb, then an emergency: flagged at once, bombs bounded")
def attachment_bombs(ctx: Context) -> tuple[bool, str]:
    docx, pdf = docx_bomb(20 * 1024 * 1024), pdf_bomb(40 * 1024 * 1024)
    rss_before = peak_rss_mb()
    sent = ctx.client.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Anbei mein Lebenslauf und ein Kontoauszug.",
                                                  "attachments": [{"filename": "lebenslauf.docx", "data_base64": b64(docx)},
                                                                  {"filename": "konto.pdf", "data_base64": b64(pdf)}]})
    bombs = sent.json()["reference"]
    time.sleep(1.0)
    urgent = ctx.client.post("/api/v1/inbox", json={
        "tenant": TENANT, "text": "Bitte schnell: Morgen wird uns der Strom abgestellt, wir haben nichts mehr zu essen."}).json()["reference"]

    def item(reference: str) -> dict:
        return ctx.client.get(f"/api/v1/staff/inbox/{reference}", headers=ctx.staff).json()

    flagged = wait_for(lambda: "notlage" in item(urgent)["flags"], 120)
    done = wait_for(lambda: item(bombs)["triage_status"] == "done", 600)
    notes = [n["note"] for n in (item(bombs).get("fields") or {}).get("attachment_notes", [])]
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    grew = peak_rss_mb() - rss_before
    limit_mb = ctx.services.settings.attachment_memory_mb if hasattr(ctx.services.settings, "attachment_memory_mb") else 0
    held = flagged is not None and flagged < 15 and done is not None and len(notes) == 2 and grew < 300
    detail = (f"docx {len(docx) // 1024} KB, pdf {len(pdf) // 1024} KB; emergency flagged after "
              f"{'never' if flagged is None else f'{flagged:.1f} s'}; bomb message done after "
              f"{'never' if done is None else f'{done:.1f} s'}; notes: {notes}; server peak RSS +{grew:.0f} MB, "
              f"reader processes peak {children:.0f} MB (limit {limit_mb} MB)")
    return held, detail


# --- 3: chunked bodies --------------------------------------------------------------------------


def send_chunked(base_url: str, path: str, total: int, chunk: int = 256 * 1024) -> tuple[int | None, int]:
    parts = urlsplit(base_url)
    deadline, sent, data = time.monotonic() + 120, 0, b""
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n").encode())
        payload = b'{"text": "' + b"a" * (chunk - 10)
        try:
            while sent < total and time.monotonic() < deadline and not select.select([sock], [], [], 0)[0]:
                sock.sendall(b"%x\r\n" % len(payload) + payload + b"\r\n")
                sent += len(payload)
        except OSError:
            pass
        try:
            while time.monotonic() < deadline and b"\r\n" not in data and (got := sock.recv(65536)):
                data += got
        except OSError:
            pass
    return (int(data.split(b" ")[1]) if data.startswith(b"HTTP/") else None), sent


@attack("3", "chunked 300 MB bodies (no Content-Length) on five routes")
def chunked_bodies(ctx: Context) -> tuple[bool, str]:
    rss_before, results = peak_rss_mb(), []
    for path in ("/api/v1/inbox", "/api/v1/conversations/abcdefgh12/messages", "/v1/chat/completions",
                 "/api/v1/handovers", "/api/v1/staff/login"):
        status, sent = send_chunked(ctx.url, path, 300 * 1024 * 1024)
        results.append((path, status, sent))
    grew = peak_rss_mb() - rss_before
    held = all(status == 413 and sent < 64 * 1024 * 1024 for _, status, sent in results) and grew < 200
    detail = "; ".join(f"{p}: {s} after {n // 1024 // 1024} MB" for p, s, n in results) + f"; server peak RSS +{grew:.0f} MB"
    return held, detail


# --- 6: the OpenAI history ---------------------------------------------------------------------


@attack("6", "OpenAI endpoint with 99 earlier messages of 100 KB each")
def openai_history(ctx: Context) -> tuple[bool, str]:
    history = [{"role": "user", "content": f"Frage {n}: " + "Miete und Heizung " * 5800} for n in range(99)]
    body = {"messages": history + [{"role": "user", "content": "Wer zahlt die Miete?"}]}
    started = time.monotonic()
    response = ctx.client.post("/v1/chat/completions", json=body)
    seconds = time.monotonic() - started
    return response.status_code == 200 and seconds < 10, f"{len(json.dumps(body)) // 1024 // 1024} MB: status {response.status_code} after {seconds:.1f} s"


# --- 7: redaction gaps ---------------------------------------------------------------------------


@attack("7", "personal data the redaction missed (labelled gap examples through chat and inbox)")
def redaction_gaps(ctx: Context) -> tuple[bool, str]:
    rows = [json.loads(line) for line in PII.read_text("utf-8").splitlines() if line.strip()]
    gaps = [r for r in rows if int(r["id"].split("-")[1]) >= FIRST_GAP_ROW and r["pii"]]
    leaked, store = [], ctx.services.store
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    for number, row in enumerate(gaps):
        conversation = f"sicherheit{number:04d}"
        ctx.client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": row["text"], "tenant": TENANT})
        reference = ctx.client.post("/api/v1/inbox", json={"tenant": TENANT, "text": row["text"]}).json()["reference"]
        stored_inbox = store.inbox_item(TENANT, reference).redacted
        stored_chat = " ".join(t.question for t in store.turns_between(TENANT, since, datetime.now(timezone.utc) + timedelta(minutes=1))
                               if t.conversation_id == conversation)
        for item in row["pii"]:
            for where, text in (("chat", stored_chat), ("inbox", stored_inbox)):
                if item["value"] in text:
                    leaked.append(f"{row['id']} {item['kind']} in {where}")
    values = sum(len(r["pii"]) for r in gaps)
    return not leaked, f"{values} values in {len(gaps)} messages; stored in clear: {leaked or 'none'}"


# --- 9: the low ones ------------------------------------------------------------------------------

HUGE = "9" * 25


@attack("9", "64-bit overflow ids")
def overflow_ids(ctx: Context) -> tuple[bool, str]:
    requests = [("GET", f"/api/v1/passages/{HUGE}"), ("POST", f"/api/v1/conversations/abcdefgh12/messages/{HUGE}/feedback"),
                ("GET", f"/api/v1/staff/inbox/{HUGE}"), ("GET", f"/api/v1/staff/inbox/1/attachments/{HUGE}"),
                ("GET", f"/api/v1/staff/inbox?offset={HUGE}"), ("POST", f"/api/v1/staff/inbox/{HUGE}/review")]
    statuses = [ctx.client.request(m, p, headers=ctx.staff, json={"rating": "up"} if m == "POST" else None).status_code
                for m, p in requests]
    return all(400 <= s < 500 for s in statuses), f"statuses {statuses}"


@attack("9", "1,000-deep JSON")
def deep_json(ctx: Context) -> tuple[bool, str]:
    bodies = ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000,
              '{"tenant": "musterkreis", "text": "x", "attachments": ' + "[" * 1000 + "]" * 1000 + "}"]
    statuses = [ctx.client.post(p, content=b, headers={"content-type": "application/json"}).status_code
                for p in ("/api/v1/inbox", "/api/v1/conversations/abcdefgh12/messages", "/v1/chat/completions") for b in bodies]
    return all(400 <= s < 500 for s in statuses), f"statuses {sorted(set(statuses))}"


@attack("9", "lone surrogates in JSON")
def lone_surrogates(ctx: Context) -> tuple[bool, str]:
    cases = [("/api/v1/inbox", '{"tenant": "musterkreis", "text": "Hallo \\ud800"}'),
             ("/api/v1/conversations/abcdefgh12/messages", '{"text": "Miete \\udc00"}'),
             ("/v1/chat/completions", '{"messages": [{"role": "user", "content": "Miete \\ud800"}]}'),
             ("/v1/chat/completions", '{"stream": true, "messages": [{"role": "user", "content": "Miete \\ud800"}]}')]
    statuses = [ctx.client.post(p, content=b.encode(), headers={"content-type": "application/json"}).status_code for p, b in cases]
    return all(400 <= s < 500 for s in statuses), f"statuses {statuses}"


@attack("9", "an OpenAI stream whose answer fails ends with an error event and [DONE]")
def broken_stream(ctx: Context) -> tuple[bool, str]:
    from amtslotse.ask.pipeline import Event

    asker = ctx.services.asker
    real = asker.stream

    def broken(question, tenant, **kwargs):
        yield Event("text", {"delta": "Die Miete "})
        raise RuntimeError("simulated failure in the middle of an answer")

    logging.getLogger("amtslotse.web.openai_api").disabled = True  # the simulated failure's traceback is expected
    asker.stream = broken
    try:
        response = ctx.client.post("/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": "Miete?"}]})
    except httpx.HTTPError as error:
        return False, f"{type(error).__name__}: the stream broke off"
    finally:
        asker.stream = real
        logging.getLogger("amtslotse.web.openai_api").disabled = False
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    held = len(events) >= 2 and events[-1] == "[DONE]" and "error" in json.loads(events[-2])
    return held, f"last events: {events[-2:]}"


@attack("9", "cookie POST from another origin (cross-site request forgery)")
def cross_origin(ctx: Context) -> tuple[bool, str]:
    reference = ctx.client.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Bitte um Rückruf."}).json()["reference"]
    response = ctx.client.post(f"/api/v1/staff/inbox/{reference}/review",
                               headers={"Cookie": f"amtslotse_staff={ctx.token}", "Origin": "https://boese.example"})
    return response.status_code == 403, f"status {response.status_code}"


@attack("9", "staff cookie without Secure behind HTTPS")
def secure_cookie(ctx: Context) -> tuple[bool, str]:
    response = ctx.client.post("/api/v1/staff/login", json={"name": "s.sicher", "password": PASSWORD},
                               headers={"X-Forwarded-Proto": "https"})
    cookie = response.headers.get("set-cookie", "")
    return "; secure" in cookie.lower(), cookie.split(";", 1)[0].split("=")[0] + "=…;" + cookie.split(";", 1)[-1]


@attack("9", "the staff search test's question in the access log")
def access_log(ctx: Context) -> tuple[bool, str]:
    from security_access import access_log as captured

    with captured() as records:
        ctx.client.get("/api/v1/staff/search-test", params={"tenant": TENANT, "q": "Ich heiße Erika Pflaumbaum"}, headers=ctx.staff)
        time.sleep(0.2)
    lines = [r for r in records if "search-test" in r]
    return bool(lines) and not any("Pflaumbaum" in r for r in lines), f"logged: {lines}"


@attack("9", "an HTML attachment served to staff")
def html_attachment(ctx: Context) -> tuple[bool, str]:
    page = b"<html><script>fetch('/api/v1/staff/inbox').then(r => r.text()).then(alert)</script></html>"
    reference = ctx.client.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Rechnung anbei.", "attachments": [
        {"filename": "rechnung.html", "content_type": "text/html", "data_base64": b64(page)}]}).json()["reference"]
    detail = ctx.client.get(f"/api/v1/staff/inbox/{reference}", headers=ctx.staff).json()
    attachment = detail["attachments"][0]
    response = ctx.client.get(f"/api/v1/staff/inbox/{reference}/attachments/{attachment['id']}", headers=ctx.staff)
    served, disposition = response.headers.get("content-type", ""), response.headers.get("content-disposition", "")
    held = "html" not in served and disposition.startswith("attachment") and "html" not in attachment["content_type"]
    return held, f"served as {served}, {disposition.split(';')[0]}, listed as {attachment['content_type']}"


@attack("9", "staff data cacheable by the browser or a proxy")
def caching(ctx: Context) -> tuple[bool, str]:
    values = {p: ctx.client.get(p, headers=ctx.staff, params={"tenant": TENANT}).headers.get("cache-control")
              for p in ("/api/v1/staff/inbox", "/staff/context.json", "/api/v1/staff/analytics")}
    return all(v == "no-store" for v in values.values()), str(values)


@attack("9", "OpenAPI without security schemes and error statuses")
def openapi(ctx: Context) -> tuple[bool, str]:
    schema = ctx.client.get("/openapi.json").json()
    schemes = sorted(schema.get("components", {}).get("securitySchemes", {}))
    missing = [f"{m.upper()} {p}" for p, ops in schema["paths"].items() for m, op in ops.items()
               if not {"400", "413", "422", "500"} <= set(op.get("responses", {}))
               or (p.startswith("/api/v1/staff") and not p.endswith("/login") and not op.get("security"))]
    return bool(schemes) and not missing, f"schemes {schemes}; operations lacking statuses or security: {len(missing)}"


@attack("9", "/docs loading scripts from a CDN")
def docs_cdn(ctx: Context) -> tuple[bool, str]:
    page = ctx.client.get("/docs").text
    external = [u for u in page.split('"') if u.startswith(("http://", "https://", "//"))]
    bundle = ctx.client.get("/docs/static/swagger-ui-bundle.js")
    return not external and bundle.status_code == 200, f"external URLs: {external or 'none'}; local bundle {bundle.status_code}"


# --- the run ----------------------------------------------------------------------------------


def prepare(home: Path, cpu_seconds: float | None) -> Services:
    """Services over a home with the starter pack (no embedder), the inbox model trained."""
    overrides = {} if cpu_seconds is None else {"attachment_cpu_seconds": cpu_seconds}
    try:
        settings = Settings(home=home, embedder="none", llm_base_url="", llm_provider="", tenants_dir=None, **overrides)
    except Exception:  # an older checkout without the setting
        settings = Settings(home=home, embedder="none", llm_base_url="", llm_provider="", tenants_dir=None)
    with Services.open(settings) as services:
        load_starter(services.store, settings)
    from amtslotse.inbox.classify import load_model

    load_model(home=home)  # train the inbox model before the clock starts (cached in the home)
    return Services.open(settings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="replay only the attacks of this finding (1 to 10)")
    parser.add_argument("--default-budget", action="store_true", help="keep the default CPU budget of attachments (60 s)")
    args = parser.parse_args()
    from security_access import ACCESS_ATTACKS

    attacks = sorted(ATTACKS + ACCESS_ATTACKS, key=lambda a: int(a[0]))  # stable: registration order within a finding
    with tempfile.TemporaryDirectory(prefix="amtslotse-security-") as folder:
        services = prepare(Path(folder), None if args.default_budget else 10.0)
        services.store.add_staff_user("s.sicher", TENANT, ["sachbearbeitung", "auswertung"], PASSWORD)
        failed = 0
        try:
            with serving(services) as url, httpx.Client(base_url=url, timeout=300) as client:
                token = client.post("/api/v1/staff/login", json={"name": "s.sicher", "password": PASSWORD}).json()["token"]
                ctx = Context(url, services, client, token)
                print(f"server {url} (starter pack, no embedder); {len(attacks)} attacks\n")
                for finding, name, function in attacks:
                    if args.only and finding != args.only:
                        continue
                    started = time.monotonic()
                    try:
                        held, detail = function(ctx)
                    except Exception as error:  # noqa: BLE001 - an attack that breaks the server's answer failed
                        held, detail = False, f"error: {type(error).__name__}: {error}"
                    failed += not held
                    print(f"{'held  ' if held else 'FAILED'}  {finding:>2}  {name}  ({time.monotonic() - started:.1f} s)")
                    print(f"          {detail}")
        finally:
            services.close()
    print(f"\n{'all held' if not failed else f'{failed} FAILED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
