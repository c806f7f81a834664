"""Knowledge of a tenant for the editorial staff: documents (list, upload, delete) and curated
answers (list, create, change, delete), each change in the audit log ("who changed what").

    GET    /api/v1/staff/knowledge?tenant=musterkreis          -> documents, with "review due"
    POST   /api/v1/staff/knowledge?tenant=musterkreis          multipart: file (one or more), valid_from, valid_to
    DELETE /api/v1/staff/knowledge/{source}?tenant=musterkreis[&valid_from=2026-01-01]
    GET    /api/v1/staff/knowledge/audit?tenant=musterkreis    -> changes to documents and curated answers
    GET    /api/v1/staff/curated?tenant=musterkreis            -> {"items": [...]}
    POST   /api/v1/staff/curated?tenant=musterkreis            {"question": ..., "answer": ..., ...} -> 201 item
    PUT    /api/v1/staff/curated/{id}?tenant=musterkreis       -> item
    DELETE /api/v1/staff/curated/{id}?tenant=musterkreis

Role "redaktion" (or admin). Uploads are ingested like `amtslotse ingest` (knowledge.ingest),
from a temporary folder: the store keeps the passages, not the file. A document is "review
due" when it was stored more than `review_after_days` ago.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field

from amtslotse.knowledge.curated import CURATED_SOURCE, curated_answers, new_id, save_curated_answers
from amtslotse.knowledge.law_changes import curated_review_due
from amtslotse.knowledge.ingest import ingest_paths, remove_document
from amtslotse.knowledge.loaders import SUPPORTED_SUFFIXES
from amtslotse.knowledge.vector_worker import VectorWorker
from amtslotse.services import Services
from amtslotse.models import AuditEntry
from amtslotse.web.deps import EditorTenant, ServicesDep, StaffDep, StaffUser, VectorWorkerDep


from amtslotse.web.errors import ApiError
from amtslotse.web.staff_schemas import (
    CuratedDeleted, CuratedItem, CuratedList, Deleted, DocumentOut, Documents, FileError, KnowledgeChange,
    KnowledgeChanges, Upload,
)

router = APIRouter(tags=["Wissen (Mitarbeitende)"])  # paths below /api/v1/staff: included by staff_api.router

MAX_FILENAME = 200
AUDIT_LIMIT = 200
OBJECT_TYPES = ("document", "curated")

_WRITE = threading.Lock()
"""One knowledge change at a time in this process: curated answers are read, changed and
written back as one document, and two editors must not overwrite each other's change."""


# --- documents --------------------------------------------------------------------------------


def _documents(services: Services, tenant: str) -> list[DocumentOut]:
    store = services.store
    review_days = services.settings.review_after_days
    now = datetime.now(timezone.utc)
    ingested = store.document_ingested_at(tenant)
    changed: dict[str, AuditEntry] = {}
    for entry in store.audit_entries(tenant, "document", limit=100_000):
        changed[entry.object_id] = entry  # oldest first: the last one wins
    out = []
    for d in store.documents(tenant):
        at = ingested.get((d.source, d.valid_from))
        due_at = at + timedelta(days=review_days) if at else None
        last = changed.get(d.source)
        out.append(DocumentOut(
            source=d.source, title=d.title, kind=d.kind, curated=d.source == CURATED_SOURCE,
            valid_from=_iso(d.valid_from), valid_to=_iso(d.valid_to), passages=d.passages,
            ingested_at=at.isoformat() if at else None, review_due_at=due_at.date().isoformat() if due_at else None,
            review_due=bool(due_at and due_at <= now),
            changed_by=last.actor if last else None, changed_at=last.at.isoformat() if last and last.at else None,
        ))
    return out


@router.get("/knowledge", summary="Dokumente des Jobcenters, mit fälliger Prüfung")
def list_documents(services: ServicesDep, tenant: EditorTenant) -> Documents:
    documents = _documents(services, tenant)
    return Documents(
        tenant=tenant, documents=documents, review_after_days=services.settings.review_after_days,
        review_due=[d for d in documents if d.review_due], curated_review_due=curated_review_due(services.store, tenant),
    )


