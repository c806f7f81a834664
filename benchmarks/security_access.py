"""The access attacks of issue 12 (findings 2, 4, 5, 8 and 10), replayed by security.py.

Each function takes security.py's context (the server's URL, an HTTP client, its services)
and returns (held, detail) as the attacks there do. The attacker speaks as other clients with
X-Forwarded-For (uvicorn trusts it from loopback), so that the lockouts and rate limits it
provokes hit only its own addresses, never the other attacks'. Finding 10 starts two more
servers (workers) over one fresh database with small limits, as an installation would run them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from _common import serving
from amtslotse.services import Services
from amtslotse.settings import Settings

TENANT = "musterkreis"
TOKEN = "X-Conversation-Token"
PASSWORD = "Benchmark-Zugang-2026"
QUESTION = "Ich heiße Erika Pflaumbaum. Ist mein Antrag auf Bürgergeld schon durch?"

ACCESS_ATTACKS: list[tuple[str, str, Callable[[Any], tuple[bool, str]]]] = []


def attack(finding: str, name: str):
    def register(function):
        ACCESS_ATTACKS.append((finding, name, function))
        return function
    return register


def accounts():
    """amtslotse.governance.accounts, imported when an attack runs: an older checkout without it
    (PYTHONPATH=<checkout>/src) fails those attacks instead of the whole run."""
    from amtslotse.governance import accounts as module

    return module


def client(address: str) -> dict[str, str]:
    """Headers that make the request come from `address` (a documentation address, RFC 5737)."""
    return {"X-Forwarded-For": address}


def ask(ctx, conversation: str, token: str | None = None, address: str = "198.51.100.2", text: str = QUESTION,
        http: httpx.Client | None = None) -> httpx.Response:
    headers = client(address) | ({TOKEN: token} if token else {})
    return (http or ctx.client).post(f"/api/v1/conversations/{conversation}/messages",
                                     json={"text": text, "tenant": TENANT}, headers=headers)


@contextmanager
def access_log() -> Iterator[list[str]]:
    """The server's access-log lines while the block runs (kept here, not printed)."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("uvicorn.access")
    handlers, level = logger.handlers[:], logger.level
    logger.handlers = [Keep()]
    logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        logger.handlers = handlers
        logger.setLevel(level)


# --- 2: the conversation id as the only credential ---------------------------------------------


@attack("2", "someone who knows a conversation id posts, reads the history, hands over and rates")
def conversation_id_alone(ctx) -> tuple[bool, str]:
    with access_log() as records:
        conversation = str(uuid.uuid4())
        first = ask(ctx, conversation)
        token, message = first.json()["conversation_token"], first.json()["message_id"]
        inbox_before = len(ctx.services.store.inbox_items(TENANT, limit=5000))
        intruder = client("203.0.113.66")
        statuses = {}
        for label, guess in (("ohne", None), ("geraten", "geraten"), ("fast", token[:-1])):
            headers = intruder | ({TOKEN: guess} if guess else {})
            asked = ctx.client.post(f"/api/v1/conversations/{conversation}/messages", headers=headers,
                                    json={"text": "Was habe ich vorhin gefragt?", "tenant": TENANT})
            handed = ctx.client.post("/api/v1/handovers", headers=headers, json={
                "conversation_id": conversation, "summary": "Bitte zurückrufen.", "consent": True})
            rated = ctx.client.post(f"/api/v1/conversations/{conversation}/messages/{message}/feedback",
                                    headers=headers, json={"rating": "down"})
            leaked = any("Pflaumbaum" in r.text or "Bürgergeld" in r.text for r in (asked, handed, rated))
            statuses[label] = (asked.status_code, handed.status_code, rated.status_code, leaked)
        inbox_after = len(ctx.services.store.inbox_items(TENANT, limit=5000))
        rating = ctx.services.store.recent_turns(TENANT, conversation, 5)[0].rating
        owner = ctx.client.post("/api/v1/handovers", headers=client("198.51.100.2") | {TOKEN: token}, json={
            "conversation_id": conversation, "summary": "Bitte zurückrufen.", "consent": True})
        time.sleep(0.2)
    logged = [r for r in records if "conversations" in r or "handovers" in r]
    in_log = [r for r in logged if conversation in r]
    refused = all(s[:3] == (403, 403, 403) and not s[3] for s in statuses.values())
    held = refused and inbox_after == inbox_before and rating is None and owner.status_code == 201 and logged and not in_log
    detail = (f"without/guessed/almost the token (message, handover, rating; history leaked): {statuses}; "
              f"handovers made by the intruder: {inbox_after - inbox_before}; rating stored: {rating}; "
              f"the owner's handover with the token: {owner.status_code}; id in {len(in_log)} of {len(logged)} access-log lines")
    return bool(held), detail


