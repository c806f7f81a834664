"""The LLM layer against real servers: llama-cpp-python serving SmolLM2-135M-Instruct
(fixture `llama_server`, tests/llm_server.py) and, for broken streams that no healthy
server sends, a tiny HTTP server in this file. Nothing is mocked.

Generation uses temperature 0 where texts are compared: greedy decoding in llama.cpp gives
the same tokens for the same prompt.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from amtslotse.llm import (
    LLM,
    ChatMessage,
    LLMBadResponseError,
    LLMError,
    LLMTimeoutError,
    LLMUnreachableError,
    available_llms,
    get_llm,
    register_llm,
)
from amtslotse.llm.openai_compatible import OpenAICompatibleLLM
from amtslotse.settings import Settings
from llm_server import free_port

QUESTION = [ChatMessage("user", "What is the capital of France?")]


def make_settings(**values) -> Settings:
    """Settings from the arguments only (no .env file; the LLM fields set explicitly)."""
    values = {"llm_provider": "", "llm_base_url": "", "llm_model": "", "llm_api_key": "", **values}
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="module")
def llm(llama_server) -> OpenAICompatibleLLM:
    with OpenAICompatibleLLM(llama_server.base_url, api_key=llama_server.api_key, max_tokens=32) as client:
        yield client


# --- against the llama-cpp-python server ------------------------------------------------------


def test_stream_yields_several_chunks_that_join_to_the_full_text(llm):
    chunks = list(llm.stream(QUESTION, temperature=0))
    assert len(chunks) >= 3
    assert all(isinstance(chunk, str) and chunk for chunk in chunks)
    full = llm.complete(QUESTION, temperature=0)
    assert "".join(chunks) == full
    assert "Paris" in full


def test_complete_returns_text_and_respects_max_tokens(llm):
    short = llm.complete(QUESTION, max_tokens=3, temperature=0)
    longer = llm.complete(QUESTION, max_tokens=24, temperature=0)
    assert short.strip()
    assert longer.startswith(short)  # greedy: the first 3 tokens are the same
    assert len(longer) > len(short)


def test_system_and_user_message_round_trip(llm):
    user = ChatMessage("user", "Hello, who are you?")
    plain = llm.complete([user], temperature=0)
    pirate = llm.complete(
        [ChatMessage("system", "You are a pirate captain. Always talk like a pirate."), user], temperature=0
    )
    assert plain.strip() and pirate.strip()
    assert pirate != plain  # the system message reached the model's prompt


def test_get_llm_builds_the_openai_provider_when_a_base_url_is_set(llama_server):
    settings = make_settings(
        llm_base_url=llama_server.base_url + "/", llm_api_key=llama_server.api_key, llm_max_tokens=8,
        llm_model="smollm2",
    )
    llm = get_llm(settings)
    assert isinstance(llm, OpenAICompatibleLLM) and isinstance(llm, LLM)
    assert llm.name == "openai:smollm2"
    assert llm.complete(QUESTION).strip()
    assert llama_server.api_key not in repr(llm) + repr(settings) + str(settings.model_dump())
    llm.close()


def test_tiny_timeout_raises_a_german_timeout_error(llm):
    with pytest.raises(LLMTimeoutError, match="nicht innerhalb von") as caught:
        llm.complete(QUESTION, timeout=0.001)
    assert isinstance(caught.value, LLMError)


def test_total_time_limit_ends_a_long_answer(llm):
    """The limit covers the whole answer, not only each wait for the next token."""
    story = [ChatMessage("user", "Write a very long story about a dragon.")]
    chunks: list[str] = []
    with pytest.raises(LLMTimeoutError, match="Zeitlimit"):  # 600 tokens take ~10 s on 2 cores
        for chunk in llm.stream(story, max_tokens=600, temperature=0, timeout=1.0):
            chunks.append(chunk)
    assert len(chunks) < 600  # ended by the limit, not by the answer's end


def test_wrong_api_key_gives_http_error_without_the_key(llama_server):
    wrong_key = "falscher-geheimer-schluessel-4711"
    with OpenAICompatibleLLM(llama_server.base_url, api_key=wrong_key) as llm:
        with pytest.raises(LLMBadResponseError) as caught:
            llm.complete(QUESTION)
    error = caught.value
    assert error.status_code == 401
    assert "Invalid API key" in str(error)  # the server's own message
    assert "AMTSLOTSE_LLM_API_KEY" in str(error)
    assert wrong_key not in str(error) and wrong_key not in repr(error)


def test_wrong_path_gives_404_with_the_servers_message(llama_server):
    with OpenAICompatibleLLM(llama_server.base_url + "/falsch", api_key=llama_server.api_key) as llm:
        with pytest.raises(LLMBadResponseError, match="HTTP 404: Not Found") as caught:
            llm.complete(QUESTION)
    assert caught.value.status_code == 404
    assert llama_server.api_key not in str(caught.value)


def test_oversized_request_raises_instead_of_an_empty_answer(llm, llama_server):
    # llama-cpp-python answers a streamed request beyond the context window with HTTP 200
    # and an empty stream; an empty string would pass for a (useless) answer.
    too_long = [ChatMessage("user", "Wort " * 3000)]
    with pytest.raises(LLMBadResponseError, match="brach vorzeitig ab") as caught:
        llm.complete(too_long, max_tokens=8)
    assert llama_server.api_key not in str(caught.value)
    assert llm.complete(QUESTION, max_tokens=4).strip()  # the server is still fine


def test_unreachable_port_raises_unreachable_error():
    port = free_port()  # nothing listens there
    with OpenAICompatibleLLM(f"http://127.0.0.1:{port}/v1", api_key="geheim-123") as llm:
        with pytest.raises(LLMUnreachableError, match="nicht erreichbar") as caught:
            llm.complete(QUESTION, timeout=5)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "geheim-123" not in str(caught.value)


# --- registry ---------------------------------------------------------------------------------


def test_no_base_url_means_no_llm():
    assert get_llm(make_settings()) is None
    assert get_llm(make_settings(llm_provider="none", llm_base_url="http://127.0.0.1:1/v1")) is None


def test_a_registered_third_party_provider_is_used_by_get_llm():
    class Echo(LLM):  # subclassing the protocol gives complete() for free
        def __init__(self, prefix: str) -> None:
            self.name = "test-echo"
            self.prefix = prefix

        def stream(self, messages, *, max_tokens=None, temperature=None, timeout=None):
            yield self.prefix
            yield messages[-1].content

    register_llm("test-echo", lambda settings: Echo(f"[{settings.llm_model}] "), replace=True)
    assert "test-echo" in available_llms() and "openai" in available_llms()
    llm = get_llm(make_settings(llm_provider="Test-Echo", llm_model="m1"))
    assert isinstance(llm, Echo)
    assert llm.complete([ChatMessage("user", "Hallo")]) == "[m1] Hallo"


def test_unknown_provider_and_bad_names_are_rejected():
    with pytest.raises(ValueError, match="Unbekannter LLM-Anbieter"):
        get_llm(make_settings(llm_provider="gibt-es-nicht"))
    with pytest.raises(ValueError):
        register_llm("none", lambda settings: None)
    with pytest.raises(ValueError, match="schon registriert"):
        register_llm("openai", lambda settings: None)
    with pytest.raises(ValueError, match="Rolle"):
        ChatMessage("robot", "x")


# --- broken streams (a small real HTTP server sends what a healthy one would not) -------------


class _BrokenStreamHandler(BaseHTTPRequestHandler):
    BODIES = {
        "/not-json/chat/completions": b'data: {"choices": [{"delta": {"content": "Hal"}}]}\n\ndata: {kaputt\n\n',
        "/error/chat/completions": (
            b'data: {"choices": [{"delta": {"content": "Hal"}}]}\n\n'
            b'data: {"error": {"message": "model crashed"}}\n\n'
        ),
        "/no-choices/chat/completions": b'data: {"id": 1}\n\n',
        "/multi-line/chat/completions": (
            b': comment\nevent: message\ndata: {"choices": [{"delta":\ndata: {"content": "Hallo"}}]}\n\n'
            b'data: {"choices": [{"delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n'
        ),
    }

    def do_POST(self):  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = self.BODIES[self.path]
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def broken_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BrokenStreamHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "path, expected",
    [("not-json", "kein JSON"), ("error", "model crashed"), ("no-choices", "ohne 'choices'")],
)
def test_malformed_chunks_raise_bad_response(broken_server, path, expected):
    with OpenAICompatibleLLM(f"{broken_server}/{path}") as llm:
        with pytest.raises(LLMBadResponseError, match=expected):
            llm.complete(QUESTION)


def test_sse_comments_events_and_multi_line_data_are_parsed(broken_server):
    with OpenAICompatibleLLM(f"{broken_server}/multi-line") as llm:
        assert llm.complete(QUESTION) == "Hallo"
