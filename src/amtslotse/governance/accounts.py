"""Staff accounts and the API keys of integrations, audited whatever the entry point.

Every change (an account created, its tenant or roles changed, its password set, disabled,
removed, logged out everywhere; an API key created or revoked) is stored together with its
entry of the hash-chained audit log, in one transaction. The command line (`amtslotse
staff …`, `amtslotse apikey …`) and the staff API (web/accounts_api.py) both call these
functions, so both are audited alike. An account's entries go to the chain of its tenant
("*": the cooperative's; a move to another tenant is written in both chains), an API key's
to its tenant's. No entry holds a password or a key::

    save_staff_user(store, "s.berger", "musterkreis", ["sachbearbeitung"], "…", actor="cli:root")
    change_password(store, "s.berger", "…", actor="s.berger")       # ends the account's sessions
    key, secret = create_api_key(store, settings, "musterkreis", "formularserver", actor="a.admin")
    store.audit_entries("musterkreis")[-1].action                    # 'api_key_created'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from amtslotse.errors import InputError
from amtslotse.governance.audit import COOPERATIVE
from amtslotse.models import SHARED_TENANT, ApiKey, AuditEntry, StaffAccount
from amtslotse.settings import Settings
from amtslotse.tenants import TENANT_NAME, load_tenant_config

MAX_NAME = 100


class AccountError(InputError):
    """A change of an account or a key is not possible (German message); `status` for HTTP."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _entry(chain: str, actor: str, action: str, name: str, **details: Any) -> AuditEntry:
    """An entry about account `name` in the audit chain of tenant `chain`."""
    return AuditEntry(chain, actor, action, "staff_user", name, details)


def existing_account(store, name: str) -> StaffAccount:
    account = store.staff_account(name)
    if account is None:
        raise AccountError(f"Ein Konto „{name}“ gibt es nicht.", 404)
    return account


def _check(name: str, tenant: str) -> None:
    if not name.strip() or len(name) > MAX_NAME or not name.isprintable() or name != name.strip():
        raise AccountError(f"Der Anmeldename bitte mit 1 bis {MAX_NAME} Zeichen, ohne Leerzeichen am Rand.")
    if tenant != COOPERATIVE and (not TENANT_NAME.match(tenant) or tenant == SHARED_TENANT):
        raise AccountError(f"„{tenant}“ ist kein Mandant für Konten (ein Jobcenter oder '*' für den Verbund).")


def _role_entries(before: StaffAccount, tenant: str, roles: Sequence[str], actor: str) -> list[AuditEntry]:
    """A change of tenant or roles, in the old and (if other) the new tenant's chain."""
    if before.tenant == tenant and before.roles == frozenset(roles):
        return []
    details = {"tenant": tenant, "roles": sorted(set(roles)), "tenant_before": before.tenant,
               "roles_before": sorted(before.roles)}
    return [_entry(chain, actor, "staff_roles_changed", before.name, **details)
            for chain in dict.fromkeys((before.tenant, tenant))]


# --- accounts -------------------------------------------------------------------------------------


def save_staff_user(store, name: str, tenant: str, roles: Sequence[str], password: str, *, actor: str) -> str:
    """Create an account or change one (tenant, roles, password), as `amtslotse staff add`
    does; returns "created", "changed" or "unchanged". A new password ends the account's
    sessions (and enables a disabled account)."""
    _check(name, tenant)
    before = store.staff_account(name)
    if before is None:
        entries = [_entry(tenant, actor, "staff_user_created", name, tenant=tenant, roles=sorted(set(roles)))]
    else:
        entries = _role_entries(before, tenant, roles, actor)
        if before.disabled or store.check_staff_password(name, password) is None:
            entries.append(_entry(tenant, actor, "staff_password_changed", name, enabled_again=before.disabled,
                                  sessions_ended=before.sessions))
    store.add_staff_user(name, tenant, list(roles), password, audit=entries)
    return "created" if before is None else "changed" if entries else "unchanged"


def create_staff_user(store, name: str, tenant: str, roles: Sequence[str], password: str, *, actor: str) -> None:
    """A new account only (the staff API): 409 if the name is taken, in whatever tenant."""
    _check(name, tenant)
    if store.staff_account(name) is not None:
        raise AccountError(f"Den Anmeldenamen „{name}“ gibt es schon.", 409)
    save_staff_user(store, name, tenant, roles, password, actor=actor)