@router.post("/knowledge", status_code=201, summary="Dokumente hochladen (PDF, DOCX, HTML, Markdown, Text, JSONL)")
def upload_documents(
    services: ServicesDep, user: StaffDep, tenant: EditorTenant, vectors: VectorWorkerDep,
    file: list[UploadFile] = File(...), valid_from: str = Form(default=""), valid_to: str = Form(default=""),
) -> Upload:
    start, end = _day(valid_from, "valid_from"), _day(valid_to, "valid_to")
    if start and end and end < start:
        raise ApiError(422, "invalid_request", "„Gültig bis“ liegt vor „Gültig ab“.")
    names = [_filename(f.filename) for f in file]
    if len(set(names)) != len(names):
        raise ApiError(422, "invalid_request", "Zwei Dateien haben denselben Namen.")
    with tempfile.TemporaryDirectory(prefix="amtslotse-upload-") as folder, _WRITE:
        paths = []
        for upload, filename in zip(file, names):
            path = Path(folder) / filename
            path.write_bytes(upload.file.read())
            paths.append(path)
        report = ingest_paths(paths, services.store, services.settings, tenant=tenant, valid_from=start, valid_to=end,
                              workers=0, actor=user.name)  # audited there, as "document_uploaded"
    _want_vectors(vectors, report.ingested)
    failed = {path.name: message for path, message in report.failed}
    if failed and len(failed) == len(names):
        raise ApiError(422, "upload_failed", "; ".join(f"{f}: {m}" for f, m in failed.items()))
    return Upload(
        ingested=report.ingested, unchanged=report.unchanged, passages=report.passages,
        errors=[FileError(file=f, error=m) for f, m in failed.items()],
        documents=[d for d in _documents(services, tenant) if d.source in names],
    )


@router.delete("/knowledge/{source}", summary="Ein Dokument löschen (alle Fassungen oder die ab valid_from)")
def delete_document(source: str, services: ServicesDep, user: StaffDep, tenant: EditorTenant,
                    valid_from: Optional[str] = None) -> Deleted:
    day = _day(valid_from or "", "valid_from")
    with _WRITE:
        deleted = remove_document(services.store, tenant, source, day, user.name)  # audited there
    if not deleted:
        raise ApiError(404, "not_found", f"Das Dokument „{source}“ gibt es hier nicht.")
    return Deleted(deleted=deleted)


@router.get("/knowledge/audit", summary="Wer hat wann welches Dokument oder welche kuratierte Antwort geändert")
def knowledge_audit(services: ServicesDep, tenant: EditorTenant) -> KnowledgeChanges:
    entries = [e for kind in OBJECT_TYPES for e in services.store.audit_entries(tenant, kind, limit=100_000)]
    entries.sort(key=lambda e: e.id or 0, reverse=True)
    return KnowledgeChanges(entries=[
        KnowledgeChange(at=e.at.isoformat() if e.at else None, actor=e.actor, action=e.action,
                        object_type=e.object_type, object_id=e.object_id, details=e.details)
        for e in entries[:AUDIT_LIMIT]
    ])


# --- curated answers ----------------------------------------------------------------------------


class SourceIn(BaseModel):
    citation: str = Field(min_length=1, max_length=300)
    source: Optional[str] = Field(default=None, max_length=300)
    section: Optional[str] = Field(default=None, max_length=100)
    title: Optional[str] = Field(default=None, max_length=300)
    url: Optional[str] = Field(default=None, max_length=1000, pattern=r"^https?://")


class CuratedIn(BaseModel):
    id: Optional[str] = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
    question: str = Field(min_length=3, max_length=500)
    alternatives: list[str] = Field(default_factory=list, max_length=50)
    answer: str = Field(min_length=1, max_length=8000)
    answer_simple: Optional[str] = Field(default=None, max_length=8000)
    sources: list[SourceIn] = Field(default_factory=list, max_length=20)
    topic: Optional[str] = Field(default=None, max_length=100)
    valid_from: Optional[date] = None
    valid_to: Optional[date] = None

    def item(self, ident: str) -> dict:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ApiError(422, "invalid_request", "„Gültig bis“ liegt vor „Gültig ab“.")
        if not self.question.strip() or not self.answer.strip():
            raise ApiError(422, "invalid_request", "Frage und Antwort dürfen nicht leer sein.")
        alternatives = [a.strip() for a in self.alternatives if a.strip()]
        if any(";" in a for a in alternatives):
            # Alternatives are stored joined by ";" (the passage's keywords).
            raise ApiError(422, "invalid_request", "Andere Formulierungen dürfen kein Semikolon enthalten.")
        return {
            "id": ident, "topic": (self.topic or "").strip() or None, "question": self.question.strip(),
            "alternatives": alternatives, "answer": self.answer.strip(),
            "answer_simple": (self.answer_simple or "").strip() or None,
            "sources": [s.model_dump(exclude_none=True) for s in self.sources],
            "valid_from": _iso(self.valid_from), "valid_to": _iso(self.valid_to),
        }


