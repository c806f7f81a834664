"""Staff: an account of the staff workspace, an integration's API key, and their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ROLES = ("sachbearbeitung", "redaktion", "auswertung", "admin")
"""sachbearbeitung: the inbox; redaktion: knowledge and curated answers; auswertung: analytics;
admin: accounts and everything else."""

API_KEY_ROLES = ("posteingang",)
"""posteingang: may send messages to its tenant's inbox (POST /api/v1/inbox)."""


@dataclass(frozen=True)
class StaffAccount:
    name: str
    tenant: str
    roles: frozenset[str]
    disabled: bool
    created_at: str
    sessions: int  # sessions not yet expired


@dataclass(frozen=True)
class ApiKey:
    """An integration's API key as listed (the key itself is never stored)."""

    id: int
    tenant: str
    name: str
    role: str
    prefix: str  # the first characters of the key, to recognise it
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
