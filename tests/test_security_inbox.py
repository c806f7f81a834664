"""Security finding 1 (issue 12): one attachment must not stall the inbox.

The attack: a 97 KB DOCX whose document.xml unpacks to 20 MB kept the only inbox worker at
100 % CPU for 13 minutes (a larger one peaked at 1.5 GB RSS; PDFs scale alike) while an
emergency sent meanwhile stayed untriaged. Each test replays a part of it with real files
(made here) against the real reader, processing and store (SQLite in a temporary folder).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from attack_files import docx_bomb, pdf_bomb
from embedding_cache import seed_triage_model
from amtslotse.inbox.attachments import Limits, analyze_isolated, check_unpacked_size, AttachmentError
from amtslotse.inbox.classify import load_model
from amtslotse.inbox.intake import accept
from amtslotse.inbox.message import Attachment, IncomingMessage
from amtslotse.inbox.processing import default_asker, process_pending
from amtslotse.inbox.triage import Triager
from amtslotse.services import Services
from amtslotse.settings import Settings

TENANT = "sicherheitskreis"
URGENT = "Bitte schnell helfen: Morgen wird uns der Strom abgestellt und ich habe kein Geld mehr für Essen."
PLAIN = "Anbei die Unterlagen, um die Sie gebeten hatten."


def read(data: bytes, filename: str, limits: Limits) -> Attachment:
    return analyze_isolated(Attachment(filename, "application/octet-stream", data), limits)


# --- the reader -------------------------------------------------------------------------------


def test_the_docx_bomb_is_refused_before_it_is_unpacked():
    bomb = docx_bomb(20 * 1024 * 1024)
    assert len(bomb) < 120_000  # the attack: about 97 KB
    attachment = read(bomb, "lebenslauf.docx", Limits())
    assert attachment.text == "" and "entpackt zu groß" in attachment.note
    with pytest.raises(AttachmentError):  # decided from the declared sizes, before any unpacking
        check_unpacked_size(bomb, 16 * 1024 * 1024)


def test_a_large_parent_process_does_not_make_a_refusal_look_like_a_memory_failure():
    """The server (models loaded) is large; the reader's peak memory is its own, not the
    parent's (getrusage carried the parent's over exec and turned every refusal into "zu viel
    Speicher")."""
    ballast = bytearray(700 * 1024 * 1024)
    ballast[:: 4096] = b"x" * len(range(0, len(ballast), 4096))  # resident, not only reserved
    attachment = read(docx_bomb(20 * 1024 * 1024), "lebenslauf.docx", Limits())
    del ballast
    assert "entpackt zu groß" in attachment.note, attachment.note


def test_a_slow_parse_is_stopped_by_the_cpu_budget():
    """Past the size check (a generous limit), the child's RLIMIT_CPU ends the parse."""
    limits = Limits(max_unpacked_bytes=10**9, cpu_seconds=2, timeout_seconds=120)
    for data, name in ((docx_bomb(20 * 1024 * 1024), "a.docx"), (pdf_bomb(8 * 1024 * 1024), "a.pdf")):
        attachment = read(data, name, limits)
        assert attachment.text == "" and "zu aufwendig" in attachment.note, (name, attachment.note)


def test_a_parse_that_needs_too_much_memory_is_stopped():
    attachment = read(docx_bomb(20 * 1024 * 1024), "a.docx", Limits(max_unpacked_bytes=10**9, memory_bytes=200 * 1024 * 1024))
    assert attachment.text == "" and "zu viel Speicher" in attachment.note


def test_the_wall_clock_budget_kills_the_reader():
    attachment = read(pdf_bomb(8 * 1024 * 1024), "a.pdf", Limits(timeout_seconds=1.5, cpu_seconds=600))
    assert attachment.text == "" and "nicht in 2 s gelesen" in attachment.note


def test_a_normal_attachment_is_read_in_its_process():
    attachment = read(docx_bomb(20_000), "brief.docx", Limits())
    assert attachment.note == "" and attachment.text.startswith("Lorem ipsum")


