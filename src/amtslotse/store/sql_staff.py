"""Staff accounts and login sessions (both SQL stores).

Passwords are stored as scrypt hashes, session tokens and API keys only as SHA-256 hashes:
a copy of the database gives none of them. `tenant` "*" is the cooperative's administrator,
who may act for every tenant.

An account is disabled by a "!" before its password hash (as in shadow(5)): no password
matches it and its sessions are ended. A password change (`add_staff_user` with another
password) ends the account's sessions too. A name that has no account costs the same
scrypt work as one that has (against a dummy hash), so the time of a login tells nothing.

API keys let an integration (a Landkreis's form system) send to the inbox: each is scoped to
one tenant and one role, listed with its last use, and revocable::

    key, secret = store.create_api_key("musterkreis", "formularserver")   # secret shown once
    store.api_key(secret)                # ApiKey(id=1, tenant='musterkreis', role='posteingang', ...)
    store.revoke_api_key("musterkreis", key.id)

Every write takes the audit entries the domain code made for it (amtslotse.governance.accounts)
and appends them in the same transaction: a change is never stored without its entry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

from amtslotse.errors import InputError
from amtslotse.models import API_KEY_ROLES, ROLES, ApiKey, AuditEntry, StaffAccount

API_KEY_PREFIX = "alk_"
DISABLED = "!"
"""Before a password hash: the account is disabled."""

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_DUMMY_HASH = f"scrypt${'00' * 16}${'00' * 32}"
"""Checked against when a name has no account: the same scrypt work, never a match."""
LAST_USE_RESOLUTION = timedelta(minutes=1)
"""An API key's last use is written at most once a minute (a write per request is not needed)."""


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


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _api_key(r: tuple) -> ApiKey:
    def moment(value):
        return datetime.fromisoformat(value) if value else None

    return ApiKey(int(r[0]), r[1], r[2], r[3], r[4], moment(r[5]), moment(r[6]), moment(r[7]))


_API_KEY_COLUMNS = "id, tenant, name, role, prefix, created_at, last_used_at, revoked_at"


def _check_roles(roles: Sequence[str]) -> str:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InputError(f"Unbekannte Rolle(n): {', '.join(unknown)}; erlaubt: {', '.join(ROLES)}.")
    return ",".join(sorted(set(roles)))


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise InputError("Das Passwort muss mindestens 10 Zeichen lang sein.")


