"""Processing of accepted messages (DESIGN flow 3 after intake): read attachments, triage,
extract fields, route, draft a reply; saved in one transaction, then the message is 'done'.

Example::

    report = process_pending(store, settings, asker=services.asker)
    report.done, report.failed   # (12, 0)

Urgent first: before any attachment is read, the rule-based flags of each pending message's
own text (subject and body: emergencies, deadlines) decide which message is processed next,
and an emergency's flags and priority are saved at once, so staff see it on top. While an
attachment is read (in a separate process with a time and memory budget, see
`inbox.attachments.analyze_isolated`), messages that arrive meanwhile get their flags too. An
attachment that cannot be read (too big unpacked, too slow, too much memory, broken) gets a
German note and no text; the message is triaged from the rest.

Resumable: only messages whose triage_status is 'pending' are taken, and their result is
saved together with the status 'done' and the audit entry in one transaction. A crash
(kill -9) before that commit leaves the message 'pending' and the next run does it again;
after it, the message is never triaged twice (the save only changes a pending message).
Each message is independent: a failure marks that one 'failed' with a German reason in the
audit log, and the run goes on (`retry_failed=True` puts failed ones back in the queue).

Triage (`inbox.triage`) gets the clear text of the message and its attachments: it reads
fields (BG-Nummer, IBAN, ...) and deadline cues from it and redacts it itself before the
classifier or an LLM sees it. The Ask pipeline gets the redacted message only. Of the fields,
the identifiers staff work with stay in clear, other personal ones become placeholders.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable

from amtslotse.ask import texts
from amtslotse.ask.pipeline import Asker
from amtslotse.inbox.attachments import Interrupted, Limits, analyze_isolated
from amtslotse.inbox.checklists import checklist_for
from amtslotse.inbox.classify import load_model
from amtslotse.inbox.flags import NOTLAGE, rule_flags
from amtslotse.inbox.message import Attachment
from amtslotse.inbox.triage import Triager, priority_of
from amtslotse.llm import get_llm
from amtslotse.models import UNTRIAGED_PRIORITY, AuditEntry, InboxItem, TriageRecord, iso
from amtslotse.search.embedders import get_embedder
from amtslotse.search.hybrid import Retriever
from amtslotse.settings import Settings
from amtslotse.tenants import load_tenant_config

log = logging.getLogger(__name__)

ATTACHMENT_CHARS_FOR_TRIAGE = 3000
"""Of each attachment's text, this much joins the message for triage: a 20-page lease must
not outvote the three lines the citizen wrote, but its head names what it is."""

CLEAR_FIELDS = frozenset({"bg_nummer", "kundennummer", "iban", "name"})
"""Personal fields kept in clear for staff (to find the case, to change the account, to
address the letter); the others are stored as their placeholder (the body still shows them)."""

DRAFT_LABEL = "Entwurf"
BATCH = 50


@dataclass
class ProcessReport:
    done: int = 0
    failed: int = 0
    skipped: int = 0  # taken by another worker meanwhile, or deleted
    references: list[str] = field(default_factory=list)


class ProcessingError(Exception):
    """One message could not be processed; the message (German) goes to the audit log."""


def process_pending(
    store, settings: Settings, *, asker=None, triager=None, tenant: str | None = None, limit: int | None = None,
    retry_failed: bool = False, on_message: Callable[[InboxItem, str], None] | None = None,
    stop: threading.Event | None = None,
) -> ProcessReport:
    """Process pending messages (of one tenant, or all) oldest first, until none is left or
    `limit` are done. `asker`: the Ask pipeline for drafts, `triager`: an `inbox.triage.Triager`
    (both built from the settings if None). `on_message(item, outcome)` is called after each
    message with 'done', 'failed' or 'skipped'. `stop`: end after the current message once set."""
    report = ProcessReport()
    if retry_failed:
        for item_tenant, item_id in store.pending_inbox(100_000, tenant, status="failed"):
            store.set_inbox_triage_status(
                item_tenant, item_id, "pending",
                AuditEntry(item_tenant, "system", "triage_retry", "inbox_message", str(item_id)), expected="failed",
            )
    seen: set[int] = set()
    urgency = UrgentFirst(store, tenant, settings)
    while limit is None or report.done + report.failed < limit:
        if stop is not None and stop.is_set():
            break
        # `seen`: a message whose failure could not even be recorded is not taken again.
        urgency.flag_new()
        batch = [(t, i) for t, i in store.pending_inbox(UrgentFirst.SCAN, tenant) if i not in seen]
        if not batch:
            break
        if asker is None:
            asker = default_asker(store, settings)
        if triager is None:
            triager = default_triager(settings, asker)
        item_tenant, item_id = urgency.most_urgent(batch)
        seen.add(item_id)
        item, outcome = process_one(store, settings, item_tenant, item_id, asker, triager,
                                    wait=lambda: urgency.flag_new() or (stop is not None and stop.is_set()))
        setattr(report, outcome, getattr(report, outcome) + 1)
        if item is not None:
            report.references.append(item.reference)
            if on_message is not None:
                on_message(item, outcome)
    return report


class UrgentFirst:
    """The rule-based flags of pending messages' own text, before any attachment is read:
    they decide which pending message is processed next (emergencies, then deadlines, then
    the oldest), and an emergency's flags and priority are saved at once (audit entry
    "urgent_flags"; the message stays 'pending'), so that it is on top of the staff queue
    while other messages' attachments are still being read."""

    SAVED = frozenset({NOTLAGE})

    SCAN = 1000  # pending messages looked at per round (ids only; each is read once)

    def __init__(self, store, tenant: str | None = None, settings: Settings | None = None) -> None:
        self.store, self.tenant, self.settings = store, tenant, settings
        self.priority: dict[int, int] = {}

    def flag_new(self) -> None:
        """Flag pending messages not looked at yet. Returns None (usable in `wait` hooks)."""
        for item_tenant, item_id in self.store.pending_inbox(self.SCAN, self.tenant):
            if item_id in self.priority:
                continue
            self.priority[item_id] = UNTRIAGED_PRIORITY
            try:
                item = self.store.inbox_item(item_tenant, item_id)
                if item is None or item.triage_status != "pending":
                    continue
                if item.flags:  # known already (a failed triage, now retried)
                    self.priority[item_id] = item.priority
                    continue
                flags = _rule_flags(item, self.settings)
                if flags:
                    self.priority[item_id] = _priority(flags)
                if not self.SAVED & set(flags):
                    continue
                priority = self.priority[item_id]
                entry = AuditEntry(item_tenant, "system", "urgent_flags", "inbox_message", str(item_id),
                                   {"reference": item.reference, "flags": flags, "priority": priority})
                self.store.set_inbox_triage_status(item_tenant, item_id, "pending", entry, expected="pending",
                                                   flags=flags, priority=priority)
            except Exception:  # noqa: BLE001 - flags are a head start; full processing does them again
                log.warning("Posteingang: Vorab-Markierung fehlgeschlagen", exc_info=True)

    def most_urgent(self, batch: list[tuple[str, int]]) -> tuple[str, int]:
        """Highest priority first, then the oldest (lowest id)."""
        return min(batch, key=lambda entry: (-self.priority.get(entry[1], UNTRIAGED_PRIORITY), entry[1]))


