"""Client for any OpenAI-compatible chat server: vLLM, Ollama, llama.cpp, hosted services.

It speaks the one endpoint they all share, POST {base_url}/chat/completions with
"stream": true, and reads the server-sent events (`data: {...}` lines, ended by
`data: [DONE]`)::

    llm = OpenAICompatibleLLM("http://127.0.0.1:8080/v1", model="qwen2.5-7b-instruct")
    for chunk in llm.stream([ChatMessage("system", "Antworte kurz."),
                             ChatMessage("user", "Was ist eine Bedarfsgemeinschaft?")]):
        print(chunk, end="", flush=True)

Every failure becomes an LLMError with a German message: connection refused or unknown host
(LLMUnreachableError), connect or total time limit (LLMTimeoutError), HTTP 4xx/5xx with the
server's own error text, and malformed or aborted streams (LLMBadResponseError). The API
key is sent as a Bearer token and never appears in a message, a repr or a log line.

Time limit: the connect phase gets min(connect_timeout, timeout); after that, `timeout`
bounds both each wait for the next bytes and the whole answer, which is checked between
chunks. So a server that trickles tokens is cut off after `timeout` seconds, plus at most
the one wait in progress.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from amtslotse.errors import ConfigError
from amtslotse.hookspecs import hookimpl
from amtslotse.llm.protocol import (
    LLM,
    ChatMessage,
    LLMBadResponseError,
    LLMTimeoutError,
    LLMUnreachableError,
)

if TYPE_CHECKING:
    from amtslotse.llm.registry import LLMFactory
    from amtslotse.settings import Settings

_MAX_ERROR_CHARS = 300  # of a server's error text quoted in our message
# llama.cpp-based servers end a streamed answer this way when the prompt does not fit.
_ABORT_HINT = "Häufige Ursache: die Anfrage ist zu lang für das Kontextfenster des Modells (siehe Log des Servers)."


class OpenAICompatibleLLM(LLM):
    """Chat completions over HTTP from an OpenAI-compatible server (provider "openai")."""

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key: str | SecretStr = "",
        *,
        max_tokens: int = 600,
        temperature: float = 0.2,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
    ) -> None:
        base_url = base_url.strip().rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"AMTSLOTSE_LLM_BASE_URL muss eine http(s)-Adresse sein, z. B. http://127.0.0.1:8080/v1 "
                f"(bekommen: {_public_url(base_url)!r})."
            )
        self.base_url = base_url
        self.model = model.strip()
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key or "")
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.name = f"openai:{self.model}" if self.model else "openai"
        # One pooled client per provider object (keep-alive to the server); thread-safe.
        self._client = httpx.Client(follow_redirects=False, trust_env=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleLLM:
        if not settings.llm_base_url.strip():
            raise ConfigError("Für den LLM-Anbieter 'openai' muss AMTSLOTSE_LLM_BASE_URL gesetzt sein.")
        return cls(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout_seconds,
        )

    # --- the protocol -------------------------------------------------------------------------

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Iterator[str]:
        payload = self._payload(messages, max_tokens, temperature)
        timeout = self.timeout if timeout is None else float(timeout)
        if timeout <= 0:
            raise ValueError("Das Zeitlimit für das Sprachmodell muss größer als 0 sein.")
        return self._stream(payload, timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAICompatibleLLM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never the key
        key = "gesetzt" if self._api_key.get_secret_value() else "keiner"
        return f"<OpenAICompatibleLLM {self.name!r} at {_public_url(self.base_url)!r}, API-Schlüssel: {key}>"

    # --- request ------------------------------------------------------------------------------

    def _payload(
        self, messages: Sequence[ChatMessage], max_tokens: int | None, temperature: float | None
    ) -> dict[str, Any]:
        if isinstance(messages, (str, ChatMessage)) or not messages:
            raise ValueError("Bitte eine nicht leere Liste von ChatMessage-Objekten übergeben.")
        if not all(isinstance(m, ChatMessage) for m in messages):
            raise TypeError("Nachrichten an das Sprachmodell müssen ChatMessage-Objekte sein.")
        max_tokens = self.max_tokens if max_tokens is None else int(max_tokens)
        temperature = self.temperature if temperature is None else float(temperature)
        if max_tokens < 1:
            raise ValueError("max_tokens muss mindestens 1 sein.")
        payload: dict[str, Any] = {
            "messages": [m.to_dict() for m in messages],
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if self.model:  # servers with one model (llama.cpp) accept a request without it
            payload["model"] = self.model
        return payload

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        key = self._api_key.get_secret_value()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _stream(self, payload: dict[str, Any], timeout: float) -> Iterator[str]:
        """The generator behind `stream()` (separate so that argument errors raise at once)."""
        deadline = time.monotonic() + timeout
        limits = httpx.Timeout(timeout, connect=min(self.connect_timeout, timeout))
        url = f"{self.base_url}/chat/completions"
        where = _public_url(self.base_url)
        try:
            with self._client.stream("POST", url, json=payload, headers=self._headers(), timeout=limits) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._http_error(response)
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # A server that ignores "stream": true sends the whole completion as JSON.
                    response.read()
                    yield from self._whole_completion(response)
                    return
                try:
                    yield from self._events(response, deadline, timeout)
                except LLMBadResponseError:
                    _drop_connection(response)
                    raise
        except httpx.ConnectTimeout:
            raise LLMTimeoutError(
                f"Der Sprachmodell-Server unter {where} hat die Verbindung nicht innerhalb von "
                f"{limits.connect:g} s angenommen."
            ) from None
        except httpx.TimeoutException:
            raise _timeout_error(timeout) from None
        except httpx.ConnectError as error:
            raise LLMUnreachableError(
                f"Der Sprachmodell-Server unter {where} ist nicht erreichbar ({self._redact(str(error))}). "
                "Läuft der Server, und stimmt AMTSLOTSE_LLM_BASE_URL?"
            ) from None
        except httpx.TransportError as error:  # the connection broke off mid-answer, bad HTTP, ...
            raise LLMBadResponseError(
                f"Die Verbindung zum Sprachmodell-Server unter {where} brach vorzeitig ab "
                f"({type(error).__name__}: {self._redact(str(error))}). {_ABORT_HINT}"
            ) from None

    # --- response -----------------------------------------------------------------------------

    def _events(self, response: httpx.Response, deadline: float, timeout: float) -> Iterator[str]:
        """Text chunks from a server-sent event stream of chat.completion.chunk objects."""
        finished = False  # a chunk carried a finish_reason
        data_lines: list[str] = []
        # A blank line ends an event; the sentinel "" ends a last event that lacked its own.
        for line in itertools.chain(response.iter_lines(), [""]):
            if time.monotonic() > deadline:
                raise _timeout_error(timeout)
            if line.startswith("data:"):
                data_lines.append(line[6:] if line.startswith("data: ") else line[5:])
                continue
            if line or not data_lines:  # comments (":"), "event:", "id:", "retry:"; blank lines
                continue
            data, data_lines = "\n".join(data_lines), []
            if data.strip() == "[DONE]":
                return
            text, finish_reason = self._parse_chunk(data)
            finished = finished or bool(finish_reason)
            if text:
                yield text
        if not finished:
            raise LLMBadResponseError(
                f"Die Antwort des Sprachmodell-Servers brach vorzeitig ab (Stream ohne Abschluss). {_ABORT_HINT}"
            )

    def _parse_chunk(self, data: str) -> tuple[str, str | None]:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise _malformed(f"kein JSON: {self._redact(data)[:_MAX_ERROR_CHARS]!r}") from None
        if not isinstance(chunk, dict):
            raise _malformed(f"kein JSON-Objekt: {self._redact(data)[:_MAX_ERROR_CHARS]!r}")
        if chunk.get("error"):  # servers report errors that happen mid-stream this way
            raise LLMBadResponseError(
                f"Der Sprachmodell-Server meldet einen Fehler während der Antwort: {self._error_text(chunk)}"
            )
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise _malformed(f"ohne 'choices': {self._redact(data)[:_MAX_ERROR_CHARS]!r}")
        if not choices:  # e.g. a final usage-only chunk
            return "", None
        choice = choices[0]
        if not isinstance(choice, dict):
            raise _malformed(f"'choices' enthält kein Objekt: {self._redact(data)[:_MAX_ERROR_CHARS]!r}")
        delta = choice.get("delta") or {}
        text = delta.get("content") if isinstance(delta, dict) else None
        if text is not None and not isinstance(text, str):
            raise _malformed(f"'content' ist kein Text: {self._redact(data)[:_MAX_ERROR_CHARS]!r}")
        return text or "", choice.get("finish_reason")

    def _whole_completion(self, response: httpx.Response) -> Iterator[str]:
        try:
            body = response.json()
            text = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _malformed(f"{self._redact(response.text)[:_MAX_ERROR_CHARS]!r}") from None
        if not isinstance(text, str):
            raise _malformed("'content' ist kein Text")
        if text:
            yield text

    def _http_error(self, response: httpx.Response) -> LLMBadResponseError:
        status = response.status_code
        detail = f"HTTP {status}: {self._error_text(response)}"
        if status in (401, 403):
            message = f"Der Sprachmodell-Server hat die Anmeldung abgelehnt ({detail}). Bitte AMTSLOTSE_LLM_API_KEY prüfen."
        elif status == 404:
            message = (
                f"Der Sprachmodell-Server kennt diese Adresse oder dieses Modell nicht ({detail}). Bitte "
                "AMTSLOTSE_LLM_BASE_URL (meist mit /v1 am Ende) und AMTSLOTSE_LLM_MODEL prüfen."
            )
        elif status == 429:
            message = f"Der Sprachmodell-Server ist ausgelastet oder das Kontingent ist erschöpft ({detail})."
        elif status < 500:
            message = f"Der Sprachmodell-Server hat die Anfrage abgelehnt ({detail})."
        else:
            message = f"Der Sprachmodell-Server meldet einen internen Fehler ({detail})."
        return LLMBadResponseError(message, status_code=status)

    def _error_text(self, source: httpx.Response | dict[str, Any]) -> str:
        """The server's own error text from an OpenAI-style, FastAPI-style or plain body."""
        if isinstance(source, dict):
            body, raw = source, json.dumps(source, ensure_ascii=False)
        else:
            raw = source.text
            try:
                body = source.json()
            except ValueError:
                body = None
        text = None
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):  # OpenAI, vLLM, llama.cpp: {"error": {"message": ...}}
                text = error.get("message")
            elif isinstance(error, str):  # Ollama: {"error": "..."}
                text = error
            elif "detail" in body:  # FastAPI: {"detail": "Not Found"}
                detail = body["detail"]
                text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
            elif isinstance(body.get("message"), str):
                text = body["message"]
        if not isinstance(text, str) or not text.strip():
            text = raw or "(keine Fehlermeldung)"
        text = re.sub(r"\s+", " ", self._redact(text)).strip()
        return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"

    def _redact(self, text: str) -> str:
        """Remove the API key, a password in the URL and any bearer token from outside text."""
        for secret in (self._api_key.get_secret_value(), urlsplit(self.base_url).password):
            if secret:
                text = text.replace(secret, "***")
        return re.sub(r"(?i)(bearer\s+)\S+", r"\1***", text)


