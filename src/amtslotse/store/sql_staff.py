"""Staff accounts and login sessions (both SQL stores).

Passwords are stored as scrypt hashes, session tokens only as SHA-256 hashes: a copy of
the database gives neither. `tenant` "*" is the cooperative's administrator, who may act
for every tenant.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone

ROLES = ("sachbearbeitung", "redaktion", "auswertung", "admin")
"""sachbearbeitung: the inbox; redaktion: knowledge and curated answers; auswertung: analytics;
admin: accounts and everything else."""

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, salt, _digest = stored.split("$")
        return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)
    except ValueError:
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffSql:
    """Mixin for SqlStore: needs `_tx()` and `_read()`."""

    def add_staff_user(self, name: str, tenant: str, roles: list[str] | tuple[str, ...], password: str) -> None:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValueError(f"Unbekannte Rolle(n): {', '.join(unknown)}; erlaubt: {', '.join(ROLES)}.")
        if len(password) < 10:
            raise ValueError("Das Passwort muss mindestens 10 Zeichen lang sein.")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO staff_users(name, tenant, roles, password_hash, created_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET tenant = excluded.tenant, roles = excluded.roles, "
                "password_hash = excluded.password_hash",
                (name, tenant, ",".join(sorted(set(roles))), hash_password(password), now),
            )

    def check_staff_password(self, name: str, password: str) -> tuple[str, frozenset[str]] | None:
        """(tenant, roles) when the password is right, else None."""
        rows = self._read("SELECT tenant, roles, password_hash FROM staff_users WHERE name = ?", (name,))
        if not rows or not password_matches(password, rows[0][2]):
            return None
        return rows[0][0], frozenset(filter(None, rows[0][1].split(",")))

    def start_staff_session(self, name: str, expires_at: datetime) -> str:
        """A new session token (returned once, stored hashed)."""
        token = secrets.token_urlsafe(32)
        with self._tx() as cur:
            cur.execute("DELETE FROM staff_sessions WHERE expires_at <= ?", (datetime.now(timezone.utc).isoformat(),))
            cur.execute(
                "INSERT INTO staff_sessions(token_hash, name, expires_at) VALUES (?,?,?)",
                (token_hash(token), name, expires_at.isoformat(timespec="seconds")),
            )
        return token

    def staff_session(self, token: str, now: datetime) -> tuple[str, str, frozenset[str]] | None:
        """(name, tenant, roles) of a valid session token, else None."""
        rows = self._read(
            "SELECT u.name, u.tenant, u.roles FROM staff_sessions s JOIN staff_users u ON u.name = s.name "
            "WHERE s.token_hash = ? AND s.expires_at > ?",
            (token_hash(token), now.isoformat(timespec="seconds")),
        )
        if not rows:
            return None
        return rows[0][0], rows[0][1], frozenset(filter(None, rows[0][2].split(",")))

    def end_staff_session(self, token: str) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM staff_sessions WHERE token_hash = ?", (token_hash(token),))