def _want_vectors(worker: VectorWorker | None, ingested: int) -> None:
    """New passages are searchable lexically now; the server's vector worker embeds them."""
    if ingested and worker is not None:
        worker.request()


def _save(services: Services, vectors: VectorWorker | None, tenant: str, items: list[dict], user: StaffUser,
          action: str, ident: str) -> None:
    report = save_curated_answers(services.store, services.settings, tenant, items, actor=user.name,
                                  change=(action, ident))  # audited there
    if report.failed:
        raise ApiError(422, "invalid_curated", report.failed[0][1])
    services.asker.curated_index.invalidate(tenant)  # live at once for the chat of this process
    _want_vectors(vectors, report.ingested)


@router.get("/curated", summary="Kuratierte Antworten des Jobcenters")
def list_curated(services: ServicesDep, tenant: EditorTenant) -> CuratedList:
    return CuratedList(tenant=tenant, items=curated_answers(services.store, tenant))


@router.post("/curated", status_code=201, summary="Eine kuratierte Antwort anlegen")
def create_curated(body: CuratedIn, services: ServicesDep, user: StaffDep, tenant: EditorTenant,
                   vectors: VectorWorkerDep) -> CuratedItem:
    with _WRITE:
        items = curated_answers(services.store, tenant)
        taken = {i["id"] for i in items}
        if body.id in taken:
            raise ApiError(409, "conflict", f"Eine kuratierte Antwort „{body.id}“ gibt es schon.")
        item = body.item(body.id or new_id(body.question, taken))
        _save(services, vectors, tenant, [*items, item], user, "curated_created", item["id"])
    return CuratedItem.model_validate(item)


@router.put("/curated/{ident}", summary="Eine kuratierte Antwort ändern")
def update_curated(ident: str, body: CuratedIn, services: ServicesDep, user: StaffDep, tenant: EditorTenant,
                   vectors: VectorWorkerDep) -> CuratedItem:
    with _WRITE:
        items = curated_answers(services.store, tenant)
        index = _index(items, ident)
        item = body.item(ident)
        _save(services, vectors, tenant, items[:index] + [item] + items[index + 1:], user, "curated_updated", ident)
    return CuratedItem.model_validate(item)


@router.delete("/curated/{ident}", summary="Eine kuratierte Antwort löschen")
def delete_curated(ident: str, services: ServicesDep, user: StaffDep, tenant: EditorTenant,
                   vectors: VectorWorkerDep) -> CuratedDeleted:
    with _WRITE:
        items = curated_answers(services.store, tenant)
        index = _index(items, ident)
        _save(services, vectors, tenant, items[:index] + items[index + 1:], user, "curated_deleted", ident)
    return CuratedDeleted(deleted=ident)


# --- helpers ----------------------------------------------------------------------------------


def _index(items: list[dict], ident: str) -> int:
    for n, item in enumerate(items):
        if item["id"] == ident:
            return n
    raise ApiError(404, "not_found", f"Die kuratierte Antwort „{ident}“ gibt es nicht.")


def _filename(raw: str | None) -> str:
    """The file's own name (a browser may send a path); it becomes the document's source."""
    name = Path((raw or "").replace("\\", "/")).name.strip()
    if not name or name.startswith(".") or len(name) > MAX_FILENAME or any(ord(c) < 32 for c in name):
        raise ApiError(422, "invalid_filename", "Der Dateiname ist ungültig.")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        allowed = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise ApiError(415, "unsupported_type", f"Dateiformat „{suffix or 'ohne Endung'}“ wird nicht unterstützt (möglich: {allowed}).")
    return name


def _day(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(422, "invalid_date", f"{field}: bitte ein Datum als JJJJ-MM-TT angeben.") from None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
