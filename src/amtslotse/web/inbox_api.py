"""The inbox over HTTP: intake (`POST /api/v1/inbox`) and the staff queue (`/api/v1/staff/inbox`).

    POST /api/v1/inbox  {"tenant": "musterkreis", "text": "...", "client_key": "form-4711",
                         "attachments": [{"filename": "au.pdf", "content_type": "application/pdf",
                                          "data_base64": "JVBERi0..."}]}
    -> 202 {"reference": "MK-2026-000017", "status": "accepted"}     (after the commit)

An integration (a Landkreis's form system) sends with its API key (`amtslotse apikey create`):
`Authorization: Bearer alk_...`. Its client key (or the `Idempotency-Key` header) makes a
retry safe: the same key gives the same reference and stores nothing new; the same key with
other content is 409. Keys are scoped to the API key, so no other sender can take one over.
Without an API key, intake stays open (citizens' own tools), but without idempotency keys:
every such request is a new message. The tenant may be left out with an API key (its own).

Staff endpoints need a login (`InboxTenant`, web/deps.py) with the role "sachbearbeitung" for the
message's tenant; an account of the cooperative ("*") names the tenant with `?tenant=`.
The routes only translate HTTP to `inbox.intake`, `inbox.review` and the store, and back.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Optional

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from amtslotse.errors import IdempotencyConflict
from amtslotse.inbox import review
from amtslotse.inbox.attachments import DOCUMENT_TYPES, safe_content_type
from amtslotse.inbox.intake import IntakeError, accept, imap_config, poll_imap
from amtslotse.inbox.message import Attachment, IncomingMessage
from amtslotse.inbox.processing import run_background
from amtslotse.inbox.triage import PRIORITY_LABELS as TRIAGE_PRIORITY_LABELS
from amtslotse.models import UNTRIAGED_PRIORITY, ApiKey, InboxItem
from amtslotse.privacy.redaction import mark
from amtslotse.services import Services
from amtslotse.text.numbers import integer
from amtslotse.web.deps import (
    InboxTenant,
    ServicesDep,
    StaffDep,
    StaffUser,
    get_inbox_worker,
    inbox_worker,
    tenant_inbox,
)
from amtslotse.web.errors import MAX_BODY_BYTES, MAX_ID, ApiError
from amtslotse.web.limits import check_rate
from amtslotse.web.staff_schemas import (
    Accepted,
    AttachmentOut,
    InboxMessage,
    InboxPage,
    InboxStep,
    InboxSummary,
    Trail,
    TrailEntry,
)

router = APIRouter(tags=["Posteingang"])

MAX_KEY_CHARS = 200
PREVIEW_CHARS = 200
PRIORITY_LABELS = {**TRIAGE_PRIORITY_LABELS, UNTRIAGED_PRIORITY: "noch nicht eingeordnet"}


# --- intake -------------------------------------------------------------------------------


class AttachmentIn(BaseModel):
    filename: str = Field(default="anhang", max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    data_base64: str


class MessageIn(BaseModel):
    tenant: Optional[str] = Field(default=None, min_length=1, max_length=63)
    text: str = ""
    subject: str = Field(default="", max_length=500)
    sender: str = Field(default="", max_length=500)
    client_key: Optional[str] = Field(default=None, min_length=1, max_length=MAX_KEY_CHARS)
    attachments: list[AttachmentIn] = Field(default_factory=list)


@router.post("/api/v1/inbox", status_code=202, summary="Eine Nachricht an das Jobcenter senden", response_model=Accepted)
async def post_message(request: Request, background: BackgroundTasks, services: ServicesDep,
                       worker=Depends(get_inbox_worker)) -> JSONResponse:
    """Accept a message: the answer comes after the message is safely stored (202)."""
    key = await run_in_threadpool(_api_key, services, request)
    # Per client (address or API key) before the body is read, per tenant once it is known.
    await run_in_threadpool(
        check_rate, services, request, "inbox", None, f"apikey:{key.id}" if key else None,
        services.settings.rate_limit_per_api_key if key else None, client_tenant=key.tenant if key else None,
    )
    body = await _read_body(request, MAX_BODY_BYTES)
    message, tenant = _incoming(body, request.headers.get("idempotency-key"), key)
    await run_in_threadpool(check_rate, services, request, "inbox", tenant, None, None, False)
    try:
        accepted = await run_in_threadpool(accept, services.store, message, tenant, services.settings)
    except IntakeError as error:
        raise ApiError(error.status, error.code, str(error)) from None
    except IdempotencyConflict:
        raise ApiError(409, "idempotency_conflict", "Dieser Idempotency-Key wurde schon für eine andere Nachricht "
                       "verwendet. Bitte für jede neue Nachricht einen neuen Schlüssel senden.") from None
    background.add_task(worker.kick)
    body_out = Accepted(reference=accepted.reference, status="accepted")
    return JSONResponse(body_out.model_dump(mode="json"), status_code=202, background=background)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused once it passes `limit` (also without a Content-Length header)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"Die Anfrage ist zu groß (höchstens {limit // 1024 // 1024} MB).")
        chunks.append(chunk)
    return b"".join(chunks)


def _api_key(services: Services, request: Request) -> ApiKey | None:
    """The integration's API key of `Authorization: Bearer`, None without one; 401 if it is
    unknown or revoked, 403 if its role may not send to the inbox."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    key = services.store.api_key(secret.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise ApiError(401, "invalid_api_key", "Der API-Schlüssel ist ungültig oder widerrufen.",
                       headers={"WWW-Authenticate": "Bearer"})
    if key.role != "posteingang":
        raise ApiError(403, "forbidden", "Dieser API-Schlüssel darf nicht an den Posteingang senden.")
    return key


