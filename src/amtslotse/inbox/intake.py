"""Intake (DESIGN flow 3, first step): check a message, redact it, commit it, answer "accepted"::

    accepted = accept(store, message, "musterkreis", settings)
    accepted.reference, accepted.created                         # ('MK-2026-000017', True)
    accept(store, message, "musterkreis", settings).created      # the same message again: False

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

from amtslotse.errors import InputError
from amtslotse.inbox.imap import ImapConfig, poll
from amtslotse.inbox.mail import MailError, parse_email, raw_hash
from amtslotse.inbox.message import Attachment, IncomingMessage
from amtslotse.models import SHARED_TENANT, InboxAttachment, InboxItem
from amtslotse.privacy.redaction import redact
from amtslotse.settings import Settings
from amtslotse.tenants import TenantConfigError, load_tenant_config

log = logging.getLogger(__name__)

class IntakeError(InputError):
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
        # Mail imported from a file and fetched by IMAP is one message (same Message-ID).
        tenant=tenant, channel="email" if message.channel == "imap" else message.channel,
        external_id=message.external_id[:500], received_at=received,
        body=message.text, redacted=redact(whole).text, subject=message.subject, sender=message.sender,
        # Retention counts from intake, not from the message's date: an old mail imported
        # today must not be deleted at once.
        delete_after=now + timedelta(days=settings.inbox_retention_days),
        attachments=[InboxAttachment(a.filename or "anhang", a.content_type or "application/octet-stream", a.data)
                     for a in message.attachments],
    )
    item_id, reference, created = store.add_inbox_item(item, prefix)
    # Ids only in the log: no sender, subject or text.
    log.info("inbox %s %s (%s, %d Anhänge)", reference, "angenommen" if created else "schon vorhanden",
             message.channel, len(message.attachments))
    return Accepted(reference, item_id, created)


def accept_mail(store, raw: bytes, tenant: str, settings: Settings, channel: str = "email") -> Accepted:
    """Accept one raw e-mail (a file or an IMAP fetch). Unattended intake must neither lose a
    mail nor retry it forever: one over the limits is accepted without what does not fit (with
    a note for staff), one that cannot be read as a note with the original attached."""
    try:
        message = parse_email(raw, channel=channel)
    except MailError as error:
        message = _unreadable(raw, channel, settings, f"Die E-Mail konnte nicht gelesen werden: {error.message}")
    if not message.text.strip() and not message.attachments:
        message = _unreadable(raw, channel, settings, "Die E-Mail hat weder Text noch Anhänge.", message)
    return accept(store, _fit(message, settings), tenant, settings)


def _fit(message: IncomingMessage, settings: Settings) -> IncomingMessage:
    """The message within the limits: too large attachments left out, the text shortened,
    and a German note at the top saying so (the original stays in the mailbox or file)."""
    size, count = settings.inbox_max_attachment_bytes, settings.inbox_max_attachments
    fitting = [a for a in message.attachments if len(a.data) <= size]
    kept = fitting[:count]
    notes = []
    if len(kept) < len(message.attachments):
        notes.append(f"{len(message.attachments) - len(kept)} Anhang/Anhänge zu groß oder zu viele, nicht übernommen.")
    limit = settings.inbox_max_text_chars - len(message.subject) - 400
    text = message.text
    if len(text) > limit:
        text = text[:max(limit, 0)]
        notes.append("Text gekürzt.")
    if not notes:
        return message
    note = (
        f"Hinweis: Diese E-Mail wurde nicht vollständig übernommen ({' '.join(notes)}) "
        "Das Original bitte im Postfach oder in der Datei ansehen."
    )
    return IncomingMessage(
        channel=message.channel, external_id=message.external_id, received_at=message.received_at,
        sender=message.sender, subject=message.subject, text=f"{note}\n\n{text}", attachments=kept,
    )


def imap_config(settings: Settings):
    """The mailbox of the settings (AMTSLOTSE_IMAP_*) as an `ImapConfig`; None if no host is set."""
    if not settings.imap_host:
        return None
    return ImapConfig(
        host=settings.imap_host, port=settings.imap_port or (993 if settings.imap_ssl else 143),
        user=settings.imap_user, password=settings.imap_password.get_secret_value(), folder=settings.imap_folder,
        ssl=settings.imap_ssl,
    )


def poll_imap(store, settings: Settings, tenant: str, config=None) -> list[Accepted]:
    """One IMAP round for `tenant`: each unseen mail is accepted (committed) before the server
    marks it seen, so a crash in between means the mail is fetched again, and deduplicated."""
    accepted: list[Accepted] = []
    poll(config or imap_config(settings), lambda raw: accepted.append(accept_mail(store, raw, tenant, settings, "imap")))
    return accepted


def _unreadable(
    raw: bytes, channel: str, settings: Settings, note: str, parsed: IncomingMessage | None = None,
) -> IncomingMessage:
    """A stand-in message: the note, the start of the text, the raw mail attached if it fits."""
    limit = settings.inbox_max_attachment_bytes
    text = note + (f"\n\n{parsed.text[:10_000]}" if parsed and parsed.text.strip() else "")
    return IncomingMessage(
        channel=channel, external_id=parsed.external_id if parsed else raw_hash(raw),
        received_at=parsed.received_at if parsed else datetime.now(timezone.utc),
        sender=parsed.sender if parsed else "", subject=parsed.subject[:500] if parsed else "",
        text=text, attachments=[Attachment("original.eml", "message/rfc822", raw)] if len(raw) <= limit else [],
    )


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
    limit = settings.inbox_max_text_chars
    if len(message.text) + len(message.subject) > limit:
        raise IntakeError("too_large", f"Die Nachricht ist zu lang (höchstens {limit:,} Zeichen).".replace(",", "."), 413)
    count = settings.inbox_max_attachments
    if len(message.attachments) > count:
        raise IntakeError("too_many_attachments", f"Zu viele Anhänge (höchstens {count}).", 413)
    size = settings.inbox_max_attachment_bytes
    for number, attachment in enumerate(message.attachments, start=1):
        if len(attachment.data) > size:
            raise IntakeError(
                "attachment_too_large",
                f"Anhang Nr. {number} ist zu groß (höchstens {size // (1024 * 1024)} MB).", 413,
            )
