"""Numbered schema migrations, recorded in a table (the pattern of simonw/llm).

Each store lists its migrations as SQL scripts; migration N is the N-th entry. A store
applies the ones not yet recorded, each in its own transaction, when it opens.
"""

from __future__ import annotations

from datetime import datetime, timezone


def statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


def apply_migrations(store, migrations: list[str]) -> list[int]:
    """Apply pending migrations; returns the numbers applied."""
    with store._tx() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = []
    for number, script in enumerate(migrations, start=1):
        with store._tx() as cur:
            # Checked inside the transaction: another process may be migrating too.
            cur.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (number,))
            if cur.fetchone():
                continue
            for statement in statements(script):
                cur.execute(statement)
            cur.execute(
                "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)",
                (number, datetime.now(timezone.utc).isoformat(timespec="seconds")),
            )
        applied.append(number)
    return applied
