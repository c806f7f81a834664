"""Data protection (governance/privacy_requests.py, governance/records.py), on SQLite and
PostgreSQL: export (Art. 15) and erasure (Art. 17) of everything about one reference number or
conversation, with their reports, from the command line and the staff API; the generated record
of processing activities (Art. 30) and the public accessibility statement (BITV 2.0)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from amtslotse.governance.audit import verify_chain
from amtslotse.governance.privacy_requests import CaseNotFound, conversation_key, erase_case, export_case, find_case
from amtslotse.governance.records import accessibility_statement, processing_record
from amtslotse.settings import Settings
from amtslotse.tenants import load_tenant_config, load_tenant_file
from governance_data import PASSWORD, add_message, add_turn

pytest_plugins = ["governance_fixtures"]  # the `cli` and `gov` fixtures

T, U = "musterkreis", "beispielstadt"
TALK, OTHER_TALK = "gespraech-mit-uebergabe-1", "anderes-gespraech-2"


def fill(store) -> dict:
    if hasattr(store, "open_conversation"):
        assert store.open_conversation(TALK, T, None).secret  # its secret (security): goes with the conversation
    add_turn(store, T, TALK, "Mein Name ist [NAME], wann kommt das Geld?")
    add_turn(store, T, TALK, "Ich möchte mit jemandem sprechen.", outcome="handover")
    chat_id, chat_ref = add_message(store, T, "chat-1", channel="chat", conversation=TALK, attachments=0,
                                    body="Zusammenfassung: Frau Erika Beispiel wartet auf die Zahlung.")
    mail_id, mail_ref = add_message(store, T, "mail-1", attachments=2)
    add_turn(store, T, OTHER_TALK, "Was ist Bürgergeld?")
    add_message(store, U, "mail-u", attachments=1, prefix="BS")
    return {"chat": (chat_id, chat_ref), "mail": (mail_id, mail_ref)}


def test_export_by_reference_has_the_message_its_attachments_and_the_conversation_it_came_from(store):
    refs = fill(store)
    data = export_case(store, T, reference=refs["chat"][1], actor="d.schutz")
    assert data["found"]["Nachrichten im Posteingang"] == 1 and data["found"]["Gespräche"] == 1
    assert data["found"]["Fragen und Antworten"] == 2
    [message] = data["inbox_messages"]
    assert message["reference"] == refs["chat"][1] and "Erika Beispiel" in message["body"]
    assert message["audit"][0]["action"] == "accepted"
    [talk] = data["conversations"]
    assert talk["conversation_id"] == TALK and [t["question"] for t in talk["turns"]][0].startswith("Mein Name ist [NAME]")
    json.dumps(data)  # JSON-ready

    mail = export_case(store, T, reference=refs["mail"][1], actor="d.schutz")
    attachments = mail["inbox_messages"][0]["attachments"]
    assert len(attachments) == 2 and base64.b64decode(attachments[0]["data_base64"]).startswith(b"%PDF")
    assert mail["conversations"] == [] and mail["found"]["Anhänge"] == 2
    lean = export_case(store, T, reference=refs["mail"][1], actor="d.schutz", attachments=False)
    assert "data_base64" not in lean["inbox_messages"][0]["attachments"][0]

    exported = [e for e in store.audit_entries(T) if e.action == "exported"]
    assert [e.actor for e in exported] == ["d.schutz"] * 3 and exported[0].details["article"] == "Art. 15 DSGVO"


def test_export_by_conversation_finds_the_handover(store):
    refs = fill(store)
    data = export_case(store, T, conversation_id=TALK, actor="d.schutz")
    assert [m["reference"] for m in data["inbox_messages"]] == [refs["chat"][1]]
    assert data["request"] == {"conversation": conversation_key(TALK)}
    entry = [e for e in store.audit_entries(T) if e.action == "exported"][-1]
    assert entry.object_type == "conversation" and entry.object_id == conversation_key(TALK)
    assert TALK not in json.dumps([e.details for e in store.audit_entries(T)])  # the id is a credential


def test_nothing_stored_and_other_tenants_are_not_found(store):
    refs = fill(store)
    with pytest.raises(CaseNotFound):
        export_case(store, T, reference="MK-2026-999999", actor="d.schutz")
    with pytest.raises(CaseNotFound):
        find_case(store, U, reference=refs["mail"][1])  # another tenant's reference
    with pytest.raises(CaseNotFound):
        find_case(store, U, conversation_id=TALK)
    with pytest.raises(Exception, match="genau eines"):
        find_case(store, T)


def test_erasure_removes_the_case_and_reports_it(store):
    refs = fill(store)
    before_audit = len(store.audit_entries(T, limit=100_000))
    report = erase_case(store, T, reference=refs["chat"][1], actor="d.schutz")
    assert report.removed["Nachrichten im Posteingang"] == 1 and report.removed["Gespräche"] == 1
    assert report.removed["Fragen und Antworten"] == 2
    if hasattr(store, "open_conversation"):
        assert report.removed["Gesprächsschlüssel"] == 1
    assert report.kept["Protokolleinträge"] >= 1 and any("Prüfprotokoll bleibt" in n for n in report.notes)
    assert store.inbox_item(T, refs["chat"][1]) is None and store.conversation_record(T, TALK) is None
    assert store.conversation_tenant(TALK) is None
    # What is not the case stays: the other message, the other conversation, the other tenant.
    assert store.inbox_item(T, refs["mail"][1]) is not None and store.conversation_record(T, OTHER_TALK) is not None
    assert len(store.inbox_items(U)) == 1
    erased = store.audit_entries(T, limit=100_000)[-1]
    assert (erased.actor, erased.action, erased.details["article"]) == ("d.schutz", "erased", "Art. 17 DSGVO")
    assert erased.details["references"] == [refs["chat"][1]] and len(store.audit_entries(T, limit=100_000)) == before_audit + 1
    assert verify_chain(store, T).ok  # erasure never touches the log

    mail = erase_case(store, T, reference=refs["mail"][1], actor="d.schutz")
    assert mail.removed == {"Anhänge": 2, "Nachrichten im Posteingang": 1} or (
        mail.removed["Anhänge"] == 2 and mail.removed["Nachrichten im Posteingang"] == 1)
    with pytest.raises(CaseNotFound):
        erase_case(store, T, reference=refs["mail"][1], actor="d.schutz")


def test_privacy_from_the_command_line(cli, store_factory, tmp_path):
    store = store_factory()
    refs = fill(store)
    out = tmp_path / "auskunft.json"
    result = cli("privacy", "export", "--reference", refs["mail"][1], "--tenant", T, "--output", str(out), "--as", "d.schutz")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["found"]["Anhänge"] == 2 and data["inbox_messages"][0]["sender"] == "erika@example.org"
    to_stdout = cli("privacy", "export", "--conversation", TALK, "--tenant", T)
    assert to_stdout.exit_code == 0 and json.loads(to_stdout.stdout)["found"]["Gespräche"] == 1

    refused = cli("privacy", "erase", "--conversation", TALK, "--tenant", T, input="n\n")
    assert refused.exit_code == 1 and store.conversation_record(T, TALK) is not None
    erased = cli("privacy", "erase", "--conversation", TALK, "--tenant", T, "--yes")
    assert erased.exit_code == 0, erased.output
    assert "Gespräche: 1" in erased.output and "Nachrichten im Posteingang: 1" in erased.output
    assert "Bleibt: Protokolleinträge" in erased.output
    assert store.conversation_record(T, TALK) is None
    missing = cli("privacy", "export", "--reference", "MK-2026-424242", "--tenant", T)
    assert isinstance(missing.exception, CaseNotFound)
    both = cli("privacy", "export", "--reference", "x", "--conversation", "y", "--tenant", T)
    assert both.exception is not None and "genau eines" in str(both.exception)


def test_privacy_over_the_staff_api(gov):
    refs = fill(gov.store)
    gov.store.add_staff_user("d.schutz", T, ["admin"], PASSWORD)
    gov.store.add_staff_user("s.sach", T, ["sachbearbeitung"], PASSWORD)
    gov.store.add_staff_user("b.anders", U, ["admin"], PASSWORD)
    admin, clerk, other = gov.login("d.schutz"), gov.login("s.sach"), gov.login("b.anders")
    api = gov.client
    exported = api.post("/api/v1/staff/privacy/export", json={"reference": refs["chat"][1]}, headers=admin)
    assert exported.status_code == 200 and exported.json()["found"]["Gespräche"] == 1
    assert exported.headers["cache-control"] == "no-store"
    assert api.post("/api/v1/staff/privacy/export", json={"reference": refs["chat"][1]}, headers=clerk).status_code == 403
    assert api.post("/api/v1/staff/privacy/export", params={"tenant": T}, json={"reference": refs["chat"][1]},
                    headers=other).status_code == 403
    assert api.post("/api/v1/staff/privacy/export", json={"reference": "MK-2026-000999"}, headers=admin).status_code == 404
    assert api.post("/api/v1/staff/privacy/erase", json={"reference": refs["chat"][1]}, headers=admin).status_code == 422
    erased = api.post("/api/v1/staff/privacy/erase", json={"conversation_id": TALK, "confirm": True}, headers=admin)
    assert erased.status_code == 200 and erased.json()["removed"]["Gespräche"] == 1
    assert gov.store.inbox_item(T, refs["chat"][1]) is None

    record = api.get("/api/v1/staff/privacy/records", headers=admin)
    assert record.status_code == 200 and record.headers["content-type"].startswith("text/markdown")
    assert record.text.startswith("# Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)")
    page = api.get("/api/v1/staff/privacy/records", params={"format": "html"}, headers=admin)
    assert page.status_code == 200 and "<table>" in page.text and "§ 80" in page.text
    assert api.get("/api/v1/staff/privacy/records", headers=clerk).status_code == 403


def test_the_audit_chain_over_the_staff_api(gov):
    fill(gov.store)
    gov.store.add_staff_user("d.schutz", T, ["admin"], PASSWORD)
    gov.store.add_staff_user("v.verbund", "*", ["admin"], PASSWORD)
    gov.store.add_staff_user("s.sach", T, ["sachbearbeitung"], PASSWORD)
    own = gov.client.get("/api/v1/staff/admin/audit/verify", headers=gov.login("d.schutz"))
    assert own.status_code == 200 and own.json()["ok"] and [c["tenant"] for c in own.json()["chains"]] == [T]
    everyone = gov.client.get("/api/v1/staff/admin/audit/verify", headers=gov.login("v.verbund")).json()
    assert {c["tenant"] for c in everyone["chains"]} == {T, U}
    assert gov.client.get("/api/v1/staff/admin/audit/verify", headers=gov.login("s.sach")).status_code == 403
    assert gov.client.get("/api/v1/staff/admin/audit/verify", params={"tenant": U},
                          headers=gov.login("d.schutz")).status_code == 403


# --- generated records --------------------------------------------------------------------------------

OWN = """name = "Jobcenter Landkreis Nordkreis"
reference_prefix = "NK"
privacy_url = "https://jobcenter.nordkreis.example/datenschutz"

