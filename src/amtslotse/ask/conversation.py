"""Conversations: the Ask flow with memory, as the chat (HTTP, widget) uses it::

    chat = Chat(store, asker, settings)
    for event in chat.reply("3f1c9a2e-...", "musterkreis", "Zahlt ihr die Nebenkosten?"):
        print(event.kind)    # status, sources, text ..., done

The conversation is stored per id and tenant, redacted (the Answer's redacted question, never
the citizen's own text), and deleted `conversation_retention_days` after its last message.
Its recent questions let a follow-up ("und wenn ich umziehe?") be understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator

from amtslotse.ask.pipeline import Answer, Asker, Event
from amtslotse.errors import UserError
from amtslotse.models import Turn
from amtslotse.privacy.redaction import redact
from amtslotse.settings import Settings
from amtslotse.store.protocol import Store

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

PUBLIC_FIELDS = (
    "answer", "citations", "handover", "urgent", "refused", "confidence", "language", "mode", "stand",
    "urgent_kind", "emergency_contacts", "handover_summary", "urgent_advice", "german", "outcome", "suggestions",
)
"""What the citizen's client gets of an Answer (guard reason codes and the redacted copy stay inside)."""


class ChatError(UserError):
    """A request the chat cannot take (a user error); `code` names it for the HTTP layer
    (web/chat_api.py answers 403, 404, 409 or 422 with the code and the German message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def public_answer(answer: Answer, conversation_id: str, message_id: int) -> dict:
    data = answer.to_dict()
    return {"conversation_id": conversation_id, "message_id": message_id} | {k: data[k] for k in PUBLIC_FIELDS}


@dataclass
class Chat:
    store: Store
    asker: Asker
    settings: Settings

    def reply(
        self, conversation_id: str, tenant: str, text: str, *, simple: bool = False, language: str | None = None,
        now: datetime | None = None, notice_shown: bool = False,
    ) -> Iterator[Event]:
        """Answer one message; the last event is ("done", public answer dict with message_id).
        `notice_shown`: the client showed the AI and data notice before the first message (the
        widget does), so the first answer need not repeat it."""
        self.check(conversation_id, text)
        owner = self.store.conversation_tenant(conversation_id)
        if owner is not None and owner != tenant:
            raise ChatError("conversation_conflict", "Diese Gesprächsnummer gehört zu einem anderen Jobcenter.")
        history = [t.question for t in self.store.recent_turns(tenant, conversation_id, self.settings.history_turns)]
        for event in self.asker.stream(
            text, tenant, history=history, first_turn=owner is None and not notice_shown, simple=simple, language=language
        ):
            if event.kind != "done":
                yield event
                continue
            answer: Answer = event.data
            moment = now or datetime.now(timezone.utc)
            turn_id = self.store.add_turn(
                conversation_id, tenant, _turn(answer, moment),
                moment + timedelta(days=self.settings.conversation_retention_days),
            )
            yield Event("done", public_answer(answer, conversation_id, turn_id))

    def feedback(self, conversation_id: str, tenant: str, message_id: int, rating: str, comment: str | None) -> None:
        if rating not in ("up", "down"):
            raise ChatError("invalid_rating", "Bewertung bitte als „up“ oder „down“ angeben.")
        comment = redact(comment).text if comment else None
        if not self.store.set_feedback(tenant, conversation_id, message_id, rating, comment):
            raise ChatError("message_not_found", "Diese Antwort gibt es nicht (mehr).")

    def check(self, conversation_id: str, text: str) -> None:
        if not CONVERSATION_ID.match(conversation_id):
            raise ChatError(
                "invalid_conversation_id", "Die Gesprächsnummer muss 8 bis 64 Zeichen aus Buchstaben, Ziffern, - und _ haben."
            )
        if not text.strip():
            raise ChatError("empty_message", "Bitte schreiben Sie Ihre Frage.")
        if len(text) > self.settings.max_message_chars:
            raise ChatError(
                "message_too_long", f"Die Nachricht ist zu lang (höchstens {self.settings.max_message_chars} Zeichen)."
            )


def _turn(answer: Answer, moment: datetime) -> Turn:
    return Turn(
        question=answer.redacted_question, answer=answer.answer, outcome=answer.outcome, mode=answer.mode,
        confidence=answer.confidence, language=answer.language, created_at=moment,
        topic=answer.topic,
        citations=answer.citations,
    )
