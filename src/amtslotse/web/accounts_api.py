"""Staff accounts and API keys over HTTP, for the administration in the staff workspace.

    POST   /api/v1/staff/password {"current_password", "new_password"}     -> own password; every session ends
    GET    /api/v1/staff/admin/accounts[?tenant=musterkreis]               -> {"accounts": [...]}
    POST   /api/v1/staff/admin/accounts {"name", "tenant", "roles", "password"} -> 201 the account
    PATCH  /api/v1/staff/admin/accounts/{name} {"roles", "tenant"?}        -> the account (role change)
    POST   /api/v1/staff/admin/accounts/{name}/password {"password"}       -> a new password; sessions end
    POST   /api/v1/staff/admin/accounts/{name}/disable | /logout-all
    DELETE /api/v1/staff/admin/accounts/{name}
    GET    /api/v1/staff/admin/api-keys?tenant=musterkreis                 -> {"api_keys": [...]}
    POST   /api/v1/staff/admin/api-keys?tenant=musterkreis {"name", "role"} -> 201 the key with its secret (once)
    DELETE /api/v1/staff/admin/api-keys/{key_id}?tenant=musterkreis       -> revoked

Roles: "admin" of a tenant administers that tenant's accounts and keys; the cooperative's
admin (tenant "*") every tenant's and the cooperative's own accounts. An account out of
reach answers 404, as one that does not exist. Each route only translates HTTP to
amtslotse.governance.accounts and back: the domain audits every change.
"""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from amtslotse.errors import InputError
from amtslotse.governance import accounts
from amtslotse.governance.audit import COOPERATIVE
from amtslotse.models import ROLES, ApiKey, StaffAccount
from amtslotse.store.protocol import Store
from amtslotse.web.auth import checked_password
from amtslotse.web.deps import COOKIE, AdminTenant, ServicesDep, StaffDep, StaffUser, staff_tenant
from amtslotse.web.errors import MAX_ID, ApiError
from amtslotse.web.schemas import Ok
from amtslotse.web.staff_schemas import (
    AccountList,
    AccountOut,
    ApiKeyList,
    ApiKeyOut,
    Message,
    NewApiKey,
    SessionsEnded,
)

router = APIRouter(prefix="/api/v1/staff", tags=["Konten und API-Schlüssel (Mitarbeitende)"])

ADMIN = "admin"


def _call(function, *args, **kwargs):
    """Run an accounts function; its German error becomes the HTTP error."""
    try:
        return function(*args, **kwargs)
    except accounts.AccountError as error:
        code = {404: "not_found", 409: "conflict"}.get(error.status, "invalid_request")
        raise ApiError(error.status, code, str(error)) from None
    except InputError as error:
        raise ApiError(422, "invalid_request", str(error)) from None


def _may_administer(user: StaffUser, tenant: str) -> bool:
    if ADMIN not in user.roles:
        return False
    return user.tenant == COOPERATIVE or (tenant != COOPERATIVE and user.may_act_for(tenant))


def _require_admin_of(user: StaffUser, tenant: str) -> None:
    if not _may_administer(user, tenant):
        raise ApiError(403, "forbidden", "Konten dieses Jobcenters verwaltet dessen Administration.")


def _reachable(store: Store, user: StaffUser, name: str) -> StaffAccount:
    """The account, if the user may administer it (else 404, as for one that does not exist)."""
    account = store.staff_account(name)
    if account is None or not _may_administer(user, account.tenant):
        raise ApiError(404, "not_found", f"Ein Konto „{name}“ gibt es nicht.")
    return account


def _not_oneself(user: StaffUser, name: str) -> None:
    """An administrator cannot lock themselves out through the workspace (the CLI on the server
    remains the operator's way)."""
    if name == user.name:
        raise ApiError(409, "conflict", "Das eigene Konto können Sie hier nicht sperren oder löschen; "
                                        "das übernimmt eine andere Administratorin oder ein anderer Administrator.")


def _account(account: StaffAccount) -> AccountOut:
    return AccountOut(name=account.name, tenant=account.tenant, roles=sorted(account.roles),
                      disabled=account.disabled, created_at=account.created_at, sessions=account.sessions)


def _key(key: ApiKey) -> ApiKeyOut:
    moment = lambda value: value.isoformat() if value else None  # noqa: E731
    return ApiKeyOut(id=key.id, tenant=key.tenant, name=key.name, role=key.role, prefix=key.prefix,
                     created_at=moment(key.created_at), last_used_at=moment(key.last_used_at),
                     revoked_at=moment(key.revoked_at), active=key.active)


# --- one's own password ---------------------------------------------------------------------------


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=10, max_length=200)


@router.post("/password", summary="Das eigene Passwort ändern (beendet alle Sitzungen des Kontos)")
def change_own_password(body: PasswordChange, request: Request, response: Response, services: ServicesDep,
                        user: StaffDep) -> Message:
    try:
        checked_password(services, request, user.name, body.current_password)  # throttled like the login
    except ApiError as error:
        if error.status != 401:
            raise
        raise ApiError(403, "wrong_password", "Das bisherige Passwort stimmt nicht.") from None
    _call(accounts.change_password, services.store, user.name, body.new_password, actor=user.name)
    response.delete_cookie(COOKIE, path="/")
    return Message(message="Passwort geändert. Bitte melden Sie sich neu an.")