[privacy]
controller = "Jobcenter Landkreis Nordkreis, Kreishaus 1, 12345 Nordstadt"
dpo = "Datenschutzbeauftragte, datenschutz@jobcenter.nordkreis.example"
operator = "Kommunale IT-Genossenschaft eG"
hosting = "Rechenzentrum in Deutschland"
recipients = ["Fachaufsicht (nur auf Anforderung)"]

[[privacy.sub_processors]]
name = "Beispiel-Rechenzentrum GmbH"
purpose = "Betrieb der Server"
location = "Deutschland"

[accessibility]
feedback_url = "https://jobcenter.nordkreis.example/barriere-melden"
feedback_phone = "0123 4567"
status = "teilweise"
known_issues = ["Die Vorlesefunktion fehlt noch."]
reviewed = "2026-11-30"
"""


def own_config(tmp_path: Path):
    path = tmp_path / "tenants" / "nordkreis.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(OWN, encoding="utf-8")
    return load_tenant_file(path)


def test_the_record_of_processing_activities_comes_from_configuration_and_settings(tmp_path):
    settings = Settings(home=tmp_path, embedder="none", conversation_retention_days=14, inbox_retention_days=60,
                        llm_base_url="https://llm.anbieter.example/v1", imap_host="mail.kreis.example")
    text = processing_record(own_config(tmp_path), settings).markdown()
    for part in ("Jobcenter Landkreis Nordkreis, Kreishaus 1", "datenschutz@jobcenter.nordkreis.example",
                 "14 Tage nach der letzten Nachricht", "60 Tage nach Eingang", "Beispiel-Rechenzentrum GmbH",
                 "llm.anbieter.example", "mail.kreis.example", "§ 80 Abs. 2 SGB X", "Art. 9 DSGVO",
                 "Fachaufsicht (nur auf Anforderung)", "| Zweck |"):
        assert part in text, part
    assert "Offene Punkte" not in text  # the file has everything the record needs
    sample = processing_record(load_tenant_config(T, Settings(home=tmp_path / "x", embedder="none")),
                               Settings(home=tmp_path, embedder="none"))
    assert "bitte in der Mandanten-Datei unter [privacy] eintragen" in sample.markdown()
    assert "Offene Punkte" in sample.markdown() and "<h2>6. Offene Punkte</h2>" in sample.html()


def test_the_accessibility_statement_names_its_feedback_link(tmp_path):
    doc = accessibility_statement(own_config(tmp_path), Settings(home=tmp_path, embedder="none"),
                                  chat_url="https://amtslotse.example/chat/nordkreis")
    html = doc.html()
    assert '<html lang="de">' in html and "<h1>Erklärung zur Barrierefreiheit" in html
    assert '<a href="https://jobcenter.nordkreis.example/barriere-melden">' in html and "0123 4567" in html
    assert "teilweise vereinbar" in html and "Die Vorlesefunktion fehlt noch." in html and "30.11.2026" in html
    assert "schlichtungsstelle-bgg.de" in html and "BITV 2.0" in html


def test_the_accessibility_statement_is_served_per_tenant(gov):
    page = gov.client.get(f"/tenants/{T}/barrierefreiheit")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Jobcenter Landkreis Musterkreis" in page.text
    assert '<a href="https://jobcenter.musterkreis.example/barrierefreiheit">' in page.text  # the feedback link
    assert "http://testserver/chat/musterkreis" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert gov.client.get("/tenants/gibtsnicht/barrierefreiheit").status_code == 404
    assert gov.client.get("/tenants/..%2Fetc/barrierefreiheit").status_code == 404


def test_cli_writes_the_records(cli, tmp_path):
    own_config(tmp_path)
    record = cli("privacy", "records", "--tenant", "nordkreis", "--format", "md")
    assert record.exit_code == 0 and "Beispiel-Rechenzentrum GmbH" in record.output
    out = tmp_path / "erklaerung.html"
    page = cli("privacy", "accessibility", "--tenant", "nordkreis", "--output", str(out))
    assert page.exit_code == 0 and "barriere-melden" in out.read_text(encoding="utf-8")
