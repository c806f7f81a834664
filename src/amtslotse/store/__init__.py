"""Stores: `open_store()` picks the implementation from the settings."""

from __future__ import annotations

from pathlib import Path

from amtslotse.errors import ConfigError
from amtslotse.settings import Settings
from amtslotse.store.protocol import Store
from amtslotse.store.sqlite import SqliteStore


def open_store(settings: Settings) -> Store:
    url = settings.database_url
    if url.startswith(("postgresql://", "postgres://")):
        from amtslotse.store.postgres import PostgresStore  # loads psycopg only for a PostgreSQL URL

        return PostgresStore(url)
    if url.startswith("sqlite:///"):
        return SqliteStore(Path(url.removeprefix("sqlite:///")))
    if url:
        raise ConfigError(
            f"AMTSLOTSE_DATABASE_URL wird nicht verstanden: erwartet postgresql://… oder sqlite:///pfad (war: {url.split('://')[0]}://…)"
        )
    return SqliteStore(settings.home / "amtslotse.db")
