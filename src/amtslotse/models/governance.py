"""Governance: the audit log (an entry, its place in the hash chain, a chain's head) and a
tenant's lifecycle state.

The chain's hash is part of the record (`ChainedEntry.computed_hash`): the store writes it
(store/sql_governance.py) and governance/audit.py checks it, with the one `audit_hash`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

TenantStatus = Literal["active", "disabled"]
"""Whether a tenant serves requests (a Literal: stored as the very string)."""

@dataclass(frozen=True)
class AuditEntry:
    """One step in the audit log: who did what to which object, when. `details` holds ids,
    states, team names and counts, never message text or other personal data of citizens."""

    tenant: str
    actor: str  # a staff name, or "system" / "intake"
    action: str
    object_type: str
    object_id: str
    details: dict = field(default_factory=dict)
    at: datetime | None = None  # None: now
    id: int | None = None


GENESIS = ""
"""The previous hash of a chain's first entry."""


def audit_hash(
    seq: int, entry_id: int, tenant: str, at: str, actor: str, action: str, object_type: str, object_id: str,
    details: str, prev_hash: str,
) -> str:
    """SHA-256 over an entry's canonical content: the stored values (timestamp and details as
    the text the log holds), its place in the chain and the previous entry's hash.

    >>> audit_hash(1, 7, "musterkreis", "2026-12-01T09:00:00+00:00", "s.berger", "viewed", "inbox_message", "17", "{}", "")[:12]
    '276496437e37'
    """
    canonical = json.dumps(
        [seq, entry_id, tenant, at, actor, action, object_type, object_id, details, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainedEntry:
    """An audit entry as stored, with its chain columns (None: the entry has no chain row)."""

    id: int
    tenant: str
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    details: str  # the stored JSON text
    seq: int | None
    prev_hash: str | None
    hash: str | None

    def computed_hash(self) -> str:
        return audit_hash(self.seq or 0, self.id, self.tenant, self.at, self.actor, self.action, self.object_type,
                          self.object_id, self.details, self.prev_hash or "")


@dataclass(frozen=True)
class AuditHead:
    tenant: str
    seq: int
    hash: str
    entry_id: int


@dataclass(frozen=True)
class TenantState:
    tenant: str
    state: TenantStatus
    reason: str
    changed_at: str
    changed_by: str
    created_at: str | None


TENANT_STATES: tuple[TenantStatus, ...] = get_args(TenantStatus)
