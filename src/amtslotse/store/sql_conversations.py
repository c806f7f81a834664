"""Conversations in the store (both SQL stores): redacted turns, feedback, retention.

Only redacted text reaches these tables (the Ask flow redacts before it calls `add_turn`).
A conversation belongs to one tenant; every read and write names the tenant, and a
conversation id of another tenant behaves as unknown.

The id is not a credential: the first message claims it and gets a secret (stored only as
its SHA-256 hash), which every later message, feedback and handover must show::

    access = store.open_conversation("3f1c9a2e-...", "musterkreis", None)   # status 'new', .secret
    store.open_conversation("3f1c9a2e-...", "musterkreis", access.secret).status    # 'ok'
    store.open_conversation("3f1c9a2e-...", "musterkreis", "geraten").status        # 'denied'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from amtslotse.errors import ConversationConflict
from amtslotse.models import ConversationAccess, Turn


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


UNUSED_CLAIM = timedelta(days=1)
"""A claim whose first answer never came (the request failed) is deleted after this time."""


class ConversationsSql:
    """Mixin for SqlStore: needs `_tx()` and `_read()`."""

    def add_turn(self, conversation_id: str, tenant: str, turn: Turn, expires_at: datetime) -> int:
        with self._tx() as cur:
            cur.execute("SELECT tenant FROM conversations WHERE id = ?", (conversation_id,))
            row = cur.fetchone()
            if row is None:
                cur.execute(
                    "INSERT INTO conversations(id, tenant, created_at, updated_at, expires_at) VALUES (?,?,?,?,?)",
                    (conversation_id, tenant, _iso(turn.created_at), _iso(turn.created_at), _iso(expires_at)),
                )
            elif row[0] != tenant:
                raise ConversationConflict(conversation_id)
            else:
                cur.execute(
                    "UPDATE conversations SET updated_at = ?, expires_at = ? WHERE id = ?",
                    (_iso(turn.created_at), _iso(expires_at), conversation_id),
                )
            cur.execute(
                "INSERT INTO turns(conversation_id, tenant, created_at, question, answer, outcome, mode, "
                "confidence, language, topic, citations) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                (
                    conversation_id, tenant, _iso(turn.created_at), turn.question, turn.answer, turn.outcome,
                    turn.mode, turn.confidence, turn.language, turn.topic,
                    json.dumps(turn.citations, ensure_ascii=False),
                ),
            )
            return int(cur.fetchone()[0])

    def conversation_tenant(self, conversation_id: str) -> str | None:
        rows = self._read("SELECT tenant FROM conversations WHERE id = ?", (conversation_id,))
        return rows[0][0] if rows else None

    def open_conversation(self, conversation_id: str, tenant: str, secret: str | None) -> ConversationAccess:
        """Claim an unknown id for `tenant` with a new secret, or check the secret of a known
        one (and count its turns). An id without a secret (stored before secrets existed) can
        no longer be continued."""
        with self._tx() as cur:
            cur.execute("SELECT tenant, secret_hash FROM conversation_secrets WHERE conversation_id = ?", (conversation_id,))
            row = cur.fetchone()
            if row is None:
                cur.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,))
                if cur.fetchone() is not None:
                    return ConversationAccess("denied")
                new = secrets.token_urlsafe(32)
                cur.execute(
                    "INSERT INTO conversation_secrets(conversation_id, tenant, secret_hash, created_at) VALUES (?,?,?,?)",
                    (conversation_id, tenant, secret_hash(new), _iso(datetime.now(timezone.utc))),
                )
                return ConversationAccess("new", 0, new)
            if not secret or not hmac.compare_digest(row[1], secret_hash(secret)):
                return ConversationAccess("denied")
            if row[0] != tenant:
                return ConversationAccess("conflict")
            cur.execute("SELECT COUNT(*) FROM turns WHERE conversation_id = ?", (conversation_id,))
            return ConversationAccess("ok", int(cur.fetchone()[0]))

    def conversation_access(self, conversation_id: str, secret: str | None) -> str | None:
        """The tenant of a conversation that has turns, if `secret` is its secret; else None."""
        if not secret:
            return None
        rows = self._read(
            "SELECT s.tenant, s.secret_hash FROM conversation_secrets s JOIN conversations c ON c.id = s.conversation_id "
            "WHERE s.conversation_id = ?",
            (conversation_id,),
        )
        if not rows or not hmac.compare_digest(rows[0][1], secret_hash(secret)):
            return None
        return rows[0][0]

    def release_conversation(self, conversation_id: str, secret: str) -> None:
        """Undo a claim whose first answer failed (the client never got the secret)."""
        with self._tx() as cur:
            cur.execute(
                "DELETE FROM conversation_secrets WHERE conversation_id = ? AND secret_hash = ? "
                "AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = ?)",
                (conversation_id, secret_hash(secret), conversation_id),
            )

    def recent_turns(self, tenant: str, conversation_id: str, limit: int) -> list[Turn]:
        """The last `limit` turns, oldest first."""
        rows = self._read(
            f"SELECT {_TURN_COLUMNS} FROM turns WHERE tenant = ? AND conversation_id = ? ORDER BY id DESC LIMIT ?",
            (tenant, conversation_id, limit),
        )
        return [_turn(r) for r in reversed(rows)]

    def set_feedback(self, tenant: str, conversation_id: str, turn_id: int, rating: str, comment: str | None) -> bool:
        with self._tx() as cur:
            cur.execute(
                "UPDATE turns SET rating = ?, comment = ? WHERE id = ? AND tenant = ? AND conversation_id = ?",
                (rating, comment, turn_id, tenant, conversation_id),
            )
            return cur.rowcount > 0

    def turns_between(self, tenant: str, start: datetime, end: datetime) -> list[Turn]:
        """All turns of a tenant in [start, end), oldest first (analytics)."""
        rows = self._read(
            f"SELECT {_TURN_COLUMNS} FROM turns WHERE tenant = ? AND created_at >= ? AND created_at < ? ORDER BY id",
            (tenant, _iso(start), _iso(end)),
        )
        return [_turn(r) for r in rows]

    def delete_expired_conversations(self, now: datetime) -> int:
        """Retention: delete conversations (with their turns) whose time is up; returns the count."""
        with self._tx() as cur:
            cur.execute("DELETE FROM turns WHERE conversation_id IN (SELECT id FROM conversations WHERE expires_at <= ?)", (_iso(now),))
            cur.execute(
                "DELETE FROM conversation_secrets WHERE conversation_id IN (SELECT id FROM conversations WHERE expires_at <= ?) "
                "OR (created_at <= ? AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = conversation_id))",
                (_iso(now), _iso(now - UNUSED_CLAIM)),
            )
            cur.execute("DELETE FROM conversations WHERE expires_at <= ?", (_iso(now),))
            return cur.rowcount


_TURN_COLUMNS = (
    "id, conversation_id, tenant, created_at, question, answer, outcome, mode, confidence, language, topic, "
    "citations, rating, comment"
)


def _turn(r: tuple[Any, ...]) -> Turn:
    return Turn(
        id=int(r[0]), conversation_id=r[1], tenant=r[2], created_at=datetime.fromisoformat(r[3]), question=r[4],
        answer=r[5], outcome=r[6], mode=r[7], confidence=float(r[8]), language=r[9], topic=r[10],
        citations=json.loads(r[11]), rating=r[12], comment=r[13],
    )