def _timeout_error(timeout: float) -> LLMTimeoutError:
    return LLMTimeoutError(
        f"Das Sprachmodell hat nicht innerhalb von {timeout:g} s geantwortet "
        "(Zeitlimit: AMTSLOTSE_LLM_TIMEOUT_SECONDS)."
    )


def _malformed(detail: str) -> LLMBadResponseError:
    return LLMBadResponseError(f"Der Sprachmodell-Server hat eine unverständliche Antwort geschickt ({detail}).")


def _drop_connection(response: httpx.Response) -> None:
    """Keep the connection of a broken stream out of the pool.

    llama-cpp-python's server, after a stream it broke off, also breaks the next request on
    the same keep-alive connection. A closed socket counts as expired in httpcore's pool,
    so the next request opens a new connection. `network_stream` is httpcore's documented
    response extension for HTTP/1.1.
    """
    stream = response.extensions.get("network_stream")
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass


def _public_url(url: str) -> str:
    """The URL without user:password@ and without a query string (which may hold a key)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(ungültige Adresse)"
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@hookimpl
def register_llms(register: Callable[[str, LLMFactory], None]) -> None:
    """The built-in plugin (plugins.DEFAULT_PLUGINS): registered as an outside one would be."""
    register("openai", OpenAICompatibleLLM.from_settings)
