"""Ingest flow: files -> loader -> Document -> splitter -> Passages -> store (one transaction
per document), then vectors for what is new (cached by text hash)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

from amtslotse.knowledge.loaders import LoaderError, iter_source_files, load_file
from amtslotse.knowledge.splitter import split_document
from amtslotse.search.embedders import Embedder
from amtslotse.search import keywords
from amtslotse.search.indexing import analyze_passage, index_fingerprint
from amtslotse.settings import Settings
from amtslotse.store.protocol import Store


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
) -> IngestReport:
    report = IngestReport()
    fingerprint = index_fingerprint(tenant, settings)
    for path in iter_source_files(list(paths)):
        try:
            document = load_file(path, tenant=tenant, valid_from=valid_from, valid_to=valid_to)
            document.content_hash = f"{document.content_hash[:48]}:{fingerprint}"
            if store.document_hash(tenant, document.source, valid_from) == document.content_hash:
                report.unchanged += 1
            else:
                passages = split_document(
                    document, law_split_chars=settings.law_split_chars, page_split_chars=settings.page_split_chars
                )
                if not passages:
                    raise LoaderError(path, "Datei enthält keinen verwertbaren Text")
                analyzed = [
                    analyze_passage(
                        p, keywords.keywords_for(tenant, document.law, p.section, p.citation, settings.keywords_dir)
                    )
                    for p in passages
                ]
                store.replace_document(document, passages, analyzed)
                report.ingested += 1
                report.passages += len(passages)
        except LoaderError as error:
            report.failed.append((path, error.message))
        except (OSError, UnicodeError, ValueError) as error:
            report.failed.append((path, f"Datei konnte nicht gelesen werden: {error}"))
        if on_file:
            on_file(path)
    return report


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