def process_one(
    store, settings: Settings, tenant: str, item_id: int, asker, triager, wait: Callable[[], object] | None = None,
) -> tuple[InboxItem | None, str]:
    """Process one message: ('done' | 'failed' | 'skipped'). Never raises for the message's sake.
    `wait`: called while an attachment is read; a true result stops (the message stays pending)."""
    item = store.inbox_item(tenant, item_id, with_data=True)
    if item is None or item.triage_status != "pending":
        return item, "skipped"
    try:
        record = triage_message(item, settings, asker, triager, wait=wait)
    except Interrupted:
        return item, "skipped"  # shutdown while an attachment was read: the next run does it again
    except Exception as error:  # noqa: BLE001 - one bad message must not stop the queue
        reason = error.args[0] if isinstance(error, ProcessingError) else f"Unerwarteter Fehler ({type(error).__name__})."
        # The reason is fixed German text naming the step and the error type: no message content.
        log.warning("inbox %s: Verarbeitung fehlgeschlagen: %s", item.reference, reason,
                    exc_info=not isinstance(error, ProcessingError))
        flags = _rule_flags(item, settings)
        entry = AuditEntry(
            tenant, "system", "triage_failed", "inbox_message", str(item.id),
            {"reference": item.reference, "reason": reason, "flags": flags},
        )
        # Urgent need stays on top of the queue even when the rest of the triage failed.
        store.set_inbox_triage_status(
            tenant, item.id, "failed", entry, expected="pending", flags=flags, priority=_priority(flags),
        )
        return item, "failed"
    details = {
        "reference": item.reference, "category": record.category, "flags": record.flags, "team": record.team,
        "priority": record.priority, "draft_mode": (record.draft or {}).get("mode"),
        "ocr_pages": record.fields.get("ocr_pages", 0),
    }
    entry = AuditEntry(tenant, "system", "triaged", "inbox_message", str(item.id), details)
    if not store.save_inbox_triage(tenant, item.id, record, entry):
        return item, "skipped"
    store.add_usage(tenant, "ocr_pages", details["ocr_pages"])  # what the cooperative bills by (governance/usage.py)
    return item, "done"


