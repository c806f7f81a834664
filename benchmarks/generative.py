"""Generative answers end to end: retrieval over the starter pack, the composer's prompt, the
LLM, the streaming citation and leak checks. Beside it, the extractive composer on the same hits.

    python benchmarks/generative.py                      # starts SmolLM2-135M (llama-cpp-python)
    python benchmarks/generative.py --questions 20 --max-tokens 160
    python benchmarks/generative.py --base-url http://127.0.0.1:8080/v1 --model qwen2.5-7b \
        --context-tokens 8192 [--api-key ...]

Without --base-url it starts the same server as the tests (tests/llm_server.py, n_ctx 2048).
The starter pack (layer "bund" and "musterkreis") is ingested into a temporary SQLite store,
lexical search only (no embedder, to keep the run short); the questions are the first
--questions lines of tests/data/retrieval_dev.jsonl.

Figures:
- first chunk s: from the first next() (request sent) to the first checked chunk: prefill,
  plus what the checks hold back. Median and max.
- whole s, chunks: the whole answer (at most --max-tokens tokens).
- prompt tokens: the composer's estimate (the server's real count is ~6 % lower).
- grounded: share of answers with at least one valid citation; markers dropped: invalid
  markers removed per answer (numbers of passages that were not given); leaked / failed:
  answers stopped by the leak guard / broken off by an error.
- extractive ms: compose_extractive on the same hits (the default path without an LLM).
SmolLM2-135M rarely cites at all, so its "grounded" share says little about a real model;
the pipeline shows its UNSURE text for ungrounded answers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import add_llm_options, llm_endpoint

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_llm_options(parser)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--context-tokens", type=int, default=2048)
    args = parser.parse_args()

    from amtslotse.ask.extractive import compose_extractive
    from amtslotse.ask.generative import GenerativeComposer
    from amtslotse.knowledge.starter import load_starter
    from amtslotse.llm import LLMError
    from amtslotse.llm.openai_compatible import OpenAICompatibleLLM
    from amtslotse.search.hybrid import Retriever
    from amtslotse.settings import Settings
    from amtslotse.store import open_store

    questions = [json.loads(line)["question"] for line in (ROOT / "tests" / "data" / "retrieval_dev.jsonl").open()]
    questions = questions[: args.questions]
    home = Path(tempfile.mkdtemp(prefix="amtslotse-bench-"))
    settings = Settings(_env_file=None, home=home, embedder="none", embed_on_ingest=False,
                        llm_max_tokens=args.max_tokens, llm_timeout_seconds=300, llm_temperature=0.2)
    store = open_store(settings)
    load_starter(store, settings)
    retriever = Retriever(store, None, settings)
    searched = [(q, retriever.search(q, "musterkreis", limit=8)) for q in questions]

    rows = []
    with llm_endpoint(args, home / "llama.log") as (base_url, api_key, local):
        print(f"server: {'llama-cpp-python, ' + local.model_path.stem if local else base_url}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {len(searched)} questions, "
              f"max_tokens {args.max_tokens}, context {args.context_tokens}\n")
        with OpenAICompatibleLLM(base_url, args.model, api_key) as llm:
            composer = GenerativeComposer(llm, settings, context_tokens=args.context_tokens)
            composer.compose("Was ist ein Widerspruch?", searched[0][1])  # warm-up (weights, rules in the cache)
            for question, hits in searched:
                started = time.perf_counter()
                extract = compose_extractive(question, hits)
                extractive_ms = (time.perf_counter() - started) * 1000
                generation = composer.stream(question, hits)
                started = time.perf_counter()
                try:
                    first = next(generation)
                except StopIteration:
                    first = None
                except LLMError as error:
                    print(f"  failed before any text: {error}")
                    continue
                first_s = time.perf_counter() - started
                chunks = 1 + sum(1 for _ in generation) if first is not None else 0
                rows.append({
                    "first": first_s, "whole": time.perf_counter() - started, "chunks": chunks,
                    "tokens": generation.prompt.estimated_tokens, "grounded": generation.grounded,
                    "dropped": generation.dropped_markers, "leaked": generation.leaked,
                    "failed": generation.error is not None, "extractive_ms": extractive_ms,
                    "extractive_cited": bool(extract.citations),
                })
                print(f"  {question[:60]:<60} {first_s:6.2f} s  cites {len(generation.cited)}  "
                      f"dropped {generation.dropped_markers}  {generation.text[:70]!r}")
    store.close()

    if not rows:
        raise SystemExit("no answers")
    n = len(rows)
    col = {key: [r[key] for r in rows] for key in rows[0]}
    print(f"\n{'':<22} {'median':>8} {'max':>8}")
    for key, label in (("first", "first chunk s"), ("whole", "whole answer s"), ("chunks", "chunks"),
                       ("tokens", "prompt tokens (est.)"), ("extractive_ms", "extractive ms")):
        print(f"{label:<22} {statistics.median(col[key]):>8.2f} {max(col[key]):>8.2f}")
    print(f"\ngrounded {sum(col['grounded'])}/{n} ({100 * sum(col['grounded']) / n:.0f} %), "
          f"markers dropped {sum(col['dropped'])} ({sum(col['dropped']) / n:.2f} per answer), "
          f"leaked {sum(col['leaked'])}, failed {sum(col['failed'])}; "
          f"extractive cites in {sum(col['extractive_cited'])}/{n}")


if __name__ == "__main__":
    main()
