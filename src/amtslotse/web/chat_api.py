"""The citizen chat over HTTP: messages (JSON or server-sent events), feedback, handovers,
passages for the source panel, and the tenant's public configuration.

The conversation id is chosen by the client and is no credential: the first message's answer
carries a secret (`conversation_token`, also in the response header X-Conversation-Token),
and every further message, feedback and handover must send it in the request header
X-Conversation-Token. The public endpoints are rate-limited (web/limits.py).
"""

from __future__ import annotations

import itertools
import json
from typing import Iterator, Optional

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import AliasChoices, BaseModel, Field

from amtslotse.ask.conversation import ChatError
from amtslotse.ask.pipeline import Event
from amtslotse.inbox.handover import hand_over
from amtslotse.web.deps import PublicTenantDep, ServicesDep, public_tenant
from amtslotse.web.errors import MAX_ID, ApiError
from amtslotse.web.limits import check_rate
from amtslotse.web.schemas import ChatAnswer, HandoverReceipt, Ok, PassageOut, TenantPublicConfig

router = APIRouter(prefix="/api/v1", tags=["Bürger-Chat"])

_STATUS = {"conversation_conflict": 409, "message_too_long": 413, "summary_too_long": 413}

TOKEN_HEADER = "X-Conversation-Token"
_TOKEN_DOC = "Der Schlüssel des Gesprächs aus der Antwort auf seine erste Nachricht (conversation_token)."


def _token(description: str = _TOKEN_DOC):
    return Header(default=None, alias=TOKEN_HEADER, max_length=200, description=description)


def _forbidden() -> ApiError:
    return ApiError(403, "conversation_forbidden",
                    "Dieses Gespräch kann hier nicht fortgesetzt werden. Bitte beginnen Sie ein neues Gespräch.")


def _conflict() -> ApiError:
    return ApiError(409, "conversation_conflict", "Diese Gesprächsnummer gehört zu einem anderen Jobcenter.")


def _chat_error(error: ChatError) -> ApiError:
    status = _STATUS.get(error.code, 404 if error.code.endswith("not_found") else 422)
    return ApiError(status, error.code, str(error))


class MessageIn(BaseModel):
    text: str = Field(validation_alias=AliasChoices("text", "message", "question"), min_length=1, max_length=20000)
    tenant: Optional[str] = None
    simple_language: bool = False
    language: Optional[str] = Field(default=None, pattern=r"^[a-z]{2}$")
    notice_shown: bool = Field(default=False, description="Der Client hat den Hinweis auf KI und Datenschutz vor der ersten Nachricht gezeigt.")


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/conversations/{conversation_id}/messages", summary="Eine Frage stellen (JSON oder Server-Sent Events)",
             response_model=ChatAnswer, responses={200: {"content": {"text/event-stream": {}}}})
def post_message(
    conversation_id: str, body: MessageIn, request: Request, services: ServicesDep, stream: bool = False,
    token: Optional[str] = _token(_TOKEN_DOC + " Nicht bei der ersten Nachricht."),
) -> Response:
    tenant = public_tenant(services, body.tenant).tenant
    try:
        services.chat.check(conversation_id, body.text)
    except ChatError as error:
        raise _chat_error(error) from None
    check_rate(services, request, "chat", tenant)
    access = services.store.open_conversation(conversation_id, tenant, token)
    if access.status == "denied":
        raise _forbidden()
    if access.status == "conflict":
        raise _conflict()
    limit = services.settings.max_conversation_turns
    if access.turns >= limit:
        raise ApiError(409, "conversation_full",
                       f"Dieses Gespräch hat schon {limit} Fragen. Bitte beginnen Sie für weitere Fragen ein neues Gespräch.")
    issued = access.secret  # only for a new conversation: its client gets it once
    release = (lambda: services.store.release_conversation(conversation_id, issued)) if issued else (lambda: None)
    headers = {TOKEN_HEADER: issued} if issued else {}
    try:
        events = services.chat.reply(
            conversation_id, tenant, body.text, simple=body.simple_language, language=body.language,
            notice_shown=body.notice_shown,
        )
        first = next(events)  # runs the checks that need the store before any byte is sent
    except ChatError as error:
        release()
        raise _chat_error(error) from None
    except BaseException:
        release()
        raise
    if stream or "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(
            _event_stream(first, events, issued, release), media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", **headers},
        )
    event = first
    try:
        for event in events:
            pass
    except BaseException:
        release()
        raise
    return JSONResponse(_with_token(event.data, issued), headers=headers)


