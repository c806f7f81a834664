"""The embedded store: one SQLite file, one writer, vectors searched in memory."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from amtslotse.errors import StoreError
from amtslotse.models import StoreStats
from amtslotse.store.index.dense import DenseIndex
from amtslotse.store.index.lexical import NEVER
from amtslotse.store.migrations import apply_migrations
from amtslotse.store.sql_base import SqlStore, _as_date, day_number


class SqliteStore(SqlStore):
    TABLE_COLUMNS_SQL = "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
        except (OSError, sqlite3.Error) as error:  # a folder or file the user named or set up
            raise StoreError(
                f"Die SQLite-Datenbank {self.path} lässt sich nicht öffnen ({error}). "
                "Bitte AMTSLOTSE_HOME oder AMTSLOTSE_DATABASE_URL und die Rechte des Ordners prüfen."
            ) from None
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
        apply_migrations(self, "sqlite")

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

    def get_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            rows = self._read(
                f"SELECT text_hash, vector FROM vectors WHERE model = ? AND text_hash IN ({','.join('?' * len(chunk))})",
                (model, *chunk),
            )
            found.update((h, np.frombuffer(v, np.float32)) for h, v in rows)
        return found

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
