"""Handover: the citizen agrees to send a summary of their request to staff; it becomes an
inbox message (channel "chat") that is triaged like any other::

    receipt = hand_over(services, "3f1c9a2e-...", summary, contact="0171 ...")
    receipt.reference    # 'MK-2026-000017'

The summary is the text the citizen saw, possibly edited, plus the contact way they chose to
give: it is a message to the Jobcenter like a letter, so the inbox keeps it as sent (with
personal data marked) until the inbox retention ends.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from amtslotse.ask import texts
from amtslotse.ask.conversation import ChatError
from amtslotse.inbox.intake import accept
from amtslotse.inbox.message import IncomingMessage


@dataclass(frozen=True)
class Receipt:
    reference: str
    status: str
    next_steps: str
    priority: bool

    def to_dict(self) -> dict:
        return {"reference": self.reference, "status": self.status, "next_steps": self.next_steps, "priority": self.priority}


def hand_over(services, conversation_id: str, summary: str, contact: str = "") -> Receipt:
    """Send the agreed summary to the inbox of the conversation's tenant."""
    settings = services.settings
    tenant = services.store.conversation_tenant(conversation_id)
    if tenant is None:
        raise ChatError("conversation_not_found", "Dieses Gespräch gibt es nicht (mehr). Bitte stellen Sie Ihre Frage neu.")
    if not summary.strip():
        raise ChatError("empty_summary", "Die Zusammenfassung ist leer.")
    if len(summary) + len(contact) > settings.max_message_chars:
        raise ChatError("summary_too_long", f"Die Zusammenfassung ist zu lang (höchstens {settings.max_message_chars} Zeichen).")
    urgent = any(t.outcome == "urgent" for t in services.store.recent_turns(tenant, conversation_id, 20))
    text = summary.strip() + (f"\n\nKontakt: {contact.strip()}" if contact.strip() else "")
    # The same summary sent twice (a double click, a retry) is one message.
    key = hashlib.sha256(f"{conversation_id}\n{text}".encode()).hexdigest()[:32]
    message = IncomingMessage(
        channel="chat", external_id=f"chat-{key}", received_at=datetime.now(timezone.utc), sender=contact.strip(),
        subject=texts.HANDOVER_SUBJECT + (f" ({texts.HANDOVER_URGENT})" if urgent else ""), text=text, attachments=[],
    )
    accepted = accept(services.store, message, tenant, settings)
    return Receipt(accepted.reference, "received", texts.HANDOVER_RECEIVED, urgent)