def _incoming(body: bytes, header_key: str | None, api_key: ApiKey | None = None) -> tuple[IncomingMessage, str]:
    try:
        data = MessageIn.model_validate(json.loads(body))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "Der Inhalt ist kein gültiges JSON.") from None
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ())) or "Inhalt"
        problem = "fehlt" if first.get("type") == "missing" else f"ist ungültig ({first.get('msg', '')})"
        raise ApiError(422, "invalid_request", f"Das Feld „{name}“ {problem}.") from None
    tenant = data.tenant or (api_key.tenant if api_key else None)
    if tenant is None:
        raise ApiError(422, "invalid_request", "Das Feld „tenant“ fehlt.")
    if api_key is not None and tenant != api_key.tenant:
        raise ApiError(403, "forbidden", "Dieser API-Schlüssel gilt für ein anderes Jobcenter.")
    key = data.client_key or (header_key or "").strip() or None
    if key is not None and len(key) > MAX_KEY_CHARS:
        raise ApiError(422, "invalid_request", f"Der Idempotency-Key ist zu lang (höchstens {MAX_KEY_CHARS} Zeichen).")
    if key is not None and api_key is None:
        # Unscoped keys let the first sender of a key own it (issue 12, finding 5).
        raise ApiError(401, "api_key_required", "Ein Idempotency-Key (client_key) gilt nur mit einem API-Schlüssel "
                       "(Authorization: Bearer …); ohne API-Schlüssel bitte ohne Schlüssel senden.",
                       headers={"WWW-Authenticate": "Bearer"})
    attachments = []
    for number, a in enumerate(data.attachments, start=1):
        try:
            raw = base64.b64decode(a.data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, "invalid_attachment", f"Anhang Nr. {number}: data_base64 ist kein gültiges Base64.") from None
        attachments.append(Attachment(a.filename, a.content_type, raw))
    message = IncomingMessage(
        channel="api", external_id=f"apikey:{api_key.id}:{key}" if key and api_key else f"uuid:{uuid.uuid4()}",
        received_at=datetime.now(timezone.utc), sender=data.sender, subject=data.subject, text=data.text,
        attachments=attachments,
    )
    return message, tenant


def start_background(app: FastAPI) -> Callable[[], None]:
    """Start the server's inbox loop (processing at start and every AMTSLOTSE_IMAP_POLL_SECONDS,
    polling the IMAP mailbox for AMTSLOTSE_DEFAULT_TENANT if one is set); returns `stop`.

        stop_inbox = start_background(app)   # in the lifespan, after app.state.services is set
        ...
        stop_inbox()
    """
    worker = inbox_worker(app)
    settings, store = worker.settings, worker.store
    config = imap_config(settings)
    poll = (lambda: poll_imap(store, settings, settings.default_tenant, config)) if config else None
    threading.Thread(target=run_background, args=(worker, settings.imap_poll_seconds, poll), daemon=True,
                     name="amtslotse-inbox").start()
    return worker.stop.set


