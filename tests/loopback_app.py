"""The real app on loopback over an empty temporary store, for the security tests of issue 12
(test_security_sessions.py, test_rate_limits.py, test_api_keys.py)::

    with serve(tmp_path, rate_limit_per_client=3) as (url, services):
        httpx.post(f"{url}/api/v1/conversations/...")

No embedder and no LLM: these attacks need no knowledge. Several `serve` over the same home
are several workers sharing one database. `cli(home, ...)` runs the real command line there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from amtslotse.services import Services
from amtslotse.settings import Settings
from amtslotse.web.app import create_app
from app_server import free_port

TENANT = "musterkreis"
BASE = {"embedder": "none", "llm_base_url": "", "llm_provider": "", "tenants_dir": None}


def settings_for(home: Path, **overrides) -> Settings:
    return Settings(_env_file=None, home=home, **(BASE | overrides))


@contextmanager
def serve(home: Path, log_level: str = "warning", **overrides):
    services = Services.open(settings_for(home, **overrides))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", services
    finally:
        server.should_exit = True
        thread.join(10)
        services.close()


def cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`amtslotse ARGS` in a subprocess on `home` (no embedder: account commands need none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTSLOTSE_")}
    env |= {"AMTSLOTSE_HOME": str(home), "AMTSLOTSE_EMBEDDER": "none", "AMTSLOTSE_LLM_BASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "amtslotse.cli", *args], env=env, input=stdin, capture_output=True, text=True,
        timeout=120, cwd=home,
    )
