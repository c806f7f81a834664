"""Read-only queries of the staff workspace (both SQL stores): when documents were ingested,
and the passages of one document (curated answers are edited from them)::

    store.document_ingested_at("musterkreis")[("curated.jsonl", None)]
    # datetime.datetime(2026, 11, 25, 0, 30, tzinfo=datetime.timezone.utc)
    [p.heading for p in store.document_passages("musterkreis", "curated.jsonl")][:1]
    # ['Wie hoch ist der Regelbedarf 2026 für eine alleinstehende Person?']

Like every read of the store, each names the tenant and sees only that tenant's rows.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from amtslotse.models import Passage


class AnalyticsSql:
    """Mixin for SqlStore: needs `_read()`. sql_base's passage columns and row mapping are
    imported inside the methods: sql_base imports this module for its bases."""

    def document_ingested_at(self, tenant: str) -> dict[tuple[str, date | None], datetime]:
        """(source, valid_from) -> when that document version was last stored (UTC)."""
        from amtslotse.store.sql_base import _as_date

        rows = self._read("SELECT source, valid_from, ingested_at FROM documents WHERE tenant = ?", (tenant,))
        return {(r[0], _as_date(r[1])): _utc(r[2]) for r in rows}

    def document_passages(self, tenant: str, source: str) -> list[Passage]:
        """All passages of a tenant's document (every version), in document and position order."""
        from amtslotse.store.sql_base import PASSAGE_COLUMNS, _passage

        columns = ", ".join(f"p.{c.strip()}" for c in PASSAGE_COLUMNS.split(","))
        rows = self._read(
            f"SELECT {columns} FROM passages p JOIN documents d ON d.id = p.document_id "
            "WHERE d.tenant = ? AND d.source = ? ORDER BY d.version_key, p.position, p.id",
            (tenant, source),
        )
        return [_passage(r) for r in rows]


def _utc(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
