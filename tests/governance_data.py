"""Test data of the governance tests: stored as the entry points store it (see governance_fixtures.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from amtslotse.models import InboxAttachment, InboxItem, Turn

PASSWORD = "Verwaltung-2026-geheim"


def add_turn(store, tenant: str, conversation: str, question: str, mode: str = "curated", at: datetime | None = None,
             outcome: str = "answered") -> int:
    at = at or datetime.now(timezone.utc)
    turn = Turn(question=question, answer="Eine allgemeine Antwort.", outcome=outcome, mode=mode, confidence=0.9,
                language="de", created_at=at, topic="Unterkunft", citations=[{"citation": "§ 22 SGB II"}])
    return store.add_turn(conversation, tenant, turn, at + timedelta(days=30))


def add_message(store, tenant: str, key: str, *, channel: str = "email", at: datetime | None = None,
                conversation: str | None = None, attachments: int = 1, body: str = "Hallo, hier ist Erika Beispiel.",
                prefix: str = "MK") -> tuple[int, str]:
    at = at or datetime.now(timezone.utc)
    item = InboxItem(
        tenant=tenant, channel=channel, external_id=key, received_at=at, body=body, redacted="Hallo, hier ist [NAME].",
        delete_after=at + timedelta(days=90), sender="erika@example.org", subject="Mein Antrag",
        conversation_id=conversation, contact="0171 0000000" if conversation else "",
        attachments=[InboxAttachment(f"nachweis-{n}.pdf", "application/pdf", data=b"%PDF-1.4 " + bytes([n]) * 40)
                     for n in range(attachments)],
    )
    item_id, reference, created = store.add_inbox_item(item, prefix=prefix)
    assert created
    return item_id, reference
