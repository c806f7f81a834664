"""Intake (DESIGN flow 3, first step): check a message, redact it, commit it, answer "accepted".

    >>> accepted = accept(store, message, "musterkreis", settings)
    >>> accepted.reference, accepted.created
    ('MK-2026-000017', True)
    >>> accept(store, message, "musterkreis", settings).created   # the same message again
    False

Nothing accepted is lost: the row (message, attachments, audit entry) is committed before
`accept` returns, so whoever answers "accepted" (the HTTP API, the mail import, the IMAP
poll) answers after the commit. Processing happens later (`processing.py`) and can be
repeated; intake does only what cannot fail halfway: validate, redact, insert.

The same (tenant, channel, external_id) is stored once: a client that retries, an IMAP poll
repeated after a crash or a mail folder imported twice gets the first reference back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from amtslotse.inbox.message import IncomingMessage
from amtslotse.models import SHARED_TENANT
from amtslotse.privacy.redaction import redact
from amtslotse.settings import Settings
from amtslotse.store.sql_inbox import InboxAttachment, InboxItem
from amtslotse.tenants import TenantConfigError, load_tenant_config

log = logging.getLogger(__name__)

DEFAULTS = {
    "inbox_retention_days": 90,
    "inbox_max_text_chars": 50_000,
    "inbox_max_attachments": 10,
    "inbox_max_attachment_bytes": 10 * 1024 * 1024,
}
"""Inbox limits until Settings declares them (then the settings win): see the report/README."""


def inbox_setting(settings: Settings, name: str) -> int:
    return getattr(settings, name, DEFAULTS[name])


class IntakeError(ValueError):
    """The message cannot be accepted; `code` for the HTTP answer, the message in German."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True)
class Accepted:
    reference: str  # e.g. MK-2026-000017, what the citizen and staff quote
    id: int
    created: bool  # False: the same message was accepted before


def accept(store, message: IncomingMessage, tenant: str, settings: Settings) -> Accepted:
    """Validate, redact and commit one message; returns after the commit."""
    prefix = _check_tenant(store, tenant, settings)
    _check_size(message, settings)
    now = datetime.now(timezone.utc)
    # A date in the future (a wrong clock, a forged header) would hide a message at the end
    # of the queue, which is ordered by age.
    received = min(message.received_at.astimezone(timezone.utc), now)
    whole = f"{message.subject}\n\n{message.text}" if message.subject.strip() else message.text
    item = InboxItem(
        tenant=tenant, channel=message.channel, external_id=message.external_id[:500], received_at=received,
        body=message.text, redacted=redact(whole).text, subject=message.subject, sender=message.sender,
        # Retention counts from intake, not from the message's date: an old mail imported
        # today must not be deleted at once.
        delete_after=now + timedelta(days=inbox_setting(settings, "inbox_retention_days")),
        attachments=[InboxAttachment(a.filename or "anhang", a.content_type or "application/octet-stream", a.data)
                     for a in message.attachments],
    )
    item_id, reference, created = store.add_inbox_item(item, prefix)
    # Ids only in the log: no sender, subject or text.
    log.info("inbox %s %s (%s, %d Anhänge)", reference, "angenommen" if created else "schon vorhanden",
             message.channel, len(message.attachments))
    return Accepted(reference, item_id, created)


def _check_tenant(store, tenant: str, settings: Settings) -> str:
    """The tenant's reference prefix; an unknown tenant is an error (mail for nobody)."""
    try:
        config = load_tenant_config(tenant, settings)
    except TenantConfigError as error:
        raise IntakeError("unknown_tenant", str(error), 404) from None
    if tenant == SHARED_TENANT or not (config.configured or tenant in store.tenants()):
        raise IntakeError("unknown_tenant", f"Unbekanntes Jobcenter „{tenant}“.", 404)
    return config.reference_prefix


def _check_size(message: IncomingMessage, settings: Settings) -> None:
    if not message.text.strip() and not message.attachments:
        raise IntakeError("empty_message", "Die Nachricht ist leer: Bitte einen Text oder einen Anhang senden.")
    limit = inbox_setting(settings, "inbox_max_text_chars")
    if len(message.text) + len(message.subject) > limit:
        raise IntakeError("too_large", f"Die Nachricht ist zu lang (höchstens {limit:,} Zeichen).".replace(",", "."), 413)
    count = inbox_setting(settings, "inbox_max_attachments")
    if len(message.attachments) > count:
        raise IntakeError("too_many_attachments", f"Zu viele Anhänge (höchstens {count}).", 413)
    size = inbox_setting(settings, "inbox_max_attachment_bytes")
    for number, attachment in enumerate(message.attachments, start=1):
        if len(attachment.data) > size:
            raise IntakeError(
                "attachment_too_large",
                f"Anhang Nr. {number} ist zu groß (höchstens {size // (1024 * 1024)} MB).", 413,
            )
