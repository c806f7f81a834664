"""Retrieval evaluation on the public QA format and on our own law question sets.

Public format: passages `{passage_id, title, text}`, questions `{id, question, passage_id}`.
Law format: questions `{id, question, gold: [{source, section}]}` over ingested law files.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

from amtslotse.knowledge.ingest import embed_missing, ingest_paths
from amtslotse.search.embedders import get_embedder
from amtslotse.search.hybrid import Retriever
from amtslotse.evaluation.metrics import dedupe, summarize
from amtslotse.jsonl import field, read_jsonl, read_jsonl_lines
from amtslotse.settings import Settings
from amtslotse.store.sqlite import SqliteStore


def eval_public_set(passages: Path, questions: Path, settings: Settings, limit: int = 10) -> dict:
    """Ingest a passages file into a temporary store and measure retrieval of its questions."""
    with tempfile.TemporaryDirectory(prefix="amtslotse-eval-") as tmp:
        records = Path(tmp) / "passages.jsonl"
        with open(records, "w", encoding="utf-8") as out:
            for where, p in read_jsonl_lines(passages):
                passage = {"id": str(field(p, "passage_id", where)), "title": p.get("title", ""), "text": field(p, "text", where)}
                out.write(json.dumps(passage) + "\n")
        store = SqliteStore(Path(tmp) / "eval.db")
        try:
            ingest_paths([records], store, settings, tenant="bund")
            embedder = get_embedder(settings.embedder)
            if embedder is not None:
                embed_missing(store, embedder, settings.embed_batch_size)
            retriever = Retriever(store, embedder, settings)
            runs = []
            for where, q in read_jsonl_lines(questions):
                hits = retriever.search(field(q, "question", where), tenant="bund", limit=limit * 3)
                ranked = dedupe([h.passage.external_id for h in hits])[:limit]
                runs.append((ranked, {str(field(q, "passage_id", where))}))
        finally:
            store.close()
    return summarize(runs)


def eval_law_set(questions: Path, retriever: Retriever, tenant: str, as_of: date | None = None) -> dict:
    """Measure a `{id, question, gold: [{source, section}]}` set against an ingested store."""
    runs = []
    misses = []
    for q in read_jsonl(questions):
        hits = retriever.search(q["question"], tenant=tenant, as_of=as_of, limit=30)
        ranked = dedupe([f"{h.passage.source}|{h.passage.section}" for h in hits])[:10]
        gold = {f"{g['source']}|{g['section']}" for g in q["gold"]}
        runs.append((ranked, gold))
        if not gold.intersection(ranked[:5]):
            misses.append({"id": q["id"], "question": q["question"], "gold": sorted(gold), "top": ranked[:5]})
    return summarize(runs) | {"misses": misses}
