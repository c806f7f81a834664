"""Open questions of the citizens for the editorial staff, and a proposed answer for one of them
(analytics/gaps.py). Approving is the curated-answer editor's POST /api/v1/staff/curated: it is
audited there and live at once.

    GET  /api/v1/staff/gaps?tenant=musterkreis&days=30
         -> {"tenant", "days", "items": [{question, count, last_asked, outcomes: {unsure, down}}]}
    POST /api/v1/staff/gaps/proposal?tenant=musterkreis   {"question": ...}
         -> {question, alternatives, answer, sources: [{citation, source, section, url}], topic, way, related}

Role "redaktion" (or admin), as for the curated answers; an account of the cooperative ("*")
names the tenant with `?tenant=`. Questions are the stored, redacted wordings.
"""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from amtslotse.analytics.gaps import DEFAULT_DAYS, open_questions, propose_answer
from amtslotse.analytics.report import MAX_DAYS
from amtslotse.web.auth import StaffUser, require_staff, staff_tenant
from amtslotse.web.errors import ApiError

router = APIRouter(tags=["Offene Fragen (Mitarbeitende)"])  # paths below /api/v1/staff: included by staff_api.router

ROLE = "redaktion"
MAX_QUESTION_CHARS = 2000
NO_STORE = {"Cache-Control": "no-store"}


class ProposalIn(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)


@router.get("/gaps", summary="Offene Fragen: ohne Antwort oder mit „Daumen runter“, häufigste zuerst")
def list_gaps(request: Request, user: StaffUser = Depends(require_staff), tenant: Optional[str] = None,
              days: int = DEFAULT_DAYS) -> Response:
    name = staff_tenant(user, tenant, ROLE)
    if not 1 <= days <= MAX_DAYS:
        raise ApiError(422, "invalid_request", f"Der Zeitraum (days) muss zwischen 1 und {MAX_DAYS} Tagen liegen.")
    items = open_questions(request.app.state.services.store, name, days)
    return JSONResponse({"tenant": name, "days": days, "items": items}, headers=NO_STORE)


@router.post("/gaps/proposal", summary="Vorschlag einer kuratierten Antwort für eine offene Frage (wird nicht gespeichert)")
def propose(body: ProposalIn, request: Request, user: StaffUser = Depends(require_staff),
            tenant: Optional[str] = None) -> Response:
    name = staff_tenant(user, tenant, ROLE)
    if not body.question.strip():
        raise ApiError(422, "empty_question", "Bitte eine Frage angeben.")
    try:
        item = propose_answer(request.app.state.services, name, body.question)
    except ValueError as error:  # nothing left after redaction
        raise ApiError(422, "empty_question", str(error)) from None
    return JSONResponse(item, headers=NO_STORE)
