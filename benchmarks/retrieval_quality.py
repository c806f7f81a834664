"""Retrieval quality: our law question sets and the public QA sets, beside bm25s + PyStemmer.

    python benchmarks/retrieval_quality.py            # dev + holdout law sets, XQuAD, MLQA, LegalQuAD
    python benchmarks/retrieval_quality.py --only law # just the law sets

Prints one table; the "ratio" column is ours / bm25s on the same passages in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _common import EVAL, LAW_CURRENT, Bm25sBaseline, require_shared
from amtslotse.evaluation.metrics import dedupe, summarize
from amtslotse.evaluation.retrieval import eval_law_set, eval_public_set
from amtslotse.jsonl import read_jsonl
from amtslotse.knowledge.ingest import embed_missing, ingest_paths
from amtslotse.knowledge.loaders import load_file
from amtslotse.knowledge.splitter import split_document
from amtslotse.search.embedders import get_embedder
from amtslotse.search.hybrid import Retriever
from amtslotse.settings import Settings
from amtslotse.store.sqlite import SqliteStore

TESTS_DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def law_sets(settings: Settings, show_misses: bool) -> list[tuple[str, dict, dict]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "law.db")
        ingest_paths([LAW_CURRENT], store, settings, tenant="bund")
        embedder = get_embedder(settings.embedder)
        if embedder:
            embed_missing(store, embedder, settings.embed_batch_size)
        retriever = Retriever(store, embedder, settings)
        # The peer: bm25s over the very same passages.
        passages = [
            p for f in sorted(LAW_CURRENT.glob("*.md"))
            for p in split_document(load_file(f), law_split_chars=settings.law_split_chars,
                                    page_split_chars=settings.page_split_chars)
        ]
        keys = [f"{p.source}|{p.section}" for p in passages]
        baseline = Bm25sBaseline([f"{p.heading or ''}\n{p.text}" for p in passages])
        for name in ("retrieval_dev", "retrieval_holdout"):
            path = TESTS_DATA / f"{name}.jsonl"
            ours = eval_law_set(path, retriever, "bund")
            misses = ours.pop("misses")
            runs = []
            for q in read_jsonl(path):
                ranked = dedupe([keys[i] for i in baseline.search(q["question"], 30)])[:10]
                runs.append((ranked, {f"{g['source']}|{g['section']}" for g in q["gold"]}))
            rows.append((name, ours, summarize(runs)))
            if show_misses:
                for m in misses:
                    print(json.dumps(m, ensure_ascii=False), file=sys.stderr)
        store.close()
    return rows


def public_set(name: str, settings: Settings) -> tuple[str, dict, dict]:
    folder = EVAL / name
    ours = eval_public_set(folder / "passages.jsonl", folder / "questions.jsonl", settings)
    passages = list(read_jsonl(folder / "passages.jsonl"))
    baseline = Bm25sBaseline([f"{p.get('title', '')}\n{p['text']}" for p in passages])
    ids = [str(p["passage_id"]) for p in passages]
    runs = [
        ([ids[i] for i in baseline.search(q["question"], 10)], {str(q["passage_id"])})
        for q in read_jsonl(folder / "questions.jsonl")
    ]
    return name, ours, summarize(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["law", "public"], default=None)
    parser.add_argument("--misses", action="store_true", help="print the law questions missed in the top 5")
    args = parser.parse_args()
    require_shared()
    settings = Settings()
    rows = []
    if args.only in (None, "law"):
        rows += law_sets(settings, args.misses)
    if args.only in (None, "public"):
        rows += [public_set(n, settings) for n in ("xquad_de", "mlqa_de", "legalquad")]
    print(f"embedder: {settings.embedder}")
    print(f"{'set':<20}{'n':>5} {'metric':<9}{'amtslotse':>10}{'bm25s':>8}{'ratio':>7}")
    for name, ours, base in rows:
        for metric in ("recall@1", "recall@5", "ndcg@10"):
            ratio = ours[metric] / base[metric] if base[metric] else float("inf")
            print(f"{name:<20}{ours['questions']:>5} {metric:<9}{ours[metric]:>10.3f}{base[metric]:>8.3f}{ratio:>7.2f}")


if __name__ == "__main__":
    main()
