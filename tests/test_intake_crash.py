"""Nothing accepted is lost, nothing is stored twice: real processes killed with SIGKILL.

1. Intake over HTTP: `amtslotse serve` (a real process) receives messages from four client
   threads and is killed with SIGKILL after the 20th "202 accepted", while requests are in
   flight and its background worker triages. After a restart every acknowledged reference is
   in the store, and sending all messages again (same client keys) stores none twice.
2. Processing: `amtslotse inbox process` is killed with SIGKILL after it reported three
   messages. Every message is then either untouched ('pending') or completely triaged
   ('done', with its draft and one audit entry); importing the same mails again adds
   nothing; a second run finishes the rest, and no message was triaged twice.

The kill points are counted events (acknowledgements, output lines), not timers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import httpx
import pytest

from amtslotse.store.sqlite import SqliteStore
from llm_server import free_port

# slow: real server processes are started, killed and restarted (minutes on a busy machine)
pytestmark = pytest.mark.slow

TENANT = "musterkreis"  # configured by the starter pack's tenant file
DATA = Path(__file__).parent / "data"
CLI = ["-c", "import amtslotse.cli.inbox_queue; from amtslotse.cli import run; run()"]


def texts(n: int) -> list[str]:
    lines = [json.loads(line)["text"] for line in (DATA / "triage_holdout.jsonl").read_text(encoding="utf-8").splitlines()]
    return [lines[i % len(lines)] + f"\n\n(Nachricht {i})" for i in range(n)]


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMTSLOTSE_")}
    # Unbuffered output: the test reads the child's lines as they are written.
    return env | {"AMTSLOTSE_HOME": str(home), "PYTHONUNBUFFERED": "1", "AMTSLOTSE_LLM_BASE_URL": ""}


class Server:
    """`amtslotse serve` as a child process on a free port."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, *CLI, "serve", "--port", str(self.port)], env=environment(home),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Server did not start: {self.process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()


def api_key(home: Path) -> tuple[int, str]:
    """The form system's API key (idempotency keys need one): (its id, the Authorization header)."""
    store = SqliteStore(home / "amtslotse.db")
    try:
        key, secret = store.create_api_key(TENANT, "formularserver")
    finally:
        store.close()
    return key.id, f"Bearer {secret}"


def post(url: str, key: str, text: str, authorization: str) -> str | None:
    """The reference of a 202, or None if the server went away before answering."""
    try:
        response = httpx.post(f"{url}/api/v1/inbox", json={"tenant": TENANT, "text": text, "client_key": key},
                              headers={"Authorization": authorization}, timeout=60)
    except httpx.TransportError:
        return None
    assert response.status_code == 202, response.text
    return response.json()["reference"]


def test_killed_server_loses_no_accepted_message_and_retries_create_no_duplicate(home):
    messages = {f"formular-{i:03d}": text for i, text in enumerate(texts(60))}
    acknowledged: dict[str, str] = {}
    lock, enough = threading.Lock(), threading.Event()
    key_id, authorization = api_key(home)
    server = Server(home)
    try:
        def send(key: str) -> None:
            if enough.is_set():
                return
            reference = post(server.url, key, messages[key], authorization)
            if reference is not None:
                with lock:
                    acknowledged[key] = reference
                    if len(acknowledged) >= 20:
                        enough.set()

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(send, key) for key in messages]
            enough.wait(300)
            server.kill()  # SIGKILL: no shutdown, requests in flight, a triage maybe half done
            for future in futures:
                future.result()
    finally:
        if server.process.poll() is None:
            server.kill()
    assert len(acknowledged) >= 20

    store = SqliteStore(home / "amtslotse.db")
    try:
        for key, reference in acknowledged.items():
            item = store.inbox_item(TENANT, reference)
            assert item is not None and item.external_id == f"apikey:{key_id}:{key}" and item.body == messages[key]
        before = len(store.inbox_items(TENANT, limit=1000))
        print(f"killed after {len(acknowledged)} acknowledged; {before} stored")  # pytest -s shows it
        assert len(acknowledged) <= before < len(messages)  # the kill came before the end

        server = Server(home)
        try:
            again = {key: post(server.url, key, text, authorization) for key, text in messages.items()}
        finally:
            server.stop()
        assert all(again[key] == reference for key, reference in acknowledged.items())
        items = store.inbox_items(TENANT, limit=1000)
        assert len(items) == len(messages) == len(set(again.values()))
        assert Counter(i.external_id for i in items).most_common(1)[0][1] == 1
        # Whatever the killed worker had triaged was committed whole; nothing twice.
        for item in items:
            triaged = [e for e in store.audit_entries(TENANT, "inbox_message", str(item.id)) if e.action == "triaged"]
            assert len(triaged) == (item.triage_status == "done")
    finally:
        store.close()