# --- staff ----------------------------------------------------------------------------------

staff = APIRouter(prefix="/api/v1/staff/inbox", tags=["Posteingang (Mitarbeitende)"])


@staff.get("", summary="Nachrichten, dringende und älteste zuerst")
def list_messages(
    services: ServicesDep, tenant: InboxTenant, state: Optional[str] = None, category: Optional[str] = None, team: Optional[str] = None,
    flag: Optional[str] = None, min_age_hours: Optional[float] = None, max_age_hours: Optional[float] = None,
    limit: int = 50, offset: int = 0,
) -> InboxPage:
    if state is not None and state not in review.STATE_LABELS:
        raise ApiError(422, "invalid_request", f"Unbekannter Zustand „{state}“; möglich: {', '.join(review.STATE_LABELS)}.")
    if not 1 <= limit <= 500 or not 0 <= offset <= MAX_ID:
        raise ApiError(422, "invalid_request", "limit muss zwischen 1 und 500 liegen, offset ab 0.")
    now = datetime.now(timezone.utc)
    items = services.store.inbox_items(
        tenant, state=state, category=category, team=team, flag=flag, limit=limit, offset=offset,
        received_before=now - timedelta(hours=min_age_hours) if min_age_hours is not None else None,
        received_after=now - timedelta(hours=max_age_hours) if max_age_hours is not None else None,
    )
    labels = tenant_inbox(services, tenant)[0]
    return InboxPage(tenant=tenant, items=[_summary(i, labels, now) for i in items], limit=limit, offset=offset)


@staff.get("/{key}", summary="Eine Nachricht mit markierten persönlichen Daten, Feldern und Entwurf")
def get_message(key: str, services: ServicesDep, user: StaffDep, tenant: InboxTenant) -> InboxMessage:
    item = _call(review.open_message, services.store, tenant, key, user.name)
    labels = tenant_inbox(services, tenant)[0]

    return InboxMessage(
        **_summary(item, labels, datetime.now(timezone.utc)).model_dump(),
        subject=item.subject, sender=item.sender, text=item.body,
        personal_data=[f.to_dict() for f in mark(item.body)],
        subject_personal_data=[f.to_dict() for f in mark(item.subject)],
        redacted=item.redacted, fields=item.fields, draft=item.draft,
        attachments=[
            AttachmentOut(
                id=a.id, filename=a.filename, content_type=safe_content_type(a.content_type), size=a.size,
                doc_type=a.doc_type, doc_type_label=DOCUMENT_TYPES.get(a.doc_type, ""), text=a.text,
            )
            for a in item.attachments
        ],
        delete_after=item.delete_after.isoformat(), first_response_at=_iso(item.first_response_at),
        triage_error=_triage_error(services.store, tenant, item),
    )


@staff.get("/{key}/attachments/{attachment_id}", summary="Einen Anhang herunterladen", response_class=Response,
           responses={200: {"content": {"application/octet-stream": {}}}})
def get_attachment(key: str, services: ServicesDep, user: StaffDep, tenant: InboxTenant,
                   attachment_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    attachment = _call(review.open_attachment, services.store, tenant, key, attachment_id, user.name)  # audited there
    # Download only, with the type its bytes show (never the sender's text/html): opened in
    # the browser anyway, it may run nothing (sandbox).

    media_type = safe_content_type(attachment.content_type, attachment.data, attachment.filename)
    return Response(attachment.data, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(attachment.filename)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
    })


@staff.get("/{key}/audit", summary="Protokoll einer Nachricht: wer hat wann was getan")
def get_audit(key: str, services: ServicesDep, tenant: InboxTenant) -> Trail:
    entries = _call(review.trail, services.store, tenant, key)
    return Trail(entries=[
        TrailEntry(at=e.at.isoformat(), actor=e.actor, action=e.action, details=e.details) for e in entries
    ])


