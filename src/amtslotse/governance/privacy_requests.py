"""Data-protection requests of one citizen: everything stored about a reference number (an
inbox message) or a conversation, exported (Art. 15 DSGVO, § 83 SGB X) or erased (Art. 17
DSGVO, § 84 SGB X), each with a report of what was found or removed::

    export = export_case(store, "musterkreis", reference="MK-2026-000017", actor="d.schutz")
    export["found"]          # {'Nachrichten im Posteingang': 1, 'Anhänge': 2, 'Gespräche': 1, ...}
    report = erase_case(store, "musterkreis", conversation_id="3f1c…", actor="d.schutz")
    report.removed           # {'Gespräche': 1, 'Fragen und Antworten': 4, ...}

A case is closed over its links: a reference number brings the conversation it was handed
over from, a conversation every message handed over from it. The audit log keeps its entries
(who did what, when, with ids and states: no content) as the proof the law asks for; the
export includes them, the erasure leaves them and adds its own. Both are audited; the audit
names a conversation only by a hash of its id (the id gives access to the conversation).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from amtslotse.errors import InputError
from amtslotse.governance.tenants import KIND_LABELS
from amtslotse.models import AuditEntry, InboxItem


class CaseNotFound(InputError):
    """Nothing is stored under this reference number or conversation (German message)."""


@dataclass
class Case:
    tenant: str
    conversation_ids: list[str] = field(default_factory=list)
    items: list[InboxItem] = field(default_factory=list)  # with bodies and attachment bytes


@dataclass
class ErasureReport:
    tenant: str
    request: dict[str, str]
    removed: dict[str, int]  # German label -> rows
    kept: dict[str, int]  # what stays, and why (in `notes`)
    notes: list[str]
    erased_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def conversation_key(conversation_id: str) -> str:
    """How the audit log names a conversation: a hash, never the id (it is a credential)."""
    return "sha256:" + hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:16]


def find_case(store, tenant: str, *, reference: str | None = None, conversation_id: str | None = None) -> Case:
    """The messages and conversations that belong to a reference number or a conversation."""
    if (reference is None) == (conversation_id is None):
        raise InputError("Bitte genau eines angeben: ein Aktenzeichen (--reference) oder ein Gespräch (--conversation).")
    case = Case(tenant)
    if reference is not None:
        item = store.inbox_item(tenant, reference.strip())
        if item is None:
            raise CaseNotFound(f"Unter dem Aktenzeichen „{reference}“ ist bei diesem Jobcenter nichts gespeichert.")
        item_ids = [item.id]
        if item.conversation_id:
            case.conversation_ids.append(item.conversation_id)
    else:
        conversation_id = conversation_id.strip()
        item_ids = store.inbox_ids_of_conversation(tenant, conversation_id)
        if store.conversation_record(tenant, conversation_id) is None and not item_ids:
            raise CaseNotFound("Zu diesem Gespräch ist bei diesem Jobcenter nichts gespeichert (mehr).")
        case.conversation_ids.append(conversation_id)
    for conversation in list(case.conversation_ids):
        item_ids += [i for i in store.inbox_ids_of_conversation(tenant, conversation) if i not in item_ids]
    case.items = [i for i in (store.inbox_item(tenant, item_id, with_data=True) for item_id in item_ids) if i is not None]
    return case


def export_case(
    store, tenant: str, *, actor: str, reference: str | None = None, conversation_id: str | None = None,
    attachments: bool = True,
) -> dict[str, Any]:
    """Everything stored about the case, as one JSON-ready dict (Art. 15): messages in clear
    text with their attachments (base64 when `attachments`), the conversation's turns (as
    stored: redacted), the audit trail of each message; `found` counts what it holds."""
    case = find_case(store, tenant, reference=reference, conversation_id=conversation_id)
    conversations = [c for c in (store.conversation_record(tenant, cid) for cid in case.conversation_ids) if c]
    messages = [_message(store, tenant, item, attachments) for item in case.items]
    found = {
        KIND_LABELS["inbox_messages"]: len(messages),
        KIND_LABELS["inbox_attachments"]: sum(len(m["attachments"]) for m in messages),
        KIND_LABELS["conversations"]: len(conversations),
        KIND_LABELS["turns"]: sum(len(c["turns"]) for c in conversations),
        KIND_LABELS["audit_log"]: sum(len(m["audit"]) for m in messages),
    }
    request = _request(reference, conversation_id)
    store.append_audit(AuditEntry(tenant, actor, "exported", *_object(case, reference, conversation_id),
                                  {"article": "Art. 15 DSGVO", "found": _counts(found)}))
    return {
        "tenant": tenant, "request": request, "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "found": found,
        "notes": [
            "Chat-Fragen werden vor dem Speichern geschwärzt: gespeichert ist nur die geschwärzte Fassung.",
            "Nachrichten im Posteingang sind im Klartext gespeichert, wie sie eingegangen sind.",
            "Das Prüfprotokoll nennt Mitarbeitende, Zeitpunkte und Bearbeitungsschritte, keine Inhalte.",
        ],
        "inbox_messages": messages, "conversations": conversations,
    }


def erase_case(
    store, tenant: str, *, actor: str, reference: str | None = None, conversation_id: str | None = None,
) -> ErasureReport:
    """Delete the case's messages (with attachments) and conversations (with turns) in one
    transaction, audited; the report counts what was removed and what stays."""
    case = find_case(store, tenant, reference=reference, conversation_id=conversation_id)
    audit_kept = sum(len(store.audit_entries(tenant, "inbox_message", str(i.id), limit=100_000)) for i in case.items)
    entries = [AuditEntry(tenant, actor, "erased", *_object(case, reference, conversation_id),
                          {"article": "Art. 17 DSGVO", "messages": len(case.items),
                           "conversations": len(case.conversation_ids),
                           "references": [i.reference for i in case.items]})]
    removed = store.erase_personal_data(tenant, case.conversation_ids, [i.id for i in case.items], entries)
    labelled = {KIND_LABELS.get(k, k): v for k, v in removed.items()}
    notes = [
        "Das Prüfprotokoll bleibt: es enthält keine Inhalte, nur wer wann welchen Schritt getan hat (Nachweis der "
        "Verarbeitung); die Löschung selbst ist darin vermerkt.",
        "Verbrauchszähler (Anzahl je Tag, ohne Personenbezug) bleiben.",
    ]
    if not case.items and not removed:
        notes.append("Es war nichts mehr gespeichert.")
    return ErasureReport(tenant, _request(reference, conversation_id), labelled,
                         {KIND_LABELS["audit_log"]: audit_kept}, notes,
                         datetime.now(timezone.utc).isoformat(timespec="seconds"))


def _message(store, tenant: str, item: InboxItem, attachments: bool) -> dict[str, Any]:
    data = {k: v for k, v in asdict(item).items() if k != "attachments"}
    for key in ("received_at", "delete_after", "updated_at", "first_response_at"):
        value = data.get(key)
        data[key] = value.isoformat() if isinstance(value, datetime) else value
    data["attachments"] = [
        {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "doc_type": a.doc_type,
         "text": a.text, **({"data_base64": base64.b64encode(a.data or b"").decode("ascii")} if attachments else {})}
        for a in item.attachments
    ]
    data["audit"] = [
        {"at": e.at.isoformat() if e.at else None, "actor": e.actor, "action": e.action, "details": e.details}
        for e in store.audit_entries(tenant, "inbox_message", str(item.id), limit=100_000)
    ]
    return data


def _object(case: Case, reference: str | None, conversation_id: str | None) -> tuple[str, str]:
    if reference is not None and case.items:
        return "inbox_message", str(case.items[0].id)
    return "conversation", conversation_key(conversation_id or (case.conversation_ids or [""])[0])


def _request(reference: str | None, conversation_id: str | None) -> dict[str, str]:
    if reference is not None:
        return {"reference": reference}
    return {"conversation": conversation_key(conversation_id or "")}


def _counts(found: dict[str, int]) -> dict[str, int]:
    return {label: count for label, count in found.items() if count}
