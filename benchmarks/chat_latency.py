"""Chat latency and throughput through real HTTP (extractive mode, no LLM).

    python benchmarks/chat_latency.py [--clients 20] [--seconds 20] [--workers 1]

Starts `amtslotse serve` in its own process over benchmarks/.home (current social law + the
starter pack, kept between runs), then from this process:
- sequential JSON answers: p50/p95 latency;
- streamed answers (SSE): time to the first event and to the done event, p50/p95;
- N concurrent clients for a fixed time: answers/s, p50/p95 under load;
and, side by side in the same run, the peers: the same questions answered in-process
(`Asker.ask`, no HTTP) and GET /healthz under the same load (the HTTP floor of this machine).
Goals (issue 3): p95 <= 300 ms, first event <= 100 ms, >= 50 answers/s with 20 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from _common import CACHED_HOME, percentile, require_shared, starter_services

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [json.loads(line)["text"] for line in (ROOT / "tests" / "data" / "behaviour.jsonl").open(encoding="utf-8")]


def ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 50) * 1000:7.1f} ms   p95 {percentile(values, 95) * 1000:7.1f} ms"


def start_server(home: Path, port: int, workers: int) -> subprocess.Popen:
    env = os.environ | {"AMTSLOTSE_HOME": str(home), "AMTSLOTSE_LLM_BASE_URL": "", "AMTSLOTSE_LLM_PROVIDER": "",
                        # one load-test client sends far more than a citizen: no rate limits
                        "AMTSLOTSE_RATE_LIMIT_PER_CLIENT": "0", "AMTSLOTSE_RATE_LIMIT_PER_TENANT": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "amtslotse.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"server did not start: {server.stderr.read().decode()[-2000:]}")


def body(question: str) -> dict:
    return {"text": question, "tenant": "musterkreis"}


def sequential(base: str, n: int) -> tuple[list[float], list[float], list[float]]:
    plain, first, done = [], [], []
    with httpx.Client(base_url=base, timeout=30) as client:
        for i in range(n):
            question = QUESTIONS[i % len(QUESTIONS)]
            start = time.perf_counter()
            client.post(f"/api/v1/conversations/{uuid.uuid4()}/messages", json=body(question)).raise_for_status()
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            with client.stream(
                "POST", f"/api/v1/conversations/{uuid.uuid4()}/messages", json=body(question),
                headers={"Accept": "text/event-stream"},
            ) as response:
                seen_first = False
                for line in response.iter_lines():
                    if line.startswith("event: ") and not seen_first:
                        first.append(time.perf_counter() - start)
                        seen_first = True
                done.append(time.perf_counter() - start)
    return plain, first, done


async def load(base: str, clients: int, seconds: float, path: str | None) -> tuple[int, list[float]]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client_loop(number: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            i = number
            while time.perf_counter() < stop:
                start = time.perf_counter()
                if path:
                    response = await client.get(path)
                else:
                    question = QUESTIONS[i % len(QUESTIONS)]
                    response = await client.post(f"/api/v1/conversations/{uuid.uuid4()}/messages", json=body(question))
                response.raise_for_status()
                latencies.append(time.perf_counter() - start)
                i += clients

    began = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    return len(latencies), latencies if latencies else [0.0], time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sequential", type=int, default=100)
    args = parser.parse_args()
    require_shared()
    with starter_services(home=CACHED_HOME) as services:
        home = services.settings.home
        in_process = []
        for question in QUESTIONS[: args.sequential]:
            start = time.perf_counter()
            services.asker.ask(question, "musterkreis")
            in_process.append(time.perf_counter() - start)
        services.store.close()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = start_server(home, port, args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            plain, first, done = sequential(base, args.sequential)
            answers, under_load, took = asyncio.run(load(base, args.clients, args.seconds, None))
            pings, ping_load, ping_took = asyncio.run(load(base, args.clients, min(args.seconds, 5), "/healthz"))
        finally:
            server.terminate()
            server.wait(10)
    print(f"{len(QUESTIONS)} questions of tests/data/behaviour.jsonl, {args.sequential} sequential, "
          f"{os.cpu_count()} cores, {args.workers} server process(es)")
    print(f"in-process Asker.ask (peer)     {ms(in_process)}")
    print(f"HTTP JSON answer                {ms(plain)}")
    print(f"SSE first event                 {ms(first)}")
    print(f"SSE done                        {ms(done)}")
    print(f"{args.clients} clients, {args.seconds:.0f} s: {answers / took:6.1f} answers/s   {ms(under_load)}")
    print(f"{args.clients} clients, GET /healthz (peer): {pings / ping_took:6.1f} requests/s   {ms(ping_load)}")


if __name__ == "__main__":
    main()
