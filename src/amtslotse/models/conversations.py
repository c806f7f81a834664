"""Conversations: a stored turn of the Ask flow and what a request may do with a conversation id."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# Fixed value sets are Literal types, not StrEnums: the values are the very strings stored and
# sent as JSON, and psycopg would write an Enum member as its *name*. `typing.get_args` gives the
# values in the order written.
AnswerOutcome = Literal["answered", "handover", "unsure", "urgent", "authority", "refused", "injection", "greeting"]
"""What the Ask flow did with a question (`Answer.outcome`, stored with each turn)."""
AnswerMode = Literal["extractive", "curated", "generative", "fixed"]
"""How the answer text was made: a source's sentences, a curated answer, the LLM, a fixed text."""
ScreeningOutcome = Literal["injection", "urgent", "handover", "authority", "refuse", "answer"]
"""What screening says the pipeline does next, in priority order (`guard.Verdict.outcome`)."""


@dataclass
class Turn:
    """One question and answer of a conversation, as stored: redacted text only."""

    question: str  # redacted
    answer: str
    outcome: AnswerOutcome
    mode: AnswerMode
    confidence: float
    language: str
    created_at: datetime
    topic: str = ""  # what the answer was about (first source title), for analytics
    citations: list[dict[str, Any]] = field(default_factory=list)
    id: int | None = None
    conversation_id: str = ""
    tenant: str = ""
    rating: str | None = None  # "up" | "down"
    comment: str | None = None  # redacted


@dataclass(frozen=True)
class ConversationAccess:
    """What a request may do with a conversation id: 'new' (claimed now; `secret` is to be
    handed to the client once), 'ok' (the secret is right), 'denied' (no or a wrong secret)
    or 'conflict' (the right secret, but another tenant's conversation)."""

    status: Literal["new", "ok", "denied", "conflict"]
    turns: int = 0
    secret: str | None = None