# --- 4: login -------------------------------------------------------------------------------------


def login(ctx, name: str, password: str, address: str, headers: dict | None = None) -> httpx.Response:
    return ctx.client.post("/api/v1/staff/login", json={"name": name, "password": password},
                           headers=client(address) | (headers or {}))


@attack("4", "300 wrong passwords, then the right one; a flood of names from one address")
def login_throttle(ctx) -> tuple[bool, str]:
    settings = ctx.services.settings
    accounts().save_staff_user(ctx.services.store, "s.ziel", TENANT, ["sachbearbeitung"], PASSWORD, actor="benchmark")
    wrong = [login(ctx, "s.ziel", f"falsch-{n:04d}-passwort", f"198.51.100.{10 + n % 200}").status_code
             for n in range(300)]
    right = login(ctx, "s.ziel", PASSWORD, "198.51.100.250")
    locked_after = wrong.index(429) if 429 in wrong else None
    # Another worker sees the lockout: it is kept in the database, not in this process.
    from amtslotse.store import open_store
    from amtslotse.web.limits import hashed

    other = open_store(settings)
    try:
        wait = other.login_wait(["account:" + hashed("login", "s.ziel")])
    finally:
        other.close()
    names = [login(ctx, f"name-{n:03d}", "falsch-falsch", "203.0.113.20").status_code
             for n in range(settings.login_max_failures_per_address + 2)]
    held = (locked_after == settings.login_max_failures and right.status_code == 429
            and "Retry-After" in right.headers and wait > 0 and names[-1] == 429)
    detail = (f"account: {wrong.count(401)}x 401, then 429 from try {locked_after + 1 if locked_after is not None else '-'} "
              f"on; the right password: {right.status_code} (Retry-After {right.headers.get('Retry-After')} s); "
              f"lockout seen by another store object: {wait:.0f} s; one address, "
              f"{len(names)} names: {names.count(401)}x 401, then {names[names.count(401):]}")
    return held, detail


@attack("4", "login time tells which names exist")
def login_same_work(ctx) -> tuple[bool, str]:
    accounts().save_staff_user(ctx.services.store, "s.bekannt", TENANT, ["sachbearbeitung"], PASSWORD, actor="benchmark")
    real, calls = hashlib.scrypt, []

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    counts: dict[str, list[int]] = {"bekannt": [], "unbekannt": []}
    seconds: dict[str, list[float]] = {"bekannt": [], "unbekannt": []}
    hashlib.scrypt = counting  # the server runs in this process: its password checks are counted
    try:
        for n in range(4):  # fewer tries than the lockout needs; each from its own address
            for kind, name in (("bekannt", "s.bekannt"), ("unbekannt", f"s.unbekannt{n}")):
                calls.clear()
                started = time.perf_counter()
                status = login(ctx, name, "falsch-falsch-falsch", f"203.0.113.{100 + n}").status_code
                seconds[kind].append(time.perf_counter() - started)
                counts[kind].append(len(calls) if status == 401 else -1)
    finally:
        hashlib.scrypt = real
    held = counts["bekannt"] == counts["unbekannt"] and min(counts["bekannt"]) >= 1
    detail = (f"scrypt computations per failed login: known {counts['bekannt']}, unknown {counts['unbekannt']}; "
              f"median time known {statistics.median(seconds['bekannt']) * 1000:.0f} ms, "
              f"unknown {statistics.median(seconds['unbekannt']) * 1000:.0f} ms (printed, not judged)")
    return held, detail