def triage_message(item: InboxItem, settings: Settings, asker, triager,
                   wait: Callable[[], object] | None = None) -> TriageRecord:
    """Everything processing computes for one message, without writing anything. Each
    attachment is read in its own bounded process; one that cannot be read gets a note."""
    limits = Limits.from_settings(settings)
    attachments = []
    for number, stored in enumerate(item.attachments, start=1):
        attachment = Attachment(stored.filename, stored.content_type, stored.data or b"")
        try:
            analyze_isolated(attachment, limits, wait=(lambda: bool(wait())) if wait is not None else None)
        except Interrupted:
            raise
        except Exception as error:  # noqa: BLE001 - this attachment failed, not the message
            log.warning("inbox %s: Anhang Nr. %d nicht gelesen (%s)", item.reference, number, type(error).__name__)
            attachment.text, attachment.note = "", f"Anhang Nr. {number} konnte nicht gelesen werden ({type(error).__name__})."
        attachments.append((stored, attachment))
    text = "\n\n".join(
        part for part in [item.subject, item.body] + [a.text[:ATTACHMENT_CHARS_FOR_TRIAGE] for _, a in attachments]
        if part.strip()
    )
    if not text.strip():
        raise ProcessingError("Kein lesbarer Text: Die Nachricht hat nur Anhänge, die nicht gelesen werden konnten.")
    config = _stage("Die Einstellungen des Jobcenters sind fehlerhaft", tenant_inbox_config, item.tenant, settings)
    today = item.received_at.date() if item.received_at else date.today()
    result = _stage("Die Einordnung ist fehlgeschlagen", triager.triage, text, config, today=today)
    checklist = _stage("Die Checkliste fehlt", checklist_for, result.category, config)
    signature = load_tenant_config(item.tenant, settings).name
    draft = _stage("Der Antwortentwurf ist fehlgeschlagen", draft_reply, asker, item, checklist, signature)
    return TriageRecord(
        category=result.category, flags=list(result.flags), team=result.team, priority=result.priority,
        confidence=round(result.confidence, 4), draft=draft,
        fields={
            "items": [f.to_dict(clear=f.kind in CLEAR_FIELDS) for f in result.fields],
            "deadline": result.deadline.isoformat() if result.deadline else None,
            "bescheid_date": result.bescheid_date.isoformat() if result.bescheid_date else None,
            "language": result.language, "method": result.method, "reasons": list(result.reasons),
            "alternatives": [{"category": c, "probability": round(p, 4)} for c, p in result.alternatives],
            "attachment_notes": [{"attachment_id": stored.id, "note": a.note} for stored, a in attachments if a.note],
            "ocr_pages": sum(a.ocr_pages for _, a in attachments),
        },
        attachments=[(stored.id, a.text, a.doc_type) for stored, a in attachments],
    )


def _rule_flags(item: InboxItem, settings: Settings | None = None) -> list[str]:
    """The rule-based flags alone (no model): what a failed message can still tell (with the
    settings, the tenant's own flag phrases count too)."""
    try:
        folder = load_tenant_config(item.tenant, settings).folder if settings is not None else None
        return sorted(rule_flags(f"{item.subject}\n\n{item.body}", item.received_at.date(), tenant_folder=folder).flags)
    except Exception:  # noqa: BLE001 - best effort on a message that already failed
        return []


def _priority(flags: list[str]) -> int:
    return priority_of(flags)


