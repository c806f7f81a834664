"""The embedded store: one SQLite file, one writer, vectors searched in memory."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from amtslotse.search.dense_index import DenseIndex
from amtslotse.search.lexical_index import NEVER
from amtslotse.store.migrations import apply_migrations
from amtslotse.store.protocol import StoreStats
from amtslotse.store.sql_base import SqlStore, _as_date, day_number

MIGRATIONS: list[str] = [
    # 1: documents, passages with their analyzed terms, vectors cached by text hash
    """
    CREATE TABLE tenants (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    INSERT INTO tenants(name) VALUES ('bund');
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL REFERENCES tenants(name),
        source TEXT NOT NULL,
        version_key TEXT NOT NULL,
        title TEXT NOT NULL,
        kind TEXT NOT NULL,
        law TEXT,
        url TEXT,
        language TEXT NOT NULL,
        valid_from TEXT,
        valid_to TEXT,
        content_hash TEXT NOT NULL,
        ingested_at TEXT NOT NULL,
        UNIQUE (tenant, source, version_key)
    );
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: conversations cite passage ids
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        citation TEXT NOT NULL,
        heading TEXT,
        section TEXT,
        external_id TEXT,
        url TEXT,
        position INTEGER NOT NULL,
        language TEXT NOT NULL,
        valid_from TEXT,
        valid_to TEXT,
        text TEXT NOT NULL,
        keywords TEXT NOT NULL DEFAULT '',
        text_hash TEXT NOT NULL,
        term_ids BLOB NOT NULL,
        term_freqs BLOB NOT NULL
    );
    CREATE INDEX passages_document ON passages(document_id);
    CREATE INDEX passages_tenant ON passages(tenant);
    CREATE INDEX passages_text_hash ON passages(text_hash);
    CREATE TABLE vectors (
        model TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, text_hash)
    );
    """,
    # 2: free-form passage metadata (curated answers: kind, topic, sources)
    """
    ALTER TABLE passages ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'
    """,
    # 3: conversations (redacted turns, retention), the inbox (messages, attachments) and
    # the append-only audit log
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX conversations_expires ON conversations(expires_at);
    CREATE TABLE turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        tenant TEXT NOT NULL,
        created_at TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        outcome TEXT NOT NULL,
        mode TEXT NOT NULL,
        confidence REAL NOT NULL,
        language TEXT NOT NULL,
        topic TEXT NOT NULL DEFAULT '',
        citations TEXT NOT NULL DEFAULT '[]',
        rating TEXT,
        comment TEXT
    );
    CREATE INDEX turns_conversation ON turns(conversation_id);
    CREATE INDEX turns_tenant_created ON turns(tenant, created_at);
    CREATE TABLE inbox_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        reference TEXT NOT NULL UNIQUE,
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        received_at TEXT NOT NULL,
        sender TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        redacted TEXT NOT NULL,
        conversation_id TEXT,
        contact TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'new',
        assignee TEXT,
        team TEXT,
        category TEXT,
        flags TEXT NOT NULL DEFAULT '[]',
        fields TEXT NOT NULL DEFAULT '{}',
        priority INTEGER NOT NULL DEFAULT 9,
        confidence REAL,
        draft TEXT,
        triage_status TEXT NOT NULL DEFAULT 'pending',
        updated_at TEXT NOT NULL,
        first_response_at TEXT,
        delete_after TEXT NOT NULL,
        UNIQUE (tenant, channel, external_id)
    );
    CREATE INDEX inbox_tenant_state ON inbox_messages(tenant, state, priority, received_at);
    CREATE INDEX inbox_triage ON inbox_messages(triage_status);
    CREATE TABLE inbox_attachments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id INTEGER NOT NULL REFERENCES inbox_messages(id) ON DELETE CASCADE,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        data BLOB NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        doc_type TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX inbox_attachments_message ON inbox_attachments(message_id);
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        object_type TEXT NOT NULL,
        object_id TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_tenant_at ON audit_log(tenant, at);
    CREATE TABLE staff_users (
        name TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        roles TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE staff_sessions (
        token_hash TEXT PRIMARY KEY,
        name TEXT NOT NULL REFERENCES staff_users(name) ON DELETE CASCADE,
        expires_at TEXT NOT NULL
    );
    """,
]


class SqliteStore(SqlStore):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=10000")
        # 64 MB page cache instead of 2 MB: the text-hash index of a whole federal-law corpus
        # (130k passages) no longer falls out of it on every insert, and passages read by a
        # search stay cached. Checkpoints every 40 MB of WAL instead of 4 MB: each one syncs
        # the database file, and a bulk ingest wrote a few hundred of them.
        self._conn.execute("PRAGMA cache_size=-65536")
        self._conn.execute("PRAGMA wal_autocheckpoint=10000")
        self._dense: dict[str, tuple[int, DenseIndex]] = {}
        apply_migrations(self, MIGRATIONS)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        # One writer: the lock serialises this process, BEGIN IMMEDIATE other processes.
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    # --- vectors ------------------------------------------------------------
    def put_vectors(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self._tx() as cur:
            cur.executemany(
                "INSERT INTO vectors(model, text_hash, vector) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(model, h, np.asarray(v, np.float32).tobytes()) for h, v in items],
            )
            self._bump(cur, "vectors")

    def search_dense(
        self, tenant: str, model: str, vector: np.ndarray, as_of: date, limit: int, lead_dims: int | None = None
    ) -> list[tuple[int, float]]:
        return self._dense_index(model).search(vector, self._codes(tenant), as_of.toordinal(), limit, lead_dims)

    def _dense_index(self, model: str) -> DenseIndex:
        with self._lock:
            generation = self._generation("passages") * 1_000_003 + self._generation("vectors")
            cached = self._dense.get(model)
            if cached is None or cached[0] != generation:
                rows = self._read(
                    "SELECT p.id, t.id, p.valid_from, p.valid_to, v.vector FROM passages p "
                    "JOIN tenants t ON t.name = p.tenant "
                    "JOIN vectors v ON v.model = ? AND v.text_hash = p.text_hash ORDER BY p.id",
                    (model,),
                )
                n = len(rows)
                matrix = (
                    np.vstack([np.frombuffer(r[4], np.float32) for r in rows]) if n else np.zeros((0, 1), np.float32)
                )
                index = DenseIndex(
                    np.fromiter((r[0] for r in rows), np.int64, n),
                    np.fromiter((r[1] for r in rows), np.int32, n),
                    np.fromiter((day_number(_as_date(r[2]), -NEVER) for r in rows), np.int32, n),
                    np.fromiter((day_number(_as_date(r[3]), NEVER) for r in rows), np.int32, n),
                    matrix,
                )
                cached = (generation, index)
                self._dense[model] = cached
            return cached[1]

    def stats(self, tenant: str, model: str) -> StoreStats:
        where, params = self._visible(tenant)
        docs = self._read(f"SELECT COUNT(*) FROM documents WHERE {where}", params)[0][0]
        passages = self._read(f"SELECT COUNT(*) FROM passages WHERE {where}", params)[0][0]
        vectors = self._read(
            f"SELECT COUNT(*) FROM passages p WHERE p.{where} AND EXISTS "
            "(SELECT 1 FROM vectors v WHERE v.model = ? AND v.text_hash = p.text_hash)",
            (*params, model),
        )[0][0]
        size = sum(f.stat().st_size for f in self.path.parent.glob(self.path.name + "*"))
        return StoreStats(docs, passages, vectors, size)
