"""The scale-out store: PostgreSQL, dense search with pgvector's HNSW index.

Documents, passages and the lexical index are shared with the SQLite store (sql_base):
the same SQL, written with `?` placeholders that `_q()` translates here, and the same
in-memory BM25 index rebuilt when the 'passages' generation changes. Only dense search
differs: it runs in PostgreSQL, with the tenant and validity filters in the query::

    store = PostgresStore("postgresql://amtslotse:geheim@db.example/amtslotse")
    store.search_dense("musterkreis", "use-m3", vector, date.today(), 10)    # [(4711, 0.83), ...]
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from typing import Any, Iterator, Sequence

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from amtslotse.store.migrations import apply_migrations
from amtslotse.models import StoreStats
from amtslotse.errors import StoreError
from amtslotse.store.sql_base import SqlStore

_MIGRATION_LOCK = 0x616D74736C6F7473  # pg_advisory_lock key ("amtslots"): one migrating process at a time

EF_SEARCH_MIN = 64
"""HNSW candidate list size (pgvector's default is 40). With iterative scans the index keeps
searching until enough rows pass the tenant and validity filters, so this only sets the
recall of the first round; it is raised to `limit` for deep searches (pgvector allows 1000)."""


@lru_cache(maxsize=256)
def _q(query: str) -> str:
    """sql_base writes `?` placeholders (SQLite); psycopg wants `%s` and a literal `%` doubled."""
    return query.replace("%", "%%").replace("?", "%s")


class _Cursor:
    """A psycopg cursor that speaks sql_base's `?` dialect; `raw` takes native `%s` SQL."""

    def __init__(self, raw: psycopg.Cursor) -> None:
        self.raw = raw

    def execute(self, query: str, params: Sequence[Any] = ()) -> "_Cursor":
        self.raw.execute(_q(query), tuple(params))
        return self

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            self.raw.executemany(_q(query), rows)

    def fetchone(self) -> tuple | None:
        return self.raw.fetchone()

    def fetchall(self) -> list[tuple]:
        return self.raw.fetchall()

    @property
    def rowcount(self) -> int:
        return self.raw.rowcount


class PostgresStore(SqlStore):
    FRESHNESS_SECONDS = 1.0  # see SqlStore.FRESHNESS_SECONDS

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._indexed: set[tuple[str, int]] = set()  # (model, dim) known to have an HNSW index
        self._conn = self._connect()
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    # --- connection -----------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        try:
            params = conninfo_to_dict(self.url)
        except psycopg.Error:
            # libpq's parse errors quote the URL, password included: do not pass them on.
            raise StoreError(
                "AMTSLOTSE_DATABASE_URL ist keine gültige PostgreSQL-Adresse "
                "(erwartet: postgresql://benutzer:passwort@host:5432/datenbank)."
            ) from None
        params.setdefault("connect_timeout", 10)
        try:
            # autocommit: a read is one statement and one round trip; writes open an explicit
            # transaction in _tx (BEGIN ... COMMIT). prepare_threshold=None: no server-side
            # prepared statements, so every query is planned with its parameters (and works
            # behind transaction-mode poolers).
            return psycopg.connect(**params, autocommit=True, prepare_threshold=None)
        except psycopg.Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            password = params.get("password")
            if password:
                reason = reason.replace(str(password), "***")
            raise StoreError(
                f"Keine Verbindung zur PostgreSQL-Datenbank „{params.get('dbname') or params.get('user') or '?'}“ "
                f"auf {_where(params)}: {reason}. Bitte AMTSLOTSE_DATABASE_URL, Server und Zugangsdaten prüfen."
            ) from None

    def _migrate(self) -> None:
        # Several processes (API workers, CLI) may open the store at once: a session-level
        # advisory lock makes them migrate one after another.
        with self._tx() as cur:
            cur.raw.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            apply_migrations(self, "postgres")
        except psycopg.errors.FeatureNotSupported as error:
            raise StoreError(f"Die PostgreSQL-Erweiterung pgvector („vector“) ist nicht verfügbar: {error}") from None
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFile) as error:
            raise StoreError(
                "Die PostgreSQL-Erweiterung pgvector („vector“) fehlt oder darf nicht angelegt werden: "
                f"{error}. Bitte als Administrator `CREATE EXTENSION vector;` in der Datenbank ausführen."
            ) from None
        finally:
            with self._tx() as cur:
                cur.raw.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _connection(self) -> psycopg.Connection:
        if self._conn.broken:  # the server restarted or the network dropped: reconnect
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[_Cursor]:
        with self._lock:
            conn = self._connection()
            with conn.transaction(), conn.cursor() as cur:
                yield _Cursor(cur)

    def _read(self, query: str, params: Sequence[Any] = ()) -> list[tuple]:
        # One statement outside a transaction block: a single round trip to the server
        # (inside one, psycopg adds BEGIN and COMMIT, three round trips in all).
        with self._lock:
            return self._connection().execute(_q(query), tuple(params)).fetchall()

    def _date_param(self, value: date | None) -> Any:
        return value

    # --- vectors --------------------------------------------------------------
    def put_vectors(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        rows = [(model, h, _vector_literal(v)) for h, v in items]
        dims = sorted({np.asarray(v).size for _, v in items})
        try:
            with self._tx() as cur:
                cur.executemany(
                    "INSERT INTO vectors(model, text_hash, embedding) VALUES (?, ?, ?::vector) ON CONFLICT DO NOTHING",
                    rows,
                )
                # After the insert: a new index is built in bulk from the first batch, which is
                # far faster than inserting into the HNSW graph row by row.
                for dim in dims:
                    self._ensure_hnsw_index(cur, model, dim)
                self._bump(cur, "vectors")
        except psycopg.errors.DataException as error:
            raise StoreError(
                f"Vektoren für Modell „{model}“ ({', '.join(map(str, dims))} Dimensionen) passen nicht zu den "
                f"gespeicherten: {error}"
            ) from None
        self._indexed.update((model, dim) for dim in dims)

    def get_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        unique = list(dict.fromkeys(hashes))
        if not unique:
            return {}
        rows = self._read("SELECT text_hash, embedding::text FROM vectors WHERE model = ? AND text_hash = ANY(?)", (model, unique))
        return {h: np.array(json.loads(v), dtype=np.float32) for h, v in rows}

    def _ensure_hnsw_index(self, cur: _Cursor, model: str, dim: int) -> None:
        """One partial HNSW index per model and dimension over `embedding::vector(dim)`:
        the column has no fixed dimension (models differ), an index needs one."""
        if (model, dim) in self._indexed:
            return
        name = hnsw_index_name(model, dim)
        if cur.raw.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None:
            return
        cur.raw.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {name} ON vectors USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
                "WHERE model = {model}"
            ).format(name=sql.Identifier(name), dim=sql.SQL(str(int(dim))), model=sql.Literal(model))
        )

    def search_dense(
        self, tenant: str, model: str, vector: np.ndarray, as_of: date, limit: int, lead_dims: int | None = None
    ) -> list[tuple[int, float]]:
        if limit <= 0:
            return []
        query = np.asarray(vector, np.float32).ravel()
        dim = query.size
        where, visible = self._visible(tenant)
        params = (_vector_literal(query), *visible, as_of, as_of, int(limit))
        ef_search = min(1000, max(EF_SEARCH_MIN, int(limit)))
        try:
            with self._tx() as cur:
                cur.raw.execute(f"SET LOCAL hnsw.ef_search = {ef_search}")
                cur.raw.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                # The model is a literal, not a parameter, so that the planner matches the
                # partial index; its `%` are doubled as the query also has %s parameters.
                model_literal = sql.Literal(model).as_string(cur.raw).replace("%", "%%")
                rows = cur.raw.execute(_dense_sql(dim, model_literal, _q(where)), params).fetchall()
        except psycopg.errors.DataException as error:
            raise StoreError(
                f"Dichte Suche mit Modell „{model}“ fehlgeschlagen (Suchvektor mit {dim} Dimensionen): {error}"
            ) from None
        return [(int(pid), float(similarity)) for pid, similarity in rows]

    # --- statistics -------------------------------------------------------------
    def stats(self, tenant: str, model: str) -> StoreStats:
        where, params = self._visible(tenant)
        docs = self._read(f"SELECT COUNT(*) FROM documents WHERE {where}", params)[0][0]
        passages = self._read(f"SELECT COUNT(*) FROM passages WHERE {where}", params)[0][0]
        vectors = self._read(
            f"SELECT COUNT(*) FROM passages p WHERE p.{where} AND EXISTS "
            "(SELECT 1 FROM vectors v WHERE v.model = ? AND v.text_hash = p.text_hash)",
            (*params, model),
        )[0][0]
        size = self._read("SELECT pg_database_size(current_database())")[0][0]
        return StoreStats(int(docs), int(passages), int(vectors), int(size))


