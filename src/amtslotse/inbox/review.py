"""Human review of inbox messages: states, assignment, the draft, and the audit log.

    new ──start_review──> in_review ──answer──> answered
                              │ ├────forward──> forwarded
                              │ └────close────> closed
    assign (person or team) and edit_draft: while new or in_review

In code::

    item = start_review(store, "musterkreis", "MK-2026-000017", actor="s.berger")
    item = edit_draft(store, "musterkreis", item.id, "s.berger", "Guten Tag, ...")
    answer(store, "musterkreis", item.id, "s.berger").state    # 'answered'

Nothing is ever sent: "answered" records that a person approved the text (stored in the
draft as `approved_text`, with who and when) and answered the citizen through the
Jobcenter's own channels. Every step appends an audit entry in the same transaction as the
change: who, when, what, with ids, states, team names and lengths, never the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from amtslotse.errors import InputError
from amtslotse.models import AuditEntry, InboxItem, InboxState, iso, utc_now
from amtslotse.text.numbers import integer

STATE_LABELS: dict[InboxState, str] = {
    "new": "neu", "in_review": "in Bearbeitung", "answered": "beantwortet", "forwarded": "weitergeleitet",
    "closed": "abgeschlossen",
}
CLOSE_REASONS = {
    "erledigt": "erledigt, keine Antwort nötig",
    "doppelt": "doppelt eingegangen",
    "kein_anliegen": "kein Anliegen an das Jobcenter",
    "werbung": "Werbung oder Spam",
}
OPEN_STATES: tuple[InboxState, ...] = ("new", "in_review")
MAX_NAME = 100
MAX_DRAFT_CHARS = 20_000


class ReviewError(InputError):
    """A review step is not possible; `code` and `status` for HTTP, the message in German."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True)
class _Step:
    action: str
    allowed: tuple[InboxState, ...]  # states the message must be in
    to: InboxState | None = None  # the new state, if the step changes it


_STEPS = {
    "start_review": _Step("review_started", ("new",), "in_review"),
    "assign": _Step("assigned", OPEN_STATES),
    "edit_draft": _Step("draft_edited", OPEN_STATES),
    "answer": _Step("answered", ("in_review",), "answered"),
    "forward": _Step("forwarded", ("in_review",), "forwarded"),
    "close": _Step("closed", ("in_review",), "closed"),
}


def find(store, tenant: str, key: int | str) -> InboxItem:
    """A message by id (int or digits) or reference; ReviewError 404 if the tenant has none."""
    if isinstance(key, str) and (number := integer(key)) is not None:
        key = number
    item = store.inbox_item(tenant, key)
    if item is None:
        raise ReviewError("not_found", "Diese Nachricht gibt es nicht (mehr).", 404)
    return item


def open_message(store, tenant: str, key: int | str, actor: str) -> InboxItem:
    """Read one message in clear text; the access itself is logged (who read which message)."""
    item = find(store, tenant, key)
    store.append_audit(_entry(tenant, actor, "viewed", item, {}))
    return item


def open_attachment(store, tenant: str, key: int | str, attachment_id: int, actor: str):
    """One attachment of a message with its bytes (an InboxAttachment); the access is logged.
    ReviewError 404 if the message or the attachment is unknown."""
    item = find(store, tenant, key)
    full = store.inbox_item(tenant, item.id, with_data=True)
    attachment = next((a for a in full.attachments if a.id == attachment_id), None) if full else None
    if attachment is None:
        raise ReviewError("not_found", "Diesen Anhang gibt es nicht.", 404)
    store.append_audit(_entry(tenant, actor, "attachment_viewed", item, {"attachment_id": attachment_id}))
    return attachment


def start_review(store, tenant: str, key: int | str, actor: str) -> InboxItem:
    """new -> in_review; the message is assigned to the actor unless someone already has it."""
    item = find(store, tenant, key)
    changes = {} if item.assignee else {"assignee": actor}
    return _apply(store, tenant, item, actor, "start_review", changes, {"assignee": item.assignee or actor})


def assign(store, tenant: str, key: int | str, actor: str, person: str | None = None, team: str | None = None) -> InboxItem:
    """Give the message to a person and/or a team (while it is open)."""
    person, team = _name(person, "Person"), _name(team, "Team")
    if person is None and team is None:
        raise ReviewError("invalid_request", "Bitte eine Person oder ein Team angeben.", 422)
    changes = {k: v for k, v in (("assignee", person), ("team", team)) if v is not None}
    return _apply(store, tenant, find(store, tenant, key), actor, "assign", changes, dict(changes))