@attack("4", "staff login answers CORS to another web site")
def login_cors(ctx) -> tuple[bool, str]:
    evil = {"Origin": "https://boese.example"}
    posted = login(ctx, "s.ziel", "falsch-falsch", "203.0.113.30", evil)
    preflight = ctx.client.options("/api/v1/staff/login", headers=evil | {"Access-Control-Request-Method": "POST"})
    headers = {k: v for r in (posted, preflight) for k, v in r.headers.items() if k.lower().startswith("access-control")}
    return not headers, f"login {posted.status_code}, preflight {preflight.status_code}; CORS headers: {headers or 'none'}"


# --- 5: idempotency keys --------------------------------------------------------------------------


@attack("5", "an idempotency key sent first by someone else, or again with another body")
def idempotency_keys(ctx) -> tuple[bool, str]:
    store, settings = ctx.services.store, ctx.services.settings
    _, first = accounts().create_api_key(store, settings, TENANT, "formular-a", actor="benchmark")
    _, second = accounts().create_api_key(store, settings, TENANT, "formular-b", actor="benchmark")
    genuine = "Antrag auf Weiterbewilligung, eingereicht über das Online-Formular."
    body = {"tenant": TENANT, "text": genuine, "client_key": "vorgang-0001"}
    anonymous = ctx.client.post("/api/v1/inbox", json=body | {"text": "Gefälschter Text"}, headers=client("203.0.113.40"))
    sent = ctx.client.post("/api/v1/inbox", json=body, headers={"Authorization": f"Bearer {first}"})
    reference = sent.json().get("reference")
    retry = ctx.client.post("/api/v1/inbox", json=body, headers={"Authorization": f"Bearer {first}"})
    changed = ctx.client.post("/api/v1/inbox", json=body | {"text": "Ein anderer Text."},
                              headers={"Authorization": f"Bearer {first}"})
    other = ctx.client.post("/api/v1/inbox", json=body | {"text": "Ein anderer Vorgang."},
                            headers={"Authorization": f"Bearer {second}"})
    stored = store.inbox_item(TENANT, reference).body if reference else None
    held = (anonymous.status_code == 401 and sent.status_code == 202 and retry.json().get("reference") == reference
            and changed.status_code == 409 and reference not in changed.text and other.status_code == 202
            and other.json()["reference"] != reference and stored == genuine)
    detail = (f"anonymous with a key: {anonymous.status_code}; key A: {sent.status_code} {reference}, retry -> "
              f"{retry.json().get('reference')}, other body: {changed.status_code}; key B, same idempotency key: "
              f"{other.status_code} {other.json().get('reference')}; stored text unchanged: {stored == genuine}")
    return held, detail


# --- 8: sessions ----------------------------------------------------------------------------------


