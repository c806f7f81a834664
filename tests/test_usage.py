"""Usage and costs per tenant (governance/usage.py), on SQLite and PostgreSQL: flows counted per
day as they are stored (and kept after retention and erasure), stocks read at report time, a
monthly report as JSON, CSV and HTML from the command line and the staff API, and each
Landkreis's share of the cooperative's total."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from amtslotse.errors import InputError
from amtslotse.governance.usage import cooperative_report, month_range, record_usage, usage_report
from governance_data import PASSWORD, add_message, add_turn

pytest_plugins = ["governance_fixtures"]  # the `cli` and `gov` fixtures

T, U = "musterkreis", "beispielstadt"
DEC = datetime(2026, 12, 3, 10, tzinfo=timezone.utc)
NOV = datetime(2026, 11, 28, 10, tzinfo=timezone.utc)
LATER = date(2027, 2, 1)  # "today" for the reports: December is over


def fill(store) -> None:
    add_turn(store, T, "gespraech-dez-1", "Zahlt ihr die Miete?", "curated", DEC)
    add_turn(store, T, "gespraech-dez-1", "Und die Heizung?", "extractive", DEC)
    add_turn(store, T, "gespraech-dez-2", "Was ist Mehrbedarf?", "generative", DEC)
    add_turn(store, T, "gespraech-dez-2", "Hallo", "fixed", DEC)
    add_turn(store, T, "gespraech-nov-1", "Wann kommt das Geld?", "curated", NOV)  # November: not December's
    add_message(store, T, "mail-1", at=DEC, attachments=2)
    add_message(store, T, "api-1", channel="api", at=DEC, attachments=0)
    add_message(store, T, "chat-1", channel="chat", at=DEC, conversation="gespraech-dez-1", attachments=0)
    add_message(store, T, "mail-nov", at=NOV, attachments=1)
    add_turn(store, U, "gespraech-u-1", "Wo ist das Amt?", "curated", DEC)
    add_message(store, U, "mail-u-1", at=DEC, attachments=0, prefix="BS")
    record_usage(store, T, "ocr_pages", 5, DEC.date())
    record_usage(store, T, "llm_tokens", 1234, DEC.date())


def test_a_month_counts_what_was_stored_in_it(store, tmp_path):
    from amtslotse.settings import Settings

    fill(store)
    report = usage_report(store, Settings(home=tmp_path, embedder="none"), T, "2026-12", today=LATER)
    m = report.metrics
    assert (m["conversations"], m["answers"], m["answers:curated"], m["answers:extractive"], m["answers:generative"],
            m["answers:fixed"]) == (2, 4, 1, 1, 1, 1)
    assert (m["inbox_items"], m["inbox:email"], m["inbox:api"], m["handovers"], m["attachments"]) == (3, 1, 1, 1, 2)
    assert (m["ocr_pages"], m["llm_tokens"]) == (5, 1234)
    assert report.period == {"from": "2026-12-01", "to": "2026-12-31"} and report.tenant_name == "Jobcenter Landkreis Musterkreis"
    assert report.stored["inbox_messages"] == 4 and report.stored["attachment_bytes"] > 0
    assert not any("läuft noch" in n for n in report.notes)
    november = usage_report(store, Settings(home=tmp_path, embedder="none"), T, "2026-11", today=LATER).metrics
    assert (november["conversations"], november["answers"], november["inbox_items"]) == (1, 1, 1)


def test_counts_outlive_retention_and_erasure(store, tmp_path):
    """A bill must not shrink because data protection deleted the conversations."""
    from amtslotse.governance.privacy_requests import erase_case
    from amtslotse.privacy.retention import purge_expired
    from amtslotse.settings import Settings

    fill(store)
    settings = Settings(home=tmp_path, embedder="none")
    before = usage_report(store, settings, T, "2026-12", today=LATER).metrics
    erase_case(store, T, conversation_id="gespraech-dez-1", actor="d.schutz")
    purge_expired(store, datetime(2027, 6, 1, tzinfo=timezone.utc))
    assert store.inbox_items(T) == [] and store.turns_between(T, NOV, LATER_DT) == []
    after = usage_report(store, settings, T, "2026-12", today=LATER)
    assert after.metrics == before and after.stored["inbox_messages"] == 0


LATER_DT = datetime(2027, 2, 1, tzinfo=timezone.utc)


def test_the_cooperative_report_shares_the_total(store, tmp_path):
    from amtslotse.settings import Settings

    fill(store)
    report = cooperative_report(store, Settings(home=tmp_path, embedder="none"), "2026-12", today=LATER)
    by_tenant = {r.tenant: r for r in report.reports}
    assert set(by_tenant) == {T, U}
    assert report.totals["conversations"] == 3 and report.totals["inbox_items"] == 4
    assert by_tenant[T].shares["conversations"] == pytest.approx(2 / 3, abs=1e-4)
    assert by_tenant[U].shares["inbox_items"] == pytest.approx(0.25)
    assert sum(r.shares["conversations"] for r in report.reports) == pytest.approx(1.0, abs=1e-3)
    rows = list(csv.reader(io.StringIO(report.csv().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Mandant", "Jobcenter", "Monat", "Gespräche"]
    assert [r[0] for r in rows[1:]] == [U, T, "Summe"] and rows[-1][3] == "3"
    assert "Anteil Gespräche (%)" in rows[0] and "66,7" in rows[2]


def test_formats(store, tmp_path):
    from amtslotse.settings import Settings

    fill(store)
    report = usage_report(store, Settings(home=tmp_path, embedder="none"), T, "2026-12", today=LATER)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["month"] == "2026-12" and data["labels"]["answers:generative"] == "Antworten: vom Sprachmodell formuliert"
    html = report.html()
    assert html.startswith("<!doctype html>") and '<html lang="de">' in html and "Nutzung im Dezember 2026" in html
    assert '<th scope="row">Gespräche</th><td>2</td>' in html and "<caption>" in html
    rows = list(csv.reader(io.StringIO(report.csv().decode("utf-8-sig")), delimiter=";"))
    header, row = rows
    assert row[header.index("Seiten mit Texterkennung (OCR)")] == "5"


def test_notes_say_why_a_figure_is_zero(store, tmp_path):
    from amtslotse.settings import Settings

    add_message(store, T, "mail-1", at=DEC, attachments=1)
    report = usage_report(store, Settings(home=tmp_path, embedder="none", llm_base_url=""), T, "2026-12",
                          today=date(2026, 12, 10))
    notes = " ".join(report.notes)
    assert "läuft noch" in notes and "kein Sprachmodell eingerichtet" in notes and "Texterkennung: 0" in notes
    with_llm = usage_report(store, Settings(home=tmp_path, embedder="none", llm_base_url="http://127.0.0.1:9/v1"), T,
                            "2026-12", today=LATER)
    assert any("meldet seinen Verbrauch nicht" in n for n in with_llm.notes)


@pytest.mark.parametrize("month", ["2026-13", "Dezember", "2026/12", ""])
def test_a_bad_month_is_a_german_error(month):
    with pytest.raises(InputError, match="kein Monat"):
        month_range(month)


def test_month_range_wraps_the_year():
    assert month_range("2026-12") == ("2026-12", date(2026, 12, 1), date(2027, 1, 1))
    assert month_range(None, today=date(2026, 3, 15))[0] == "2026-03"


def test_usage_from_the_command_line(cli, store_factory):
    fill(store_factory())
    result = cli("usage", "--tenant", T, "--month", "2026-12", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["tenant"] == T and data["metrics"]["conversations"] == 2 and data["metrics"]["handovers"] == 1
    table = cli("usage", "--tenant", T, "--month", "2026-12", "--format", "csv")
    assert table.exit_code == 0 and table.output.splitlines()[0].startswith("Mandant;Jobcenter;Monat;Gespräche")
    page = cli("usage", "--tenant", T, "--month", "2026-12", "--format", "html")
    assert page.exit_code == 0 and "<table>" in page.output
    everyone = cli("usage", "--month", "2026-12", "--format", "json")
    assert {t["tenant"] for t in json.loads(everyone.output)["tenants"]} == {T, U}
    wrong = cli("usage", "--format", "xml")
    assert wrong.exception is not None and "xml" in str(wrong.exception)


def test_usage_over_the_staff_api(gov):
    fill(gov.store)
    gov.store.add_staff_user("a.auswertung", T, ["auswertung"], PASSWORD)
    gov.store.add_staff_user("s.nurpost", T, ["sachbearbeitung"], PASSWORD)
    gov.store.add_staff_user("v.verbund", "*", ["admin"], PASSWORD)
    own, clerk, cooperative = gov.login("a.auswertung"), gov.login("s.nurpost"), gov.login("v.verbund")
    api = gov.client
    response = api.get("/api/v1/staff/admin/usage", params={"tenant": T, "month": "2026-12"}, headers=own)
    assert response.status_code == 200 and response.json()["metrics"]["answers:curated"] == 1
    assert response.headers["cache-control"] == "no-store"
    as_csv = api.get("/api/v1/staff/admin/usage", params={"tenant": T, "month": "2026-12", "format": "csv"}, headers=own)
    assert as_csv.headers["content-type"].startswith("text/csv") and "amtslotse-nutzung-musterkreis-2026-12.csv" in \
        as_csv.headers["content-disposition"]
    as_html = api.get("/api/v1/staff/admin/usage", params={"tenant": T, "month": "2026-12", "format": "html"}, headers=own)
    assert as_html.status_code == 200 and "Nutzung im Dezember 2026" in as_html.text
    assert api.get("/api/v1/staff/admin/usage", params={"tenant": U, "month": "2026-12"}, headers=own).status_code == 403
    assert api.get("/api/v1/staff/admin/usage", params={"tenant": T}, headers=clerk).status_code == 403
    assert api.get("/api/v1/staff/admin/usage", params={"month": "2026-12"}, headers=own).status_code == 403
    everyone = api.get("/api/v1/staff/admin/usage", params={"month": "2026-12"}, headers=cooperative)
    assert everyone.status_code == 200 and everyone.json()["totals"]["conversations"] == 3
    bad = api.get("/api/v1/staff/admin/usage", params={"tenant": T, "month": "13/2026"}, headers=own)
    assert bad.status_code == 422 and "kein Monat" in bad.json()["error"]["message"]


@pytest.mark.ocr
def test_ocr_pages_are_counted_when_an_attachment_is_read(store, tmp_path):
    """A scanned page (PNG) read by OCR during processing counts as one page of the tenant's
    month; the triage's audit entry names it too."""
    from amtslotse.inbox.classify import load_model
    from amtslotse.inbox.intake import accept
    from amtslotse.inbox.mail import parse_email
    from amtslotse.inbox.processing import default_asker, process_pending
    from amtslotse.inbox.triage import Triager
    from amtslotse.settings import Settings

    settings = Settings(home=tmp_path, embedder="none", llm_base_url="", llm_provider="", tenants_dir=None)
    mail = Path(__file__).parent / "data" / "mail" / "01-krankmeldung.eml"
    reference = accept(store, parse_email(mail.read_bytes()), T, settings).reference
    report = process_pending(store, settings, asker=default_asker(store, settings),
                             triager=Triager(llm=None, model=load_model(home=tmp_path)), tenant=T)
    assert report.done == 1
    today = datetime.now(timezone.utc).date()
    assert store.usage_totals(T, today, date.fromordinal(today.toordinal() + 1))["ocr_pages"] == 1
    item = store.inbox_item(T, reference)
    triaged = next(e for e in store.audit_entries(T, "inbox_message", str(item.id)) if e.action == "triaged")
    assert triaged.details["ocr_pages"] == 1
