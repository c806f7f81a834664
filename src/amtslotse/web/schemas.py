"""Response models of the public JSON endpoints: the citizen chat API (web/chat_api.py) and the
OpenAI-compatible API (web/openai_api.py). The staff API's are in web/staff_schemas.py.

They fix the JSON shapes that the widget, scripts and evaluations read, and document them in
/openapi.json. `Out` forbids unknown fields, so a domain dict that grows a key fails loudly
here instead of vanishing from the response; parts the domain owns and documents itself (a
citation, an emergency contact) stay plain objects.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Ok(Out):
    ok: bool = True


# --- the citizen chat -----------------------------------------------------------------------------


class AnswerFields(Out):
    """What a citizen is shown for a question: the chat's answer, and the staff search test's
    view of the same answer (`staff_schemas.SearchTest`)."""

    answer: str
    citations: list[dict[str, Any]]
    handover: bool
    urgent: bool
    refused: bool
    confidence: float
    language: str
    mode: str
    stand: str
    urgent_kind: Optional[str]
    emergency_contacts: list[dict[str, Any]]
    handover_summary: Optional[str]
    urgent_advice: Optional[str]
    german: Optional[str]
    outcome: str
    suggestions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="When unsure: up to three questions of curated answers that may be meant ({curated_id, question}); "
                    "asked word for word, each gets its answer. The text lists them too.",
    )


class ChatAnswer(AnswerFields):
    """One answer of the chat (also the `done` event of the stream). `conversation_token` only
    comes with the first answer of a conversation: the secret of its further messages."""

    conversation_id: str
    message_id: int
    conversation_token: Optional[str] = None

    def json_data(self) -> dict[str, Any]:
        """The JSON object, without `conversation_token` when none was issued."""
        return self.model_dump(mode="json", exclude_unset=True)


class HandoverReceipt(Out):
    reference: str
    status: str
    next_steps: str
    priority: bool


class PassageOut(Out):
    passage_id: Optional[int]
    citation: str
    title: str
    heading: Optional[str]
    text: str
    url: Optional[str]
    source: str
    valid_from: Optional[str]
    valid_to: Optional[str]


class Notices(Out):
    ai: str
    data: str


class TenantPublicConfig(Out):
    tenant: str
    name: str
    greeting: str
    colors: dict[str, str]
    logo_url: Optional[str]
    privacy_url: Optional[str]
    accessibility_url: Optional[str]
    imprint_url: Optional[str]
    emergency_contacts: list[dict[str, Any]]
    notices: Notices
    languages: list[str]


# --- OpenAI-compatible ------------------------------------------------------------------------------


class ModelCard(Out):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "amtslotse"


class ModelList(Out):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class AssistantMessage(Out):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(Out):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(Out):
    """Not counted (no tokens: extractive answers); zero as OpenAI clients expect the field."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(Out):
    """OpenAI's chat.completion object; the answer's sources and flags in `amtslotse`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    amtslotse: dict[str, Any]
