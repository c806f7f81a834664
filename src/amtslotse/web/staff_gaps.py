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

from fastapi import APIRouter
from pydantic import BaseModel, Field

from amtslotse.analytics.gaps import DEFAULT_DAYS, open_questions, propose_answer
from amtslotse.analytics.report import MAX_DAYS
from amtslotse.web.deps import EditorTenant, ServicesDep
from amtslotse.web.errors import ApiError
from amtslotse.web.staff_schemas import Gaps, Proposal

router = APIRouter(tags=["Offene Fragen (Mitarbeitende)"])  # paths below /api/v1/staff: included by staff_api.router

MAX_QUESTION_CHARS = 2000


class ProposalIn(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)


@router.get("/gaps", summary="Offene Fragen: ohne Antwort oder mit „Daumen runter“, häufigste zuerst")
def list_gaps(services: ServicesDep, tenant: EditorTenant, days: int = DEFAULT_DAYS) -> Gaps:
    if not 1 <= days <= MAX_DAYS:
        raise ApiError(422, "invalid_request", f"Der Zeitraum (days) muss zwischen 1 und {MAX_DAYS} Tagen liegen.")
    return Gaps(tenant=tenant, days=days, items=open_questions(services.store, tenant, days))


@router.post("/gaps/proposal", summary="Vorschlag einer kuratierten Antwort für eine offene Frage (wird nicht gespeichert)")
def propose(body: ProposalIn, services: ServicesDep, tenant: EditorTenant) -> Proposal:
    if not body.question.strip():
        raise ApiError(422, "empty_question", "Bitte eine Frage angeben.")
    try:
        item = propose_answer(services, tenant, body.question)
    except ValueError as error:  # nothing left after redaction
        raise ApiError(422, "empty_question", str(error)) from None
    return Proposal.model_validate(item)
