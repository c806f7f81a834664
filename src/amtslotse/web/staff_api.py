"""The staff workspace over HTTP: analytics (JSON, CSV, SVG charts) and the search test.

    GET /api/v1/staff/analytics?tenant=musterkreis&days=30            -> the report (analytics/report.py)
    GET /api/v1/staff/analytics.csv?tenant=musterkreis&days=30        -> the same as CSV for Excel
    GET /api/v1/staff/analytics/chart/topics.svg?tenant=musterkreis   -> an accessible SVG chart
    GET /api/v1/staff/search-test?tenant=musterkreis&q=Wer zahlt die Miete?  -> what a citizen would get

Roles: analytics "auswertung", the search test any staff member of the tenant ("admin" may do
everything). An account of the cooperative ("*") names the tenant with `?tenant=`. Knowledge
and curated answers are in web/staff_knowledge.py (included in this router).
"""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from amtslotse.analytics import CHARTS, Period, build_report, render_chart, report_csv
from amtslotse.analytics.report import MAX_DAYS
from amtslotse.ask.conversation import PUBLIC_FIELDS
from amtslotse.services import Services
from amtslotse.tenants import TenantConfigError
from amtslotse.web.deps import AnalyticsTenant, ServicesDep, StaffTenant, tenant_inbox
from amtslotse.web.errors import ApiError
from amtslotse.web.staff_gaps import router as gaps_router
from amtslotse.web.staff_knowledge import router as knowledge_router
from amtslotse.web.staff_schemas import AnalyticsReport, SearchTest

router = APIRouter(prefix="/api/v1/staff", tags=["Arbeitsbereich (Mitarbeitende)"])

INBOX_PAGE = 500
MAX_QUESTION_CHARS = 2000
NO_STORE = {"Cache-Control": "no-store"}


# --- analytics -------------------------------------------------------------------------------


def _report(services: Services, tenant: str, days: int) -> dict:
    if not 1 <= days <= MAX_DAYS:
        raise ApiError(422, "invalid_request", f"Der Zeitraum (days) muss zwischen 1 und {MAX_DAYS} Tagen liegen.")
    try:
        config = services.tenant(tenant)
        minutes = config.analytics()
    except TenantConfigError as error:
        raise ApiError(422, "invalid_tenant_config", f"Die Einstellungen des Jobcenters sind fehlerhaft: {error}") from None
    period = Period.last_days(days, datetime.now(timezone.utc))
    store = services.store
    turns = store.turns_between(tenant, period.start, period.end)
    items, offset = [], 0
    while page := store.inbox_items(tenant, received_after=period.start, received_before=period.end,
                                    limit=INBOX_PAGE, offset=offset):
        items += page
        offset += INBOX_PAGE
    report = build_report(turns, items, period, minutes, tenant_inbox(services, tenant)[0].label)
    return {"tenant": tenant, "tenant_name": config.name} | report


@router.get("/analytics", summary="Auswertung: Fragen, Anteile, Rückmeldungen, Lücken, Posteingang, eingesparte Zeit")
async def get_analytics(services: ServicesDep, tenant: AnalyticsTenant, days: int = 30) -> AnalyticsReport:
    report = await run_in_threadpool(_report, services, tenant, days)
    return AnalyticsReport.model_validate(report)


@router.get("/analytics.csv", summary="Auswertung als CSV (Excel)", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def get_analytics_csv(services: ServicesDep, tenant: AnalyticsTenant, days: int = 30) -> Response:
    report = await run_in_threadpool(_report, services, tenant, days)
    filename = f"amtslotse-auswertung-{tenant}-{report['period']['from']}-{report['period']['to']}.csv"
    return Response(report_csv(report, report["tenant_name"]), media_type="text/csv; charset=utf-8", headers=NO_STORE | {
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


@router.get("/analytics/chart/{name}.svg", summary="Ein Diagramm der Auswertung (SVG)", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
async def get_chart(name: str, services: ServicesDep, tenant: AnalyticsTenant, days: int = 30) -> Response:
    if name not in CHARTS:
        raise ApiError(404, "not_found", f"Dieses Diagramm gibt es nicht; möglich sind: {', '.join(CHARTS)}.")
    report = await run_in_threadpool(_report, services, tenant, days)
    return Response(render_chart(name, report), media_type="image/svg+xml", headers=NO_STORE | {
        # Opened on its own, the image may do nothing: no scripts, no loads.
        "Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff",
    })


# --- search test -----------------------------------------------------------------------------


@router.get("/search-test", summary="Suchtest: was eine Bürgerin oder ein Bürger als Antwort bekäme")
async def get_search_test(services: ServicesDep, tenant: StaffTenant,
                          q: str = Query(default="", max_length=MAX_QUESTION_CHARS), simple_language: bool = False) -> SearchTest:
    if not q.strip():
        raise ApiError(422, "empty_question", "Bitte eine Frage eingeben.")
    # As a follow-up turn (no AI notice in front) and without storing a turn: a test must
    # not count as a citizen's question in the analytics.
    answer = await run_in_threadpool(services.asker.ask, q, tenant, first_turn=False, simple=simple_language)
    data = answer.to_dict()
    return SearchTest.model_validate({k: data[k] for k in PUBLIC_FIELDS} | {
        "passage_ids": answer.passage_ids, "redacted_question": answer.redacted_question, "reasons": answer.reasons,
        "chosen": answer.chosen, "candidates": answer.candidates, "curated_candidates": answer.curated_candidates,
    })


router.include_router(knowledge_router)  # documents and curated answers (web/staff_knowledge.py)
router.include_router(gaps_router)  # open questions and proposed answers (web/staff_gaps.py)
