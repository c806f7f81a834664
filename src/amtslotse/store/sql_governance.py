"""Governance in the store (both SQL stores): the hash-chained audit log, a tenant's state and
the deletion of all its data, usage counters, and the reads and deletions of a data-protection
request (export, erasure). The domain code is in amtslotse.governance; the schema in the
`governance` migration.

The audit chain: every entry written through `InboxSql._audit` gets, in the same
transaction, its tenant's next sequence number, the previous entry's hash and its own hash
over its canonical content (`audit_hash`), in `audit_chain`; `audit_heads` holds each
chain's newest entry. A tenant's appends are serialised by a row lock on its head, so the
chain never forks, also with several PostgreSQL writers::

    store.append_audit(AuditEntry("musterkreis", "s.berger", "viewed", "inbox_message", "17"))
    store.audit_head("musterkreis").seq    # 42

Database triggers refuse UPDATE and DELETE on the log (append-only); only
`delete_tenant_data` may delete a tenant's entries (it lists the tenant in `audit_purges`
for the length of its transaction). Someone with the database's owner rights can still
drop a trigger: then `governance.audit.verify_chain` finds what was changed or deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from amtslotse.models import (
    GENESIS,
    TENANT_STATES,
    AuditEntry,
    AuditHead,
    ChainedEntry,
    TenantState,
    audit_hash,
    iso,
    utc_now,
)
from amtslotse.store.sql_inbox import _json

_ENTRY_COLUMNS = "a.id, a.tenant, a.at, a.actor, a.action, a.object_type, a.object_id, a.details, c.seq, c.prev_hash, c.hash"
_TURN_COLUMNS = ("id", "created_at", "question", "answer", "outcome", "mode", "confidence", "language", "topic",
                 "citations", "rating", "comment")


class GovernanceSql:
    """Mixin for SqlStore: needs `_tx()`, `_read()` and `_bump()`."""

    # --- the audit chain ------------------------------------------------------------------
    def _append_chained_audit(self, cur, entry: AuditEntry) -> int:
        """Insert one audit entry and chain it, inside the caller's transaction."""
        tenant = entry.tenant
        head, created = self._lock_audit_head(cur, tenant)
        values = (tenant, iso(entry.at or utc_now()), entry.actor, entry.action, entry.object_type,
                  str(entry.object_id), _json(entry.details))
        cur.execute(
            "INSERT INTO audit_log(tenant, at, actor, action, object_type, object_id, details) "
            "VALUES (?,?,?,?,?,?,?) RETURNING id",
            values,
        )
        entry_id = int(cur.fetchone()[0])
        seq, prev = head
        if created:
            # The chain's first write: entries from before the chain existed are chained first,
            # in id order (once; later, an entry without a chain row is a forgery). A head lost
            # to tampering continues after the last chained entry instead of failing the write.
            cur.execute("SELECT seq, hash FROM audit_chain WHERE tenant = ? ORDER BY seq DESC LIMIT 1", (tenant,))
            last = cur.fetchone()
            if last is not None:
                seq, prev = int(last[0]), last[1]
            cur.execute(
                "SELECT id, tenant, at, actor, action, object_type, object_id, details FROM audit_log a "
                "WHERE tenant = ? AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.entry_id = a.id) ORDER BY id",
                (tenant,),
            )
            rows = [tuple(r) for r in cur.fetchall()]
        else:
            rows = [(entry_id, *values)]
        links = []
        for row in rows:
            seq += 1
            digest = audit_hash(seq, int(row[0]), *row[1:], prev)
            links.append((int(row[0]), tenant, seq, prev, digest))
            prev = digest
        cur.executemany(
            "INSERT INTO audit_chain(entry_id, tenant, seq, prev_hash, hash) VALUES (?,?,?,?,?)", links,
        )
        cur.execute("UPDATE audit_heads SET seq = ?, hash = ?, entry_id = ? WHERE tenant = ?",
                    (seq, prev, links[-1][0], tenant))
        return entry_id

    def _lock_audit_head(self, cur, tenant: str) -> tuple[tuple[int, str], bool]:
        """(seq, hash) of the tenant's chain head, row-locked until the transaction ends (a
        no-op UPDATE locks in both databases); created: the head was made just now."""
        lock = "UPDATE audit_heads SET seq = seq WHERE tenant = ? RETURNING seq, hash"
        cur.execute(lock, (tenant,))
        row = cur.fetchone()
        created = False
        if row is None:
            cur.execute(
                "INSERT INTO audit_heads(tenant, seq, hash, entry_id) VALUES (?, 0, ?, 0) ON CONFLICT (tenant) DO NOTHING",
                (tenant, GENESIS),
            )
            created = cur.rowcount == 1
            cur.execute(lock, (tenant,))
            row = cur.fetchone()
        return (int(row[0]), row[1]), created

    def audit_chain_page(self, tenant: str, after_id: int = 0, limit: int = 5000) -> list[ChainedEntry]:
        """A tenant's audit entries with their chain columns, by id, after `after_id`."""
        rows = self._read(
            f"SELECT {_ENTRY_COLUMNS} FROM audit_log a LEFT JOIN audit_chain c ON c.entry_id = a.id "
            "WHERE a.tenant = ? AND a.id > ? ORDER BY a.id LIMIT ?",
            (tenant, int(after_id), int(limit)),
        )
        return [
            ChainedEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                         int(r[8]) if r[8] is not None else None, r[9], r[10])
            for r in rows
        ]

    def audit_chain_link(self, tenant: str, seq: int) -> tuple[int, str] | None:
        """(entry id, hash) the chain recorded for a sequence number (names a deleted entry)."""
        rows = self._read("SELECT entry_id, hash FROM audit_chain WHERE tenant = ? AND seq = ?", (tenant, int(seq)))
        return (int(rows[0][0]), rows[0][1]) if rows else None

    def audit_head(self, tenant: str) -> AuditHead | None:
        rows = self._read("SELECT tenant, seq, hash, entry_id FROM audit_heads WHERE tenant = ?", (tenant,))
        return AuditHead(rows[0][0], int(rows[0][1]), rows[0][2], int(rows[0][3])) if rows else None

    def audit_chain_tenants(self) -> list[str]:
        """Every tenant with an audit log or a chain head (the cooperative's "*" included)."""
        rows = self._read("SELECT DISTINCT tenant FROM audit_log UNION SELECT tenant FROM audit_heads")
        return sorted(r[0] for r in rows)

    # --- tenants --------------------------------------------------------------------------
    def set_tenant_state(self, tenant: str, state: str, actor: str, reason: str = "", audit: AuditEntry | None = None) -> None:
        """Record a tenant's state (and its audit entry, in the same transaction)."""
        if state not in TENANT_STATES:
            raise ValueError(f"unknown tenant state {state!r}")
        now = iso(utc_now())
        with self._tx() as cur:
            cur.execute("INSERT INTO tenants(name) VALUES (?) ON CONFLICT(name) DO NOTHING", (tenant,))
            cur.execute(
                "INSERT INTO tenant_status(tenant, state, reason, changed_at, changed_by, created_at) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT (tenant) DO UPDATE SET state = excluded.state, reason = excluded.reason, "
                "changed_at = excluded.changed_at, changed_by = excluded.changed_by",
                (tenant, state, reason, now, actor, now),
            )
            if audit is not None:
                self._append_chained_audit(cur, audit)

    def tenant_states(self) -> dict[str, TenantState]:
        rows = self._read("SELECT tenant, state, reason, changed_at, changed_by, created_at FROM tenant_status")
        return {r[0]: TenantState(*r) for r in rows}

    def tenant_state(self, tenant: str) -> TenantState | None:
        rows = self._read(
            "SELECT tenant, state, reason, changed_at, changed_by, created_at FROM tenant_status WHERE tenant = ?", (tenant,),
        )
        return TenantState(*rows[0]) if rows else None

    def tenant_data_counts(self, tenant: str) -> dict[str, int]:
        """Rows per table that hold the tenant's data (what `delete_tenant_data` would remove)."""
        counts = {}
        for table, where, params in self._tenant_rows(tenant):
            counts[table] = int(self._read(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)[0][0])
        return {k: v for k, v in counts.items() if v}

    def delete_tenant_data(self, tenant: str, audit: AuditEntry | None = None) -> dict[str, int]:
        """Delete every row of the tenant in one transaction: rows per table. `audit` (an
        entry of another chain, the cooperative's) is appended in the same transaction."""
        removed: dict[str, int] = {}
        with self._tx() as cur:
            cur.execute("INSERT INTO audit_purges(tenant) VALUES (?) ON CONFLICT (tenant) DO NOTHING", (tenant,))
            for table, where, params in self._tenant_rows(tenant):
                cur.execute(f"DELETE FROM {table} WHERE {where}", params)
                if cur.rowcount:
                    removed[table] = removed.get(table, 0) + cur.rowcount
            cur.execute("DELETE FROM audit_purges WHERE tenant = ?", (tenant,))
            self._bump(cur, "passages")
            self._bump(cur, "vectors")
            if audit is not None:
                self._append_chained_audit(cur, audit)
        self._tenant_codes = {}
        return removed

    def _tenant_rows(self, tenant: str) -> list[tuple[str, str, tuple]]:
        """(table, WHERE, params) for every row of the tenant, children before parents. Tables
        added by later migrations are found by their `tenant`, `message_id` or
        `conversation_id` column, so nothing of a tenant is left behind."""
        columns = self._table_columns()
        inbox = "message_id IN (SELECT id FROM inbox_messages WHERE tenant = ?)"
        talks = "conversation_id IN (SELECT id FROM conversations WHERE tenant = ?)"
        # Vectors are a cache by text hash, shared by identical texts: only those no other
        # tenant's passage uses go.
        vectors = ("text_hash IN (SELECT text_hash FROM passages WHERE tenant = ?) "
                   "AND text_hash NOT IN (SELECT text_hash FROM passages WHERE tenant <> ?)")
        steps: list[tuple[str, str, tuple]] = []
        ordered = ["inbox_messages", "conversations", "staff_users", "passages", "documents", "tenant_status",
                   "usage_counts"]
        special = {"tenants", "audit_log", "audit_chain", "audit_heads", "audit_purges", "vectors", "staff_sessions"}
        for table, names in sorted(columns.items()):
            if table in special or table in ordered:
                continue
            if "tenant" in names:
                steps.append((table, "tenant = ?", (tenant,)))
            elif "message_id" in names:
                steps.append((table, inbox, (tenant,)))
            elif "conversation_id" in names:
                steps.append((table, talks, (tenant,)))
        steps += [
            ("staff_sessions", "name IN (SELECT name FROM staff_users WHERE tenant = ?)", (tenant,)),
            ("vectors", vectors, (tenant, tenant)),
            ("audit_chain", "tenant = ?", (tenant,)),
            ("audit_log", "tenant = ?", (tenant,)),
            ("audit_heads", "tenant = ?", (tenant,)),
        ]
        steps += [(table, "tenant = ?", (tenant,)) for table in ordered if table in columns]
        steps.append(("tenants", "name = ?", (tenant,)))
        return steps

    def _table_columns(self) -> dict[str, set[str]]:
        rows = self._read(self.TABLE_COLUMNS_SQL)
        tables: dict[str, set[str]] = {}
        for table, column in rows:
            if not table.startswith("sqlite_"):
                tables.setdefault(table, set()).add(column)
        return tables

    # --- usage --------------------------------------------------------------------------
    def add_usage(self, tenant: str, metric: str, quantity: int = 1, day: date | None = None) -> None:
        """Count `quantity` of a metric (e.g. "ocr_pages", "llm_tokens") for the tenant's day."""
        if quantity <= 0:
            return
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO usage_counts(tenant, day, metric, value) VALUES (?,?,?,?) ON CONFLICT (tenant, day, metric) "
                "DO UPDATE SET value = usage_counts.value + excluded.value",
                (tenant, (day or utc_now().date()).isoformat(), metric, int(quantity)),
            )

    def usage_totals(self, tenant: str, start: date, end: date) -> dict[str, int]:
        """Metric -> sum over the days [start, end)."""
        rows = self._read(
            "SELECT metric, SUM(value) FROM usage_counts WHERE tenant = ? AND day >= ? AND day < ? GROUP BY metric",
            (tenant, start.isoformat(), end.isoformat()),
        )
        return {r[0]: int(r[1]) for r in rows}

    def usage_tenants(self, start: date, end: date) -> list[str]:
        rows = self._read("SELECT DISTINCT tenant FROM usage_counts WHERE day >= ? AND day < ?", (start.isoformat(), end.isoformat()))
        return sorted(r[0] for r in rows)

    def stored_totals(self, tenant: str) -> dict[str, int]:
        """What the tenant keeps stored now: documents, passages, inbox messages, attachment bytes."""
        one = lambda sql: int(self._read(sql, (tenant,))[0][0] or 0)  # noqa: E731
        return {
            "documents": one("SELECT COUNT(*) FROM documents WHERE tenant = ?"),
            "passages": one("SELECT COUNT(*) FROM passages WHERE tenant = ?"),
            "inbox_messages": one("SELECT COUNT(*) FROM inbox_messages WHERE tenant = ?"),
            "attachment_bytes": one(
                "SELECT SUM(LENGTH(a.data)) FROM inbox_attachments a JOIN inbox_messages m ON m.id = a.message_id "
                "WHERE m.tenant = ?"
            ),
        }

    # --- data-protection requests -----------------------------------------------------------
    def conversation_record(self, tenant: str, conversation_id: str) -> dict[str, Any] | None:
        """A conversation's row and all its turns (redacted, as stored), or None."""
        rows = self._read(
            "SELECT id, created_at, updated_at, expires_at FROM conversations WHERE id = ? AND tenant = ?",
            (conversation_id, tenant),
        )
        if not rows:
            return None
        turns = self._read(
            f"SELECT {', '.join(_TURN_COLUMNS)} FROM turns WHERE conversation_id = ? AND tenant = ? ORDER BY id",
            (conversation_id, tenant),
        )
        return {
            "conversation_id": rows[0][0], "created_at": rows[0][1], "updated_at": rows[0][2], "expires_at": rows[0][3],
            "turns": [
                dict(zip(_TURN_COLUMNS, (*r[:9], json.loads(r[9] or "[]"), *r[10:]))) for r in turns
            ],
        }

    def inbox_ids_of_conversation(self, tenant: str, conversation_id: str) -> list[int]:
        rows = self._read(
            "SELECT id FROM inbox_messages WHERE tenant = ? AND conversation_id = ? ORDER BY id", (tenant, conversation_id),
        )
        return [int(r[0]) for r in rows]

    def erase_personal_data(
        self, tenant: str, conversation_ids: Sequence[str], inbox_ids: Sequence[int], audit: Iterable[AuditEntry] = (),
    ) -> dict[str, int]:
        """Delete conversations (turns and all rows naming them) and inbox messages (attachments
        and all rows naming them) of one tenant, with the audit entries, in one transaction:
        rows per table. The audit log keeps its entries (ids, states: no content)."""
        columns = self._table_columns()
        removed: dict[str, int] = {}

        def delete(table: str, where: str, params: Sequence[Any]) -> None:
            cur.execute(f"DELETE FROM {table} WHERE {where}", tuple(params))
            if cur.rowcount:
                removed[table] = removed.get(table, 0) + cur.rowcount

        with self._tx() as cur:
            for item_id in inbox_ids:
                for table, names in sorted(columns.items()):
                    if "message_id" in names and table != "inbox_messages":
                        delete(table, "message_id IN (SELECT id FROM inbox_messages WHERE id = ? AND tenant = ?)",
                               (int(item_id), tenant))
                delete("inbox_messages", "id = ? AND tenant = ?", (int(item_id), tenant))
            for conversation_id in conversation_ids:
                for table, names in sorted(columns.items()):
                    if "conversation_id" in names and table not in ("inbox_messages", "audit_log"):
                        delete(table, "conversation_id IN (SELECT id FROM conversations WHERE id = ? AND tenant = ?)",
                               (conversation_id, tenant))
                delete("conversations", "id = ? AND tenant = ?", (conversation_id, tenant))
            for entry in audit:
                self._append_chained_audit(cur, entry)
        return removed
