"""Governance over HTTP: tenants' lifecycle, audit verification, usage reports and data-protection
requests for the staff workspace, and each tenant's public accessibility statement.

    GET    /api/v1/staff/admin/tenants                         -> {"tenants": [...]}          (cooperative admin)
    POST   /api/v1/staff/admin/tenants   {"tenant", "name", "prefix"} -> 201 the tenant       (cooperative admin)
    GET    /api/v1/staff/admin/tenants/{tenant}[/check]        -> the tenant / its configuration checked
    POST   /api/v1/staff/admin/tenants/{tenant}/disable {"reason"} | /enable
    DELETE /api/v1/staff/admin/tenants/{tenant}?confirm={tenant} -> what was removed
    GET    /api/v1/staff/admin/audit/verify[?tenant=musterkreis] -> {"ok", "chains": [...]}
    GET    /api/v1/staff/admin/usage?month=2026-12[&tenant=musterkreis]&format=json|csv|html
    POST   /api/v1/staff/privacy/export?tenant=musterkreis {"reference"} | {"conversation_id"} -> everything (Art. 15)
    POST   /api/v1/staff/privacy/erase?tenant=musterkreis  {"reference", "confirm": true}     -> what was removed (Art. 17)
    GET    /api/v1/staff/privacy/records?tenant=musterkreis&format=md|html                  -> Art. 30 record (draft)
    GET    /tenants/{tenant}/barrierefreiheit                 -> the accessibility statement (public, German)

Roles: the tenants' lifecycle belongs to the cooperative's administration (an account of
tenant "*" with role admin); a tenant's own admin verifies its audit chain and handles its
data-protection requests; usage needs "auswertung" (or admin) of the tenant, all tenants at
once the cooperative. Each route only translates HTTP to amtslotse.governance and back: the
domain audits every write.
"""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from amtslotse.errors import InputError
from amtslotse.governance import audit, privacy_requests, records, tenants, usage
from amtslotse.tenants import TENANT_NAME, TenantConfigError
from amtslotse.web.deps import AdminTenant, ServicesDep, StaffDep, StaffUser, staff_tenant
from amtslotse.web.errors import ApiError
from amtslotse.web.staff_schemas import (
    AuditCheck,
    CaseExport,
    CooperativeUsage,
    CreatedTenant,
    Erasure,
    TenantCheck,
    TenantDeletion,
    TenantList,
    TenantOut,
    UsageOut,
)
from amtslotse.web.widget import SECURITY_HEADERS

router = APIRouter(prefix="/api/v1/staff", tags=["Verwaltung und Datenschutz (Mitarbeitende)"])
public_router = APIRouter(include_in_schema=False)

ADMIN = "admin"
NO_STORE = {"Cache-Control": "no-store"}


def _cooperative(user: StaffUser) -> None:
    if user.tenant != audit.COOPERATIVE or ADMIN not in user.roles:
        raise ApiError(403, "forbidden", "Das darf nur die Administration des Verbunds.")


def _call(function, *args, **kwargs):
    """Run a governance function; its German error becomes the HTTP error."""
    try:
        return function(*args, **kwargs)
    except tenants.TenantError as error:
        raise ApiError(error.status, "tenant_error" if error.status != 404 else "not_found", str(error)) from None
    except privacy_requests.CaseNotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    except TenantConfigError as error:
        raise ApiError(422, "invalid_tenant_config", str(error)) from None
    except InputError as error:
        raise ApiError(422, "invalid_request", str(error)) from None


# --- tenants --------------------------------------------------------------------------------------


class TenantIn(BaseModel):
    tenant: str = Field(min_length=2, max_length=63, pattern=r"^[a-z0-9][a-z0-9_-]{1,62}$")
    name: Optional[str] = Field(default=None, max_length=200)
    prefix: Optional[str] = Field(default=None, max_length=6)
    force: bool = False


class DisableIn(BaseModel):
    reason: str = Field(default="", max_length=500)


@router.get("/admin/tenants", summary="Alle Mandanten mit Status")
def list_tenants(services: ServicesDep, user: StaffDep) -> TenantList:
    _cooperative(user)
    return TenantList(tenants=[TenantOut.model_validate(i.to_dict())
                               for i in tenants.list_tenants(services.store, services.settings)])


