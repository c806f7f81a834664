"""The inbox: a message in the queue with its attachments, what triage saves for it, and the
fixed value sets of its states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

# Fixed value sets are Literal types, not StrEnums: the values are the very strings stored and
# sent as JSON, and psycopg would write an Enum member as its *name*. `typing.get_args` gives the
# values in the order written.
InboxState = Literal["new", "in_review", "answered", "forwarded", "closed"]
"""Where a message to staff stands in review (`InboxItem.state`)."""
TriageStatus = Literal["pending", "done", "failed"]
"""Whether a message's triage (reading, flags, category, routing, draft) has run."""

STATES: tuple[InboxState, ...] = get_args(InboxState)
"""Review states: new -> in_review -> answered | forwarded | closed."""

TRIAGE_STATUSES: tuple[TriageStatus, ...] = get_args(TriageStatus)

UNTRIAGED_PRIORITY = -1
"""Priority of a message not yet triaged. Triaged ones have triage.py's 2 (notlage), 1 (frist)
or 0; queues sort by priority descending, so untriaged ones (seconds, normally) come last
and a backlog after an outage does not hide the known urgent ones."""


@dataclass
class InboxAttachment:
    """An attachment as stored; `data` is only loaded when asked for (it can be megabytes)."""

    filename: str
    content_type: str
    data: bytes | None = None
    size: int = 0
    text: str = ""  # extracted text (clear, deleted with the message)
    doc_type: str = ""  # recognised document type, '' until processed
    id: int | None = None


@dataclass
class InboxItem:
    """A message in the queue. `body` and `subject` are clear text (staff need them; deleted
    at `delete_after`); `redacted` is what triage, drafts and logs may see.
    Lists leave `body` empty (not loaded)."""

    tenant: str
    channel: str  # api | email | imap | chat
    external_id: str  # Message-ID, client key or conversation id: the idempotency key
    received_at: datetime
    body: str
    redacted: str
    delete_after: datetime
    sender: str = ""
    subject: str = ""
    conversation_id: str | None = None
    contact: str = ""
    state: InboxState = "new"
    assignee: str | None = None
    team: str | None = None
    category: str | None = None
    flags: list[str] = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    priority: int = UNTRIAGED_PRIORITY
    confidence: float | None = None
    draft: dict | None = None
    triage_status: TriageStatus = "pending"
    updated_at: datetime | None = None
    first_response_at: datetime | None = None
    attachments: list[InboxAttachment] = field(default_factory=list)
    id: int | None = None
    reference: str = ""


@dataclass
class TriageRecord:
    """What processing saves for one message, in one transaction."""

    category: str
    flags: list[str]
    fields: dict
    team: str | None
    priority: int
    confidence: float | None
    draft: dict | None
    attachments: list[tuple[int, str, str]] = field(default_factory=list)  # (attachment id, text, doc_type)
