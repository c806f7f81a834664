"""The inbox queue in the store (both SQL stores): messages, attachments, the audit log.

A message is one row of `inbox_messages`; intake inserts it (idempotent on tenant, channel
and external id), processing saves its triage once, review moves its state. Every write
that changes a message appends its audit entry in the same transaction, so the log and the
queue never disagree, also after a crash. The audit log is append-only: no method here
updates or deletes an entry::

    item_id, reference, created = store.add_inbox_item(item, prefix="MK")
    store.inbox_items("musterkreis", state="new")[0].reference    # 'MK-2026-000017'

Every read and write names the tenant; an id of another tenant behaves as unknown. The
exceptions are the system-level queue reads (`pending_inbox`, retention), which serve the
worker across tenants and return ids only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from amtslotse.errors import IdempotencyConflict
from amtslotse.models import (
    STATES,
    TRIAGE_STATUSES,
    UNTRIAGED_PRIORITY,
    AuditEntry,
    InboxAttachment,
    InboxItem,
    TriageRecord,
    iso,
    utc_now,
)


def content_hash(item: InboxItem) -> str:
    """SHA-256 over what a sender sent: subject, sender, text and attachments."""
    digest = hashlib.sha256()
    parts = [item.subject, item.sender, item.body] + [
        f"{a.filename}\n{a.content_type}\n{hashlib.sha256(a.data or b'').hexdigest()}" for a in item.attachments
    ]
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


_LIST_COLUMNS = (
    "id, tenant, reference, channel, external_id, received_at, sender, subject, redacted, conversation_id, "
    "contact, state, assignee, team, category, flags, fields, priority, confidence, draft, triage_status, "
    "updated_at, first_response_at, delete_after"
)
_UPDATABLE = {"state", "assignee", "team", "draft", "first_response_at"}


class InboxSql:
    """Mixin for SqlStore: needs `_tx()` and `_read()`."""

    # --- intake ---------------------------------------------------------------
    def add_inbox_item(self, item: InboxItem, prefix: str) -> tuple[int, str, bool]:
        """Insert a message with its attachments and commit; (id, reference, created).
        A message with the same (tenant, channel, external_id) is not inserted again: its
        id and reference come back with created False. References read `PREFIX-YEAR-ID`.
        Channel "api" (an idempotency key of an integration): the same key with other content
        raises IdempotencyConflict instead."""
        now = iso(utc_now())
        digest = content_hash(item)
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO inbox_messages(tenant, reference, channel, external_id, received_at, sender, subject, "
                "body, redacted, conversation_id, contact, state, priority, updated_at, delete_after) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (tenant, channel, external_id) DO NOTHING RETURNING id",
                (
                    # A unique placeholder until the id is known (the reference is UNIQUE).
                    item.tenant, f"~{item.tenant}~{item.channel}~{item.external_id}", item.channel, item.external_id,
                    iso(item.received_at), item.sender, item.subject, item.body, item.redacted,
                    item.conversation_id, item.contact, "new", UNTRIAGED_PRIORITY, now, iso(item.delete_after),
                ),
            )
            row = cur.fetchone()
            if row is None:
                cur.execute(
                    "SELECT id, reference FROM inbox_messages WHERE tenant = ? AND channel = ? AND external_id = ?",
                    (item.tenant, item.channel, item.external_id),
                )
                existing = cur.fetchone()
                if item.channel == "api":
                    cur.execute("SELECT content_hash FROM inbox_content_hashes WHERE message_id = ?", (existing[0],))
                    stored = cur.fetchone()
                    if stored is not None and stored[0] != digest:
                        raise IdempotencyConflict(existing[1])
                return int(existing[0]), existing[1], False
            item_id = int(row[0])
            reference = f"{prefix}-{item.received_at.year}-{item_id:06d}"
            cur.execute("UPDATE inbox_messages SET reference = ? WHERE id = ?", (reference, item_id))
            cur.execute("INSERT INTO inbox_content_hashes(message_id, content_hash) VALUES (?, ?)", (item_id, digest))
            cur.executemany(
                "INSERT INTO inbox_attachments(message_id, filename, content_type, data) VALUES (?,?,?,?)",
                [(item_id, a.filename, a.content_type, a.data or b"") for a in item.attachments],
            )
            self._audit(cur, AuditEntry(
                item.tenant, "intake", "accepted", "inbox_message", str(item_id),
                {"reference": reference, "channel": item.channel, "attachments": len(item.attachments)},
            ))
        return item_id, reference, True

    # --- reads ----------------------------------------------------------------
    def inbox_item(self, tenant: str, key: int | str, with_data: bool = False) -> InboxItem | None:
        """One message by id or reference, with body and attachments (their bytes if `with_data`)."""
        column = "id" if isinstance(key, int) else "reference"
        rows = self._read(
            f"SELECT {_LIST_COLUMNS}, body FROM inbox_messages WHERE {column} = ? AND tenant = ?", (key, tenant)
        )
        if not rows:
            return None
        item = _item(rows[0])
        item.body = rows[0][-1]
        data = "data" if with_data else "NULL"
        item.attachments = [
            InboxAttachment(
                filename=r[1], content_type=r[2], size=int(r[3]), text=r[4], doc_type=r[5], id=int(r[0]),
                data=bytes(r[6]) if r[6] is not None else None,
            )
            for r in self._read(
                f"SELECT id, filename, content_type, LENGTH(data), text, doc_type, {data} "
                "FROM inbox_attachments WHERE message_id = ? ORDER BY id",
                (item.id,),
            )
        ]
        return item

    def inbox_items(
        self, tenant: str, *, state: str | None = None, category: str | None = None, team: str | None = None,
        flag: str | None = None, received_after: datetime | None = None, received_before: datetime | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[InboxItem]:
        """Messages of a tenant, most urgent first: priority descending (notlage, frist, rest,
        untriaged), then oldest first. Without `body` and attachments."""
        where, params = ["tenant = ?"], [tenant]
        for column, value in (("state", state), ("category", category), ("team", team)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if flag is not None:
            where.append("flags LIKE ?")
            params.append(f'%"{flag}"%')
        if received_after is not None:
            where.append("received_at >= ?")
            params.append(iso(received_after))
        if received_before is not None:
            where.append("received_at < ?")
            params.append(iso(received_before))
        rows = self._read(
            f"SELECT {_LIST_COLUMNS} FROM inbox_messages WHERE {' AND '.join(where)} "
            "ORDER BY priority DESC, received_at, id LIMIT ? OFFSET ?",
            (*params, int(limit), int(offset)),
        )
        return [_item(r) for r in rows]

    def pending_inbox(self, limit: int, tenant: str | None = None, status: str = "pending") -> list[tuple[str, int]]:
        """(tenant, id) of messages whose triage is `status`, oldest first. System-level read
        of the processing worker, across tenants unless one is named; ids only."""
        where, params = "triage_status = ?", [status]
        if tenant is not None:
            where += " AND tenant = ?"
            params.append(tenant)
        rows = self._read(f"SELECT tenant, id FROM inbox_messages WHERE {where} ORDER BY id LIMIT ?", (*params, int(limit)))
        return [(r[0], int(r[1])) for r in rows]

    # --- processing -----------------------------------------------------------
    def save_inbox_triage(self, tenant: str, item_id: int, record: TriageRecord, audit: AuditEntry) -> bool:
        """Save a triage and mark the message 'done', with its audit entry, in one transaction.
        Only a pending message is changed (False otherwise): two workers never both triage one."""
        now = iso(utc_now())
        with self._tx() as cur:
            cur.execute(
                "UPDATE inbox_messages SET category = ?, flags = ?, fields = ?, team = ?, priority = ?, confidence = ?, "
                "draft = ?, triage_status = 'done', updated_at = ? WHERE id = ? AND tenant = ? AND triage_status = 'pending'",
                (
                    record.category, _json(record.flags), _json(record.fields), record.team, int(record.priority),
                    record.confidence, _json(record.draft) if record.draft is not None else None, now, item_id, tenant,
                ),
            )
            if cur.rowcount == 0:
                return False
            cur.executemany(
                "UPDATE inbox_attachments SET text = ?, doc_type = ? WHERE id = ? AND message_id = ?",
                [(text, doc_type, attachment_id, item_id) for attachment_id, text, doc_type in record.attachments],
            )
            self._audit(cur, audit)
        return True

    def set_inbox_triage_status(
        self, tenant: str, item_id: int, status: str, audit: AuditEntry, expected: str,
        flags: list[str] | None = None, priority: int | None = None,
    ) -> bool:
        """Move triage_status from `expected` to `status` (failed, or back to pending for a
        retry); `flags`/`priority` if known (a failed triage may still know the urgent ones)."""
        if status not in TRIAGE_STATUSES:
            raise ValueError(f"unknown triage status {status!r}")
        sets, params = "triage_status = ?, updated_at = ?", [status, iso(utc_now())]
        if flags is not None:
            sets, params = sets + ", flags = ?", params + [_json(flags)]
        if priority is not None:
            sets, params = sets + ", priority = ?", params + [int(priority)]
        with self._tx() as cur:
            cur.execute(
                f"UPDATE inbox_messages SET {sets} WHERE id = ? AND tenant = ? AND triage_status = ?",
                (*params, item_id, tenant, expected),
            )
            if cur.rowcount == 0:
                return False
            self._audit(cur, audit)
        return True

    # --- review -----------------------------------------------------------------
    def update_inbox_item(
        self, tenant: str, item_id: int, changes: dict[str, Any], audit: AuditEntry,
        expected_states: Collection[str] | None = None,
    ) -> bool:
        """Change state/assignee/team/draft/first_response_at and append the audit entry, in one
        transaction; only if the message is in one of `expected_states` (False otherwise)."""
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if "state" in changes and changes["state"] not in STATES:
            raise ValueError(f"unknown state {changes['state']!r}")
        sets, params = ["updated_at = ?"], [iso(utc_now())]
        for column, value in changes.items():
            if column == "draft" and value is not None:
                value = _json(value)
            elif column == "first_response_at" and value is not None:
                value = iso(value)
            sets.append(f"{column} = ?")
            params.append(value)
        sql = f"UPDATE inbox_messages SET {', '.join(sets)} WHERE id = ? AND tenant = ?"
        params += [item_id, tenant]
        if expected_states is not None:
            states = list(expected_states)
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params += states
        with self._tx() as cur:
            cur.execute(sql, params)
            if cur.rowcount == 0:
                return False
            self._audit(cur, audit)
        return True

    # --- audit log ----------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> int:
        with self._tx() as cur:
            return self._audit(cur, entry)

    def _audit(self, cur, entry: AuditEntry) -> int:
        # Hash-chained per tenant, in the caller's transaction (store/sql_governance.py).
        return self._append_chained_audit(cur, entry)

    def audit_entries(
        self, tenant: str, object_type: str | None = None, object_id: str | None = None, limit: int = 1000,
    ) -> list[AuditEntry]:
        """A tenant's audit entries (of one object if named), oldest first."""
        where, params = ["tenant = ?"], [tenant]
        if object_type is not None:
            where.append("object_type = ?")
            params.append(object_type)
        if object_id is not None:
            where.append("object_id = ?")
            params.append(str(object_id))
        rows = self._read(
            f"SELECT id, tenant, at, actor, action, object_type, object_id, details FROM audit_log "
            f"WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*params, int(limit)),
        )
        return [
            AuditEntry(r[1], r[3], r[4], r[5], r[6], json.loads(r[7]), datetime.fromisoformat(r[2]), int(r[0]))
            for r in rows
        ]

    # --- retention ------------------------------------------------------------------
    def delete_expired_inbox(self, now: datetime) -> int:
        """Retention: delete messages (with attachments) whose `delete_after` has passed; each
        deletion leaves an audit entry (reference only). Returns the count."""
        with self._tx() as cur:
            cur.execute("SELECT tenant, id, reference FROM inbox_messages WHERE delete_after <= ?", (iso(now),))
            expired = cur.fetchall()
            if not expired:
                return 0
            ids = [int(r[1]) for r in expired]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                # Attachments explicitly: not every SQLite connection has foreign keys on.
                cur.execute(f"DELETE FROM inbox_attachments WHERE message_id IN ({marks})", chunk)
                cur.execute(f"DELETE FROM inbox_messages WHERE id IN ({marks})", chunk)
            for tenant, item_id, reference in expired:
                self._audit(cur, AuditEntry(
                    tenant, "system", "deleted_retention", "inbox_message", str(item_id), {"reference": reference},
                ))
        return len(expired)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _item(r: Sequence[Any]) -> InboxItem:
    return InboxItem(
        id=int(r[0]), tenant=r[1], reference=r[2], channel=r[3], external_id=r[4], received_at=_time(r[5]),
        sender=r[6], subject=r[7], body="", redacted=r[8], conversation_id=r[9], contact=r[10], state=r[11],
        assignee=r[12], team=r[13], category=r[14], flags=json.loads(r[15]), fields=json.loads(r[16]),
        priority=int(r[17]), confidence=float(r[18]) if r[18] is not None else None,
        draft=json.loads(r[19]) if r[19] else None, triage_status=r[20], updated_at=_time(r[21]),
        first_response_at=_time(r[22]), delete_after=_time(r[23]),
    )
