"""Staff login: a Bearer token (API clients) or the same token in an HttpOnly cookie (staff UI).

    POST /api/v1/staff/login {"name": "...", "password": "..."} -> {"token": "...", "tenant": ..., "roles": [...]}

Accounts are made with `amtslotse staff add`. `require_staff` is the dependency of every
staff endpoint; `StaffUser.may_act_for(tenant)` is the tenant check ("*" = the cooperative).

Login is throttled per account and per client address, with the counts in the store (all
workers see them): after AMTSLOTSE_LOGIN_MAX_FAILURES failures of an account (or
AMTSLOTSE_LOGIN_MAX_FAILURES_PER_ADDRESS from one address) within
AMTSLOTSE_LOGIN_FAILURE_WINDOW_MINUTES, every try is 429 with Retry-After until the lockout
ends; it doubles with each further failure. A locked try checks no password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from amtslotse.tenants import TENANT_NAME
from amtslotse.web.errors import ApiError
from amtslotse.web.limits import client_address, hashed, too_many

COOKIE = "amtslotse_staff"
router = APIRouter(prefix="/api/v1/staff", tags=["Mitarbeitende"])


@dataclass(frozen=True)
class StaffUser:
    name: str
    tenant: str  # "*": all tenants
    roles: frozenset[str]

    def may_act_for(self, tenant: str) -> bool:
        return self.tenant in ("*", tenant)

    def require(self, role: str, tenant: str | None = None) -> None:
        if role not in self.roles and "admin" not in self.roles:
            raise ApiError(403, "forbidden", f"Dafür fehlt die Rolle „{role}“.")
        if tenant is not None and not self.may_act_for(tenant):
            raise ApiError(403, "forbidden", "Sie dürfen nicht für dieses Jobcenter arbeiten.")


def staff_tenant(user: StaffUser, tenant: str | None, role: str | None = None) -> str:
    """The tenant a request is for (the account's own unless it is the cooperative's), checked
    against the account: with `role`, it must have that role (or admin)."""
    name = tenant or (user.tenant if user.tenant != "*" else None)
    if name is None:
        raise ApiError(422, "tenant_required", "Bitte das Jobcenter angeben (?tenant=…).")
    if not TENANT_NAME.match(name):
        raise ApiError(422, "invalid_tenant", f"„{name}“ ist kein gültiger Mandant.")
    if role is not None:
        user.require(role, name)
    elif not user.may_act_for(name):
        raise ApiError(403, "forbidden", "Sie dürfen nicht für dieses Jobcenter arbeiten.")
    return name


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def require_staff(request: Request) -> StaffUser:
    token = _token(request)
    session = request.app.state.services.store.staff_session(token, datetime.now(timezone.utc)) if token else None
    if session is None:
        raise ApiError(401, "unauthorized", "Bitte melden Sie sich an.")
    name, tenant, roles = session
    return StaffUser(name, tenant, roles)


class Login(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


def checked_password(request: Request, name: str, password: str) -> tuple[str, frozenset[str]]:
    """(tenant, roles) of the account if the password is right; else 401, counted for the
    account and the address (429 with Retry-After while either is locked; a locked try checks
    no password). Login and the password change both go through here."""
    services = request.app.state.services
    store, settings = services.store, services.settings
    account_key = "account:" + hashed("login", name)
    address_key = "address:" + hashed("login", client_address(request))
    wait = store.login_wait([account_key, address_key])
    if wait > 0:
        raise too_many(wait, "Zu viele fehlgeschlagene Anmeldungen.")
    account = store.check_staff_password(name, password)
    if account is None:
        window = settings.login_failure_window_minutes * 60
        known = store.staff_account(name)  # whose failures they are (deleted with its tenant); any name reads once
        for key, most, tenant in ((account_key, settings.login_max_failures, known.tenant if known else None),
                                  (address_key, settings.login_max_failures_per_address, None)):
            store.record_login_failure(key, most, window, settings.login_lockout_seconds, tenant=tenant)
        raise ApiError(401, "login_failed", "Name oder Passwort ist falsch.")
    store.clear_login_failures(account_key)
    return account


@router.post("/login")
def login(body: Login, request: Request, response: Response) -> dict:
    services = request.app.state.services
    tenant, roles = checked_password(request, body.name, body.password)
    hours = services.settings.staff_session_hours
    token = services.store.start_staff_session(body.name, datetime.now(timezone.utc) + timedelta(hours=hours))
    response.set_cookie(COOKIE, token, max_age=int(hours * 3600), httponly=True, samesite="strict", path="/")
    return {"token": token, "name": body.name, "tenant": tenant, "roles": sorted(roles)}


@router.post("/logout")
def logout(request: Request, response: Response) -> dict:
    token = _token(request)
    if token:
        request.app.state.services.store.end_staff_session(token)
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True}
