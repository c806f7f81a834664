"""The citizen chat over HTTP: messages (JSON or server-sent events), feedback, handovers,
passages for the source panel, and the tenant's public configuration."""

from __future__ import annotations

import json
from typing import Iterator, Optional

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AliasChoices, BaseModel, Field

from amtslotse.ask.conversation import ChatError
from amtslotse.ask.handover import hand_over
from amtslotse.ask.pipeline import Event
from amtslotse.tenants import TENANT_NAME
from amtslotse.web.errors import ApiError

router = APIRouter(prefix="/api/v1", tags=["Bürger-Chat"])

_STATUS = {"conversation_conflict": 409, "message_too_long": 413, "summary_too_long": 413}


def _chat_error(error: ChatError) -> ApiError:
    status = _STATUS.get(error.code, 404 if error.code.endswith("not_found") else 422)
    return ApiError(status, error.code, str(error))


def _tenant(request: Request, tenant: str | None):
    services = request.app.state.services
    name = tenant or services.settings.default_tenant
    if not TENANT_NAME.match(name):
        raise ApiError(422, "invalid_tenant", f"„{name}“ ist kein gültiger Mandant.")
    config = services.tenant(name)
    if not config.configured and name not in services.store.tenants():
        raise ApiError(404, "tenant_not_found", f"Das Jobcenter „{name}“ ist hier nicht eingerichtet.")
    return config


class MessageIn(BaseModel):
    text: str = Field(validation_alias=AliasChoices("text", "message", "question"), min_length=1, max_length=20000)
    tenant: Optional[str] = None
    simple_language: bool = False
    language: Optional[str] = Field(default=None, pattern=r"^[a-z]{2}$")


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/conversations/{conversation_id}/messages", summary="Eine Frage stellen (JSON oder Server-Sent Events)")
def post_message(conversation_id: str, body: MessageIn, request: Request, stream: bool = False):
    services = request.app.state.services
    tenant = _tenant(request, body.tenant).tenant
    try:
        services.chat.check(conversation_id, body.text)
        events = services.chat.reply(
            conversation_id, tenant, body.text, simple=body.simple_language, language=body.language
        )
        first = next(events)  # runs the checks that need the store before any byte is sent
    except ChatError as error:
        raise _chat_error(error) from None
    if stream or "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(
            _event_stream(first, events), media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    for event in events:
        pass
    return JSONResponse(event.data)


def _event_stream(first: Event, events: Iterator[Event]) -> Iterator[str]:
    yield sse(first.kind, first.data)
    try:
        for event in events:
            yield sse(event.kind, event.data)
    except Exception:  # the stream has started: the error becomes an event, the server log keeps the cause
        yield sse("error", {"code": "internal_error", "message": "Die Antwort konnte nicht fertig erstellt werden."})
        raise


class FeedbackIn(BaseModel):
    rating: str = Field(pattern="^(up|down)$")
    comment: Optional[str] = Field(default=None, max_length=1000)


@router.post("/conversations/{conversation_id}/messages/{message_id}/feedback", summary="Eine Antwort bewerten")
def post_feedback(conversation_id: str, message_id: int, body: FeedbackIn, request: Request) -> dict:
    services = request.app.state.services
    tenant = services.store.conversation_tenant(conversation_id)
    if tenant is None:
        raise ApiError(404, "conversation_not_found", "Dieses Gespräch gibt es nicht (mehr).")
    try:
        services.chat.feedback(conversation_id, tenant, message_id, body.rating, body.comment)
    except ChatError as error:
        raise _chat_error(error) from None
    return {"ok": True}


class HandoverIn(BaseModel):
    conversation_id: str = Field(min_length=8, max_length=64)
    summary: str = Field(min_length=1, max_length=20000)
    contact: str = Field(default="", max_length=200)
    consent: bool = False


@router.post("/handovers", status_code=201, summary="Anliegen an Mitarbeitende übergeben")
def post_handover(body: HandoverIn, request: Request) -> dict:
    if not body.consent:
        raise ApiError(422, "consent_missing", "Bitte bestätigen Sie, dass die Zusammenfassung gesendet werden soll.")
    try:
        return hand_over(request.app.state.services, body.conversation_id, body.summary, body.contact).to_dict()
    except ChatError as error:
        raise _chat_error(error) from None


@router.get("/passages/{passage_id}", summary="Eine Quelle im Wortlaut")
def get_passage(passage_id: int, request: Request, tenant: Optional[str] = None) -> dict:
    services = request.app.state.services
    name = _tenant(request, tenant).tenant
    found = services.store.get_passages(name, [passage_id])
    if not found:
        raise ApiError(404, "passage_not_found", "Diese Quelle gibt es nicht.")
    p = found[0]
    return {
        "passage_id": p.id, "citation": p.citation, "title": p.title, "heading": p.heading, "text": p.text,
        "url": p.url, "source": p.source,
        "valid_from": p.valid_from.isoformat() if p.valid_from else None,
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
    }


@router.get("/tenants/{tenant}/config", summary="Öffentliche Einstellungen eines Jobcenters (für das Chat-Fenster)")
def get_tenant_config(tenant: str, request: Request) -> dict:
    config = _tenant(request, tenant)
    return config.public_dict(request.app.state.services.settings.conversation_retention_days)