@router.post("/admin/tenants", status_code=201, summary="Einen Mandanten anlegen (Datei aus der Vorlage)")
def create_tenant(body: TenantIn, services: ServicesDep, user: StaffDep) -> CreatedTenant:
    _cooperative(user)
    info = _call(tenants.create_tenant, services.store, services.settings, body.tenant, name=body.name,
                 prefix=body.prefix, force=body.force, actor=user.name)
    hints = tenants.check_tenant(services.store, services.settings, body.tenant).hints
    return CreatedTenant.model_validate(info.to_dict() | {"hints": hints})


@router.get("/admin/tenants/{tenant}", summary="Einen Mandanten zeigen: Status, Datei, gespeicherte Daten")
def show_tenant(tenant: str, services: ServicesDep, user: StaffDep) -> TenantOut:
    _cooperative(user)
    return TenantOut.model_validate(_call(tenants.show_tenant, services.store, services.settings, tenant).to_dict())


@router.get("/admin/tenants/{tenant}/check", summary="Die Einstellungen eines Mandanten prüfen")
def check_tenant(tenant: str, services: ServicesDep, user: StaffDep) -> TenantCheck:
    _cooperative(user)
    return TenantCheck.model_validate(_call(tenants.check_tenant, services.store, services.settings, tenant).to_dict())


@router.post("/admin/tenants/{tenant}/disable", summary="Öffentliche Antworten abschalten (Chat: 403)")
def disable_tenant(tenant: str, body: DisableIn, services: ServicesDep, user: StaffDep) -> TenantOut:
    _cooperative(user)
    _call(tenants.disable_tenant, services.store, tenant, actor=user.name, reason=body.reason)
    return TenantOut.model_validate(tenants.show_tenant(services.store, services.settings, tenant).to_dict())


@router.post("/admin/tenants/{tenant}/enable", summary="Einen abgeschalteten Mandanten wieder einschalten")
def enable_tenant(tenant: str, services: ServicesDep, user: StaffDep) -> TenantOut:
    _cooperative(user)
    _call(tenants.enable_tenant, services.store, tenant, actor=user.name)
    return TenantOut.model_validate(tenants.show_tenant(services.store, services.settings, tenant).to_dict())


@router.delete("/admin/tenants/{tenant}", summary="ALLE Daten eines Mandanten löschen (confirm=<Mandant>)")
def delete_tenant(tenant: str, services: ServicesDep, user: StaffDep, confirm: str = "") -> TenantDeletion:
    _cooperative(user)
    if confirm != tenant:
        raise ApiError(422, "confirmation_required",
                       f"Zur Bestätigung bitte den Namen des Mandanten angeben (?confirm={tenant}).")
    report = _call(tenants.delete_tenant, services.store, services.settings, tenant, actor=user.name)
    return TenantDeletion.model_validate(report.to_dict())


# --- audit ----------------------------------------------------------------------------------------


@router.get("/admin/audit/verify", summary="Das Prüfprotokoll prüfen: geänderte oder gelöschte Einträge finden")
async def verify_audit(services: ServicesDep, user: StaffDep, tenant: Optional[str] = None) -> AuditCheck:
    if tenant == audit.COOPERATIVE or (tenant is None and user.tenant == audit.COOPERATIVE):
        _cooperative(user)
    else:
        tenant = staff_tenant(user, tenant, ADMIN)
    reports = await run_in_threadpool(audit.verify_all, services.store, tenant)
    return AuditCheck.model_validate({"ok": all(r.ok for r in reports), "chains": [r.to_dict() for r in reports]})


# --- usage ----------------------------------------------------------------------------------------


@router.get("/admin/usage", summary="Nutzung je Jobcenter und Monat (JSON, CSV, HTML) für die Kostenteilung",
            response_model=UsageOut | CooperativeUsage,
            responses={200: {"content": {"text/csv": {}, "text/html": {}}}})