def hnsw_index_name(model: str, dim: int) -> str:
    """`vectors_hnsw_<model>_<hash>_<dim>`: readable, unique per model (the hash tells
    'use-m3' from 'use_m3') and within PostgreSQL's 63-byte limit for names."""
    safe = re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")[:32]
    digest = hashlib.sha1(model.encode("utf-8")).hexdigest()[:8]
    return f"vectors_hnsw_{safe}_{digest}_{int(dim)}"


def _dense_sql(dim: int, model_literal: str, visible: str) -> str:
    """Nearest passages by cosine distance, filtered in SQL by model, tenant and validity.

    Iterative index scans (pgvector 0.8) continue in the HNSW graph until `limit` rows have
    passed the filters; in relaxed order they may come slightly out of order, so the outer
    query sorts the materialised candidates again (as pgvector's README recommends).
    """
    distance = f"v.embedding::vector({dim}) <=> %s::vector({dim})"
    return (
        f"WITH nearest AS MATERIALIZED (SELECT p.id, {distance} AS distance "
        "FROM vectors v JOIN passages p ON p.text_hash = v.text_hash "
        f"WHERE v.model = {model_literal} AND p.{visible} "
        "AND (p.valid_from IS NULL OR p.valid_from <= %s) AND (p.valid_to IS NULL OR %s <= p.valid_to) "
        "ORDER BY distance LIMIT %s) "
        "SELECT id, 1 - distance FROM nearest ORDER BY distance, id"
    )


def _vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form '[0.1,0.2,...]' (float32 values print exactly as Python floats)."""
    return "[" + ",".join(map(repr, np.asarray(vector, np.float32).ravel().tolist())) + "]"


def _where(params: dict[str, Any]) -> str:
    """Host (or socket folder) and port for messages; never the password."""
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = params.get("port") or "5432"
    return f"Socket {host}" if host.startswith("/") else f"{host}:{port}"