def edit_draft(store, tenant: str, key: int | str, actor: str, text: str) -> InboxItem:
    """Replace the draft's text (it stays a draft until `answer`)."""
    text = _text(text)
    item = find(store, tenant, key)
    draft = dict(item.draft or {"citations": [], "checklist": [], "mode": "manual"})
    draft |= {"text": text, "label": "Entwurf", "edited_by": actor, "edited_at": iso(utc_now())}
    return _apply(store, tenant, item, actor, "edit_draft", {"draft": draft}, {"chars": len(text)})


def answer(store, tenant: str, key: int | str, actor: str, text: str | None = None) -> InboxItem:
    """in_review -> answered with the approved text (given, else the current draft's)."""
    item = find(store, tenant, key)
    draft = dict(item.draft or {"citations": [], "checklist": [], "mode": "manual"})
    approved = _text(text if text is not None else draft.get("text", ""))
    edited = approved != draft.get("text")
    now = utc_now()
    draft |= {"approved_text": approved, "approved_by": actor, "approved_at": iso(now)}
    changes = {"draft": draft, "first_response_at": item.first_response_at or now}
    return _apply(store, tenant, item, actor, "answer", changes, {"chars": len(approved), "edited": edited})


def forward(store, tenant: str, key: int | str, actor: str, team: str) -> InboxItem:
    """in_review -> forwarded to another team or office (named)."""
    team = _name(team, "Team")
    if team is None:
        raise ReviewError("invalid_request", "Bitte angeben, wohin die Nachricht weitergeleitet wird.", 422)
    item = find(store, tenant, key)
    # Handed to the office in charge: the Jobcenter's first response (analytics: time to it).
    changes = {"team": team, "first_response_at": item.first_response_at or utc_now()}
    return _apply(store, tenant, item, actor, "forward", changes, {"team": team})


def close(store, tenant: str, key: int | str, actor: str, reason: str) -> InboxItem:
    """in_review -> closed, with one of CLOSE_REASONS (a code, so no free text reaches the log)."""
    if reason not in CLOSE_REASONS:
        raise ReviewError(
            "invalid_request", f"Unbekannter Grund „{reason}“; möglich sind: {', '.join(CLOSE_REASONS)}.", 422
        )
    return _apply(store, tenant, find(store, tenant, key), actor, "close", {}, {"reason": reason})


def trail(store, tenant: str, key: int | str) -> list[AuditEntry]:
    """The audit entries of one message, oldest first."""
    item = find(store, tenant, key)
    return store.audit_entries(tenant, "inbox_message", str(item.id))


def _apply(store, tenant: str, item: InboxItem, actor: str, step_name: str, changes: dict, details: dict) -> InboxItem:
    step = _STEPS[step_name]
    if item.state not in step.allowed:
        raise _not_now(item.state, step)
    if step.to is not None:
        changes = changes | {"state": step.to}
        details = {"from": item.state, "to": step.to} | details
    entry = _entry(tenant, actor, step.action, item, details)
    if not store.update_inbox_item(tenant, item.id, changes, entry, expected_states=step.allowed):
        # Someone else changed it in between (or it was deleted): report the current state.
        raise _not_now(find(store, tenant, item.id).state, step)
    return find(store, tenant, item.id)


def _not_now(state: str, step: _Step) -> ReviewError:
    allowed = " oder ".join(f"„{STATE_LABELS[s]}“" for s in step.allowed)
    return ReviewError(
        "invalid_state", f"Die Nachricht ist „{STATE_LABELS.get(state, state)}“; das geht nur im Zustand {allowed}."
    )


def _entry(tenant: str, actor: str, action: str, item: InboxItem, details: dict) -> AuditEntry:
    return AuditEntry(tenant, actor, action, "inbox_message", str(item.id), {"reference": item.reference} | details)


def _name(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_NAME or any(ch in value for ch in "\n\r\t"):
        raise ReviewError("invalid_request", f"{what}: höchstens {MAX_NAME} Zeichen in einer Zeile.", 422)
    return value


def _text(text: str) -> str:
    if not text or not text.strip():
        raise ReviewError("invalid_request", "Der Antworttext ist leer.", 422)
    if len(text) > MAX_DRAFT_CHARS:
        raise ReviewError("invalid_request", f"Der Antworttext ist zu lang (höchstens {MAX_DRAFT_CHARS} Zeichen).", 422)
    return text.strip()