def set_roles(store, name: str, roles: Sequence[str], *, actor: str, tenant: str | None = None) -> StaffAccount:
    """Other roles (and another tenant, if given); open sessions have them at their next request."""
    before = existing_account(store, name)
    tenant = tenant or before.tenant
    _check(name, tenant)
    if not roles:
        raise AccountError("Bitte mindestens eine Rolle angeben.")
    store.set_staff_roles(name, tenant, list(roles), audit=_role_entries(before, tenant, roles, actor))
    return existing_account(store, name)


def change_password(store, name: str, password: str, *, actor: str) -> None:
    """Set a new password: every session of the account ends (also the one that changed it)."""
    before = existing_account(store, name)
    store.set_staff_password(name, password, audit=[_entry(
        before.tenant, actor, "staff_password_changed", name, enabled_again=before.disabled,
        sessions_ended=before.sessions)])


def disable_staff_user(store, name: str, *, actor: str) -> None:
    """No login any more; the account's sessions end (a new password enables it again)."""
    before = existing_account(store, name)
    store.disable_staff_user(name, audit=[_entry(before.tenant, actor, "staff_user_disabled", name,
                                                 sessions_ended=before.sessions)])


def remove_staff_user(store, name: str, *, actor: str) -> None:
    """Delete the account and its sessions; the audit log keeps its name."""
    before = existing_account(store, name)
    store.remove_staff_user(name, audit=[_entry(before.tenant, actor, "staff_user_removed", name,
                                                roles=sorted(before.roles), sessions_ended=before.sessions)])


def logout_everywhere(store, name: str, *, actor: str) -> int:
    """End every session of the account (a lost device); returns how many ended."""
    before = existing_account(store, name)
    return store.end_staff_sessions(name, audit=[_entry(before.tenant, actor, "staff_sessions_ended", name,
                                                        sessions=before.sessions)])


def sync_external_account(store, name: str, tenant: str, roles: Sequence[str], *, mark: str, via: str) -> None:
    """The account of a single-sign-on session (`via`: "oidc"), created at its first sign-in and
    given the tenant and roles of the provider's claims at each: a new account or other roles
    are audited (actor: the account itself). AccountError 409 if a local account has the
    name, 403 if the account is disabled."""
    before = store.staff_account(name)
    if before is None:
        entries = [_entry(tenant, name, "staff_user_created", name, tenant=tenant, roles=sorted(set(roles)), sign_in=via)]
    else:
        entries = _role_entries(before, tenant, roles, name)
    status = store.save_external_account(name, tenant, list(roles), mark, audit=entries)
    if status == "disabled":
        raise AccountError("Dieses Konto ist gesperrt. Bitte wenden Sie sich an die Verwaltung.", 403)
    if status == "local":
        raise AccountError("Unter diesem Namen gibt es schon ein lokales Konto.", 409)


# --- API keys -------------------------------------------------------------------------------------


def require_tenant(store, settings: Settings, tenant: str) -> None:
    """An API key is for a tenant that exists here (in the store or configured)."""
    if not TENANT_NAME.match(tenant or "") or tenant == SHARED_TENANT:
        raise AccountError(f"„{tenant}“ ist kein Mandant, für den es API-Schlüssel gibt.")
    if tenant not in store.tenants() and not load_tenant_config(tenant, settings).configured:
        raise AccountError(f"Den Mandanten „{tenant}“ gibt es hier nicht.", 404)


def create_api_key(store, settings: Settings, tenant: str, name: str, role: str = "posteingang", *,
                   actor: str) -> tuple[ApiKey, str]:
    """A new key for an integration of `tenant`; returns it with its secret (shown once)."""
    require_tenant(store, settings, tenant)
    return store.create_api_key(tenant, name, role, audit=lambda key: AuditEntry(
        tenant, actor, "api_key_created", "api_key", str(key.id), {"name": key.name, "role": key.role,
                                                                   "prefix": key.prefix}))


def revoke_api_key(store, tenant: str, key_id: int, *, actor: str) -> None:
    """Revoke an active key of `tenant` at once."""
    key = next((k for k in store.api_keys(tenant) if k.id == key_id and k.active), None)
    if key is None or not store.revoke_api_key(tenant, key_id, audit=[AuditEntry(
            tenant, actor, "api_key_revoked", "api_key", str(key_id), {"name": key.name})]):
        raise AccountError(f"{tenant} hat keinen aktiven API-Schlüssel Nr. {key_id}.", 404)