async def get_usage(services: ServicesDep, user: StaffDep, tenant: Optional[str] = None,
                    month: Optional[str] = None, format: Literal["json", "csv", "html"] = "json") -> Response:
    if tenant is None:
        _cooperative(user)
        report = await run_in_threadpool(_call, usage.cooperative_report, services.store, services.settings, month)
        name = "alle"
    else:
        name = staff_tenant(user, tenant, "auswertung")
        report = await run_in_threadpool(_call, usage.usage_report, services.store, services.settings, name, month)
    if format == "csv":
        return Response(report.csv(), media_type="text/csv; charset=utf-8", headers=NO_STORE | {
            "Content-Disposition": f'attachment; filename="amtslotse-nutzung-{name}-{report.month}.csv"'})
    if format == "html":
        return HTMLResponse(report.html(), headers=NO_STORE | SECURITY_HEADERS)
    model = UsageOut if tenant is not None else CooperativeUsage
    return JSONResponse(model.model_validate(report.to_dict()).model_dump(mode="json"), headers=NO_STORE)


# --- data protection ------------------------------------------------------------------------------


class CaseIn(BaseModel):
    reference: Optional[str] = Field(default=None, min_length=1, max_length=64)
    conversation_id: Optional[str] = Field(default=None, min_length=8, max_length=64)
    attachments: bool = True
    confirm: bool = False


@router.post("/privacy/export", summary="Auskunft (Art. 15 DSGVO): alles zu einem Aktenzeichen oder Gespräch")
async def export_case(body: CaseIn, services: ServicesDep, user: StaffDep, tenant: AdminTenant) -> CaseExport:
    data = await run_in_threadpool(
        _call, privacy_requests.export_case, services.store, tenant, actor=user.name,
        reference=body.reference, conversation_id=body.conversation_id, attachments=body.attachments,
    )
    return CaseExport.model_validate(data)


@router.post("/privacy/erase", summary="Löschung (Art. 17 DSGVO): Nachrichten und Gespräche eines Falls löschen")
def erase_case(body: CaseIn, services: ServicesDep, user: StaffDep, tenant: AdminTenant) -> Erasure:
    if not body.confirm:
        raise ApiError(422, "confirmation_required", "Bitte die Löschung bestätigen (\"confirm\": true).")
    report = _call(privacy_requests.erase_case, services.store, tenant, actor=user.name,
                   reference=body.reference, conversation_id=body.conversation_id)
    return Erasure.model_validate(report.to_dict())


@router.get("/privacy/records", summary="Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO), Entwurf",
            response_class=Response, responses={200: {"content": {"text/markdown": {}, "text/html": {}}}})
def processing_record(services: ServicesDep, tenant: AdminTenant, format: Literal["md", "html"] = "md") -> Response:
    doc = records.processing_record(_call(services.tenant, tenant), services.settings)
    if format == "html":
        return HTMLResponse(doc.html(), headers=NO_STORE | SECURITY_HEADERS)
    return Response(doc.markdown(), media_type="text/markdown; charset=utf-8", headers=NO_STORE)


# --- public ---------------------------------------------------------------------------------------


@public_router.get("/tenants/{tenant}/barrierefreiheit", response_class=HTMLResponse)
def accessibility_statement(tenant: str, request: Request, services: ServicesDep) -> Response:
    """The tenant's accessibility statement (BITV 2.0), linked from its chat and its web site."""
    try:
        config = services.tenant(tenant) if TENANT_NAME.match(tenant) else None
    except TenantConfigError:
        config = None
    if config is None or (not config.configured and tenant not in services.store.tenants()):
        return HTMLResponse('<!doctype html>\n<html lang="de"><head><meta charset="utf-8"><title>Nicht gefunden</title>'
                            "</head><body><main><h1>Nicht gefunden</h1><p>Dieses Jobcenter ist hier nicht eingerichtet."
                            "</p></main></body></html>\n", status_code=404, headers=SECURITY_HEADERS)
    chat_url = str(request.url_for("accessibility_statement", tenant=tenant)).replace(
        f"/tenants/{tenant}/barrierefreiheit", f"/chat/{tenant}")
    doc = records.accessibility_statement(config, services.settings, chat_url=chat_url)
    return HTMLResponse(doc.html(), headers=SECURITY_HEADERS | {"Cache-Control": "public, max-age=3600"})