def cli(ctx, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`amtslotse ARGS` in a subprocess on the server's home (another process, one database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTSLOTSE_")}
    env |= {"AMTSLOTSE_HOME": str(ctx.services.settings.home), "AMTSLOTSE_EMBEDDER": "none",
            "AMTSLOTSE_LLM_BASE_URL": "", "AMTSLOTSE_LLM_PROVIDER": ""}
    return subprocess.run([sys.executable, "-m", "amtslotse.cli", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


@attack("8", "sessions outlive a password change, logout-all and a disabled account")
def sessions_end(ctx) -> tuple[bool, str]:
    store, name = ctx.services.store, "s.wechsel"
    accounts().save_staff_user(store, name, TENANT, ["sachbearbeitung"], PASSWORD, actor="benchmark")

    def session(password: str = PASSWORD) -> dict:
        token = login(ctx, name, password, "198.51.100.80").json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        opened.append(alive(headers))  # each session works before the step that must end it
        return headers

    def alive(headers: dict) -> bool:
        return ctx.client.get("/api/v1/staff/inbox", headers=headers, params={"tenant": TENANT}).status_code == 200

    steps: dict[str, str] = {}
    opened: list[bool] = []
    # The password changed over the API: both open sessions end (also the one that changed it).
    one, two = session(), session()
    new = PASSWORD + "-neu"
    changed = ctx.client.post("/api/v1/staff/password", headers=one, json={"current_password": PASSWORD, "new_password": new})
    steps["password (API)"] = f"{changed.status_code}, sessions alive after: {[alive(one), alive(two)]}"
    ok = changed.status_code == 200 and not alive(one) and not alive(two)
    # The password changed on the command line (`staff add` again): its session ends.
    three = session(new)
    added = cli(ctx, "staff", "add", name, "--tenant", TENANT, "--role", "sachbearbeitung", "--password-stdin",
                stdin=PASSWORD + "\n")
    steps["password (CLI staff add)"] = f"exit {added.returncode}, session alive after: {alive(three)}"
    ok = ok and added.returncode == 0 and not alive(three)
    for command in ("logout-all", "disable"):
        headers = session()
        done = cli(ctx, "staff", command, name)
        steps[f"staff {command}"] = f"exit {done.returncode}, session alive after: {alive(headers)}"
        ok = ok and done.returncode == 0 and not alive(headers)
    refused = login(ctx, name, PASSWORD, "198.51.100.81").status_code
    steps["login after disable"] = str(refused)
    audited = [e.action for e in store.audit_entries(TENANT) if e.object_id == name]
    steps["audit"] = ", ".join(audited)
    steps["sessions working before"] = f"{sum(opened)} of {len(opened)}"
    held = ok and all(opened) and refused == 401 and "staff_user_disabled" in audited
    return held, "; ".join(f"{k}: {v}" for k, v in steps.items())


# --- 10: limits -----------------------------------------------------------------------------------

LIMITS = {"rate_limit_per_client": 4, "rate_limit_per_tenant": 12, "rate_limit_window_seconds": 3600,
          "max_conversation_turns": 3}


@attack("10", "one client floods the chat, many clients flood a tenant, a conversation without end")
def limits(ctx) -> tuple[bool, str]:
    """Two servers (workers) over one fresh database with small limits (LIMITS): the counters
    are shared through the database, so a client gains nothing by alternating between them."""
    with tempfile.TemporaryDirectory(prefix="amtslotse-limits-") as home, ExitStack() as stack:
        settings = Settings(_env_file=None, home=Path(home), embedder="none", llm_base_url="", llm_provider="",
                            tenants_dir=None, **LIMITS)
        urls = []
        for _ in range(2):
            services = stack.enter_context(Services.open(settings))
            urls.append(stack.enter_context(serving(services)))
        http = stack.enter_context(httpx.Client(timeout=120))
        flood = [http.post(f"{urls[n % 2]}/api/v1/conversations/{uuid.uuid4()}/messages", headers=client("198.51.100.90"),
                           json={"text": "Wer zahlt die Miete?", "tenant": TENANT}) for n in range(6)]
        completion = {"model": f"amtslotse:{TENANT}", "messages": [{"role": "user", "content": "Wer zahlt die Miete?"}]}
        tenant = [http.post(f"{urls[n % 2]}/v1/chat/completions", json=completion, headers=client(f"203.0.113.{150 + n}"))
                  for n in range(LIMITS["rate_limit_per_tenant"] + 2)]
        first = http.post(f"{urls[0]}/api/v1/conversations/{uuid.uuid4()}/messages", headers=client("198.51.100.91"),
                          json={"text": "Wer zahlt die Miete?", "tenant": TENANT})
        conversation, token = first.json()["conversation_id"], first.json()["conversation_token"]
        turns = [first.status_code] + [
            http.post(f"{urls[n % 2]}/api/v1/conversations/{conversation}/messages",
                      headers=client("198.51.100.91") | {TOKEN: token},
                      json={"text": f"Und Frage {n}?", "tenant": TENANT}).status_code for n in range(3)]
    codes = [r.status_code for r in flood]
    limited = [r for r in flood + tenant if r.status_code == 429]
    retry = sorted({r.headers.get("Retry-After") for r in limited})
    expected = LIMITS["rate_limit_per_client"]
    held = (codes == [200] * expected + [429] * (len(codes) - expected)
            and [r.status_code for r in tenant][-2:] == [429, 429] and tenant[0].status_code == 200
            and all(r.headers.get("Retry-After", "").isdigit() for r in limited) and turns == [200, 200, 200, 409])
    detail = (f"one client, alternating between two workers: {codes}; {len(tenant)} clients of one tenant: "
              f"{[r.status_code for r in tenant]}; Retry-After {retry}; one conversation's turns "
              f"(cap {LIMITS['max_conversation_turns']}): {turns}")
    return held, detail