# --- accounts -------------------------------------------------------------------------------------


class AccountIn(BaseModel):
    name: str = Field(min_length=1, max_length=accounts.MAX_NAME)
    tenant: Optional[str] = Field(default=None, min_length=1, max_length=63)
    roles: list[str] = Field(min_length=1, max_length=len(ROLES))
    password: str = Field(min_length=10, max_length=200)


class RolesIn(BaseModel):
    roles: list[str] = Field(min_length=1, max_length=len(ROLES))
    tenant: Optional[str] = Field(default=None, min_length=1, max_length=63)


class PasswordIn(BaseModel):
    password: str = Field(min_length=10, max_length=200)


@router.get("/admin/accounts", summary="Konten eines Jobcenters (der Verbund: alle)")
def list_accounts(services: ServicesDep, user: StaffDep, tenant: Optional[str] = None) -> AccountList:
    store = services.store
    if tenant is None and user.tenant == COOPERATIVE:
        _require_admin_of(user, COOPERATIVE)
        shown = store.staff_accounts()
    else:
        name = tenant if tenant == COOPERATIVE else staff_tenant(user, tenant, ADMIN)
        _require_admin_of(user, name)
        shown = [a for a in store.staff_accounts() if a.tenant == name]
    return AccountList(accounts=[_account(a) for a in shown])


@router.post("/admin/accounts", status_code=201, summary="Ein Konto anlegen")
def create_account(body: AccountIn, services: ServicesDep, user: StaffDep) -> AccountOut:
    tenant = body.tenant or user.tenant
    _require_admin_of(user, tenant)
    store = services.store
    _call(accounts.create_staff_user, store, body.name, tenant, body.roles, body.password, actor=user.name)
    return _account(accounts.existing_account(store, body.name))


@router.patch("/admin/accounts/{name}", summary="Rollen (oder Jobcenter) eines Kontos ändern")
def change_roles(body: RolesIn, services: ServicesDep, user: StaffDep, name: str = Path(max_length=100)) -> AccountOut:
    _reachable(services.store, user, name)
    if body.tenant is not None:
        _require_admin_of(user, body.tenant)
    account = _call(accounts.set_roles, services.store, name, body.roles, actor=user.name,
                    tenant=body.tenant)
    return _account(account)


@router.post("/admin/accounts/{name}/password", summary="Ein neues Passwort setzen (beendet alle Sitzungen des Kontos)")
def set_password(body: PasswordIn, services: ServicesDep, user: StaffDep, name: str = Path(max_length=100)) -> Ok:
    _reachable(services.store, user, name)
    _call(accounts.change_password, services.store, name, body.password, actor=user.name)
    return Ok()


@router.post("/admin/accounts/{name}/disable", summary="Ein Konto sperren (keine Anmeldung, Sitzungen enden)")
def disable_account(services: ServicesDep, user: StaffDep, name: str = Path(max_length=100)) -> AccountOut:
    _reachable(services.store, user, name)
    _not_oneself(user, name)
    _call(accounts.disable_staff_user, services.store, name, actor=user.name)
    return _account(accounts.existing_account(services.store, name))


@router.post("/admin/accounts/{name}/logout-all", summary="Alle Sitzungen eines Kontos beenden")
def logout_all(services: ServicesDep, user: StaffDep, name: str = Path(max_length=100)) -> SessionsEnded:
    _reachable(services.store, user, name)
    ended = _call(accounts.logout_everywhere, services.store, name, actor=user.name)
    return SessionsEnded(ended=ended)


@router.delete("/admin/accounts/{name}", summary="Ein Konto löschen (das Protokoll behält den Namen)")
def remove_account(services: ServicesDep, user: StaffDep, name: str = Path(max_length=100)) -> Ok:
    _reachable(services.store, user, name)
    _not_oneself(user, name)
    _call(accounts.remove_staff_user, services.store, name, actor=user.name)
    return Ok()


# --- API keys -------------------------------------------------------------------------------------


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(default="posteingang", pattern="^posteingang$")


@router.get("/admin/api-keys", summary="API-Schlüssel eines Jobcenters mit letzter Nutzung")
def list_api_keys(services: ServicesDep, tenant: AdminTenant) -> ApiKeyList:
    return ApiKeyList(api_keys=[_key(k) for k in services.store.api_keys(tenant)])


@router.post("/admin/api-keys", status_code=201, summary="Einen API-Schlüssel anlegen (er wird nur jetzt angezeigt)")
def create_api_key(body: ApiKeyIn, services: ServicesDep, user: StaffDep, tenant: AdminTenant) -> NewApiKey:
    key, secret = _call(accounts.create_api_key, services.store, services.settings, tenant, body.name, body.role,
                        actor=user.name)
    return NewApiKey(**_key(key).model_dump(), secret=secret)


@router.delete("/admin/api-keys/{key_id}", summary="Einen API-Schlüssel sofort widerrufen")
def revoke_api_key(services: ServicesDep, user: StaffDep, tenant: AdminTenant,
                   key_id: int = Path(ge=1, le=MAX_ID)) -> Ok:
    _call(accounts.revoke_api_key, services.store, tenant, key_id, actor=user.name)
    return Ok()
