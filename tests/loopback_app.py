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
from contextlib import contextmanager
from pathlib import Path

from amtslotse.services import Services
from amtslotse.settings import Settings
from app_server import running
from embedding_cache import seed_triage_model

TENANT = "musterkreis"
BASE = {"embedder": "none", "llm_base_url": "", "llm_provider": "", "tenants_dir": None}


def settings_for(home: Path, **overrides) -> Settings:
    return Settings(_env_file=None, home=home, **(BASE | overrides))


@contextmanager
def serve(home: Path, log_level: str = "warning", **overrides):
    seed_triage_model(home)  # a message posted to the inbox is processed without training first
    services = Services.open(settings_for(home, **overrides))
    try:
        with running(services, log_level) as url:
            yield url, services
    finally:
        services.close()


def cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`amtslotse ARGS` in a subprocess on `home` (no embedder: account commands need none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTSLOTSE_")}
    env |= {"AMTSLOTSE_HOME": str(home), "AMTSLOTSE_EMBEDDER": "none", "AMTSLOTSE_LLM_BASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "amtslotse.cli", *args], env=env, input=stdin, capture_output=True, text=True,
        timeout=120, cwd=home,
    )
