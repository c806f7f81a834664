"""Response models of the staff API under /api/v1/staff: login, the workspace (analytics,
search test, open questions, knowledge, curated answers), the inbox queue, governance and
accounts. The citizen API's are in web/schemas.py, with the base `Out` (unknown fields are
an error, so a shape cannot change unnoticed). Parts that the domain builds and documents
(an analytics table, a curated answer, the export of a case) stay plain objects.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import ConfigDict, Field

from amtslotse.web.schemas import AnswerFields, Out


class LoginOut(Out):
    token: str
    name: str
    tenant: str
    roles: list[str]


class Message(Out):
    ok: bool = True
    message: str


# --- workspace: analytics, search test, open questions ---------------------------------------------


class ReportPeriod(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    days: int
    from_: str = Field(alias="from")
    to: str


class AnalyticsReport(Out):
    """The analytics report (analytics/report.py `build_report`) of one tenant."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    tenant: str
    tenant_name: str
    period: ReportPeriod
    total_questions: int
    per_day: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    shares: dict[str, float]
    counts: dict[str, int]
    feedback: dict[str, Any]
    unanswered: list[dict[str, Any]]
    inbox: dict[str, Any]
    time_saved: dict[str, Any]


class SearchTest(AnswerFields):
    """What a citizen would get (the chat answer's fields), and how it was found."""

    passage_ids: list[int]
    redacted_question: str
    reasons: list[str]
    chosen: Optional[dict[str, Any]]
    candidates: list[dict[str, Any]]
    curated_candidates: list[dict[str, Any]]


class Gaps(Out):
    tenant: str
    days: int
    items: list[dict[str, Any]]


class Proposal(Out):
    question: str
    alternatives: list[str]
    answer: str
    sources: list[dict[str, Any]]
    source_texts: list[dict[str, Any]]
    topic: Optional[str]
    way: str
    related: list[dict[str, Any]]


# --- knowledge and curated answers ------------------------------------------------------------------


class DocumentOut(Out):
    source: str
    title: str
    kind: str
    curated: bool
    valid_from: Optional[str]
    valid_to: Optional[str]
    passages: int
    ingested_at: Optional[str]
    review_due_at: Optional[str]
    review_due: bool
    changed_by: Optional[str]
    changed_at: Optional[str]


class Documents(Out):
    tenant: str
    documents: list[DocumentOut]
    review_after_days: int
    review_due: list[DocumentOut]
    curated_review_due: list[dict[str, Any]]


class FileError(Out):
    file: str
    error: str


class Upload(Out):
    ingested: int
    unchanged: int
    passages: int
    errors: list[FileError]
    documents: list[DocumentOut]


class Deleted(Out):
    deleted: int


class KnowledgeChange(Out):
    at: Optional[str]
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]


class KnowledgeChanges(Out):
    entries: list[KnowledgeChange]


class CuratedItem(Out):
    id: str
    topic: Optional[str]
    question: str
    alternatives: list[str]
    answer: str
    answer_simple: Optional[str]
    sources: list[dict[str, Any]]
    valid_from: Optional[str]
    valid_to: Optional[str]


class CuratedList(Out):
    tenant: str
    items: list[dict[str, Any]]


class CuratedDeleted(Out):
    deleted: str


# --- inbox ----------------------------------------------------------------------------------------


class Accepted(Out):
    reference: str
    status: str


class InboxSummary(Out):
    id: Optional[int]
    reference: str
    tenant: str
    channel: str
    received_at: str
    age_hours: float
    state: str
    state_label: str
    priority: int
    priority_label: str
    flags: list[str]
    category: Optional[str]
    category_label: Optional[str]
    team: Optional[str]
    assignee: Optional[str]
    confidence: Optional[float]
    triage_status: str
    preview: str


class InboxStep(InboxSummary):
    """A message after a review step, with its (possibly changed) draft."""

    draft: Optional[dict[str, Any]]


class InboxPage(Out):
    tenant: str
    items: list[InboxSummary]
    limit: int
    offset: int


class AttachmentOut(Out):
    id: Optional[int]
    filename: str
    content_type: str
    size: int
    doc_type: str
    doc_type_label: str
    text: str


class InboxMessage(InboxSummary):
    subject: str
    sender: str
    text: str
    personal_data: list[dict[str, Any]]
    subject_personal_data: list[dict[str, Any]]
    redacted: str
    fields: dict[str, Any]
    draft: Optional[dict[str, Any]]
    attachments: list[AttachmentOut]
    delete_after: str
    first_response_at: Optional[str]
    triage_error: Optional[str]


class TrailEntry(Out):
    at: str
    actor: str
    action: str
    details: dict[str, Any]


class Trail(Out):
    entries: list[TrailEntry]


# --- governance: tenants, audit, usage, data protection ----------------------------------------------


class TenantOut(Out):
    tenant: str
    name: str
    state: str
    reason: str
    changed_at: Optional[str]
    changed_by: Optional[str]
    created_at: Optional[str]
    registered: bool
    config_file: Optional[str]
    config_error: Optional[str]
    data: dict[str, int]


class CreatedTenant(TenantOut):
    hints: list[str]


class TenantList(Out):
    tenants: list[TenantOut]


class TenantCheck(Out):
    tenant: str
    ok: bool
    problems: list[str]
    hints: list[str]
    checked_files: int


class TenantDeletion(Out):
    tenant: str
    removed: dict[str, int]
    config_file: Optional[str]
    kept_config: Optional[str]


class ChainOut(Out):
    tenant: str
    entries: int
    ok: bool
    message: str
    broken_entry: Optional[int]
    head: str


class AuditCheck(Out):
    ok: bool
    chains: list[ChainOut]


class UsageOut(Out):
    tenant: str
    tenant_name: str
    month: str
    period: dict[str, str]
    metrics: dict[str, int]
    stored: dict[str, int]
    notes: list[str]
    shares: dict[str, float]
    generated_at: str
    labels: dict[str, str]


class CooperativeUsage(Out):
    month: str
    totals: dict[str, int]
    labels: dict[str, str]
    tenants: list[UsageOut]


class CaseExport(Out):
    """Everything stored about a case (Art. 15 DSGVO); messages and conversations as
    `governance.privacy_requests.export_case` writes them."""

    tenant: str
    request: dict[str, str]
    exported_at: str
    found: dict[str, int]
    notes: list[str]
    inbox_messages: list[dict[str, Any]]
    conversations: list[dict[str, Any]]


class Erasure(Out):
    tenant: str
    request: dict[str, str]
    removed: dict[str, int]
    kept: dict[str, int]
    notes: list[str]
    erased_at: str


# --- accounts and API keys ----------------------------------------------------------------------------


class AccountOut(Out):
    name: str
    tenant: str
    roles: list[str]
    disabled: bool
    created_at: str
    sessions: int


class AccountList(Out):
    accounts: list[AccountOut]


class SessionsEnded(Out):
    ended: int


class ApiKeyOut(Out):
    id: int
    tenant: str
    name: str
    role: str
    prefix: str
    created_at: Optional[str]
    last_used_at: Optional[str]
    revoked_at: Optional[str]
    active: bool


class NewApiKey(ApiKeyOut):
    """The key with its secret: shown this once, never stored."""

    secret: str


class ApiKeyList(Out):
    api_keys: list[ApiKeyOut]
