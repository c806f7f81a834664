"""The inbox end to end: intake -> processing -> review, through the real app over HTTP
(`app_server` from conftest: uvicorn on loopback, starter knowledge with vectors) and the
real CLI (subprocesses on the same data folder), IMAP through a real Dovecot.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from amtslotse.inbox.mail import parse_email
from amtslotse.inbox.processing import process_pending
from dovecot import PASSWORD as IMAP_PASSWORD
from dovecot import USER as IMAP_USER

TENANT = "posteingangkreis"  # only this module's messages: the shared server also serves other tests
MAIL = Path(__file__).parent / "data" / "mail"
CLI = ["-m", "amtslotse.cli"]
PASSWORD = "Sachbearbeitung-2026"

NAME, IBAN = "Ayşe Demir", "DE89 3704 0044 0532 0130 00"
URGENT = (
    f"Guten Tag, ich heiße {NAME}. Morgen wird uns der Strom abgestellt und ich habe kein Geld mehr "
    "für Essen für die Kinder. Bitte helfen Sie schnell."
)
DEADLINE = (
    "Hiermit lege ich Widerspruch gegen den Bescheid vom 10.11.2026 ein, die Frist läuft bald ab. "
    f"Meine BG-Nummer ist 12345BG0012345. Bitte überweisen Sie künftig auf {IBAN}. Mit freundlichen Grüßen {NAME}"
)
PAYSLIP = "Anbei meine Lohnabrechnung für Oktober, ich habe seit September einen Minijob."


@pytest.fixture(scope="module")
def api(app_server):
    store = app_server.services.store
    store.ensure_tenant(TENANT)
    store.add_staff_user("s.berger", TENANT, ["sachbearbeitung"], PASSWORD)
    store.add_staff_user("k.ott", "musterkreis", ["sachbearbeitung"], PASSWORD)
    INTEGRATION["Authorization"] = "Bearer " + store.create_api_key(TENANT, "formularserver")[1]
    with httpx.Client(base_url=app_server.url, timeout=120) as client:
        yield client


INTEGRATION: dict[str, str] = {}
"""The form system's API key header: idempotency keys need one (issue 12, finding 5)."""