class StaffSql:
    """Mixin for SqlStore: needs `_tx()`, `_read()` and `_append_chained_audit()`."""

    def _audited(self, cur, audit: Sequence[AuditEntry]) -> None:
        for entry in audit:
            self._append_chained_audit(cur, entry)  # type: ignore[attr-defined]

    def add_staff_user(
        self, name: str, tenant: str, roles: Sequence[str], password: str, audit: Sequence[AuditEntry] = (),
    ) -> None:
        joined = _check_roles(roles)
        _check_password(password)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        before = self._read("SELECT password_hash FROM staff_users WHERE name = ?", (name,))
        # Another password (or a disabled account enabled again with one) ends all sessions.
        changed = bool(before) and not password_matches(password, before[0][0])
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO staff_users(name, tenant, roles, password_hash, created_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET tenant = excluded.tenant, roles = excluded.roles, "
                "password_hash = excluded.password_hash",
                (name, tenant, joined, hash_password(password), now),
            )
            if changed:
                cur.execute("DELETE FROM staff_sessions WHERE name = ?", (name,))
            self._audited(cur, audit)

    def set_staff_password(self, name: str, password: str, audit: Sequence[AuditEntry] = ()) -> bool:
        """A new password (a disabled account is enabled again by it); all the account's
        sessions end. False if there is no such account."""
        _check_password(password)
        with self._tx() as cur:
            cur.execute("UPDATE staff_users SET password_hash = ? WHERE name = ?", (hash_password(password), name))
            if cur.rowcount == 0:
                return False
            cur.execute("DELETE FROM staff_sessions WHERE name = ?", (name,))
            self._audited(cur, audit)
        return True

    def set_staff_roles(self, name: str, tenant: str, roles: Sequence[str], audit: Sequence[AuditEntry] = ()) -> bool:
        """Another tenant or other roles (open sessions have them at their next request)."""
        joined = _check_roles(roles)
        with self._tx() as cur:
            cur.execute("UPDATE staff_users SET tenant = ?, roles = ? WHERE name = ?", (tenant, joined, name))
            if cur.rowcount == 0:
                return False
            self._audited(cur, audit)
        return True

    def save_external_account(
        self, name: str, tenant: str, roles: Sequence[str], mark: str, audit: Sequence[AuditEntry] = (),
    ) -> str:
        """An account whose password lives elsewhere (single sign-on: `mark` in place of a
        hash), created or given the tenant and roles the provider names. Returns "ok", or
        "local" (a local account has this name) or "disabled" (then nothing is written)."""
        joined = _check_roles(roles)
        with self._tx() as cur:
            cur.execute("SELECT password_hash FROM staff_users WHERE name = ?", (name,))
            row = cur.fetchone()
            if row is not None and row[0] != mark:
                return "disabled" if row[0] == DISABLED + mark else "local"
            cur.execute(
                "INSERT INTO staff_users(name, tenant, roles, password_hash, created_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET tenant = excluded.tenant, roles = excluded.roles",
                (name, tenant, joined, mark, _iso(_now())),
            )
            self._audited(cur, audit)
        return "ok"

    def check_staff_password(self, name: str, password: str) -> tuple[str, frozenset[str]] | None:
        """(tenant, roles) when the password is right and the account enabled, else None. The
        same scrypt work whether the name exists or not."""
        rows = self._read("SELECT tenant, roles, password_hash FROM staff_users WHERE name = ?", (name,))
        stored = rows[0][2] if rows else _DUMMY_HASH
        if not password_matches(password, stored) or not rows:
            return None
        return rows[0][0], frozenset(filter(None, rows[0][1].split(",")))

    def disable_staff_user(self, name: str, audit: Sequence[AuditEntry] = ()) -> bool:
        """Disable an account (no login, its sessions end); False if there is no such account.
        `add_staff_user` with a new password enables it again."""
        with self._tx() as cur:
            cur.execute("SELECT password_hash FROM staff_users WHERE name = ?", (name,))
            row = cur.fetchone()
            if row is None:
                return False
            if not row[0].startswith(DISABLED):
                cur.execute("UPDATE staff_users SET password_hash = ? WHERE name = ?", (DISABLED + row[0], name))
            cur.execute("DELETE FROM staff_sessions WHERE name = ?", (name,))
            self._audited(cur, audit)
        return True

    def remove_staff_user(self, name: str, audit: Sequence[AuditEntry] = ()) -> bool:
        """Delete an account and its sessions; False if there is no such account."""
        with self._tx() as cur:
            cur.execute("DELETE FROM staff_sessions WHERE name = ?", (name,))
            cur.execute("DELETE FROM staff_users WHERE name = ?", (name,))
            if cur.rowcount == 0:
                return False
            self._audited(cur, audit)
        return True

    def end_staff_sessions(self, name: str, audit: Sequence[AuditEntry] = ()) -> int:
        """Log an account out everywhere; returns how many sessions ended."""
        with self._tx() as cur:
            cur.execute("DELETE FROM staff_sessions WHERE name = ?", (name,))
            ended = cur.rowcount
            self._audited(cur, audit)
        return ended

    def staff_accounts(self) -> list[StaffAccount]:
        return self._staff_accounts("", ())

    def _staff_accounts(self, where: str, params: tuple) -> list[StaffAccount]:
        rows = self._read(
            "SELECT u.name, u.tenant, u.roles, u.password_hash, u.created_at, "
            "(SELECT COUNT(*) FROM staff_sessions s WHERE s.name = u.name AND s.expires_at > ?) "
            f"FROM staff_users u {where} ORDER BY u.name",
            (_iso(_now()), *params),
        )
        return [
            StaffAccount(r[0], r[1], frozenset(filter(None, r[2].split(","))), r[3].startswith(DISABLED), r[4], int(r[5]))
            for r in rows
        ]

    def staff_account(self, name: str) -> StaffAccount | None:
        """One account by name, or None."""
        return next((a for a in self._staff_accounts("WHERE u.name = ?", (name,))), None)

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
            "WHERE s.token_hash = ? AND s.expires_at > ? AND u.password_hash NOT LIKE ?",
            (token_hash(token), now.isoformat(timespec="seconds"), DISABLED + "%"),
        )
        if not rows:
            return None
        return rows[0][0], rows[0][1], frozenset(filter(None, rows[0][2].split(",")))

    def end_staff_session(self, token: str) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM staff_sessions WHERE token_hash = ?", (token_hash(token),))

    # --- API keys of integrations -------------------------------------------------
    def create_api_key(
        self, tenant: str, name: str, role: str = "posteingang", audit: Callable[[ApiKey], AuditEntry] | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key for `tenant` and `role`; returns it with the secret (shown once, stored
        hashed). `audit` makes the key's audit entry (it names the new key's id)."""
        if role not in API_KEY_ROLES:
            raise InputError(f"Unbekannte Rolle „{role}“ für API-Schlüssel; erlaubt: {', '.join(API_KEY_ROLES)}.")
        if not name.strip() or len(name) > 100:
            raise InputError("Bitte dem API-Schlüssel einen Namen geben (1 bis 100 Zeichen), z. B. „formularserver“.")
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO api_keys(tenant, name, role, key_hash, prefix, created_at) VALUES (?,?,?,?,?,?) "
                f"RETURNING {_API_KEY_COLUMNS}",
                (tenant, name.strip(), role, token_hash(secret), secret[:len(API_KEY_PREFIX) + 6], _iso(_now())),
            )
            key = _api_key(cur.fetchone())
            if audit is not None:
                self._audited(cur, [audit(key)])
        return key, secret

    def api_keys(self, tenant: str) -> list[ApiKey]:
        """A tenant's API keys, revoked ones included, oldest first."""
        rows = self._read(f"SELECT {_API_KEY_COLUMNS} FROM api_keys WHERE tenant = ? ORDER BY id", (tenant,))
        return [_api_key(r) for r in rows]

    def revoke_api_key(self, tenant: str, key_id: int, audit: Sequence[AuditEntry] = ()) -> bool:
        """Revoke a key of `tenant` at once; False if it has no such (active) key."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND tenant = ? AND revoked_at IS NULL",
                (_iso(_now()), key_id, tenant),
            )
            if cur.rowcount == 0:
                return False
            self._audited(cur, audit)
        return True

    def api_key(self, secret: str, now: datetime | None = None) -> ApiKey | None:
        """The active key with this secret, its use recorded (at most once a minute); else None."""
        if not secret.startswith(API_KEY_PREFIX):
            return None
        rows = self._read(
            f"SELECT {_API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (token_hash(secret),)
        )
        if not rows:
            return None
        key = _api_key(rows[0])
        now = now or _now()
        if key.last_used_at is None or key.last_used_at <= now - LAST_USE_RESOLUTION:
            with self._tx() as cur:
                cur.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (_iso(now), key.id))
        return key