class AssignIn(BaseModel):
    person: Optional[str] = None
    team: Optional[str] = None


class TextIn(BaseModel):
    text: str


class AnswerIn(BaseModel):
    text: Optional[str] = None


class ForwardIn(BaseModel):
    team: str


class CloseIn(BaseModel):
    reason: str


def _step(services: Services, user: StaffUser, tenant: str, function, key: str, *args) -> InboxStep:
    item = _call(function, services.store, tenant, key, user.name, *args)
    summary = _summary(item, tenant_inbox(services, tenant)[0], datetime.now(timezone.utc))
    return InboxStep(**summary.model_dump(), draft=item.draft)


@staff.post("/{key}/review", summary="Bearbeitung beginnen (neu -> in Bearbeitung)")
def post_review(key: str, services: ServicesDep, user: StaffDep, tenant: InboxTenant) -> InboxStep:
    return _step(services, user, tenant, review.start_review, key)


@staff.post("/{key}/assign", summary="Einer Person oder einem Team zuweisen")
def post_assign(key: str, body: AssignIn, services: ServicesDep, user: StaffDep, tenant: InboxTenant) -> InboxStep:
    return _step(services, user, tenant, review.assign, key, body.person, body.team)


@staff.put("/{key}/draft", summary="Antwortentwurf bearbeiten")
def put_draft(key: str, body: TextIn, services: ServicesDep, user: StaffDep, tenant: InboxTenant) -> InboxStep:
    return _step(services, user, tenant, review.edit_draft, key, body.text)


@staff.post("/{key}/answer", summary="Antwort freigeben (in Bearbeitung -> beantwortet)")
def post_answer(key: str, body: AnswerIn, services: ServicesDep, user: StaffDep, tenant: InboxTenant) -> InboxStep:
    return _step(services, user, tenant, review.answer, key, body.text)


@staff.post("/{key}/forward", summary="Weiterleiten (in Bearbeitung -> weitergeleitet)")
def post_forward(key: str, body: ForwardIn, services: ServicesDep, user: StaffDep, tenant: InboxTenant) -> InboxStep:
    return _step(services, user, tenant, review.forward, key, body.team)


@staff.post("/{key}/close", summary="Abschließen (in Bearbeitung -> abgeschlossen)")
def post_close(key: str, body: CloseIn, services: ServicesDep, user: StaffDep, tenant: InboxTenant) -> InboxStep:
    return _step(services, user, tenant, review.close, key, body.reason)


router.include_router(staff)


# --- helpers ----------------------------------------------------------------------------------


def _call(function, *args):
    """Run a review step; its error becomes the HTTP error. A numeric key beyond the stores'
    64-bit ids names no message (404, not an overflow in the database driver)."""
    key = args[2] if len(args) > 2 else None
    if isinstance(key, str) and (integer(key) or 0) > MAX_ID:
        raise ApiError(404, "not_found", "Diese Nachricht gibt es nicht (mehr).")
    try:
        return function(*args)
    except review.ReviewError as error:
        raise ApiError(error.status, error.code, str(error)) from None


def _summary(item: InboxItem, labels, now: datetime) -> InboxSummary:
    return InboxSummary(
        id=item.id, reference=item.reference, tenant=item.tenant, channel=item.channel,
        received_at=item.received_at.isoformat(),
        age_hours=round((now - item.received_at).total_seconds() / 3600, 1),
        state=item.state, state_label=review.STATE_LABELS.get(item.state, item.state),
        priority=item.priority, priority_label=PRIORITY_LABELS.get(item.priority, str(item.priority)),
        flags=item.flags, category=item.category,
        category_label=labels.label(item.category) if item.category else None,
        team=item.team, assignee=item.assignee, confidence=item.confidence,
        triage_status=item.triage_status, preview=item.redacted[:PREVIEW_CHARS],
    )


def _triage_error(store, tenant: str, item: InboxItem) -> str | None:
    if item.triage_status != "failed":
        return None
    failures = [e for e in store.audit_entries(tenant, "inbox_message", str(item.id)) if e.action == "triage_failed"]
    return failures[-1].details.get("reason") if failures else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
