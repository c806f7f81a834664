"""FastAPI dependencies: the one place where routers get the app's services, the logged-in
staff member and the tenant a request is for (only these functions and the app setup in
web/app.py read `app.state`).

    @router.get("/api/v1/staff/example")
    def example(services: ServicesDep, user: StaffDep, tenant: EditorTenant) -> Example: ...

`StaffDep` is the login check of every staff endpoint (Bearer token or the HttpOnly cookie of
the workspace); `StaffUser.may_act_for(tenant)` is the tenant check ("*" = the cooperative).
The role tenants (`InboxTenant`, `EditorTenant`, ...) take `?tenant=` (an account's own tenant
when it is left out) and check the account's role for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Optional

from fastapi import Depends, FastAPI, Request

from amtslotse.categories import DEFAULT_CONFIG, InboxConfig
from amtslotse.errors import UserError
from amtslotse.governance.tenants import TenantDisabled, require_active
from amtslotse.inbox.processing import Worker
from amtslotse.knowledge.vector_worker import VectorWorker
from amtslotse.services import Services
from amtslotse.tenants import TENANT_NAME, TenantConfig
from amtslotse.web.errors import ApiError

COOKIE = "amtslotse_staff"
"""The staff session cookie (the same token as the Bearer token of POST /api/v1/staff/login)."""


# --- the app's services -----------------------------------------------------------------------


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_vector_worker(request: Request) -> VectorWorker | None:
    """The server's vector worker (None without an embedder or outside the server's lifespan)."""
    return getattr(request.app.state, "vector_worker", None)


VectorWorkerDep = Annotated[Optional[VectorWorker], Depends(get_vector_worker)]


def inbox_worker(app: FastAPI) -> Worker:
    """One background inbox processor per app (made with the first intake or at the start)."""
    worker = getattr(app.state, "inbox_worker", None)
    if worker is None:
        services = app.state.services
        worker = app.state.inbox_worker = Worker(services.store, services.settings, services.asker)
    return worker


def tenant_inbox(services: Services, tenant: str | None) -> tuple[InboxConfig, str | None]:
    """A tenant's inbox configuration (`TenantConfig.inbox()`, the only way to it) and, if it is
    broken, the built-in one with the error: the queue stays readable; processing reports the
    error on each message and `amtslotse check` names file and line."""
    if tenant is None:
        return DEFAULT_CONFIG, None
    try:
        return services.tenant(tenant).inbox(), None
    except UserError as problem:
        return DEFAULT_CONFIG, str(problem)


def get_inbox_worker(request: Request) -> Worker:
    return inbox_worker(request.app)


# --- the citizen's tenant -----------------------------------------------------------------------


def public_tenant(services: Services, tenant: str | None) -> TenantConfig:
    """The tenant a public request is for (the default tenant when none is named): 422 for an
    invalid name, 404 if it is not set up here, 403 while it is disabled."""
    name = tenant or services.settings.default_tenant
    if not TENANT_NAME.match(name):
        raise ApiError(422, "invalid_tenant", f"„{name}“ ist kein gültiger Mandant.")
    config = services.tenant(name)
    if not config.configured and name not in services.store.tenants():
        raise ApiError(404, "tenant_not_found", f"Das Jobcenter „{name}“ ist hier nicht eingerichtet.")
    try:
        require_active(services.store, name, config.name)  # a disabled tenant answers no one (governance/tenants.py)
    except TenantDisabled as error:
        raise ApiError(403, "tenant_disabled", str(error)) from None
    return config


def public_tenant_query(services: ServicesDep, tenant: Optional[str] = None) -> TenantConfig:
    return public_tenant(services, tenant)


PublicTenantDep = Annotated[TenantConfig, Depends(public_tenant_query)]


# --- staff --------------------------------------------------------------------------------------


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


def session_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def require_staff(request: Request, services: ServicesDep) -> StaffUser:
    token = session_token(request)
    session = services.store.staff_session(token, datetime.now(timezone.utc)) if token else None
    if session is None:
        raise ApiError(401, "unauthorized", "Bitte melden Sie sich an.")
    name, tenant, roles = session
    return StaffUser(name, tenant, roles)


StaffDep = Annotated[StaffUser, Depends(require_staff)]


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


def tenant_with_role(role: str | None) -> Callable[..., str]:
    """The dependency for `?tenant=` checked by `staff_tenant` (with `role`, or any staff role)."""

    def dependency(user: StaffDep, tenant: Optional[str] = None) -> str:
        return staff_tenant(user, tenant, role)

    return dependency


StaffTenant = Annotated[str, Depends(tenant_with_role(None))]
"""Any staff member of the tenant (the search test)."""
InboxTenant = Annotated[str, Depends(tenant_with_role("sachbearbeitung"))]
EditorTenant = Annotated[str, Depends(tenant_with_role("redaktion"))]
AnalyticsTenant = Annotated[str, Depends(tenant_with_role("auswertung"))]
AdminTenant = Annotated[str, Depends(tenant_with_role("admin"))]
