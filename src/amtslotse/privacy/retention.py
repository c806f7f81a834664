"""Retention: delete personal data when its time is up.

Chat conversations go `conversation_retention_days` after their last message, inbox messages
(text and attachments; the audit log stays, it holds no personal data) `inbox_retention_days`
after intake. The server
runs `purge_expired` at start and every hour; `amtslotse retention` runs it once (cron).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from amtslotse.store.protocol import Store

log = logging.getLogger("amtslotse.retention")


def purge_expired(store: Store, now: datetime | None = None) -> dict[str, int]:
    """Delete what has outlived its retention; returns counts by kind (no content is logged)."""
    now = now or datetime.now(timezone.utc)
    deleted = {
        "conversations": store.delete_expired_conversations(now),
        "inbox_messages": store.delete_expired_inbox(now),
    }
    if any(deleted.values()):
        log.info("Aufbewahrungsfrist abgelaufen, gelöscht: %s", deleted)
    return deleted
