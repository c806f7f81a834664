"""What SQLite and PostgreSQL stores share: the SQL of documents and passages, the
derived in-memory lexical index, and the tenant filter.

SQL here is written once with `?` placeholders; the PostgreSQL store translates them.
Every read of passages goes through `_visible()`, which is the tenant filter.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any

import numpy as np

from amtslotse.models import SHARED_TENANT, Analyzed, Document, DocumentInfo, Passage
from amtslotse.store.index.lexical import NEVER, IndexRow, LexicalIndex
from amtslotse.store.sql_conversations import ConversationsSql
from amtslotse.store.sql_governance import GovernanceSql
from amtslotse.store.sql_inbox import InboxSql
from amtslotse.store.sql_limits import LimitsSql
from amtslotse.store.sql_staff import StaffSql

PASSAGE_COLUMNS = (
    "id, tenant, source, title, citation, heading, section, external_id, url, position, "
    "language, valid_from, valid_to, text, keywords, meta"
)


def day_number(value: date | None, open_end: int) -> int:
    return value.toordinal() if value else open_end


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


class SqlStore(ConversationsSql, StaffSql, InboxSql, LimitsSql, GovernanceSql):
    """Base of both stores. Subclasses provide `_tx()`, `_read()`, `_dialect_sql()` and dense search."""

    TABLE_COLUMNS_SQL = (
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    )
    """(table, column) of every table: the catalogue query (PostgreSQL's; SQLite has its own)."""
    FRESHNESS_SECONDS = 0.0
    """How long the in-memory lexical index is trusted without asking the database whether
    passages changed. SQLite: 0, the question costs microseconds. PostgreSQL: it costs a
    round trip to the server, so it is asked at most once a second (as Elasticsearch's refresh
    interval). Writes through this store object count at once; another process's within this
    time."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._lexical: tuple[int, LexicalIndex] | None = None
        self._lexical_checked = -float("inf")  # time.monotonic() of the last generation read
        self._tenant_codes: dict[str, int] = {}

    # --- subclass hooks -----------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[Any]:  # yields a cursor inside one transaction
        raise NotImplementedError
        yield

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def _date_param(self, value: date | None) -> Any:
        return value.isoformat() if value else None

    # --- generation counters: readers rebuild derived indexes when they change ---
    def _generation(self, key: str) -> int:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return int(rows[0][0]) if rows else 0

    def _bump(self, cur, key: str) -> None:
        # Called inside a write transaction, which holds self._lock until it commits: the
        # next index read comes after the commit and asks for the new generation.
        self._lexical_checked = -float("inf")
        cur.execute(
            "INSERT INTO meta(key, value) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET value = meta.value + 1",
            (key,),
        )

    # --- tenants ------------------------------------------------------------
    def ensure_tenant(self, tenant: str) -> None:
        with self._tx() as cur:
            cur.execute("INSERT INTO tenants(name) VALUES (?) ON CONFLICT(name) DO NOTHING", (tenant,))

    def tenants(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM tenants ORDER BY name")]

    def _codes(self, tenant: str) -> list[int]:
        """Tenant codes a search of `tenant` may see: its own and the shared layer."""
        if tenant not in self._tenant_codes or SHARED_TENANT not in self._tenant_codes:
            self._tenant_codes = dict(self._read("SELECT name, id FROM tenants"))
        return [self._tenant_codes[t] for t in {tenant, SHARED_TENANT} if t in self._tenant_codes]

    @staticmethod
    def _visible(tenant: str) -> tuple[str, tuple[str, str]]:
        return "tenant IN (?, ?)", (tenant, SHARED_TENANT)

    # --- documents ----------------------------------------------------------
    def document_hash(self, tenant: str, source: str, valid_from: date | None) -> str | None:
        rows = self._read(
            "SELECT content_hash FROM documents WHERE tenant = ? AND source = ? AND version_key = ?",
            (tenant, source, _version_key(valid_from)),
        )
        return rows[0][0] if rows else None

    def replace_document(
        self, document: Document, passages: Sequence[Passage], analyzed: Sequence[Analyzed]
    ) -> int:
        d = document
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._tx() as cur:
            cur.execute("INSERT INTO tenants(name) VALUES (?) ON CONFLICT(name) DO NOTHING", (d.tenant,))
            cur.execute(
                "DELETE FROM documents WHERE tenant = ? AND source = ? AND version_key = ?",
                (d.tenant, d.source, _version_key(d.valid_from)),
            )
            cur.execute(
                "INSERT INTO documents(tenant, source, version_key, title, kind, law, url, language, "
                "valid_from, valid_to, content_hash, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                (
                    d.tenant, d.source, _version_key(d.valid_from), d.title, d.kind, d.law, d.url, d.language,
                    self._date_param(d.valid_from), self._date_param(d.valid_to), d.content_hash, now,
                ),
            )
            doc_id = cur.fetchone()[0]
            cur.executemany(
                "INSERT INTO passages(document_id, tenant, source, title, citation, heading, section, "
                "external_id, url, position, language, valid_from, valid_to, text, keywords, meta, text_hash, "
                "term_ids, term_freqs) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        doc_id, d.tenant, p.source, p.title, p.citation, p.heading, p.section, p.external_id,
                        p.url, p.position, d.language, self._date_param(p.valid_from or d.valid_from),
                        self._date_param(p.valid_to or d.valid_to), p.text, p.keywords, json.dumps(p.meta, ensure_ascii=False),
                        p.text_hash,
                        a.term_ids.astype(np.int64).tobytes(), a.term_freqs.astype(np.float32).tobytes(),
                    )
                    for p, a in zip(passages, analyzed, strict=True)
                ],
            )
            self._bump(cur, "passages")
        return doc_id

    def delete_document(self, tenant: str, source: str, valid_from: date | None = None) -> int:
        sql = "DELETE FROM documents WHERE tenant = ? AND source = ?"
        params: tuple = (tenant, source)
        if valid_from is not None:
            sql += " AND version_key = ?"
            params += (_version_key(valid_from),)
        with self._tx() as cur:
            cur.execute(sql, params)
            count = cur.rowcount
            self._bump(cur, "passages")
        return count

    def documents(self, tenant: str) -> list[DocumentInfo]:
        rows = self._read(
            "SELECT d.id, d.tenant, d.source, d.title, d.kind, d.valid_from, d.valid_to, d.content_hash, "
            "(SELECT COUNT(*) FROM passages p WHERE p.document_id = d.id) "
            "FROM documents d WHERE d.tenant = ? ORDER BY d.source, d.version_key",
            (tenant,),
        )
        return [
            DocumentInfo(r[0], r[1], r[2], r[3], r[4], _as_date(r[5]), _as_date(r[6]), r[7], int(r[8]))
            for r in rows
        ]

    def document_ingested_at(self, tenant: str) -> dict[tuple[str, date | None], datetime]:
        """(source, valid_from) -> when that document version was last stored (UTC), for the
        staff workspace::

            store.document_ingested_at("musterkreis")[("curated.jsonl", None)]
            # datetime.datetime(2026, 11, 25, 0, 30, tzinfo=datetime.timezone.utc)
        """
        rows = self._read("SELECT source, valid_from, ingested_at FROM documents WHERE tenant = ?", (tenant,))
        return {(r[0], _as_date(r[1])): _utc(r[2]) for r in rows}

    def document_passages(self, tenant: str, source: str) -> list[Passage]:
        """All passages of a tenant's document (every version), in document and position order
        (the staff workspace edits curated answers from them)."""
        columns = ", ".join(f"p.{c.strip()}" for c in PASSAGE_COLUMNS.split(","))
        rows = self._read(
            f"SELECT {columns} FROM passages p JOIN documents d ON d.id = p.document_id "
            "WHERE d.tenant = ? AND d.source = ? ORDER BY d.version_key, p.position, p.id",
            (tenant, source),
        )
        return [_passage(r) for r in rows]

    # --- passages -----------------------------------------------------------
    def get_passages(self, tenant: str, ids: Sequence[int]) -> list[Passage]:
        if not ids:
            return []
        where, params = self._visible(tenant)
        marks = ",".join("?" * len(ids))
        rows = self._read(
            f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE id IN ({marks}) AND {where}",
            (*[int(i) for i in ids], *params),
        )
        by_id = {r[0]: _passage(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def search_lexical(
        self, tenant: str, query: dict[int, float], as_of: date, limit: int
    ) -> list[tuple[int, float]]:
        return self._lexical_index().search(query, self._codes(tenant), as_of.toordinal(), limit)

    def _lexical_index(self) -> LexicalIndex:
        with self._lock:
            now = time.monotonic()
            if self._lexical is not None and now - self._lexical_checked < self.FRESHNESS_SECONDS:
                return self._lexical[1]
            generation = self._generation("passages")
            self._lexical_checked = now
            if self._lexical is None or self._lexical[0] != generation:
                rows = self._read(
                    "SELECT p.id, t.id, p.valid_from, p.valid_to, p.term_ids, p.term_freqs "
                    "FROM passages p JOIN tenants t ON t.name = p.tenant ORDER BY p.id"
                )
                index = LexicalIndex.build(
                    IndexRow(
                        r[0], r[1], day_number(_as_date(r[2]), -NEVER), day_number(_as_date(r[3]), NEVER),
                        np.frombuffer(r[4], np.int64), np.frombuffer(r[5], np.float32),
                    )
                    for r in rows
                )
                self._lexical = (generation, index)
            return self._lexical[1]

    # --- vectors --------------------------------------------------------------
    def missing_vectors(self, model: str, limit: int) -> list[tuple[str, str]]:
        """System-level maintenance read (the embedding worker), across tenants by design:
        vectors are cached by text hash and never returned to a tenant."""
        rows = self._read(
            "SELECT p.text_hash, MIN(p.id) FROM passages p WHERE NOT EXISTS "
            "(SELECT 1 FROM vectors v WHERE v.model = ? AND v.text_hash = p.text_hash) "
            "GROUP BY p.text_hash ORDER BY MIN(p.id) LIMIT ?",
            (model, limit),
        )
        if not rows:
            return []
        ids = [r[1] for r in rows]
        marks = ",".join("?" * len(ids))
        passages = {
            r[0]: _passage(r) for r in self._read(f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE id IN ({marks})", ids)
        }
        return [(h, passages[i].embedding_text) for h, i in rows]


def _version_key(valid_from: date | None) -> str:
    """Documents are versioned by the day they become valid; '' for an undated one."""
    return valid_from.isoformat() if valid_from else ""


def _passage(r: tuple) -> Passage:
    return Passage(
        id=r[0], tenant=r[1], source=r[2], title=r[3], citation=r[4], heading=r[5], section=r[6],
        external_id=r[7], url=r[8], position=r[9], language=r[10],
        valid_from=_as_date(r[11]), valid_to=_as_date(r[12]), text=r[13], keywords=r[14],
        meta=json.loads(r[15]) if r[15] else {},
    )


def _utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
