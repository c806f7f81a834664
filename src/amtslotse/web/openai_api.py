"""An OpenAI-compatible `POST /v1/chat/completions`, so existing chat clients and test tools
can talk to Amtslotse (stream and non-stream).

The conversation comes with each request, as OpenAI clients send it: the last user message is
the question, earlier user messages are its history; system messages from the client are
ignored (the assistant's rules are not the client's to change). Nothing is stored. The model
name chooses the tenant: "amtslotse" (the default tenant) or "amtslotse:<tenant>". The
answer's sources and flags come beside the standard fields, in "amtslotse".
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Iterator, Literal, Optional

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from amtslotse.ask.conversation import public_answer
from amtslotse.privacy.redaction import redact
from amtslotse.web.deps import ServicesDep, public_tenant
from amtslotse.web.errors import ApiError
from amtslotse.web.limits import check_rate
from amtslotse.web.schemas import AssistantMessage, ChatCompletion, Choice, ModelCard, ModelList, Usage

log = logging.getLogger(__name__)
router = APIRouter(tags=["OpenAI-kompatibel"])
MODEL = "amtslotse"


class ChatMessageIn(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: take the text ones
            return " ".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class CompletionRequest(BaseModel):
    model: str = MODEL
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=100)
    stream: bool = False
    max_tokens: Optional[int] = None  # accepted for compatibility; answers are as long as they need
    temperature: Optional[float] = None
    user: Optional[str] = None


@router.get("/v1/models", summary="Verfügbare Modelle (ein Modell je Mandant)")
def list_models(services: ServicesDep) -> ModelList:
    tenants = [t for t in services.store.tenants() if t != "bund"]
    ids = [MODEL, *(f"{MODEL}:{t}" for t in tenants)]
    return ModelList(data=[ModelCard(id=i) for i in ids])


@router.post("/v1/chat/completions", summary="Chat Completions (OpenAI-kompatibel)", response_model=ChatCompletion,
             responses={200: {"content": {"text/event-stream": {}}}})
def chat_completions(body: CompletionRequest, request: Request, services: ServicesDep) -> ChatCompletion | StreamingResponse:
    name, _, tenant = body.model.partition(":")
    if name != MODEL:
        raise ApiError(404, "model_not_found", f"Unbekanntes Modell „{body.model}“; verfügbar: „{MODEL}“ oder „{MODEL}:<mandant>“.")
    tenant = public_tenant(services, tenant or None).tenant
    check_rate(services, request, "openai", tenant)
    users = [m.text() for m in body.messages if m.role == "user"]
    if not users or not users[-1].strip():
        raise ApiError(422, "invalid_request", "Die letzte Nachricht muss eine Frage (role „user“) sein.")
    question = users[-1]
    if len(question) > services.settings.max_message_chars:
        raise ApiError(413, "message_too_long", f"Die Nachricht ist zu lang (höchstens {services.settings.max_message_chars} Zeichen).")
    history = _history(users[:-1], services.settings.history_turns, services.settings.max_message_chars)
    events = services.asker.stream(question, tenant, history=history, first_turn=len(users) == 1)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        return StreamingResponse(
            _chunks(events, completion_id, created, body.model), media_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )
    for event in events:
        pass
    answer = event.data
    return ChatCompletion(
        id=completion_id, created=created, model=body.model,
        choices=[Choice(message=AssistantMessage(content=answer.answer))], usage=Usage(), amtslotse=_extra(answer),
    )


def _history(earlier: list[str], turns: int, max_chars: int) -> list[str]:
    """The redacted history the pipeline sees: the last `turns` questions only, each cut to
    `max_chars`, and only those redacted (a client may send 100 long messages: redacting all
    of them would cost seconds of CPU for nothing)."""
    if turns <= 0:
        return []
    return [redact(text[:max_chars]).text for text in earlier[-turns:]]


def _extra(answer) -> dict:
    data = public_answer(answer, "", 0)
    return {k: v for k, v in data.items() if k not in ("answer", "conversation_id", "message_id")}


def _chunks(events, completion_id: str, created: int, model: str) -> Iterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {
            "id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        for event in events:
            if event.kind == "text" and event.data["delta"]:
                yield chunk({"content": event.data["delta"]})
            elif event.kind == "done":
                yield chunk({}, "stop", amtslotse=_extra(event.data))
    except Exception:  # noqa: BLE001 - the stream has started: the client gets an error event and the end
        log.exception("OpenAI-Stream abgebrochen")
        error = {"error": {"code": "internal_error", "type": "server_error",
                           "message": "Die Antwort konnte nicht fertig erstellt werden."}}
        yield f"data: {json.dumps(error, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
