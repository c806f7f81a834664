"""Security finding 10 of issue 12: per-client and per-tenant rate limits on the public
endpoints (chat, handovers, OpenAI endpoint, inbox intake), 429 with Retry-After, counted in
the store so that several workers share them; and a cap on turns per conversation.

The attack: one client could send any number of questions (each costs a search and maybe
an LLM call) and make conversations of any length. Replayed against the real app on
loopback (tests/loopback_app.py); two servers on one database stand for two workers.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from loopback_app import TENANT, serve

HEADER = "X-Conversation-Token"
WINDOW = 86400  # fixed windows of a day: a test cannot straddle two windows (but at midnight UTC)


def ask(api, conversation: str, token: str | None = None, tenant: str = TENANT) -> httpx.Response:
    return api.post(f"/api/v1/conversations/{conversation}/messages", json={"text": "Wer zahlt die Miete?", "tenant": tenant},
                    headers={HEADER: token} if token else {})


def assert_limited(response: httpx.Response, window: int = WINDOW) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited" and "Sekunden" in response.json()["error"]["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= window


def test_one_client_is_limited_on_every_public_endpoint(tmp_path):
    with serve(tmp_path, rate_limit_per_client=3, rate_limit_window_seconds=WINDOW) as (url, services), httpx.Client(base_url=url, timeout=60) as api:
        services.store.ensure_tenant(TENANT)
        first = ask(api, str(uuid.uuid4()))
        conversation, token = first.json()["conversation_id"], first.json()["conversation_token"]
        assert ask(api, conversation, token).status_code == 200
        assert ask(api, str(uuid.uuid4())).status_code == 200
        assert_limited(ask(api, conversation, token))
        assert_limited(api.post(f"/api/v1/conversations/{conversation}/messages/{first.json()['message_id']}/feedback",
                                json={"rating": "up"}, headers={HEADER: token}))
        # Each endpoint counts on its own: handovers, the OpenAI endpoint, the inbox.
        for _ in range(3):
            handed = api.post("/api/v1/handovers", json={"conversation_id": conversation, "summary": f"Bitte anrufen {_}.",
                                                         "consent": True}, headers={HEADER: token})
            assert handed.status_code == 201, handed.text
        assert_limited(api.post("/api/v1/handovers", json={"conversation_id": conversation, "summary": "Noch einmal.",
                                                           "consent": True}, headers={HEADER: token}))
        completion = {"model": f"amtslotse:{TENANT}", "messages": [{"role": "user", "content": "Wer zahlt die Miete?"}]}
        for _ in range(3):
            assert api.post("/v1/chat/completions", json=completion).status_code == 200
        assert_limited(api.post("/v1/chat/completions", json=completion))
        for number in range(3):
            assert api.post("/api/v1/inbox", json={"tenant": TENANT, "text": f"Nachricht {number}"}).status_code == 202
        assert_limited(api.post("/api/v1/inbox", json={"tenant": TENANT, "text": "eine zu viel"}))
        # The stored counters name no address.
        buckets = " ".join(r[0] for r in services.store._read("SELECT bucket FROM rate_counters"))
        assert "127.0.0.1" not in buckets and TENANT not in buckets


def test_all_clients_of_one_tenant_are_limited_together(tmp_path):
    with serve(tmp_path, rate_limit_per_client=0, rate_limit_per_tenant=2, rate_limit_window_seconds=WINDOW) as (url, services), \
            httpx.Client(base_url=url, timeout=60) as api:
        services.store.ensure_tenant(TENANT)
        services.store.ensure_tenant("beispielstadt")
        assert ask(api, str(uuid.uuid4())).status_code == 200
        assert ask(api, str(uuid.uuid4())).status_code == 200
        assert_limited(ask(api, str(uuid.uuid4())))
        assert ask(api, str(uuid.uuid4()), tenant="beispielstadt").status_code == 200  # another tenant counts apart


def test_workers_share_the_counters(tmp_path):
    """Two servers (workers) on one database: the client's requests to both count together."""
    with serve(tmp_path, rate_limit_per_client=3, rate_limit_window_seconds=WINDOW) as (first_url, services), \
            serve(tmp_path, rate_limit_per_client=3, rate_limit_window_seconds=WINDOW) as (second_url, _), \
            httpx.Client(timeout=60) as api:
        services.store.ensure_tenant(TENANT)
        responses = [
            api.post(f"{url}/api/v1/conversations/{uuid.uuid4()}/messages", json={"text": "Miete?", "tenant": TENANT})
            for url in (first_url, second_url, first_url, second_url)
        ]
        assert [r.status_code for r in responses[:3]] == [200, 200, 200]
        assert_limited(responses[3])


def test_a_conversation_has_a_most_number_of_turns(tmp_path):
    with serve(tmp_path, max_conversation_turns=2) as (url, services), httpx.Client(base_url=url, timeout=60) as api:
        services.store.ensure_tenant(TENANT)
        first = ask(api, str(uuid.uuid4()))
        conversation, token = first.json()["conversation_id"], first.json()["conversation_token"]
        assert ask(api, conversation, token).status_code == 200
        full = ask(api, conversation, token)
        assert full.status_code == 409 and full.json()["error"]["code"] == "conversation_full"
        assert "neues Gespräch" in full.json()["error"]["message"]
        assert len(services.store.recent_turns(TENANT, conversation, 10)) == 2
        assert ask(api, str(uuid.uuid4())).status_code == 200  # a new conversation may start


def test_fixed_windows_in_the_store(store_factory):
    first, second = store_factory(), store_factory()
    start = 1_900_000_020.0  # a window of 60 s starts here
    assert [first.hit_rate_limits([("b", 2)], 60, now=start + i) for i in range(2)] == [0.0, 0.0]
    assert second.hit_rate_limits([("b", 2)], 60, now=start + 10) == pytest.approx(50.0)  # the other worker counts on
    assert second.hit_rate_limits([("b", 2)], 60, now=start + 60) == 0.0  # a new window
    # Several buckets in one call: over if any is over; a limit of 0 counts nothing.
    assert first.hit_rate_limits([("c", 5), ("d", 1), ("e", 0)], 60, now=start) == 0.0
    assert first.hit_rate_limits([("c", 5), ("d", 1), ("e", 0)], 60, now=start + 1) == pytest.approx(59.0)
    assert {r[0] for r in first._read("SELECT bucket FROM rate_counters")} == {"b", "c", "d"}
    # Counters of long-gone windows are deleted when new windows start.
    first.hit_rate_limits([("f", 1)], 60, now=start + 2 * 86400)
    assert {r[0] for r in first._read("SELECT bucket FROM rate_counters")} == {"f"}
