"""The `LLM` protocol: a chat model that streams text chunks, and the errors it raises.

A provider is a small class (the simonw/llm shape: a model is an object whose one real
method yields chunks). `stream()` is the method to write; `complete()` joins its chunks.
Subclassing `LLM` explicitly gives `complete()` for free; a class that only matches the
protocol structurally must write both::

    from amtslotse.llm import LLM, ChatMessage

    class Echo(LLM):
        name = "echo"

        def stream(self, messages, *, max_tokens=None, temperature=None, timeout=None):
            yield "Sie schrieben: "
            yield messages[-1].content

    Echo().complete([ChatMessage("user", "Hallo")])  # "Sie schrieben: Hallo"

Every failure of a provider surfaces as an `LLMError` (or a subclass) whose message is in
German and fit to show to staff: the caller (compose) falls back to the extractive answer
instead of crashing. Messages never contain an API key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]
ROLES: tuple[str, ...] = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of a chat: who speaks (`role`) and what they say (`content`)."""

    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unbekannte Rolle {self.role!r}; erlaubt: {', '.join(ROLES)}.")
        if not isinstance(self.content, str):
            raise TypeError("Der Inhalt einer Chat-Nachricht muss ein String sein.")

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChatMessage:
        return cls(role=data["role"], content=data["content"])


class LLMError(RuntimeError):
    """An LLM call failed. `str(error)` is a German sentence for staff and logs."""


class LLMTimeoutError(LLMError):
    """The model did not answer (or finish answering) within the time limit."""


class LLMUnreachableError(LLMError):
    """The model server could not be reached (connection refused, unknown host, TLS, ...)."""


class LLMBadResponseError(LLMError):
    """The server answered, but not usefully: an HTTP error or a malformed/aborted stream.

    `status_code` is the HTTP status for HTTP errors, else None.
    """

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@runtime_checkable
class LLM(Protocol):
    """A chat model. Parameters left at None use the provider's configured defaults
    (AMTSLOTSE_LLM_MAX_TOKENS, AMTSLOTSE_LLM_TEMPERATURE, AMTSLOTSE_LLM_TIMEOUT_SECONDS)."""

    name: str  # shown in logs and stored beside generated answers, e.g. "openai:qwen2.5-7b"

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Iterator[str]:
        """Yield the answer as text chunks, in order, as the model produces them.

        Raises LLMError (possibly after some chunks were yielded). Closing the iterator
        early ends the request.
        """
        ...

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> str:
        """The whole answer as one string (the chunks of `stream()`, joined)."""
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature, timeout=timeout))
