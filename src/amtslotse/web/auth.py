"""Staff login: a Bearer token (API clients) or the same token in an HttpOnly cookie (staff UI).

    POST /api/v1/staff/login {"name": "...", "password": "..."} -> {"token": "...", "tenant": ..., "roles": [...]}

Accounts are made with `amtslotse staff add`. The login check of every staff endpoint is
`StaffDep` (web/deps.py).

Login is throttled per account and per client address, with the counts in the store (all
workers see them): after AMTSLOTSE_LOGIN_MAX_FAILURES failures of an account (or
AMTSLOTSE_LOGIN_MAX_FAILURES_PER_ADDRESS from one address) within
AMTSLOTSE_LOGIN_FAILURE_WINDOW_MINUTES, every try is 429 with Retry-After until the lockout
ends; it doubles with each further failure. A locked try checks no password.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from amtslotse.services import Services
from amtslotse.web.deps import COOKIE, ServicesDep, session_token
from amtslotse.web.errors import ApiError
from amtslotse.web.limits import client_address, hashed, too_many
from amtslotse.web.schemas import Ok
from amtslotse.web.staff_schemas import LoginOut

router = APIRouter(prefix="/api/v1/staff", tags=["Mitarbeitende"])


class Login(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


def checked_password(services: Services, request: Request, name: str, password: str) -> tuple[str, frozenset[str]]:
    """(tenant, roles) of the account if the password is right; else 401, counted for the
    account and the address (429 with Retry-After while either is locked; a locked try checks
    no password). Login and the password change both go through here."""
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
def login(body: Login, request: Request, response: Response, services: ServicesDep) -> LoginOut:
    tenant, roles = checked_password(services, request, body.name, body.password)
    hours = services.settings.staff_session_hours
    token = services.store.start_staff_session(body.name, datetime.now(timezone.utc) + timedelta(hours=hours))
    response.set_cookie(COOKIE, token, max_age=int(hours * 3600), httponly=True, samesite="strict", path="/")
    return LoginOut(token=token, name=body.name, tenant=tenant, roles=sorted(roles))


@router.post("/logout")
def logout(request: Request, response: Response, services: ServicesDep) -> Ok:
    token = session_token(request)
    if token:
        services.store.end_staff_session(token)
    response.delete_cookie(COOKIE, path="/")
    return Ok()
