"""The real app on loopback over an empty temporary store, for the security tests of issue 12
(test_security_sessions.py, test_rate_limits.py, test_api_keys.py)::

    with serve(tmp_path, rate_limit_per_client=3) as (url, services):
        httpx.post(f"{url}/api/v1/conversations/...")

No embedder and no LLM: these attacks need no knowledge. Several `serve` over the same home
are several workers sharing one database. `cli(home, ...)` runs the real command line there in a
subprocess; `cli_in_process(home, ...)` runs the same entry point (`amtslotse.cli.run`) in this
process, without a second interpreter start (about a CPU second per command).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import contextmanager, redirect_stderr, redirect_stdout
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


def cli_in_process(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`cli` in this process: the same entry point, environment, input and exit code (the
    returned object has the same fields); test_security_sessions runs both (the subprocess: slow), and
    test_ingest_search runs ingest and check as one (slow)."""
    from amtslotse import cli as entry
    from amtslotse.settings import get_settings

    saved_environ, saved_argv, saved_stdin = dict(os.environ), sys.argv, sys.stdin
    os.environ.clear()
    os.environ.update({k: v for k, v in saved_environ.items() if not k.startswith("AMTSLOTSE_")})
    os.environ.update({"AMTSLOTSE_HOME": str(home), "AMTSLOTSE_EMBEDDER": "none", "AMTSLOTSE_LLM_BASE_URL": ""})
    sys.argv, sys.stdin = ["amtslotse", *args], io.StringIO(stdin or "")
    out, err = io.StringIO(), io.StringIO()
    cwd = Path.cwd()
    get_settings.cache_clear()
    try:
        home.mkdir(parents=True, exist_ok=True)
        os.chdir(home)  # as the subprocess: no .env of the checkout
        with redirect_stdout(out), redirect_stderr(err):
            try:
                entry.run()
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.argv, sys.stdin = saved_argv, saved_stdin
        get_settings.cache_clear()
    return subprocess.CompletedProcess(["amtslotse", *args], code, out.getvalue(), err.getvalue())
