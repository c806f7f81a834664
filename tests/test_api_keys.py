"""Security finding 5 of issue 12: idempotency keys of the inbox intake belong to an
authenticated integration (an API key: hashed, scoped to a tenant and a role, listed,
revocable, last use shown); the same key with another body is 409.

The attack: anyone could send a message with a key first; the genuine message with the same
key was then dropped and its sender got the attacker's reference number. Replayed against
the real app on loopback (tests/loopback_app.py); the store rules on both stores.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from amtslotse.errors import IdempotencyConflict
from amtslotse.models import InboxItem
from amtslotse.web.limits import hashed
from loopback_app import TENANT, cli_in_process, serve

FORM = "Antrag auf Weiterbewilligung, eingereicht über das Online-Formular des Landkreises."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-keys")
    with serve(home) as (url, services):
        services.store.ensure_tenant(TENANT)
        services.store.ensure_tenant("beispielstadt")
        yield url, services, home


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server[0], timeout=60) as client:
        yield client


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_an_anonymous_sender_cannot_take_over_an_idempotency_key(api, server):
    store = server[1].store
    _, secret = store.create_api_key(TENANT, "formularserver")
    hijack = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Gefälschter Text", "client_key": "form-0001"})
    assert hijack.status_code == 401 and hijack.json()["error"]["code"] == "api_key_required"
    assert hijack.headers["WWW-Authenticate"] == "Bearer"
    by_header = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Gefälschter Text"}, headers={"Idempotency-Key": "form-0001"})
    assert by_header.status_code == 401
    genuine = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": FORM, "client_key": "form-0001"}, headers=bearer(secret))
    assert genuine.status_code == 202, genuine.text
    assert store.inbox_item(TENANT, genuine.json()["reference"]).body == FORM
    # Anonymous intake stays open (the README offers it), each request a new message.
    one = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Bitte um Rückruf."})
    two = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Bitte um Rückruf."})
    assert one.status_code == two.status_code == 202 and one.json()["reference"] != two.json()["reference"]


def test_keys_are_scoped_to_the_api_key_and_a_changed_body_is_a_conflict(api, server):
    store = server[1].store
    key, first = store.create_api_key(TENANT, "formular-a")
    _, second = store.create_api_key(TENANT, "formular-b")
    body = {"text": FORM, "client_key": "vorgang-17", "subject": "Weiterbewilligung"}  # tenant: the key's own
    sent = api.post("/api/v1/inbox", json=body, headers=bearer(first))
    assert sent.status_code == 202, sent.text
    # The key's rate-limit counter is its tenant's (deleted with the tenant).
    counter = store._read("SELECT tenant FROM rate_counters WHERE bucket = ?", (hashed("client", "inbox", f"apikey:{key.id}"),))
    assert [tuple(r) for r in counter] == [(TENANT,)]
    reference = sent.json()["reference"]
    retry = api.post("/api/v1/inbox", json=body | {"tenant": TENANT}, headers=bearer(first))
    assert retry.status_code == 202 and retry.json()["reference"] == reference  # a retry is safe
    changed = api.post("/api/v1/inbox", json=body | {"text": FORM + " Geändert."}, headers=bearer(first))
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "idempotency_conflict"
    assert reference not in changed.text
    other = api.post("/api/v1/inbox", json=body | {"text": "Ein ganz anderer Vorgang."}, headers=bearer(second))
    assert other.status_code == 202 and other.json()["reference"] != reference  # another integration's key 17
    assert store.inbox_item(TENANT, reference).body == FORM


def test_wrong_revoked_and_foreign_keys_are_refused_and_use_is_recorded(api, server):
    store = server[1].store
    key, secret = store.create_api_key(TENANT, "formular-c")
    assert store.api_keys(TENANT)[-1].last_used_at is None
    for wrong in ("alk_geraten", secret[:-2], "kein-schluessel"):
        response = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": FORM}, headers=bearer(wrong))
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
    foreign = api.post("/api/v1/inbox", json={"tenant": "beispielstadt", "text": FORM}, headers=bearer(secret))
    assert foreign.status_code == 403
    assert api.post("/api/v1/inbox", json={"text": FORM}, headers=bearer(secret)).status_code == 202
    listed = next(k for k in store.api_keys(TENANT) if k.id == key.id)
    assert listed.last_used_at is not None and listed.active
    assert store.revoke_api_key(TENANT, key.id)
    revoked = api.post("/api/v1/inbox", json={"text": FORM}, headers=bearer(secret))
    assert revoked.status_code == 401


def test_apikey_create_list_revoke_from_the_command_line(api, server):
    cli = cli_in_process  # the entry point in this process; test_security_sessions also as a subprocess (slow)
    home = server[2]
    created = cli(home, "apikey", "create", "--tenant", TENANT, "--name", "kommandozeile")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("alk_") and "nur dieses eine Mal" in created.stderr
    assert api.post("/api/v1/inbox", json={"text": FORM, "client_key": "k-1"}, headers=bearer(secret)).status_code == 202
    listed = cli(home, "apikey", "list", "--tenant", TENANT).stdout
    line = next(row for row in listed.splitlines() if "\tkommandozeile\t" in row)
    assert "posteingang" in line and secret[:10] in line and secret not in listed
    assert "nie benutzt" not in line and "aktiv" in line
    key_id = line.split("\t")[0]
    assert cli(home, "apikey", "revoke", key_id, "--tenant", "beispielstadt").returncode == 2  # not that tenant's
    assert cli(home, "apikey", "revoke", key_id, "--tenant", TENANT).returncode == 0
    assert "widerrufen" in next(r for r in cli(home, "apikey", "list", "--tenant", TENANT).stdout.splitlines()
                                if "\tkommandozeile\t" in r)
    assert api.post("/api/v1/inbox", json={"text": FORM}, headers=bearer(secret)).status_code == 401
    unknown = cli(home, "apikey", "create", "--tenant", "gibtsnichtkreis", "--name", "x")
    assert unknown.returncode == 2 and "gibt es hier nicht" in unknown.stderr


def test_api_keys_in_the_store(store):
    key, secret = store.create_api_key(TENANT, "formularserver")
    stored = store._read("SELECT key_hash FROM api_keys")
    assert stored == [(hashlib.sha256(secret.encode()).hexdigest(),)]  # only the hash
    assert (key.tenant, key.role, key.prefix, key.active) == (TENANT, "posteingang", secret[:10], True)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    assert store.api_key(secret, now).id == key.id
    assert store.api_keys(TENANT)[0].last_used_at == now
    store.api_key(secret, now + timedelta(seconds=5))  # within a minute: not written again
    assert store.api_keys(TENANT)[0].last_used_at == now
    assert store.api_keys("beispielstadt") == []
    assert not store.revoke_api_key("beispielstadt", key.id)  # another tenant's key
    assert store.revoke_api_key(TENANT, key.id) and not store.revoke_api_key(TENANT, key.id)
    assert store.api_key(secret) is None and store.api_keys(TENANT)[0].revoked_at is not None
    with pytest.raises(ValueError):
        store.create_api_key(TENANT, "x", role="admin")


def test_an_idempotency_key_with_other_content_is_a_conflict_in_the_store(store):
    now = datetime.now(timezone.utc)

    def item(channel: str, text: str) -> InboxItem:
        return InboxItem(tenant=TENANT, channel=channel, external_id="apikey:1:vorgang-1", received_at=now, body=text,
                         redacted=text, delete_after=now + timedelta(days=90))

    first = store.add_inbox_item(item("api", FORM), "MK")
    assert first[2] and store.add_inbox_item(item("api", FORM), "MK") == (first[0], first[1], False)
    with pytest.raises(IdempotencyConflict) as conflict:
        store.add_inbox_item(item("api", "Anderer Text"), "MK")
    assert conflict.value.reference == first[1]
    # Mail (the same Message-ID read again) keeps the first message, whatever was parsed.
    mail = store.add_inbox_item(item("email", FORM), "MK")
    assert store.add_inbox_item(item("email", "anders gelesen"), "MK") == (mail[0], mail[1], False)
