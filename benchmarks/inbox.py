"""Inbox throughput: messages accepted and processed per second, end to end.

    python benchmarks/inbox.py                  # 200 messages (tests/data/triage_holdout.jsonl, repeated)
    python benchmarks/inbox.py --messages 500

Figures, each on a fresh SQLite store with the starter knowledge (for the drafts' sources):
- intake, in process: `inbox.intake.accept` (redact, insert, commit) one message after another;
  beside it the peer, bare `sqlite3` inserting the same rows with one commit each, the floor
  of what one durable commit per message costs on this disk.
- processing: `inbox.processing.process_pending` (attachments, triage, fields, routing, a
  draft by the Ask pipeline, one transaction per message), one worker.
- end to end over HTTP: `amtslotse serve` in its own process, four client threads posting
  JSON; "accepted" is the rate of 202 answers (each after its commit), "processed" the rate
  until the server's background worker has triaged and drafted every message.
No OCR here (benchmarks/ocr.py measures it); the machine's load average is printed, since
other work on the two cores lowers every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "triage_holdout.jsonl"
TENANT = "musterkreis"


def messages(n: int) -> list[str]:
    texts = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [f"{texts[i % len(texts)]}\n\n(Nr. {i})" for i in range(n)]


def prepared_home(root: Path) -> Path:
    """A data folder with the starter knowledge and its vectors (not timed)."""
    from amtslotse.knowledge.ingest import embed_missing
    from amtslotse.knowledge.starter import load_starter
    from amtslotse.services import Services
    from amtslotse.settings import Settings

    home = root / "home"
    with Services.open(Settings(home=home, llm_base_url="")) as services:
        load_starter(services.store, services.settings)
        embed_missing(services.store, services.embedder, services.settings.embed_batch_size)
    return home


def copy_home(home: Path, root: Path, name: str) -> Path:
    import shutil

    target = root / name
    shutil.copytree(home, target)
    return target


def intake_in_process(home: Path, texts: list[str]) -> float:
    from amtslotse.inbox.intake import accept
    from amtslotse.inbox.message import IncomingMessage
    from amtslotse.settings import Settings
    from amtslotse.store.sqlite import SqliteStore

    settings = Settings(home=home, llm_base_url="")
    store = SqliteStore(home / "amtslotse.db")
    try:
        start = time.perf_counter()
        for i, text in enumerate(texts):
            message = IncomingMessage("api", f"bench-{i}", datetime.now(timezone.utc), "", "", text)
            accept(store, message, TENANT, settings)
        return len(texts) / (time.perf_counter() - start)
    finally:
        store.close()


def sqlite_peer(root: Path, texts: list[str]) -> float:
    """Bare sqlite3, same pragmas as the store: one INSERT and one COMMIT per message."""
    conn = sqlite3.connect(root / "peer.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, key TEXT UNIQUE, received TEXT, body TEXT)")
    start = time.perf_counter()
    for i, text in enumerate(texts):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO m(key, received, body) VALUES (?,?,?)", (f"k{i}", datetime.now().isoformat(), text))
        conn.execute("COMMIT")
    rate = len(texts) / (time.perf_counter() - start)
    conn.close()
    return rate


def processing(home: Path) -> tuple[float, int]:
    from amtslotse.inbox.processing import default_triager, process_pending
    from amtslotse.services import Services
    from amtslotse.settings import Settings

    with Services.open(Settings(home=home, llm_base_url="")) as services:
        # Warm-up outside the clock: the classifier (trained once, cached) and the embedder load.
        services.asker.ask("Wann kommt mein Geld?", TENANT, first_turn=False)
        triager = default_triager(services.settings, services.asker)
        triager.triage("Wann kommt mein Geld?")
        start = time.perf_counter()
        report = process_pending(services.store, services.settings, asker=services.asker, triager=triager)
        seconds = time.perf_counter() - start
    return report.done / seconds, report.failed


def end_to_end(home: Path, texts: list[str]) -> tuple[float, float]:
    from amtslotse.store.sqlite import SqliteStore

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTSLOTSE_")} | {
        "AMTSLOTSE_HOME": str(home), "AMTSLOTSE_RATE_LIMIT_PER_CLIENT": "0", "AMTSLOTSE_RATE_LIMIT_PER_TENANT": "0"}
    cli = ["-c", "import amtslotse.cli.inbox_queue; from amtslotse.cli import run; run()"]
    server = subprocess.Popen([sys.executable, *cli, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server)
        with httpx.Client(base_url=url, timeout=120) as client:  # warm-up: first triage loads the models
            client.post("/api/v1/inbox", json={"tenant": TENANT, "text": "Wann kommt mein Geld?"})
        store = SqliteStore(home / "amtslotse.db")
        _wait(lambda: not store.pending_inbox(1))
        start = time.perf_counter()
        with httpx.Client(base_url=url, timeout=120) as client, ThreadPoolExecutor(4) as pool:
            def post(i: int) -> None:
                r = client.post("/api/v1/inbox", json={"tenant": TENANT, "text": texts[i]})  # anonymous: no client_key
                assert r.status_code == 202, r.text

            list(pool.map(post, range(len(texts))))
        accepted = len(texts) / (time.perf_counter() - start)
        _wait(lambda: not store.pending_inbox(1))
        processed = len(texts) / (time.perf_counter() - start)
        store.close()
        return accepted, processed
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, server: subprocess.Popen) -> None:
    for _ in range(1200):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise SystemExit("amtslotse serve did not start")
        time.sleep(0.1)
    raise SystemExit("amtslotse serve did not start")


def _wait(done) -> None:
    while not done():
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    texts = messages(args.messages)
    print(f"{len(texts)} messages, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="amtslotse-bench-inbox-") as tmp:
        root = Path(tmp)
        home = prepared_home(root)
        work = copy_home(home, root, "in-process")
        print(f"intake, in process:      {intake_in_process(work, texts):8.1f} messages/s"
              f"   (peer: bare sqlite3, one commit each: {sqlite_peer(root, texts):8.1f}/s)")
        rate, failed = processing(work)
        print(f"processing, one worker:  {rate:8.1f} messages/s   ({failed} failed)")
        accepted, processed = end_to_end(copy_home(home, root, "http"), texts)
        print(f"HTTP, 4 clients:         {accepted:8.1f} accepted/s (202 after commit), {processed:8.1f} processed/s end to end")
        print(f"load average afterwards: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
