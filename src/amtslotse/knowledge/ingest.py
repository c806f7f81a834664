"""Ingest flow: files -> loader -> Document -> splitter -> Passages -> store (one transaction
per document), then vectors for what is new (cached by text hash).

Loading, splitting and analysing are pure functions of a file: for many files they run in a
pool of worker processes, while this process stays the store's one writer and stores the
documents in file order, one transaction each.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from amtslotse.knowledge.loaders import LoaderError, iter_source_files, load_file
from amtslotse.knowledge.splitter import split_document
from amtslotse.models import Analyzed, AuditEntry, Document, Passage
from amtslotse.search import keywords, tsv_data
from amtslotse.search.embedders import Embedder, cpu_budget
from amtslotse.search.indexing import analyze_passage, index_fingerprint
from amtslotse.settings import Settings
from amtslotse.store.protocol import Store

PARALLEL_MIN_FILES = 64
"""Fewer files are prepared in this process: starting worker processes takes about a second."""

MAX_WORKERS = 4
"""The one writer stores a corpus about five times faster than one worker prepares it."""

_BATCH = 8
"""Files per worker task."""


@dataclass
class IngestReport:
    ingested: int = 0
    unchanged: int = 0
    passages: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "ingested": self.ingested,
            "unchanged": self.unchanged,
            "failed": len(self.failed),
            "passages": self.passages,
            "errors": [{"file": str(p), "error": m} for p, m in self.failed],
        }


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    settings: Settings,
    *,
    tenant: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
    on_file: Callable[[Path], None] | None = None,
    workers: int | None = None,
    actor: str | None = "system",
) -> IngestReport:
    """Ingest files and folders; `workers` processes prepare the files (default: one per CPU,
    at most MAX_WORKERS, when there are at least PARALLEL_MIN_FILES files, else none).
    Each stored document version is audited as "document_uploaded" by `actor` (a staff name,
    "cli:<user>", "system"), whatever the entry point; None: the caller audits its own,
    higher-level change (curated answers)."""
    report = IngestReport()
    job = _Job(
        tenant, valid_from, valid_to, index_fingerprint(tenant, settings),
        settings.law_split_chars, settings.page_split_chars, tsv_data.folders(settings, "keywords"),
    )
    files = list(iter_source_files(list(paths)))
    if workers is None:
        workers = min(cpu_budget(), MAX_WORKERS) if len(files) >= PARALLEL_MIN_FILES else 0
    for path, outcome in _prepared(job, files, store, workers):
        if isinstance(outcome, str):
            report.failed.append((path, outcome))
        elif outcome is None:
            report.unchanged += 1
        else:
            document, passages, analyzed = outcome
            # Asked again: the file may have been stored meanwhile (named twice), or carry
            # another source name than its file name.
            if store.document_hash(tenant, document.source, valid_from) == document.content_hash:
                report.unchanged += 1
            else:
                store.replace_document(document, passages, analyzed)
                report.ingested += 1
                report.passages += len(passages)
                if actor is not None:
                    _audit_upload(store, document, len(passages), actor)
        if on_file:
            on_file(path)
    return report


def _audit_upload(store: Store, document: Document, passages: int, actor: str) -> None:
    day = lambda value: value.isoformat() if value else None  # noqa: E731
    store.append_audit(AuditEntry(
        document.tenant, actor, "document_uploaded", "document", document.source,
        {"valid_from": day(document.valid_from), "valid_to": day(document.valid_to), "passages": passages},
    ))


def remove_document(store: Store, tenant: str, source: str, valid_from: date | None, actor: str) -> int:
    """Delete a tenant's document (all versions, or the one valid from `valid_from`), audited
    as "document_deleted" when there was one; returns the versions deleted."""
    deleted = store.delete_document(tenant, source, valid_from)
    if deleted:
        store.append_audit(AuditEntry(
            tenant, actor, "document_deleted", "document", source,
            {"valid_from": valid_from.isoformat() if valid_from else None, "versions": deleted},
        ))
    return deleted


def embed_missing(
    store: Store, embedder: Embedder, batch_size: int, on_batch: Callable[[int], None] | None = None
) -> int:
    """Compute vectors for passages that have none yet; returns how many were computed."""
    done = 0
    while batch := store.missing_vectors(embedder.name, batch_size):
        vectors = embedder.embed_passages([text for _, text in batch])
        store.put_vectors(embedder.name, [(h, v) for (h, _), v in zip(batch, vectors)])
        done += len(batch)
        if on_batch:
            on_batch(len(batch))
    return done


# --- preparing one file: load, split, analyse (in a worker process or here) ---------------------

Prepared = tuple[Document, list[Passage], list[Analyzed]]
Outcome = Prepared | str | None  # prepared, an error message (German), or None: unchanged


@dataclass(frozen=True)
class _Job:
    """What a worker needs to prepare a file (picklable: no store, no settings object)."""

    tenant: str
    valid_from: date | None
    valid_to: date | None
    fingerprint: str
    law_split_chars: int
    page_split_chars: int
    keywords: tsv_data.Folders


def _prepare(job: _Job, path: Path, known_hash: str | None) -> Outcome:
    """Load, split and analyse one file; None if its content hash is `known_hash`."""
    try:
        document = load_file(path, tenant=job.tenant, valid_from=job.valid_from, valid_to=job.valid_to)
        document.content_hash = f"{document.content_hash[:48]}:{job.fingerprint}"
        if known_hash is not None and document.source == path.name and known_hash == document.content_hash:
            return None
        passages = split_document(
            document, law_split_chars=job.law_split_chars, page_split_chars=job.page_split_chars
        )
        if not passages:
            raise LoaderError(path, "Datei enthält keinen verwertbaren Text")
        for p in passages:
            extra = keywords.keywords_for(job.tenant, document.law, p.section, p.citation, job.keywords)
            p.keywords = "; ".join(filter(None, (p.keywords, extra)))
        analyzed = [analyze_passage(p) for p in passages]
    except LoaderError as error:
        return error.message
    except (OSError, UnicodeError, ValueError) as error:
        return f"Datei konnte nicht gelesen werden: {error}"
    document.text, document.records = "", []  # stored as passages: no need to carry it back
    return document, passages, analyzed


def _prepare_in_worker(job: _Job, paths: list[Path], known: list[str | None]) -> list:
    return [_pack(_prepare(job, path, k)) for path, k in zip(paths, known)]


_PASSAGE_FIELDS = tuple(f.name for f in fields(Passage))


def _pack(outcome: Outcome):
    """Passages as tuples and arrays as bytes: pickled 7x, unpickled 8x faster than objects."""
    if not isinstance(outcome, tuple):
        return outcome
    document, passages, analyzed = outcome
    rows = [tuple(getattr(p, name) for name in _PASSAGE_FIELDS) for p in passages]
    return document, rows, [(a.term_ids.tobytes(), a.term_freqs.tobytes()) for a in analyzed]


def _unpack(packed) -> Outcome:
    if not isinstance(packed, tuple):
        return packed
    document, rows, arrays = packed
    passages = [Passage(**dict(zip(_PASSAGE_FIELDS, row))) for row in rows]
    return document, passages, [Analyzed(np.frombuffer(i, np.int64), np.frombuffer(f, np.float32)) for i, f in arrays]


def _prepared(job: _Job, files: list[Path], store: Store, workers: int) -> Iterator[tuple[Path, Outcome]]:
    """(path, outcome) in file order; prepared by `workers` processes when workers > 1."""

    def known(path: Path) -> str | None:
        return store.document_hash(job.tenant, path.name, job.valid_from)

    if workers <= 1:
        for path in files:
            yield path, _prepare(job, path, known(path))
        return
    # Small batches amortise the cost of a task; a bounded window of tasks keeps both
    # workers busy while the writer (here) stores in file order, without holding the whole
    # corpus in memory.
    batches = [files[i : i + _BATCH] for i in range(0, len(files), _BATCH)]
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_process_context())
    pending: deque[tuple[list[Path], Future]] = deque()
    try:
        for batch in batches:
            pending.append((batch, pool.submit(_prepare_in_worker, job, batch, [known(p) for p in batch])))
            if len(pending) >= 4 * workers:
                done, future = pending.popleft()
                yield from zip(done, map(_unpack, future.result()))
        while pending:
            done, future = pending.popleft()
            yield from zip(done, map(_unpack, future.result()))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _process_context() -> multiprocessing.context.BaseContext:
    """fork in a single-threaded process (the CLI, scripts): workers start at once and a
    calling script needs no `if __name__ == "__main__"` guard. spawn when other threads run
    (a web server): forking them could copy a lock that another thread holds."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
