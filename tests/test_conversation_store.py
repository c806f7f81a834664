"""Conversations in the store, run against SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from amtslotse.errors import ConversationConflict
from amtslotse.models import Turn

NOW = datetime(2026, 11, 24, 22, 0, tzinfo=timezone.utc)


def turn(question: str, minutes: int = 0, **extra) -> Turn:
    return Turn(
        question=question, answer=f"Antwort auf {question}", outcome="answered", mode="extractive",
        confidence=0.7, language="de", created_at=NOW + timedelta(minutes=minutes), **extra,
    )


def test_turns_are_kept_in_order_per_conversation_and_tenant(store):
    expiry = NOW + timedelta(days=30)
    first = store.add_turn("gespraech-0001", "musterkreis", turn("Zahlt ihr die Nebenkosten?", citations=[{"citation": "§ 22 SGB II"}]), expiry)
    second = store.add_turn("gespraech-0001", "musterkreis", turn("und wenn ich umziehe?", 1), expiry)
    store.add_turn("gespraech-0002", "musterkreis", turn("Andere Frage", 2), expiry)
    assert second > first
    turns = store.recent_turns("musterkreis", "gespraech-0001", 10)
    assert [t.question for t in turns] == ["Zahlt ihr die Nebenkosten?", "und wenn ich umziehe?"]
    assert turns[0].citations == [{"citation": "§ 22 SGB II"}] and turns[0].created_at == NOW
    assert [t.question for t in store.recent_turns("musterkreis", "gespraech-0001", 1)] == ["und wenn ich umziehe?"]
    assert store.conversation_tenant("gespraech-0001") == "musterkreis"
    assert store.conversation_tenant("unbekannt-000") is None


def test_another_tenant_can_neither_read_nor_join_a_conversation(store):
    store.add_turn("gespraech-0001", "musterkreis", turn("Frage"), NOW + timedelta(days=30))
    assert store.recent_turns("beispielstadt", "gespraech-0001", 10) == []
    with pytest.raises(ConversationConflict):
        store.add_turn("gespraech-0001", "beispielstadt", turn("Übernahme?"), NOW + timedelta(days=30))
    turn_id = store.recent_turns("musterkreis", "gespraech-0001", 1)[0].id
    assert not store.set_feedback("beispielstadt", "gespraech-0001", turn_id, "down", None)


def test_feedback_is_stored_on_the_turn(store):
    turn_id = store.add_turn("gespraech-0001", "musterkreis", turn("Frage"), NOW + timedelta(days=30))
    assert store.set_feedback("musterkreis", "gespraech-0001", turn_id, "down", "zu kompliziert")
    assert not store.set_feedback("musterkreis", "gespraech-0001", turn_id + 99, "up", None)
    stored = store.recent_turns("musterkreis", "gespraech-0001", 1)[0]
    assert (stored.rating, stored.comment) == ("down", "zu kompliziert")


def test_retention_deletes_expired_conversations_with_their_turns(store):
    store.add_turn("alt-000001", "musterkreis", turn("alt", -60 * 24 * 31), NOW - timedelta(days=1))
    store.add_turn("neu-000001", "musterkreis", turn("neu"), NOW + timedelta(days=29))
    assert store.delete_expired_conversations(NOW) == 1
    assert store.conversation_tenant("alt-000001") is None
    assert store.recent_turns("musterkreis", "alt-000001", 10) == []
    assert [t.question for t in store.turns_between("musterkreis", NOW - timedelta(days=60), NOW + timedelta(days=1))] == ["neu"]
    assert store.delete_expired_conversations(NOW) == 0


def test_a_new_turn_extends_the_retention_of_its_conversation(store):
    store.add_turn("gespraech-0001", "musterkreis", turn("erste"), NOW + timedelta(days=1))
    store.add_turn("gespraech-0001", "musterkreis", turn("zweite", 5), NOW + timedelta(days=31))
    assert store.delete_expired_conversations(NOW + timedelta(days=2)) == 0
    assert len(store.recent_turns("musterkreis", "gespraech-0001", 10)) == 2
