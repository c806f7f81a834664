"""Security findings 2, 4 and 8 of issue 12, each attack replayed against the real app on
loopback (tests/loopback_app.py) and the store rules checked on both stores:

2. the conversation id was the only credential: now a per-conversation secret
   (X-Conversation-Token) guards further messages, feedback and handovers; ids stay out of
   the access log;
4. login had no throttle, told existing names by its time and answered CORS: now lockouts per
   account and address (in the store), the same scrypt work for unknown names, no CORS on
   staff routes;
8. a password change left sessions alive: now it ends them; `staff disable|remove|logout-all`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid

import httpx
import pytest

from amtslotse.models import Turn
from amtslotse.store import sql_staff
from loopback_app import TENANT, cli, cli_in_process, serve

PASSWORD = "Sitzungen-Test-2026"
QUESTION = "Ich heiße Erika Pflaumbaum. Ist mein Antrag schon durch?"
HEADER = "X-Conversation-Token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("security-sessions")
    with serve(home, log_level="info") as (url, services):
        services.store.ensure_tenant(TENANT)
        yield url, services, home


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server[0], timeout=60) as client:
        yield client


def ask(api, conversation: str, text: str = QUESTION, token: str | None = None) -> httpx.Response:
    headers = {HEADER: token} if token else {}
    return api.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text, "tenant": TENANT}, headers=headers)


def events_of(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            out.append((lines["event"], json.loads(lines["data"])))
    return out


# --- finding 2: the conversation secret ---------------------------------------------------------


def test_knowing_a_conversation_id_gives_no_access_to_it(api, server):
    """The attack: someone who learnt a conversation id posted into it (and got a handover
    summary with the earlier questions), handed it over and rated its answers."""
    services = server[1]
    conversation = str(uuid.uuid4())
    first = ask(api, conversation)
    assert first.status_code == 200, first.text
    token = first.json()["conversation_token"]
    assert token and first.headers[HEADER] == token

    for guess in (None, "geraten", token[:-1]):
        intruder = ask(api, conversation, "Und was habe ich vorhin gefragt?", token=guess)
        assert intruder.status_code == 403 and intruder.json()["error"]["code"] == "conversation_forbidden"
        assert "Pflaumbaum" not in intruder.text and "Antrag" not in intruder.text
        headers = {HEADER: guess} if guess else {}
        message_id = first.json()["message_id"]
        rated = api.post(f"/api/v1/conversations/{conversation}/messages/{message_id}/feedback",
                         json={"rating": "down"}, headers=headers)
        assert rated.status_code == 403
        handed = api.post("/api/v1/handovers", json={"conversation_id": conversation, "summary": "Bitte anrufen.",
                                                     "consent": True}, headers=headers)
        assert handed.status_code == 403
    turns = services.store.recent_turns(TENANT, conversation, 10)
    assert len(turns) == 1 and turns[0].rating is None
    assert not [i for i in services.store.inbox_items(TENANT, limit=500) if i.channel == "chat"]

    # The owner goes on with the secret; no new secret is issued for a known conversation.
    second = ask(api, conversation, "Wie lange dauert das?", token=token)
    assert second.status_code == 200 and "conversation_token" not in second.json() and HEADER not in second.headers
    feedback = api.post(f"/api/v1/conversations/{conversation}/messages/{second.json()['message_id']}/feedback",
                        json={"rating": "up"}, headers={HEADER: token})
    assert feedback.json() == {"ok": True}
    handed = api.post("/api/v1/handovers", json={"conversation_id": conversation, "summary": "Bitte anrufen.",
                                                 "consent": True}, headers={HEADER: token})
    assert handed.status_code == 201 and handed.json()["reference"]


def test_the_secret_comes_with_the_stream_and_a_new_id_needs_none(api):
    conversation = str(uuid.uuid4())
    with api.stream("POST", f"/api/v1/conversations/{conversation}/messages", json={"text": QUESTION, "tenant": TENANT},
                    headers={"Accept": "text/event-stream", HEADER: "von-einem-anderen-gespraech"}) as response:
        assert response.status_code == 200
        header = response.headers[HEADER]
        response.read()
    done = events_of(response.text)[-1]
    assert done[0] == "done" and done[1]["conversation_token"] == header
    assert ask(api, conversation, "Und dann?", token=header).status_code == 200


def test_a_conversation_of_another_tenant_is_a_conflict_only_with_its_secret(api, server):
    server[1].store.ensure_tenant("beispielstadt")
    conversation = str(uuid.uuid4())
    token = ask(api, conversation).json()["conversation_token"]
    other = api.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "Hallo", "tenant": "beispielstadt"},
                     headers={HEADER: token})
    assert other.status_code == 409 and other.json()["error"]["code"] == "conversation_conflict"
    blind = api.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "Hallo", "tenant": "beispielstadt"})
    assert blind.status_code == 403


def test_conversation_ids_never_reach_the_access_log(api):
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    try:
        conversation = str(uuid.uuid4())
        response = ask(api, conversation)
        api.post(f"/api/v1/conversations/{conversation}/messages/{response.json()['message_id']}/feedback",
                 json={"rating": "up"}, headers={HEADER: response.json()["conversation_token"]})
    finally:
        access.removeHandler(handler)
    logged = [line for line in lines if "/conversations/" in line]
    assert len(logged) == 2, lines
    assert all(conversation not in line and "/conversations/*/messages" in line for line in logged)


def test_the_store_keeps_only_a_hash_of_the_secret(store):
    access = store.open_conversation("gespraech-0001", TENANT, None)
    assert access.status == "new" and access.secret
    stored = store._read("SELECT secret_hash FROM conversation_secrets WHERE conversation_id = ?", ("gespraech-0001",))
    assert stored == [(hashlib.sha256(access.secret.encode()).hexdigest(),)]
    assert store.open_conversation("gespraech-0001", TENANT, None).status == "denied"
    assert store.open_conversation("gespraech-0001", TENANT, "falsch").status == "denied"
    assert store.open_conversation("gespraech-0001", "anderkreis", access.secret).status == "conflict"
    ok = store.open_conversation("gespraech-0001", TENANT, access.secret)
    assert (ok.status, ok.turns, ok.secret) == ("ok", 0, None)
    # Feedback and handover need a conversation with turns and its secret.
    assert store.conversation_access("gespraech-0001", access.secret) is None
    _add_turn(store, "gespraech-0001")
    assert store.conversation_access("gespraech-0001", access.secret) == TENANT
    assert store.conversation_access("gespraech-0001", "falsch") is None
    assert store.open_conversation("gespraech-0001", TENANT, access.secret).turns == 1


def test_a_failed_first_answer_frees_the_id_and_retention_deletes_secrets(store):
    from datetime import datetime, timedelta, timezone

    claim = store.open_conversation("gespraech-0002", TENANT, None)
    store.release_conversation("gespraech-0002", claim.secret)
    again = store.open_conversation("gespraech-0002", TENANT, None)
    assert again.status == "new" and again.secret != claim.secret
    store.release_conversation("gespraech-0002", claim.secret)  # an old secret frees nothing
    assert store.open_conversation("gespraech-0002", TENANT, again.secret).status == "ok"

    kept = store.open_conversation("gespraech-0003", TENANT, None)
    _add_turn(store, "gespraech-0003")
    store.release_conversation("gespraech-0003", kept.secret)  # it has a turn: stays claimed
    assert store.open_conversation("gespraech-0003", TENANT, None).status == "denied"

    later = datetime.now(timezone.utc) + timedelta(days=400)
    assert store.delete_expired_conversations(later) == 1
    assert store._read("SELECT COUNT(*) FROM conversation_secrets")[0][0] == 0


def test_a_conversation_stored_before_secrets_cannot_be_taken_over(store):
    _add_turn(store, "altes-gespraech")  # a conversation without a secret (before the migration)
    assert store.open_conversation("altes-gespraech", TENANT, None).status == "denied"


def _add_turn(store, conversation: str) -> None:
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    turn = Turn(question="[NAME] fragt", answer="Antwort", outcome="answered", mode="extractive", confidence=0.9,
                language="de", created_at=now)
    store.add_turn(conversation, TENANT, turn, now + timedelta(days=30))


# --- finding 4: login ---------------------------------------------------------------------------


def test_wrong_passwords_lock_the_account_and_the_right_one_waits(tmp_path):
    """The attack: 300 wrong passwords at 25/s, then the right one worked."""
    with serve(tmp_path) as (url, services), httpx.Client(base_url=url, timeout=60) as api:
        services.store.add_staff_user("s.ziel", TENANT, ["sachbearbeitung"], PASSWORD)
        for attempt in range(5):
            wrong = api.post("/api/v1/staff/login", json={"name": "s.ziel", "password": f"falsch-{attempt:04d}"})
            assert wrong.status_code == 401, wrong.text
        locked = api.post("/api/v1/staff/login", json={"name": "s.ziel", "password": PASSWORD})
        assert locked.status_code == 429 and locked.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(locked.headers["Retry-After"]) <= 60 and "token" not in locked.text


def test_guessing_many_names_from_one_address_locks_the_address(tmp_path):
    with serve(tmp_path, login_max_failures_per_address=4) as (url, services), httpx.Client(base_url=url, timeout=60) as api:
        services.store.add_staff_user("s.echt", TENANT, ["sachbearbeitung"], PASSWORD)
        for number in range(4):
            assert api.post("/api/v1/staff/login", json={"name": f"name-{number}", "password": "x" * 12}).status_code == 401
        blocked = api.post("/api/v1/staff/login", json={"name": "s.echt", "password": PASSWORD})
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1


def test_the_lockout_is_shared_by_workers_and_grows(store_factory):
    """Two store objects on one database are two workers: a lock set by one holds in the other."""
    first, second = store_factory(), store_factory()
    now = 1_900_000_000.0
    locks = [first.record_login_failure("account:x", 5, 900, 60, now=now + i) for i in range(7)]
    assert locks == [0, 0, 0, 0, 60, 120, 240]
    assert second.login_wait(["address:y", "account:x"], now=now + 6) == pytest.approx(240)
    assert second.login_wait(["address:y"], now=now + 6) == 0
    assert second.login_wait(["account:x"], now=now + 6 + 241) == 0
    # After the window passes without a failure the count starts again; a success clears it.
    assert second.record_login_failure("account:x", 5, 900, 60, now=now + 6 + 901) == 0
    second.clear_login_failures("account:x")
    assert first.login_wait(["account:x"], now=now) == 0


def test_an_unknown_name_costs_the_same_password_hashing(store, monkeypatch):
    """The attack: a login took 40 ms for an existing name and 2 ms for an unknown one."""
    store.add_staff_user("s.bekannt", TENANT, ["sachbearbeitung"], PASSWORD)
    calls = []
    real = sql_staff.hash_password
    monkeypatch.setattr(sql_staff, "hash_password", lambda password, salt=None: calls.append(1) or real(password, salt))
    assert store.check_staff_password("s.bekannt", "falsches-passwort") is None
    known = len(calls)
    assert store.check_staff_password("s.unbekannt", "falsches-passwort") is None
    assert known == 1 and len(calls) - known == known
    assert store.check_staff_password("s.bekannt", PASSWORD) == (TENANT, frozenset({"sachbearbeitung"}))


def test_staff_routes_answer_no_cors(api):
    evil = {"Origin": "https://boese.example"}
    login = api.post("/api/v1/staff/login", json={"name": "niemand", "password": "x" * 12}, headers=evil)
    assert login.status_code in (401, 403) and "access-control-allow-origin" not in login.headers  # 403: Origin check
    listing = api.get("/api/v1/staff/inbox", headers=evil)
    assert listing.status_code == 401 and "access-control-allow-origin" not in listing.headers
    preflight = api.options("/api/v1/staff/login", headers=evil | {"Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    page = api.get("/staff", headers=evil)
    assert "access-control-allow-origin" not in page.headers
    # The citizen API stays open to the Landkreis's web site (the widget), with the token header.
    chat = api.options(f"/api/v1/conversations/{uuid.uuid4()}/messages", headers=evil | {
        "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-conversation-token"})
    assert chat.status_code == 200 and chat.headers["access-control-allow-origin"] == "*"


# --- finding 8: sessions ------------------------------------------------------------------------


def _login(api, name: str, password: str = PASSWORD) -> dict:
    response = api.post("/api/v1/staff/login", json={"name": name, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _works(api, headers: dict) -> bool:
    status = api.get("/api/v1/staff/inbox", params={"tenant": TENANT}, headers=headers).status_code
    assert status in (200, 401)
    return status == 200


def test_a_password_change_ends_the_accounts_sessions(api, server):
    store = server[1].store
    store.add_staff_user("s.wechsel", TENANT, ["sachbearbeitung"], PASSWORD)
    store.add_staff_user("s.daneben", TENANT, ["sachbearbeitung"], PASSWORD)
    mine, other = _login(api, "s.wechsel"), _login(api, "s.daneben")
    store.add_staff_user("s.wechsel", TENANT, ["sachbearbeitung"], PASSWORD)  # same password: nothing ends
    assert _works(api, mine)
    store.add_staff_user("s.wechsel", TENANT, ["sachbearbeitung"], "Neues-Passwort-2026")
    assert not _works(api, mine) and _works(api, other)
    assert _works(api, _login(api, "s.wechsel", "Neues-Passwort-2026"))


@pytest.mark.parametrize("run, prefix", [(cli_in_process, "i"), pytest.param(cli, "s", marks=pytest.mark.slow)],
                         ids=["in-process", "subprocess"])
def test_staff_disable_remove_and_logout_all_from_the_command_line(api, server, run, prefix):
    """The commands through the CLI's entry point in this process, and (slow: an interpreter
    start and imports per command) as `python -m amtslotse.cli` subprocesses; the account names
    differ by runner (prefix), as both run against the module's server."""
    store, home = server[1].store, server[2]
    disabled, removed, logged_out = (f"{prefix}.{name}" for name in ("gesperrt", "entfernt", "abgemeldet"))
    for name in (disabled, removed, logged_out):
        store.add_staff_user(name, TENANT, ["sachbearbeitung"], PASSWORD)
    sessions = {name: [_login(api, name), _login(api, name)] for name in (disabled, removed, logged_out)}

    out = run(home, "staff", "logout-all", logged_out)
    assert out.returncode == 0 and "2 Sitzung(en)" in out.stdout, out.stderr
    assert not any(_works(api, h) for h in sessions[logged_out])
    assert _works(api, _login(api, logged_out))  # may log in again

    out = run(home, "staff", "disable", disabled)
    assert out.returncode == 0, out.stderr
    assert not any(_works(api, h) for h in sessions[disabled])
    assert api.post("/api/v1/staff/login", json={"name": disabled, "password": PASSWORD}).status_code == 401
    listed = run(home, "staff", "list").stdout
    assert f"{disabled}\tmusterkreis\tsachbearbeitung\tgesperrt" in listed and f"{removed}\tmusterkreis" in listed

    out = run(home, "staff", "remove", removed)
    assert out.returncode == 0, out.stderr
    assert not any(_works(api, h) for h in sessions[removed])
    assert removed not in run(home, "staff", "list").stdout

    missing = run(home, "staff", "disable", f"{prefix}.gibtsnicht")
    assert missing.returncode == 2 and "gibt es nicht" in missing.stderr and "Traceback" not in missing.stderr
    # `staff add` with a new password enables a disabled account again.
    enabled = run(home, "staff", "add", disabled, "--tenant", TENANT, "--role", "sachbearbeitung",
                  "--password-stdin", stdin="Wieder-Frei-2026\n")
    assert enabled.returncode == 0, enabled.stderr
    assert _works(api, _login(api, disabled, "Wieder-Frei-2026"))


def test_session_rules_in_the_store(store):
    from datetime import datetime, timedelta, timezone

    store.add_staff_user("s.regel", TENANT, ["redaktion"], PASSWORD)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    tokens = [store.start_staff_session("s.regel", later) for _ in range(3)]
    now = datetime.now(timezone.utc)
    assert store.end_staff_sessions("s.regel") == 3
    assert all(store.staff_session(t, now) is None for t in tokens)
    token = store.start_staff_session("s.regel", later)
    assert store.disable_staff_user("s.regel") and store.staff_session(token, now) is None
    assert store.check_staff_password("s.regel", PASSWORD) is None
    assert [a.disabled for a in store.staff_accounts()] == [True]
    assert store.disable_staff_user("s.regel")  # twice: still disabled, no double "!"
    store.add_staff_user("s.regel", TENANT, ["redaktion"], "Neu-Gesetzt-2026")
    assert store.check_staff_password("s.regel", "Neu-Gesetzt-2026") == (TENANT, frozenset({"redaktion"}))
    assert store.remove_staff_user("s.regel") and not store.remove_staff_user("s.regel")
    assert store.staff_accounts() == []