def write_mails(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i, text in enumerate(texts(n)):
        mail = EmailMessage()
        mail["From"] = f"buerger{i}@example.org"
        mail["To"] = "posteingang@jobcenter-musterkreis.example"
        mail["Subject"] = f"Anliegen {i}"
        mail["Date"] = format_datetime(datetime(2026, 11, 20, 8, i % 60, tzinfo=timezone.utc))
        mail["Message-ID"] = make_msgid(f"crash{i}", "example.org")
        mail.set_content(text)
        (folder / f"{i:03d}.eml").write_bytes(bytes(mail))


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *CLI, *args], env=environment(home), capture_output=True, text=True, timeout=900,
    )


def test_processing_killed_midway_resumes_without_loss_or_double_triage(home, tmp_path):
    mails = tmp_path / "mails"
    write_mails(mails, 30)
    first = run_cli(home, "inbox", "import", str(mails), "--tenant", TENANT)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("  neu  ") == 30

    child = subprocess.Popen(
        [sys.executable, *CLI, "inbox", "process"], env=environment(home), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    reported = []
    for line in child.stdout:
        if line.startswith("MK-"):
            reported.append(line.split()[0])
            if len(reported) == 3:
                child.send_signal(signal.SIGKILL)  # while it works on the next message
                break
    child.wait(60)
    assert child.returncode == -signal.SIGKILL, child.stderr.read()[-2000:]

    store = SqliteStore(home / "amtslotse.db")
    try:
        items = store.inbox_items(TENANT, limit=1000)
        statuses = Counter(i.triage_status for i in items)
        print(f"at the kill: {dict(statuses)}")  # pytest -s shows it
        assert len(items) == 30 and set(statuses) <= {"pending", "done"} and statuses["done"] >= 3
        for item in items:
            triaged = [e for e in store.audit_entries(TENANT, "inbox_message", str(item.id)) if e.action == "triaged"]
            if item.triage_status == "done":  # committed whole: category, draft and its audit entry
                assert item.category and item.draft["label"] == "Entwurf" and len(triaged) == 1
            else:
                assert item.category is None and item.draft is None and triaged == []
        done_before = {i.reference for i in items if i.triage_status == "done"}
        assert set(reported) <= done_before

        repeat = run_cli(home, "inbox", "import", str(mails), "--tenant", TENANT)
        assert repeat.returncode == 0 and repeat.stdout.count("schon vorhanden  ") == 30

        rest = run_cli(home, "inbox", "process")
        assert rest.returncode == 0, rest.stderr
        assert f"{30 - len(done_before)} eingeordnet, 0 fehlgeschlagen." in rest.stdout
        items = store.inbox_items(TENANT, limit=1000)
        assert len(items) == 30 and all(i.triage_status == "done" for i in items)
        for item in items:
            triaged = [e for e in store.audit_entries(TENANT, "inbox_message", str(item.id)) if e.action == "triaged"]
            assert len(triaged) == 1
    finally:
        store.close()
