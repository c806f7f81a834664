"""Intake data types: what every channel (e-mail file, IMAP, HTTP API, chat handover) hands
to the inbox flow.

Each channel turns its input into one `IncomingMessage`; everything after intake (store,
classify, extract, route) sees only this type. `external_id` is the deduplication key: the same
message arriving twice (an IMAP poll repeated after a crash, an API client retrying) has the
same key and is stored once.

Example:
    msg = IncomingMessage(
        channel="api", external_id="client-key-4711", received_at=datetime.now(timezone.utc),
        sender="", subject="Frage zur Miete", text="Meine Miete steigt ab Mai ...",
        attachments=[Attachment("mietvertrag.pdf", "application/pdf", pdf_bytes)],
    )
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

CHANNELS = frozenset({"email", "imap", "api", "chat"})


# Personal data (sender, subject, text, file names such as "AU_Mueller.pdf") stays out of
# repr(), so that a message in a log line or a traceback shows only ids and types.


@dataclass
class Attachment:
    filename: str = field(repr=False)
    content_type: str
    data: bytes = field(repr=False)  # raw bytes; kept out of repr (large, and may hold personal data)
    text: str = field(default="", repr=False)  # extracted text: PDF, DOCX, plain text, OCR of images
    doc_type: str = ""  # a key of `attachments.DOCUMENT_TYPES`, "" until analysed
    note: str = ""  # German note for staff when the text could not be read (too large, damaged, ...)
    ocr_pages: int = 0  # pages (images) read by OCR: usage per tenant (governance/usage.py)


@dataclass
class IncomingMessage:
    channel: str  # "email" | "imap" | "api" | "chat"
    external_id: str  # Message-ID, client idempotency key or handover reference: the dedup key
    received_at: datetime  # timezone-aware
    sender: str = field(repr=False)
    subject: str = field(repr=False)
    text: str = field(repr=False)
    attachments: list[Attachment] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Programming errors, not user input: fail loudly where the message is built.
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}, expected one of {sorted(CHANNELS)}")
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