# --- processing ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    home = tmp_path_factory.mktemp("security-inbox")
    # A small budget, so that the slow attachment below costs seconds, not a minute.
    settings = Settings(home=home, embedder="none", llm_base_url="", llm_provider="", tenants_dir=None,
                        attachment_cpu_seconds=3, attachment_timeout_seconds=60)
    with Services.open(settings) as services:
        services.store.ensure_tenant(TENANT)
        seed_triage_model(home)  # trained once per machine (embedding_cache.py), not in every home
        triager = Triager(llm=None, model=load_model(home=home))
        yield services, triager


def submit(services, text: str, attachments: list[Attachment], key: str) -> str:
    message = IncomingMessage(channel="api", external_id=f"key:{key}", received_at=datetime.now(timezone.utc),
                              sender="", subject="", text=text, attachments=attachments)
    return accept(services.store, message, TENANT, services.settings).reference


def test_one_bad_attachment_is_marked_and_nothing_else(inbox):
    services, triager = inbox
    reference = submit(services, PLAIN, [
        Attachment("lebenslauf.docx", "application/octet-stream", docx_bomb(20 * 1024 * 1024)),
        Attachment("notiz.txt", "text/plain", "Kündigung der Wohnung zum 31.12.".encode()),
    ], "bomb-and-note")
    report = process_pending(services.store, services.settings, asker=default_asker(services.store, services.settings),
                             triager=triager, tenant=TENANT)
    assert report.failed == 0
    item = services.store.inbox_item(TENANT, reference)
    assert item.triage_status == "done"
    notes = item.fields["attachment_notes"]
    assert [n["attachment_id"] for n in notes] == [item.attachments[0].id]
    assert "entpackt zu groß" in notes[0]["note"]
    assert "Kündigung der Wohnung" in item.attachments[1].text


def test_urgent_text_is_flagged_before_attachments_are_read_also_when_it_arrives_meanwhile(inbox):
    """A message with a slow attachment is processed; meanwhile an emergency arrives. The
    emergency's flags are saved while the attachment is still being read, and it is the
    next message processed."""
    services, triager = inbox
    store = services.store
    slow = submit(services, PLAIN, [Attachment("kontoauszug.pdf", "application/pdf", pdf_bomb(8 * 1024 * 1024))], "slow")
    urgent_ref: list[str] = []
    order: list[str] = []

    def emergency_arrives():
        time.sleep(0.5)
        urgent_ref.append(submit(services, URGENT, [], "emergency"))

    sender = threading.Thread(target=emergency_arrives)
    sender.start()
    asker = default_asker(store, services.settings)
    report = process_pending(store, services.settings, asker=asker, triager=triager, tenant=TENANT,
                             on_message=lambda item, outcome: order.append(item.reference))
    sender.join()
    assert report.failed == 0
    slow_item, urgent_item = store.inbox_item(TENANT, slow), store.inbox_item(TENANT, urgent_ref[0])
    assert "zu aufwendig" in slow_item.fields["attachment_notes"][0]["note"]
    assert "notlage" in urgent_item.flags and urgent_item.triage_status == "done"
    flagged = next(e for e in store.audit_entries(TENANT, "inbox_message", str(urgent_item.id)) if e.action == "urgent_flags")
    slow_done = next(e for e in store.audit_entries(TENANT, "inbox_message", str(slow_item.id)) if e.action == "triaged")
    assert flagged.at <= slow_done.at  # flagged while the slow attachment was still being read
    assert order.index(slow) < order.index(urgent_ref[0])  # the slow one had started first


def test_pending_messages_are_flagged_and_the_most_urgent_goes_first(inbox):
    services, triager = inbox
    store = services.store
    first = submit(services, PLAIN, [Attachment("brief.docx", "application/octet-stream", docx_bomb(20_000))], "plain-first")
    second = submit(services, URGENT, [], "urgent-second")
    order: list[str] = []
    process_pending(store, services.settings, asker=default_asker(store, services.settings), triager=triager,
                    tenant=TENANT, on_message=lambda item, outcome: order.append(item.reference))
    assert order[:2] == [second, first]
    actions = [e.action for e in store.audit_entries(TENANT, "inbox_message", str(store.inbox_item(TENANT, second).id))]
    assert actions.index("urgent_flags") < actions.index("triaged")