def login(api, name: str) -> dict:
    response = api.post("/api/v1/staff/login", json={"name": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def send(api, text: str, key: str | None = None, **extra) -> httpx.Response:
    """With a key: sent by the form system (its API key); without: anonymous."""
    return api.post("/api/v1/inbox", json={"tenant": TENANT, "text": text, **({"client_key": key} if key else {}), **extra},
                    headers=INTEGRATION if key else {})


def payslip_pdf() -> tuple[str, bytes]:
    attachment = parse_email((MAIL / "02-lohnabrechnung.eml").read_bytes()).attachments[0]
    return attachment.filename, attachment.data


def wait_until_triaged(app_server, references: list[str]) -> None:
    """Process what is pending (the server's background worker may be at it too) and wait
    until every message is done; a readiness wait, not a timed assertion."""
    store = app_server.services.store
    process_pending(store, app_server.services.settings, asker=app_server.services.asker, tenant=TENANT)
    deadline = time.monotonic() + 300
    while any(store.inbox_item(TENANT, ref).triage_status == "pending" for ref in references):
        assert time.monotonic() < deadline, "processing did not finish"
        time.sleep(0.2)


def test_intake_answers_after_commit_and_is_idempotent(api, app_server):
    first = send(api, PAYSLIP, "formular-0001")
    assert first.status_code == 202 and first.json()["status"] == "accepted"
    reference = first.json()["reference"]
    assert reference.startswith("PO-20") and reference[-6:].isdigit()
    # Committed when the answer came: another connection to the database sees it.
    from amtslotse.store.sqlite import SqliteStore

    other = SqliteStore(app_server.services.settings.home / "amtslotse.db")
    try:
        assert other.inbox_item(TENANT, reference).body == PAYSLIP
    finally:
        other.close()
    assert send(api, PAYSLIP, "formular-0001").json()["reference"] == reference  # a retry
    assert send(api, "geänderter Text", "formular-0001").status_code == 409  # the same key, other content
    header = INTEGRATION | {"Idempotency-Key": "kopf-1"}
    by_header = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": PAYSLIP}, headers=header)
    assert api.post("/api/v1/inbox", json={"tenant": TENANT, "text": PAYSLIP}, headers=header).json() == by_header.json()
    assert send(api, PAYSLIP).json()["reference"] != send(api, PAYSLIP).json()["reference"]  # no key: new each time


@pytest.mark.parametrize("body, status, code", [
    (b"{kein json", 400, "invalid_json"),
    (json.dumps({"text": "Hallo"}).encode(), 422, "invalid_request"),
    (json.dumps({"tenant": TENANT, "text": "   "}).encode(), 422, "empty_message"),
    (json.dumps({"tenant": "gibtsnicht", "text": "Hallo"}).encode(), 404, "unknown_tenant"),
    (json.dumps({"tenant": "Böse Stadt!", "text": "Hallo"}).encode(), 404, "unknown_tenant"),
    (json.dumps({"tenant": TENANT, "text": "x" * 60_000}).encode(), 413, "too_large"),
    (json.dumps({"tenant": TENANT, "text": "Hallo", "attachments": [{"filename": "a.pdf", "data_base64": "%%%"}]}).encode(),
     422, "invalid_attachment"),
    (json.dumps({"tenant": TENANT, "text": "Hallo", "attachments": [{"filename": "a.pdf"}]}).encode(), 422, "invalid_request"),
])
def test_bad_intake_gets_a_german_json_error(api, body, status, code):
    response = api.post("/api/v1/inbox", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and "Traceback" not in response.text


def test_oversized_request_is_refused_also_without_content_length(api):
    def chunks():
        yield b'{"tenant": "' + TENANT.encode() + b'", "text": "'
        for _ in range(14):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    response = api.post("/api/v1/inbox", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_staff_work_the_queue_urgent_first_with_drafts_and_an_audit_trail(api, app_server):
    filename, pdf = payslip_pdf()
    references = {
        "payslip": send(api, PAYSLIP, "fluss-lohn", attachments=[
            {"filename": filename, "content_type": "application/pdf", "data_base64": base64.b64encode(pdf).decode()}
        ]).json()["reference"],
        "deadline": send(api, DEADLINE, "fluss-frist", subject="Widerspruch").json()["reference"],
        "urgent": send(api, URGENT, "fluss-notlage").json()["reference"],
    }
    wait_until_triaged(app_server, list(references.values()))
    staff = login(api, "s.berger")

    assert httpx.get(f"{app_server.url}/api/v1/staff/inbox").status_code == 401  # no token, no cookie
    queue = api.get("/api/v1/staff/inbox", headers=staff).json()["items"]
    ours = [i["reference"] for i in queue if i["reference"] in references.values()]
    assert ours == [references["urgent"], references["deadline"], references["payslip"]]
    urgent = next(i for i in queue if i["reference"] == references["urgent"])
    assert "notlage" in urgent["flags"] and urgent["priority_label"] == "Notlage" and urgent["state"] == "new"
    assert NAME not in urgent["preview"] and "[NAME]" in urgent["preview"]
    with_deadline = api.get("/api/v1/staff/inbox", params={"flag": "frist"}, headers=staff).json()["items"]
    assert references["deadline"] in [i["reference"] for i in with_deadline]
    assert all("frist" in i["flags"] for i in with_deadline)

    # A key that is no message is a 404, also digits Python's int() refuses ("²": the API fuzz found a 500).
    for key in ("\u00b2", "\u0663", "99999999999999999999"):
        assert api.get(f"/api/v1/staff/inbox/{key}", headers=staff).status_code == 404, key
    # One message: clear text with its personal data marked, fields, a labelled draft.
    detail = api.get(f"/api/v1/staff/inbox/{references['deadline']}", headers=staff).json()
    assert detail["text"] == DEADLINE and detail["category"] == "widerspruch" and "frist" in detail["flags"]
    marked = {DEADLINE[s["start"]:s["end"]]: s["kind"] for s in detail["personal_data"]}
    assert marked.get(NAME) == "NAME" and marked.get("12345BG0012345") == "BG-NUMMER"
    fields = {f["kind"]: f for f in detail["fields"]["items"]}
    assert fields["bg_nummer"]["value"] == "12345BG0012345" and fields["iban"]["valid"] is True
    assert any(f.get("role") == "bescheid" for f in detail["fields"]["items"])
    draft = detail["draft"]
    assert draft["label"] == "Entwurf" and draft["text"].startswith("Guten Tag") and references["deadline"] in draft["text"]
    assert isinstance(draft["checklist"], list) and draft["mode"] and draft["generated_at"]
    assert NAME not in draft["text"] and "12345BG0012345" not in draft["text"]
    payslip = api.get(f"/api/v1/staff/inbox/{references['payslip']}", headers=staff).json()
    assert payslip["attachments"][0]["doc_type"] == "lohnabrechnung" and payslip["attachments"][0]["text"]
    download = api.get(f"/api/v1/staff/inbox/{references['payslip']}/attachments/{payslip['attachments'][0]['id']}", headers=staff)
    assert download.status_code == 200 and download.content == pdf

    # The workflow: only allowed steps, each with who and when in the log.
    ref = references["deadline"]
    not_yet = api.post(f"/api/v1/staff/inbox/{ref}/answer", json={}, headers=staff)
    assert not_yet.status_code == 409 and "neu" in not_yet.json()["error"]["message"]
    started = api.post(f"/api/v1/staff/inbox/{ref}/review", headers=staff).json()
    assert (started["state"], started["assignee"]) == ("in_review", "s.berger")
    assert api.post(f"/api/v1/staff/inbox/{ref}/review", headers=staff).status_code == 409
    assigned = api.post(f"/api/v1/staff/inbox/{ref}/assign", json={"team": "Widerspruchsstelle"}, headers=staff).json()
    assert assigned["team"] == "Widerspruchsstelle"
    letter = "Guten Tag, Ihr Widerspruch ist eingegangen. Wir prüfen ihn und melden uns."
    edited = api.put(f"/api/v1/staff/inbox/{ref}/draft", json={"text": letter}, headers=staff).json()
    assert edited["draft"]["text"] == letter and edited["draft"]["label"] == "Entwurf" and edited["state"] == "in_review"
    assert api.post(f"/api/v1/staff/inbox/{ref}/close", json={"reason": "irgendwas"}, headers=staff).status_code == 422
    answered = api.post(f"/api/v1/staff/inbox/{ref}/answer", json={}, headers=staff).json()
    assert answered["state"] == "answered" and answered["draft"]["approved_text"] == letter
    assert answered["draft"]["approved_by"] == "s.berger"
    assert api.put(f"/api/v1/staff/inbox/{ref}/draft", json={"text": "später"}, headers=staff).status_code == 409

    other = references["payslip"]
    api.post(f"/api/v1/staff/inbox/{other}/review", headers=staff)
    forwarded = api.post(f"/api/v1/staff/inbox/{other}/forward", json={"team": "Arbeitsvermittlung"}, headers=staff).json()
    assert (forwarded["state"], forwarded["team"]) == ("forwarded", "Arbeitsvermittlung")
    api.post(f"/api/v1/staff/inbox/{references['urgent']}/review", headers=staff)
    closed = api.post(f"/api/v1/staff/inbox/{references['urgent']}/close", json={"reason": "erledigt"}, headers=staff).json()
    assert closed["state"] == "closed"
    assert [i["reference"] for i in api.get("/api/v1/staff/inbox", params={"state": "answered"}, headers=staff).json()["items"]] == [ref]

    trail = api.get(f"/api/v1/staff/inbox/{ref}/audit", headers=staff).json()["entries"]
    assert [e["action"] for e in trail] == [
        "accepted", "triaged", "viewed", "review_started", "assigned", "draft_edited", "answered",
    ]
    assert {e["actor"] for e in trail[3:]} == {"s.berger"} and all(e["at"] for e in trail)
    assert trail[3]["details"] == {"reference": ref, "from": "new", "to": "in_review", "assignee": "s.berger"}
    # No clear-text personal data and no message text anywhere in the log.
    everything = json.dumps([e for r in references.values()
                             for e in api.get(f"/api/v1/staff/inbox/{r}/audit", headers=staff).json()["entries"]], ensure_ascii=False)
    for secret in (NAME, "12345BG0012345", IBAN, IBAN.replace(" ", ""), "Strom", "Widerspruch gegen", letter, "Minijob"):
        assert secret not in everything


def test_staff_of_another_jobcenter_see_nothing(api, app_server):
    reference = send(api, PAYSLIP, "fremd-1").json()["reference"]
    stranger = login(api, "k.ott")
    assert api.get(f"/api/v1/staff/inbox/{reference}", headers=stranger).status_code == 404  # own tenant: no such message
    forbidden = api.get(f"/api/v1/staff/inbox/{reference}", params={"tenant": TENANT}, headers=stranger)
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    assert api.get("/api/v1/staff/inbox", params={"tenant": TENANT}, headers=stranger).status_code == 403


# --- CLI -------------------------------------------------------------------------------------


def cli(settings, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AMTSLOTSE_")}
    environment |= {"AMTSLOTSE_HOME": str(settings.home)} | (env or {})
    return subprocess.run([sys.executable, *CLI, *args], env=environment, capture_output=True, text=True, timeout=900)


@pytest.mark.slow  # the CLI processes the test mails in a subprocess: models loaded cold, a scan OCR'd
@pytest.mark.ocr
def test_cli_imports_processes_and_lists_mail(api, starter_settings, tmp_path, app_server):
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("02-lohnabrechnung.eml", "03-mietvertrag-html.eml"):
        shutil.copy(MAIL / name, folder / name)
    (folder / "kaputt.eml").write_text("das ist keine E-Mail", encoding="utf-8")
    first = cli(starter_settings, "inbox", "import", str(folder), "--tenant", TENANT)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("  neu  ") == 2 and "2 neu angenommen, 0 schon vorhanden, 1 fehlerhaft." in first.stdout
    assert "keine E-Mail" in first.stderr and "Traceback" not in first.stderr
    again = cli(starter_settings, "inbox", "import", str(folder), "--tenant", TENANT)
    assert "0 neu angenommen, 2 schon vorhanden, 1 fehlerhaft." in again.stdout

    processed = cli(starter_settings, "inbox", "process", "--tenant", TENANT)
    assert processed.returncode == 0, processed.stderr
    listed = [json.loads(line) for line in cli(starter_settings, "inbox", "list", "--tenant", TENANT, "--json").stdout.splitlines()]
    imported = {line.split()[0] for line in first.stdout.splitlines() if "  neu  " in line}
    rows = [row for row in listed if row["reference"] in imported]
    assert len(rows) == 2 and all(row["triage_status"] == "done" and row["category"] for row in rows)
    assert {row["category"] for row in rows} <= {"veraenderung", "unterkunft"}
    human = cli(starter_settings, "inbox", "list", "--tenant", TENANT)
    assert all(ref in human.stdout for ref in imported)

    missing = cli(starter_settings, "inbox", "import", str(tmp_path / "gibtsnicht"), "--tenant", TENANT)
    assert missing.returncode == 2 and "nicht gefunden" in missing.stderr and "Traceback" not in missing.stderr
    bad_state = cli(starter_settings, "inbox", "list", "--state", "fertig")
    assert bad_state.returncode == 2 and "Unbekannter Zustand" in bad_state.stderr


def test_cli_poll_without_a_mailbox_says_what_to_set(starter_settings):
    result = cli(starter_settings, "inbox", "poll", "--tenant", TENANT)
    assert result.returncode == 2 and "AMTSLOTSE_IMAP_HOST" in result.stderr and "Traceback" not in result.stderr


def test_cli_poll_accepts_each_mail_once_and_a_file_of_it_later_is_the_same(api, dovecot, starter_settings, app_server):
    from amtslotse.inbox.intake import accept_mail

    for name in ("01-krankmeldung.eml", "05-kaputt.eml"):  # not imported by the other tests
        dovecot.append((MAIL / name).read_bytes(), folder="inbox-flow")
    mailbox = {
        "AMTSLOTSE_IMAP_HOST": dovecot.host, "AMTSLOTSE_IMAP_PORT": str(dovecot.port), "AMTSLOTSE_IMAP_USER": IMAP_USER,
        "AMTSLOTSE_IMAP_PASSWORD": IMAP_PASSWORD, "AMTSLOTSE_IMAP_FOLDER": "inbox-flow", "AMTSLOTSE_IMAP_SSL": "false",
    }
    first = cli(starter_settings, "inbox", "poll", "--tenant", TENANT, env=mailbox)
    assert first.returncode == 0, first.stderr
    assert "2 neu angenommen, 0 schon vorhanden." in first.stdout and IMAP_PASSWORD not in first.stdout + first.stderr
    assert dovecot.unseen("inbox-flow") == []  # seen only after the commit
    assert "0 neu angenommen" in cli(starter_settings, "inbox", "poll", "--tenant", TENANT, env=mailbox).stdout
    # The same mail as a file later: the Message-ID makes it the same message.
    again = accept_mail(app_server.services.store, (MAIL / "01-krankmeldung.eml").read_bytes(), TENANT, starter_settings)
    assert not again.created and again.reference in first.stdout
    wrong = cli(starter_settings, "inbox", "poll", "--tenant", TENANT, env=mailbox | {"AMTSLOTSE_IMAP_PASSWORD": "falsch-123"})
    assert wrong.returncode == 2 and "falsch-123" not in wrong.stderr and "Traceback" not in wrong.stderr


def test_the_server_loop_polls_the_mailbox_and_processes_what_arrives(api, dovecot, app_server):
    import threading

    from amtslotse.inbox.intake import poll_imap
    from amtslotse.inbox.processing import Worker, run_background

    services = app_server.services
    # A Message-ID of its own: the CLI test imports the same file.
    raw = re.sub(rb"(?im)^Message-ID:.*$", b"Message-ID: <schleife-1@example.org>", (MAIL / "03-mietvertrag-html.eml").read_bytes(), count=1)
    dovecot.append(raw, folder="inbox-loop")
    key = parse_email(raw).external_id
    worker = Worker(services.store, services.settings, services.asker)
    poll = lambda: poll_imap(services.store, services.settings, TENANT, dovecot.config("inbox-loop"))  # noqa: E731
    thread = threading.Thread(target=run_background, args=(worker, 0.2, poll), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 300
        while not [i for i in services.store.inbox_items(TENANT, limit=500) if i.external_id == key and i.triage_status == "done"]:
            assert time.monotonic() < deadline and thread.is_alive(), "the loop did not take the mail in"
            time.sleep(0.2)
    finally:
        worker.stop.set()
        thread.join(120)
    assert not thread.is_alive()
    item = next(i for i in services.store.inbox_items(TENANT, limit=500) if i.external_id == key)
    assert item.category == "unterkunft" and item.team
    assert services.store.inbox_item(TENANT, item.id).attachments[0].doc_type == "mietvertrag"


def test_a_failing_message_is_marked_with_a_german_reason_and_the_queue_goes_on(api, app_server):
    """A real failure: the tenant's [inbox] table is malformed (a typo), so its messages
    cannot be triaged; they are marked failed (urgent ones still on top), the others are
    done, and after the fix a retry finishes them."""
    services = app_server.services
    folder = services.settings.tenants_dir or services.settings.home / "tenants"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "kaputtkreis.toml"
    # A table of the wrong shape: the tenant loads, its inbox settings fail when triage reads them
    # (an unknown key is refused already when the tenant file is read: tests/test_tenants.py).
    config.write_text('name = "Jobcenter Kaputtkreis"\nreference_prefix = "KK"\n[inbox]\nhidden = "termin"\n', encoding="utf-8")
    try:
        broken = api.post("/api/v1/inbox", json={"tenant": "kaputtkreis", "text": URGENT}).json()["reference"]
        fine = send(api, PAYSLIP, "neben-kaputt").json()["reference"]
        assert broken.startswith("KK-")
        process_pending(services.store, services.settings, asker=services.asker)
        wait_until_triaged(app_server, [fine])
        item = services.store.inbox_item("kaputtkreis", broken)
        assert item.triage_status == "failed" and item.priority == 2 and "notlage" in item.flags
        assert services.store.inbox_item(TENANT, fine).triage_status == "done"
        services.store.add_staff_user("a.kaya", "kaputtkreis", ["sachbearbeitung"], PASSWORD)
        staff = login(api, "a.kaya")
        detail = api.get(f"/api/v1/staff/inbox/{broken}", headers=staff).json()
        assert detail["triage_error"] == "Die Einstellungen des Jobcenters sind fehlerhaft (InboxConfigError)."
        assert api.get("/api/v1/staff/inbox", headers=staff).json()["items"][0]["reference"] == broken

        config.write_text('name = "Jobcenter Kaputtkreis"\nreference_prefix = "KK"\n', encoding="utf-8")
        report = process_pending(services.store, services.settings, asker=services.asker, tenant="kaputtkreis", retry_failed=True)
        assert (report.done, report.failed) == (1, 0)
        actions = [e["action"] for e in api.get(f"/api/v1/staff/inbox/{broken}/audit", headers=staff).json()["entries"]]
        assert actions[:1] == ["accepted"] and actions[-2:] == ["triage_retry", "triaged"] and "triage_failed" in actions
    finally:
        config.unlink()


def test_a_mail_over_the_limits_is_taken_in_part_with_a_note_not_refused(api, app_server):
    """Unattended intake (IMAP) must not refuse a mail forever: what fits is kept."""
    from email.message import EmailMessage

    from amtslotse.inbox.intake import accept_mail

    mail = EmailMessage()
    mail["From"], mail["Subject"], mail["Message-ID"] = "a@example.org", "Viele Unterlagen", "<gross-1@example.org>"
    mail.set_content("Anbei alle Kontoauszüge. " + "x" * 60_000)
    mail.add_attachment(b"%PDF-1.4 " + b"0" * (11 * 1024 * 1024), maintype="application", subtype="pdf", filename="riesig.pdf")
    for n in range(11):
        mail.add_attachment(b"%PDF-1.4 klein", maintype="application", subtype="pdf", filename=f"auszug-{n}.pdf")
    services = app_server.services
    accepted = accept_mail(services.store, bytes(mail), TENANT, services.settings, "imap")
    item = services.store.inbox_item(TENANT, accepted.reference)
    assert item.body.startswith("Hinweis: Diese E-Mail wurde nicht vollständig übernommen")
    assert "Text gekürzt" in item.body and "Anbei alle Kontoauszüge" in item.body and len(item.body) <= 50_000
    assert [a.filename for a in item.attachments] == [f"auszug-{n}.pdf" for n in range(10)]
    assert item.channel == "email"  # IMAP and file import are one channel: one Message-ID, one message
    unreadable = accept_mail(services.store, b"\r\n\r\n", TENANT, services.settings, "imap")
    stored = services.store.inbox_item(TENANT, unreadable.reference)
    assert stored.body.startswith("Die E-Mail konnte nicht gelesen werden") and stored.attachments[0].filename == "original.eml"


@pytest.mark.slow  # a CLI subprocess per review step
def test_cli_review_steps_follow_the_workflow_and_are_logged(api, starter_settings, tmp_path, app_server):
    accepted = send(api, "Hallo, ich ziehe zum 1.12. um und brauche eine Zusicherung für die neue Miete.", key="cli-review-1")
    reference = accepted.json()["reference"]
    assert cli(starter_settings, "inbox", "process", "--tenant", TENANT).returncode == 0

    shown = cli(starter_settings, "inbox", "show", reference, "--as", "frau.meyer", "--tenant", TENANT, "--json")
    assert shown.returncode == 0, shown.stderr
    message = json.loads(shown.stdout)
    assert message["state"] == "new" and "Zusicherung" in message["text"] and message["draft"]["label"] == "Entwurf"
    too_early = cli(starter_settings, "inbox", "answer", reference, "--as", "frau.meyer", "--tenant", TENANT)
    assert too_early.returncode == 2 and "Traceback" not in too_early.stderr  # not yet in review

    steps = [
        ("review", [], "in Bearbeitung"),
        ("assign", ["--team", "KdU-Team"], "KdU-Team"),
        ("draft", ["--file", str(tmp_path / "entwurf.txt")], "in Bearbeitung"),
        ("answer", [], "beantwortet"),
    ]
    (tmp_path / "entwurf.txt").write_text("Guten Tag, bitte reichen Sie das Mietangebot ein.", encoding="utf-8")
    for step, extra, expect in steps:
        done = cli(starter_settings, "inbox", step, reference, "--as", "frau.meyer", "--tenant", TENANT, *extra)
        assert done.returncode == 0, (step, done.stderr)
        assert reference in done.stdout and expect in done.stdout, (step, done.stdout)
    closed = cli(starter_settings, "inbox", "close", reference, "--as", "frau.meyer", "--tenant", TENANT, "--reason", "erledigt")
    assert closed.returncode == 2 and "Traceback" not in closed.stderr  # answered is final

    audit = cli(starter_settings, "inbox", "audit", reference, "--tenant", TENANT)
    actions = [line.split()[3] for line in audit.stdout.splitlines()]
    assert actions[-5:] == ["viewed", "review_started", "assigned", "draft_edited", "answered"]
    assert "Zusicherung" not in audit.stdout and "Mietangebot" not in audit.stdout  # no message text in the log
    stored = app_server.services.store.inbox_item(TENANT, reference)
    assert stored.draft["approved_text"] == "Guten Tag, bitte reichen Sie das Mietangebot ein."
