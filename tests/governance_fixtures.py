"""Fixtures of the governance tests (audit chain, tenants, usage, privacy requests), each run on
SQLite and PostgreSQL through conftest's parametrised `store_factory`:

- `cli`: `amtslotse ...` (typer's runner) over the test's database; returns the Result.
- `gov`: the real app (create_app) over the same database, in process (Starlette's TestClient,
  no lifespan: no background workers), with `login(name)` for a Bearer header and `store`.

A test module names this module in `pytest_plugins`; test data helpers are in governance_data.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance_data import PASSWORD


def database_url(store_factory, tmp_path: Path, request) -> str:
    if store_factory.kind == "sqlite":
        return f"sqlite:///{tmp_path / 'amtslotse.db'}"  # the file conftest's factory opens
    return request.getfixturevalue("postgres_server").url


def environment(url: str, tmp_path: Path) -> dict[str, str]:
    return {"AMTSLOTSE_DATABASE_URL": url, "AMTSLOTSE_HOME": str(tmp_path / "home"), "AMTSLOTSE_EMBEDDER": "none",
            "AMTSLOTSE_TENANTS_DIR": str(tmp_path / "tenants"), "AMTSLOTSE_LLM_PROVIDER": "",
            "AMTSLOTSE_LLM_BASE_URL": "", "AMTSLOTSE_IMAP_HOST": ""}


@pytest.fixture
def cli(store_factory, tmp_path, monkeypatch, request):
    from amtslotse.cli import app
    from amtslotse.settings import get_settings

    for key, value in environment(database_url(store_factory, tmp_path, request), tmp_path).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        get_settings.cache_clear()
        return runner.invoke(app, list(args), input=input)

    yield run
    get_settings.cache_clear()


@dataclass
class Gov:
    client: object
    store: object
    settings: object
    services: object

    def login(self, name: str) -> dict[str, str]:
        response = self.client.post("/api/v1/staff/login", json={"name": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.client.cookies.clear()  # the Bearer token only
        return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def gov(store_factory, tmp_path, request):
    from fastapi.testclient import TestClient

    from amtslotse.services import Services
    from amtslotse.settings import Settings
    from amtslotse.web.app import create_app

    env = environment(database_url(store_factory, tmp_path, request), tmp_path)
    settings = Settings(home=Path(env["AMTSLOTSE_HOME"]), database_url=env["AMTSLOTSE_DATABASE_URL"], embedder="none",
                        tenants_dir=Path(env["AMTSLOTSE_TENANTS_DIR"]), llm_provider="", llm_base_url="")
    services = Services.open(settings)
    try:
        client = TestClient(create_app(services=services), base_url="http://testserver")
        yield Gov(client, services.store, settings, services)
    finally:
        services.close()