def _with_token(data: dict, issued: str | None) -> dict:
    """The answer as the client gets it (checked against `ChatAnswer`), with the conversation's
    secret when it was issued by this message."""
    return ChatAnswer.model_validate(data | {"conversation_token": issued} if issued else data).json_data()


def _event_stream(first: Event, events: Iterator[Event], issued: str | None = None, release=lambda: None) -> Iterator[str]:
    done = False
    try:
        for event in itertools.chain([first], events):
            done = done or event.kind == "done"
            yield sse(event.kind, _with_token(event.data, issued) if event.kind == "done" else event.data)
    except Exception:  # the stream has started: the error becomes an event, the server log keeps the cause
        yield sse("error", {"code": "internal_error", "message": "Die Antwort konnte nicht fertig erstellt werden."})
        raise
    finally:
        if not done:  # failed or broken off before the first answer was stored: the id is free again
            release()


class FeedbackIn(BaseModel):
    rating: str = Field(pattern="^(up|down)$")
    comment: Optional[str] = Field(default=None, max_length=1000)


@router.post("/conversations/{conversation_id}/messages/{message_id}/feedback", summary="Eine Antwort bewerten")
def post_feedback(
    conversation_id: str, body: FeedbackIn, request: Request, services: ServicesDep,
    message_id: int = Path(ge=1, le=MAX_ID), token: Optional[str] = _token(),
) -> Ok:
    tenant = services.store.conversation_tenant(conversation_id)
    if tenant is None:
        raise ApiError(404, "conversation_not_found", "Dieses Gespräch gibt es nicht (mehr).")
    if services.store.conversation_access(conversation_id, token) != tenant:
        raise _forbidden()
    check_rate(services, request, "chat", tenant)
    try:
        services.chat.feedback(conversation_id, tenant, message_id, body.rating, body.comment)
    except ChatError as error:
        raise _chat_error(error) from None
    return Ok()


class HandoverIn(BaseModel):
    conversation_id: str = Field(min_length=8, max_length=64)
    summary: str = Field(min_length=1, max_length=20000)
    contact: str = Field(default="", max_length=200)
    consent: bool = False


@router.post("/handovers", status_code=201, summary="Anliegen an Mitarbeitende übergeben")
def post_handover(body: HandoverIn, request: Request, services: ServicesDep,
                  token: Optional[str] = _token()) -> HandoverReceipt:
    if not body.consent:
        raise ApiError(422, "consent_missing", "Bitte bestätigen Sie, dass die Zusammenfassung gesendet werden soll.")
    tenant = services.store.conversation_tenant(body.conversation_id)
    if tenant is not None and services.store.conversation_access(body.conversation_id, token) != tenant:
        raise _forbidden()  # (an unknown id is 404 below)
    check_rate(services, request, "handover", tenant)
    try:
        return HandoverReceipt.model_validate(hand_over(services, body.conversation_id, body.summary, body.contact).to_dict())
    except ChatError as error:
        raise _chat_error(error) from None


@router.get("/passages/{passage_id}", summary="Eine Quelle im Wortlaut")
def get_passage(services: ServicesDep, tenant: PublicTenantDep, passage_id: int = Path(ge=1, le=MAX_ID)) -> PassageOut:
    found = services.store.get_passages(tenant.tenant, [passage_id])
    if not found:
        raise ApiError(404, "passage_not_found", "Diese Quelle gibt es nicht.")
    p = found[0]
    return PassageOut(
        passage_id=p.id, citation=p.citation, title=p.title, heading=p.heading, text=p.text, url=p.url, source=p.source,
        valid_from=p.valid_from.isoformat() if p.valid_from else None,
        valid_to=p.valid_to.isoformat() if p.valid_to else None,
    )


@router.get("/tenants/{tenant}/config", summary="Öffentliche Einstellungen eines Jobcenters (für das Chat-Fenster)")
def get_tenant_config(tenant: str, services: ServicesDep) -> TenantPublicConfig:
    config = public_tenant(services, tenant)
    return TenantPublicConfig.model_validate(config.public_dict(services.settings.conversation_retention_days))
