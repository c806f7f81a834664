"""Curated answers of a tenant as editable items: read back from the stored passages of the
tenant's `curated.jsonl` document, written as that JSONL file and ingested again.

Example (it needs a store and models, so it is not run as a doctest)::

    items = curated_answers(store, "musterkreis")
    items[0]["id"], items[0]["question"]
    # -> ('regelbedarf-2026-alleinstehend', 'Wie hoch ist der Regelbedarf 2026 für eine alleinstehende Person?')
    save_curated_answers(store, settings, "musterkreis", items)   # edit = re-ingest

The store is the one place the answers live (no second copy on disk that could disagree):
loaders._curated_record maps a JSONL line to a passage (answer -> text, question -> heading,
alternatives -> keywords, the rest -> meta and validity); `from_passages` maps it back.
"""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
import uuid
from datetime import date
from pathlib import Path
from typing import Iterable

from amtslotse.knowledge.ingest import IngestReport, ingest_paths
from amtslotse.models import AuditEntry, Passage
from amtslotse.settings import Settings

CURATED_SOURCE = "curated.jsonl"
"""The source name of a tenant's curated answers (as in the starter pack)."""

FIELDS = ("id", "topic", "question", "alternatives", "answer", "answer_simple", "sources", "valid_from", "valid_to",
          "translations", "frequent")


def from_passages(passages: Iterable[Passage]) -> list[dict]:
    """The curated answers among a document's passages, in order; a long answer the splitter
    cut into several passages (same id) is joined again."""
    items: dict[str, dict] = {}
    for n, p in enumerate(passages, start=1):
        if p.meta.get("kind") != "curated":
            continue
        key = p.external_id or f"antwort-{n}"
        if key in items:
            items[key]["answer"] += "\n\n" + p.text
            continue
        items[key] = {
            "id": key, "topic": p.meta.get("topic"), "question": p.heading or p.title,
            "alternatives": [a.strip() for a in p.keywords.split(";") if a.strip()], "answer": p.text,
            "answer_simple": p.meta.get("answer_simple"), "sources": list(p.meta.get("sources", [])),
            **{k: p.meta[k] for k in ("translations", "frequent") if p.meta.get(k)},
            "valid_from": _iso(p.valid_from), "valid_to": _iso(p.valid_to),
        }
    return list(items.values())


def curated_answers(store, tenant: str) -> list[dict]:
    return from_passages(store.document_passages(tenant, CURATED_SOURCE))


def new_id(question: str, taken: Iterable[str]) -> str:
    """A readable, unique id from the question: "Wer zahlt die Miete?" -> "wer-zahlt-die-miete-3f2a"."""
    plain = unicodedata.normalize("NFKD", question.casefold().replace("ß", "ss")).encode("ascii", "ignore").decode()
    slug = "-".join(re.findall(r"[a-z0-9]+", plain))[:48].strip("-") or "antwort"
    taken = set(taken)
    while (candidate := f"{slug}-{uuid.uuid4().hex[:4]}") in taken:
        pass
    return candidate


def to_jsonl(items: Iterable[dict]) -> str:
    lines = []
    for item in items:
        row = {k: item.get(k) for k in FIELDS if item.get(k) not in (None, "", [])}
        lines.append(json.dumps(row, ensure_ascii=False, default=_iso))
    return "\n".join(lines) + "\n"


def save_curated_answers(
    store, settings: Settings, tenant: str, items: list[dict], *, actor: str = "system",
    change: tuple[str, str] | None = None,
) -> IngestReport:
    """Store `items` as the tenant's curated answers (all of them: the document is replaced).
    The report's `failed` holds the loader's German message if an item is invalid; then
    nothing changed. No items: the document is deleted. `change` (action, answer id), e.g.
    ("curated_updated", "nebenkosten"), is audited as done by `actor` once the save succeeded."""
    if not items:
        store.delete_document(tenant, CURATED_SOURCE)
        report = IngestReport()
    else:
        with tempfile.TemporaryDirectory(prefix="amtslotse-curated-") as folder:
            path = Path(folder) / CURATED_SOURCE
            path.write_text(to_jsonl(items), encoding="utf-8")
            report = ingest_paths([path], store, settings, tenant=tenant, workers=0, actor=None)
    if change is not None and not report.failed:
        store.append_audit(AuditEntry(tenant, actor, change[0], "curated", change[1]))
    return report


def _iso(value: date | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value