def draft_reply(asker, item: InboxItem, checklist: list[str], signature: str = "Ihr Jobcenter") -> dict:
    """A reply for staff to check: the Ask pipeline's general answer to the redacted message
    (with its sources) and the category's checklist of documents. Never sent by itself."""
    answer = asker.ask(item.redacted, item.tenant, first_turn=False, already_redacted=True)  # redacted at intake
    general = _general_part(answer)
    lines = ["Guten Tag,", "", f"vielen Dank für Ihre Nachricht (Zeichen: {item.reference})."]
    if general:
        lines += ["", general]
    if checklist:
        lines += ["", "Bitte reichen Sie uns noch folgende Unterlagen ein, soweit noch nicht geschehen:"]
        lines += [f"- {entry}" for entry in checklist]
    lines += ["", "Mit freundlichen Grüßen", signature]
    return {
        "label": DRAFT_LABEL, "text": "\n".join(lines), "citations": answer.citations, "checklist": list(checklist),
        "generated_at": iso(datetime.now(timezone.utc)), "mode": answer.mode,
    }


def _general_part(answer) -> str:
    """What of a chat answer fits a letter: the general rule with its sources. Chat-only
    parts (handover offers, emergency numbers for the citizen, "I am unsure") are left out:
    staff answer the case itself."""
    if not answer.citations or answer.outcome not in ("answered", "handover"):
        return ""
    text = answer.answer
    if answer.outcome == "handover":
        text = text.replace(texts.HANDOVER_OFFER, "").replace(texts.GENERAL_RULE_INTRO, "Allgemein gilt:").strip()
    return text


def tenant_inbox_config(tenant: str, settings: Settings):
    """The tenant's `[inbox]` configuration (categories, routing); the defaults without a file."""
    return load_tenant_config(tenant, settings).inbox()


def _stage(reason: str, function, *args, **kwargs):
    """Run one step; its failure becomes a ProcessingError naming the step (German)."""
    try:
        return function(*args, **kwargs)
    except ProcessingError:
        raise
    except Exception as error:  # noqa: BLE001 - turned into a German reason for staff
        raise ProcessingError(f"{reason} ({type(error).__name__}).") from error


def default_triager(settings: Settings, asker=None):
    """A Triager whose model is cached in this data folder and whose LLM (if any) is the Ask pipeline's."""
    llm = getattr(asker, "llm", None)
    return Triager(llm=llm, model=load_model(home=settings.home))


def default_asker(store, settings: Settings):
    return Asker(Retriever(store, get_embedder(settings.embedder), settings), llm=get_llm(settings))


class Worker:
    """Processing in the background of a server: `kick()` after an intake starts a run
    unless one is going; a running one picks up what arrived meanwhile. `stop` ends a run
    after its current message (server shutdown; the rest stays pending for the next start)."""

    def __init__(self, store, settings: Settings, asker=None, triager=None) -> None:
        self.store, self.settings, self.asker, self.triager = store, settings, asker, triager
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._again = threading.Event()

    def kick(self) -> None:
        self._again.set()
        # A kick that arrives while the running one is releasing the lock is not lost: the
        # event is still set after the release, so the outer loop takes the lock again.
        while self._again.is_set() and not self.stop.is_set() and self._lock.acquire(blocking=False):
            try:
                while self._again.is_set() and not self.stop.is_set():
                    self._again.clear()
                    UrgentFirst(self.store, settings=self.settings).flag_new()  # before the model loads (the first time it trains)
                    if self.triager is None:
                        self.triager = default_triager(self.settings, self.asker)
                    process_pending(self.store, self.settings, asker=self.asker, triager=self.triager, stop=self.stop)
            except Exception:  # noqa: BLE001 - the store failed; the next kick or `inbox process` retries
                log.exception("Posteingang: Verarbeitung im Hintergrund fehlgeschlagen")
            finally:
                self._lock.release()


def run_background(worker: Worker, interval: float, poll: Callable[[], object] | None = None) -> None:
    """The server's inbox loop until `worker.stop` is set: at once (what a crash left pending
    is processed after a restart), then every `interval` seconds: poll the mailbox if there is
    one, and process what is pending."""
    while not worker.stop.is_set():
        if poll is not None:
            try:
                poll()
            except Exception as error:  # noqa: BLE001 - the mailbox is retried next round; mail stays unseen
                log.warning("Posteingang: IMAP-Abruf fehlgeschlagen: %s", error)
        worker.kick()
        worker.stop.wait(interval)
