"""The staff workspace in a real browser (Chromium) against the real app and the starter pack.

A citizen hands an urgent case over in the chat (the real chat and handover API); staff log in,
find it at the top of the inbox (Notlage before Frist before the rest), open it (personal data
marked, fields, draft with sources), take it over, edit and approve the draft; forward and close
other messages; every step is in the audit trail. Every page is checked with axe-core
(0 violations) at 1280 px and on a tablet; screenshots in test-output/screenshots/staff-*.png.

The `chat` fixture of conftest.py is the browser tab (console errors fail the test; a failing
test leaves a screenshot); `staff` turns it into a desktop window.
"""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest

from amtslotse.inbox.processing import process_pending
from amtslotse.knowledge.ingest import embed_missing, ingest_paths

from .conftest import SCREENSHOTS

TENANT = "dienstkreis"  # only this module's messages: the shared server also serves other tests
PASSWORD = "Sachbearbeitung-2026"
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}

NAME, BG = "Ayşe Demir", "12345BG0012345"
URGENT = (
    f"Guten Tag, ich heiße {NAME}, meine BG-Nummer ist {BG}. Morgen wird uns der Strom abgestellt "
    "und ich habe kein Geld mehr für Essen für die Kinder."
)
CONTACT = "0171 2345678"
DEADLINE = (
    "Hiermit lege ich Widerspruch gegen den Bescheid vom 10.11.2026 ein, die Frist läuft bald ab. "
    "Die Kosten der Unterkunft wurden zu niedrig berechnet. Mit freundlichen Grüßen Jonas Keller"
)
# The tenant's own page: what the draft of the Widerspruch cites.
GUIDANCE = """Widerspruch gegen einen Bescheid im Dienstkreis

Gegen einen Bescheid des Jobcenters Dienstkreis können Sie innerhalb eines Monats Widerspruch einlegen. Die Frist beginnt mit dem Zugang des Bescheids. Der Widerspruch muss schriftlich oder zur Niederschrift beim Jobcenter eingelegt werden.

Wurden die Kosten der Unterkunft zu niedrig berechnet, prüft die Widerspruchsstelle den Bescheid vollständig und schickt Ihnen einen Widerspruchsbescheid.
"""
SPRECHZEITEN = """Sprechstunde im Dienstkreis

Die Sprechstunde des Jobcenters Dienstkreis ist jeden Dienstag von 8 bis 12 Uhr im Zimmer 12. Ohne Termin können Sie in der Sprechstunde Unterlagen abgeben.
"""
PAYSLIP = "Anbei meine Lohnabrechnung für Oktober, ich habe seit September einen Minijob."


def wait_until_triaged(app_server, references: list[str]) -> None:
    """Process what is pending (the server's worker may be at it too) and wait until every
    message is done: a readiness wait, not a timed assertion."""
    services = app_server.services
    process_pending(services.store, services.settings, asker=services.asker, tenant=TENANT)
    deadline = time.monotonic() + 300
    while any(services.store.inbox_item(TENANT, ref).triage_status == "pending" for ref in references):
        assert time.monotonic() < deadline, "processing did not finish"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def workspace(app_server, tmp_path_factory) -> dict:
    """Accounts and three messages: a normal one and one with a deadline first (older), then
    the citizen's urgent handover from the chat (newest, yet on top)."""
    store = app_server.services.store
    store.ensure_tenant(TENANT)
    store.add_staff_user("m.weber", TENANT, ["sachbearbeitung"], PASSWORD)
    store.add_staff_user("l.stat", TENANT, ["auswertung"], PASSWORD)
    store.add_staff_user("r.haas", TENANT, ["redaktion"], PASSWORD)
    store.add_staff_user("k.verbund", "*", ["sachbearbeitung"], PASSWORD)  # the cooperative: all Jobcenter
    page = tmp_path_factory.mktemp("dienstkreis") / "widerspruch.txt"
    page.write_text(GUIDANCE, encoding="utf-8")
    services = app_server.services
    assert not ingest_paths([page], store, services.settings, tenant=TENANT).failed
    embed_missing(store, services.embedder, services.settings.embed_batch_size)
    with httpx.Client(base_url=app_server.url, timeout=120) as api:
        refs = {}
        for key, text, subject in (("payslip", PAYSLIP, ""), ("deadline", DEADLINE, "Widerspruch")):
            sent = api.post("/api/v1/inbox", json={"tenant": TENANT, "text": text, "subject": subject})
            assert sent.status_code == 202, sent.text
            refs[key] = sent.json()["reference"]
        conversation = str(uuid.uuid4())
        asked = api.post(f"/api/v1/conversations/{conversation}/messages", json={"tenant": TENANT, "text": URGENT})
        assert asked.status_code == 200 and asked.json()["urgent"], asked.text
        handed = api.post("/api/v1/handovers", json={
            "conversation_id": conversation, "summary": URGENT, "contact": CONTACT, "consent": True},
            headers={"X-Conversation-Token": asked.json()["conversation_token"]})
        assert handed.status_code == 201 and handed.json()["priority"] is True, handed.text
        refs["handover"] = handed.json()["reference"]
    wait_until_triaged(app_server, list(refs.values()))
    return refs


@pytest.fixture
def staff(chat):
    chat.page.set_viewport_size(DESKTOP)
    return chat


def log_in(staff, name: str = "m.weber", start: str = "/staff") -> None:
    staff.page.goto(f"{staff.app_url}{start}")
    staff.page.wait_for_url(re.compile(r"/staff/login\?next="))
    staff.page.get_by_label("Benutzername").fill(name)
    staff.page.get_by_label("Passwort").fill(PASSWORD)
    staff.page.get_by_label("Passwort").press("Enter")
    staff.page.wait_for_url(re.compile(re.escape(start) + r"$"))
    staff.problems[:] = [p for p in staff.problems if "401" not in p]  # the expected request before the login


def full_shot(staff, name: str) -> None:
    """The whole page, not only the window: long pages are checked below the fold too."""
    staff.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def queue(staff) -> list[str]:
    staff.page.locator("table.queue caption:not(:empty)").wait_for()
    return staff.page.locator("table.queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.reference)")


def open_message(staff, reference: str) -> None:
    staff.page.get_by_role("link", name=reference, exact=True).click()
    staff.page.wait_for_url(re.compile(f"/staff/inbox/{reference}(\\?tenant=[a-z0-9_-]+)?$"))
    staff.page.locator("#audit-title").wait_for()


def step(staff, button: str, result: str) -> None:
    staff.page.get_by_role("button", name=button, exact=True).click()
    status = staff.page.get_by_role("status")
    staff.page.wait_for_function("text => document.querySelector('.status').textContent.startsWith(text)", arg=result)
    assert status.get_attribute("aria-live") == "polite"


def api_detail(app_server, reference: str) -> dict:
    with httpx.Client(base_url=app_server.url, timeout=60) as api:
        token = api.post("/api/v1/staff/login", json={"name": "m.weber", "password": PASSWORD}).json()["token"]
        return api.get(f"/api/v1/staff/inbox/{reference}", headers={"Authorization": f"Bearer {token}"}).json()


def test_staff_log_in_find_the_handover_on_top_open_it_and_approve_the_draft(staff, workspace, app_server):
    page = staff.page
    page.goto(f"{staff.app_url}/staff")
    page.wait_for_url(re.compile(r"/staff/login\?next=%2Fstaff$"))  # no session: to the login, and back after it
    assert page.evaluate("() => document.activeElement.id") == "login-name"
    staff.axe_clean("staff-login")
    staff.shot("staff-01-login")
    page.get_by_label("Benutzername").fill("m.weber")
    page.get_by_label("Passwort").fill("falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    alert = page.locator("#login-error")
    page.wait_for_function("() => document.querySelector('#login-error').textContent !== ''")
    assert alert.inner_text() == "Name oder Passwort ist falsch." and alert.get_attribute("role") == "alert"
    staff.problems[:] = [p for p in staff.problems if "401" not in p]  # the expected failed login request
    staff.axe_clean("staff-login-error")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Passwort").press("Enter")
    page.wait_for_url(re.compile(r"/staff$"))

    # The session is an HttpOnly cookie: nothing of it in JavaScript's reach.
    cookie = next(c for c in page.context.cookies() if c["name"] == "amtslotse_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("() => [document.cookie, localStorage.length, sessionStorage.length]") == ["", 0, 0]
    bar = page.locator("#bar")
    # The bar names the user once the page has asked who is logged in (a request after the load).
    page.wait_for_function("() => document.querySelector('#bar').textContent.includes('m.weber')")
    assert "m.weber" in bar.inner_text() and "Rollen: Sachbearbeitung" in bar.inner_text()
    assert bar.get_by_role("link", name="Posteingang").get_attribute("aria-current") == "page"
    assert bar.get_by_role("link", name="Auswertung").count() == 0  # not this account's role

    order = queue(staff)
    assert order == [workspace["handover"], workspace["deadline"], workspace["payslip"]], order
    first = page.locator("table.queue tbody tr").first
    assert "Notlage" in first.inner_text() and "aus dem Chat" in first.inner_text()
    assert NAME not in page.locator("table.queue").inner_text()  # the list shows redacted previews only
    assert page.get_by_role("status").inner_text() == "3 Nachrichten, dringende zuerst"
    staff.axe_clean("staff-inbox")
    staff.shot("staff-02-inbox")

    # Filters: a GET form, so the address keeps them.
    page.get_by_label("Markierung").select_option("frist")
    page.get_by_role("button", name="Filter anwenden").click()
    page.wait_for_url(re.compile(r"flag=frist"))
    with_deadline = queue(staff)  # the handover ("morgen") has a deadline too
    assert workspace["deadline"] in with_deadline and workspace["payslip"] not in with_deadline
    assert page.locator("table.queue tbody tr").count() == page.locator("tbody tr:has(.badge-frist), tbody tr:has(.badge-notlage)").count()
    assert page.get_by_label("Markierung").input_value() == "frist"
    page.get_by_label("Kategorie").select_option("krankmeldung")
    page.get_by_role("button", name="Filter anwenden").click()
    page.wait_for_url(re.compile(r"category=krankmeldung"))
    assert queue(staff) == [] and page.locator("table.queue caption").inner_text() == "Keine Nachrichten zu diesen Filtern."
    page.get_by_role("link", name="Zurücksetzen").click()
    page.wait_for_url(re.compile(r"/staff$"))
    assert queue(staff)[0] == workspace["handover"]

    # The message: clear text with the personal data marked, fields, the draft.
    open_message(staff, workspace["handover"])
    marks = page.locator("mark.personal[data-kind]").evaluate_all("ms => ms.map(m => m.firstChild.textContent)")
    assert NAME in marks and BG in marks and CONTACT in marks, marks
    assert "(persönliche Daten: NAME)" in page.locator(".message-text").inner_text()  # said to screen readers too
    shown = page.locator(".message-text").evaluate(  # the visible text, without the screen-reader notes
        "el => [...el.childNodes].map(n => n.nodeType === 3 ? n.textContent : n.firstChild.textContent).join('')")
    assert shown == f"{URGENT}\n\nKontakt: {CONTACT}"
    fields = page.locator("section[aria-labelledby=fields-title] tbody").inner_text()
    assert "BG-Nummer" in fields and BG in fields
    assert "Übergabe aus dem Chat" in page.locator(".facts").first.inner_text()
    detail = api_detail(app_server, workspace["handover"])
    draft = page.get_by_label("Entwurf der Antwort")
    assert draft.input_value() == detail["draft"]["text"] and draft.input_value().startswith("Guten Tag")
    assert page.locator(".sources ol li").count() == len(detail["draft"]["citations"])
    staff.axe_clean("staff-message")
    full_shot(staff, "staff-03-message")

    step(staff, "Bearbeitung übernehmen", "Sie bearbeiten diese Nachricht jetzt. Zustand: in Bearbeitung.")
    assert page.evaluate("() => document.activeElement.id") == "draft-title"  # focus not lost with the button
    assert "m.weber" in page.locator(".facts").first.inner_text()
    addition = "\nWir rufen Sie heute noch unter der angegebenen Nummer an."
    draft.fill(draft.input_value() + addition)
    step(staff, "Antwort freigeben", "Antwort freigegeben. Zustand: beantwortet.")
    approved = page.locator(".message-text.approved").inner_text()
    assert approved.endswith(addition.strip()) and "Freigegeben von m.weber" in page.locator(".done").inner_text()
    assert page.get_by_role("button", name="Antwort freigeben").count() == 0
    page.locator("table.audit tr[data-action=answered]").wait_for()
    actions = page.locator("table.audit tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    # an urgent handover has its urgent flags saved before the full triage (attachments read after)
    assert actions[0] == "accepted" and "triaged" in actions[1:3] and actions[-2:] == ["review_started", "answered"], actions
    assert "in Bearbeitung → beantwortet" in page.locator("table.audit tr[data-action=answered]").inner_text()
    item = app_server.services.store.inbox_item(TENANT, workspace["handover"])
    assert item.state == "answered" and item.draft["approved_by"] == "m.weber"
    assert item.draft["approved_text"].endswith(addition.strip())
    staff.axe_clean("staff-approved")
    staff.shot("staff-04-approved")

    page.get_by_role("link", name="Zurück zum Posteingang").click()
    first = page.locator("table.queue tbody tr").first
    first.wait_for()
    assert "beantwortet" in first.inner_text()


def test_forward_and_close_with_the_keyboard_and_clear_german_errors(staff, workspace, app_server):
    page = staff.page
    log_in(staff, start=f"/staff/inbox/{workspace['deadline']}")  # the login brings the user back here
    page.locator("#audit-title").wait_for()
    detail = api_detail(app_server, workspace["deadline"])
    citations = detail["draft"]["citations"]
    links = page.locator(".sources ol li")
    # The draft shows the sources it rests on, in their order (none when it is unsure: a long
    # letter rarely gives an extract the calibration trusts).
    assert [c["citation"] in text for c, text in zip(citations, links.all_inner_texts(), strict=True)] == [True] * len(citations)
    fields = page.locator("section[aria-labelledby=fields-title]").inner_text()
    assert "Bescheid vom\n10.11.2026" in fields and "Datum des Bescheids" in fields

    take = page.get_by_role("button", name="Bearbeitung übernehmen")
    take.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('.status').textContent.includes('in Bearbeitung')")
    forward = page.get_by_role("button", name="Weiterleiten", exact=True)
    forward.focus()
    page.keyboard.press("Enter")  # no team yet
    team = page.get_by_label("An Team oder Stelle")
    error = page.locator(f"#{team.get_attribute('id')}-error")
    assert error.inner_text() == "Bitte angeben, an welches Team die Nachricht geht."
    assert error.get_attribute("id") in team.get_attribute("aria-describedby")  # read out with the focus
    assert page.evaluate("() => document.activeElement.id") == team.get_attribute("id")
    assert team.get_attribute("aria-invalid") == "true"
    staff.axe_clean("staff-forward-error")
    staff.shot("staff-05-forward-error")
    page.keyboard.type("Widerspruchsstelle")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('.status').textContent.startsWith('An Widerspruchsstelle weitergeleitet.')")
    assert page.locator(".field-error").count() == 0  # the error of before is gone
    assert "weitergeleitet an Widerspruchsstelle" in page.locator(".done").inner_text()
    page.locator("table.audit tr[data-action=forwarded]").wait_for()
    assert "Team: Widerspruchsstelle" in page.locator("table.audit tr[data-action=forwarded]").inner_text()
    staff.axe_clean("staff-forwarded")

    page.goto(f"{staff.app_url}/staff/inbox/{workspace['payslip']}")
    page.locator("#audit-title").wait_for()
    step(staff, "Bearbeitung übernehmen", "Sie bearbeiten diese Nachricht jetzt.")
    page.get_by_role("button", name="Abschließen").click()
    assert page.locator(".field-error").inner_text() == "Bitte einen Grund für das Abschließen wählen."
    page.get_by_label("Grund").select_option("erledigt")
    step(staff, "Abschließen", "Nachricht abgeschlossen. Zustand: abgeschlossen.")
    page.locator("table.audit tr[data-action=closed]").wait_for()
    assert "Grund: erledigt, keine Antwort nötig" in page.locator("table.audit tr[data-action=closed]").inner_text()
    assert page.get_by_label("Entwurf der Antwort").get_attribute("readonly") == ""
    states = {ref: app_server.services.store.inbox_item(TENANT, ref).state for ref in (workspace["deadline"], workspace["payslip"])}
    assert states == {workspace["deadline"]: "forwarded", workspace["payslip"]: "closed"}
    staff.axe_clean("staff-closed")
    staff.shot("staff-06-closed")

    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r"/staff/login$"))
    assert not [c for c in page.context.cookies() if c["name"] == "amtslotse_staff"]
    page.goto(f"{staff.app_url}/staff")
    page.wait_for_url(re.compile(r"/staff/login\?next="))  # logged out: the pages need a new login
    staff.problems[:] = [p for p in staff.problems if "401" not in p]


def test_keyboard_only_focus_order_and_visible_focus_in_the_inbox(staff, workspace):
    log_in(staff)
    queue(staff)
    order = []
    for _ in range(14):
        staff.page.keyboard.press("Tab")
        active = staff.active()
        assert active["outlineStyle"] != "none" and active["outlineWidth"] >= 2, active  # focus is visible
        order.append(active["id"] or active["text"])
        if active["tag"] == "a" and active["text"].startswith("DI-"):
            break
    assert order == ["Zum Inhalt springen", "Posteingang", "Abmelden", "filter-category", "filter-team", "filter-state",
                     "filter-flag", "filter-age", "Filter anwenden", "Zurücksetzen", workspace["handover"]], order
    staff.page.keyboard.press("Enter")  # opens the message
    staff.page.wait_for_url(re.compile(f"/staff/inbox/{workspace['handover']}$"))
    staff.page.locator("#audit-title").wait_for()
    staff.page.keyboard.press("Tab")
    staff.page.keyboard.press("Enter")  # the skip link: on to the content
    assert staff.active()["id"] == "main"


def test_an_account_of_the_cooperative_chooses_the_jobcenter(staff, workspace):
    log_in(staff, "k.verbund")
    switch = staff.page.get_by_label("Jobcenter", exact=True)
    switch.select_option(TENANT)
    staff.page.get_by_role("button", name="Wechseln").click()
    staff.page.wait_for_url(re.compile(f"/staff\\?tenant={TENANT}$"))
    assert queue(staff)[0] == workspace["handover"] and switch.input_value() == TENANT
    link = staff.page.get_by_role("link", name=workspace["handover"], exact=True)
    assert link.get_attribute("href").endswith(f"/staff/inbox/{workspace['handover']}?tenant={TENANT}")
    open_message(staff, workspace["handover"])  # the tenant goes along to the message and its API calls
    assert "Notlage" in staff.page.locator(".facts").first.inner_text()
    staff.axe_clean("staff-cooperative")


def test_on_a_tablet_inbox_and_message_fit_without_horizontal_scrolling(staff, workspace):
    log_in(staff)
    staff.page.set_viewport_size(TABLET)
    for name, path in (("inbox", "/staff"), ("message", f"/staff/inbox/{workspace['handover']}")):
        staff.page.goto(f"{staff.app_url}{path}")
        staff.page.locator("table.queue caption:not(:empty), #audit-title").first.wait_for()
        widths = staff.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (name, widths)
        staff.axe_clean(f"staff-tablet-{name}")
        full_shot(staff, f"staff-07-tablet-{name}")


def test_a_page_without_the_needed_role_says_so(staff, workspace):
    log_in(staff, "l.stat")
    alert = staff.page.get_by_role("alert")
    staff.page.wait_for_function("() => document.querySelector('.alert')?.textContent")
    assert alert.inner_text() == "Für diese Seite fehlt Ihnen die Rolle „Sachbearbeitung“."
    assert "Rollen: Auswertung" in staff.page.locator("#bar").inner_text()
    staff.axe_clean("staff-no-role")


def test_knowledge_upload_search_test_curated_answers_and_who_changed_what(staff, workspace, tmp_path):
    page = staff.page
    log_in(staff, "r.haas", start="/staff/knowledge")
    page.locator("#documents-title").wait_for()
    assert page.locator("tr[data-source='widerspruch.txt']").count() == 1
    assert page.locator("section[aria-labelledby=due-title]").inner_text().endswith("Zurzeit ist keine Prüfung fällig.")
    staff.axe_clean("staff-knowledge")
    staff.shot("staff-08-knowledge")

    upload = page.get_by_role("button", name="Hochladen")
    upload.click()  # no file chosen yet
    assert page.locator(".field-error").inner_text() == "Bitte mindestens eine Datei wählen."
    doc = tmp_path / "sprechzeiten.txt"
    doc.write_text(SPRECHZEITEN, encoding="utf-8")
    page.get_by_label("Dateien").set_input_files(str(doc))
    page.get_by_label("Gültig ab (freiwillig)").first.fill("2026-01-01")
    upload.click()
    page.wait_for_function("() => document.querySelector('.status').textContent.startsWith('1 Dokument eingelesen')")
    row = page.locator("tr[data-source='sprechzeiten.txt']")
    assert "01.01.2026 bis offen" in row.inner_text() and "r.haas" in row.inner_text()

    page.get_by_label("Frage, wie eine Bürgerin oder ein Bürger sie stellt").fill("Wann ist die Sprechstunde im Dienstkreis?")
    page.get_by_role("button", name="Testen").click()
    page.wait_for_function("() => document.querySelector('.status').textContent === 'Suchtest fertig.'")
    result = page.locator(".search-result")
    assert "Ergebnis: beantwortet" in result.inner_text() and "Dienstag" in result.inner_text()
    assert "Sprechstunde" in result.locator("ol.sources").inner_text()
    result.locator("details.why summary").click()  # why it won: the ranked sources
    assert "Sprechstunde im Dienstkreis (page" in result.locator("details.why").inner_text()
    staff.axe_clean("staff-knowledge-search")

    page.get_by_label("Frage", exact=True).fill("Wo finde ich das Jobcenter Dienstkreis?")
    page.get_by_label("Antwort", exact=True).fill("Das Jobcenter Dienstkreis ist in der Hauptstraße 1.")
    page.get_by_label("Quellen").fill("Startseite | javascript:alert(1)")
    page.get_by_role("button", name="Antwort speichern").click()
    assert "keine Internetadresse" in page.locator(".field-error").inner_text()
    page.get_by_label("Quellen").fill("Startseite Dienstkreis | https://dienstkreis.example/")
    page.get_by_role("button", name="Antwort speichern").click()
    page.wait_for_function("() => document.querySelector('.status').textContent.startsWith('Die kuratierte Antwort wurde angelegt.')")
    item = page.locator(".curated-list li", has_text="Wo finde ich das Jobcenter Dienstkreis?")
    page.get_by_role("button", name="„Wo finde ich das Jobcenter Dienstkreis?“ bearbeiten").click()
    assert page.evaluate("() => document.activeElement.id") == "curated-form-title"
    assert page.get_by_label("Quellen").input_value() == "Startseite Dienstkreis | https://dienstkreis.example/"
    page.get_by_label("Antwort", exact=True).fill("Das Jobcenter Dienstkreis ist in der Hauptstraße 1, Zimmer 12.")
    page.get_by_role("button", name="Antwort speichern").click()
    page.wait_for_function("() => document.querySelector('.status').textContent.startsWith('Die kuratierte Antwort wurde geändert.')")
    item.locator("summary").click()
    assert "Zimmer 12" in item.inner_text()
    staff.axe_clean("staff-knowledge-curated")
    full_shot(staff, "staff-09-knowledge-curated")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="„Sprechstunde im Dienstkreis“ löschen").click()
    page.wait_for_function("() => document.querySelector('.status').textContent.endsWith('wurde gelöscht.')")
    assert page.locator("tr[data-source='sprechzeiten.txt']").count() == 0
    changes = page.locator("section[aria-labelledby=changes-title] tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.action, r.cells[1].textContent, r.cells[3].textContent])")
    assert [c[0] for c in changes[:4]] == ["document_deleted", "curated_updated", "curated_created", "document_uploaded"], changes
    assert {c[1] for c in changes[:4]} == {"r.haas"} and changes[0][2] == "sprechzeiten.txt"


def test_analytics_with_charts_tables_and_the_csv_export(staff, workspace, app_server):
    with httpx.Client(base_url=app_server.url, timeout=120) as api:
        conversation = str(uuid.uuid4())
        asked = api.post(f"/api/v1/conversations/{conversation}/messages",
                         json={"tenant": TENANT, "text": "Wie lange habe ich Zeit für einen Widerspruch gegen einen Bescheid?"})
        assert asked.status_code == 200, asked.text
        feedback = api.post(f"/api/v1/conversations/{conversation}/messages/{asked.json()['message_id']}/feedback",
                            json={"rating": "up", "comment": "Sehr klar."},
                            headers={"X-Conversation-Token": asked.json()["conversation_token"]})
        assert feedback.status_code == 200, feedback.text
        token = api.post("/api/v1/staff/login", json={"name": "l.stat", "password": PASSWORD}).json()["token"]
        report = api.get("/api/v1/staff/analytics", params={"days": 30}, headers={"Authorization": f"Bearer {token}"}).json()
    assert report["total_questions"] >= 2 and report["feedback"]["up"] >= 1

    page = staff.page
    log_in(staff, "l.stat", start="/staff/analytics")
    page.locator("#summary-title").wait_for()
    summary = page.locator("section[aria-labelledby=summary-title]").inner_text()
    assert f"Fragen im Chat\n{report['total_questions']}" in summary
    assert f"Nachrichten im Posteingang\n{report['inbox']['total']}" in summary
    charts = page.locator("img.chart")
    assert charts.count() == 6
    page.wait_for_function("() => [...document.querySelectorAll('img.chart')].every(img => img.complete)")
    sizes = charts.evaluate_all("imgs => imgs.map(img => [img.getAttribute('src').split('?')[0].split('/').pop(), img.naturalWidth])")
    assert [name for name, _ in sizes] == ["per_day.svg", "outcomes.svg", "topics.svg", "feedback.svg", "inbox.svg", "time_saved.svg"]
    assert all(width > 0 for _, width in sizes), sizes  # the SVGs loaded (cookie, CSP img-src 'self')
    assert all(alt.endswith("die Zahlen stehen in der Tabelle darunter.") for alt in charts.evaluate_all("i => i.map(x => x.alt)"))
    assert "Sehr klar." in page.locator("section[aria-labelledby=comments-title]").inner_text()
    inbox = page.locator("section[aria-labelledby=inbox-title] tbody").inner_text()
    assert "Widerspruch" in inbox
    staff.axe_clean("staff-analytics")
    full_shot(staff, "staff-10-analytics")

    csv_link = page.get_by_role("link", name="Als CSV herunterladen (Excel)")
    response = page.context.request.get(csv_link.evaluate("a => a.href"))  # with the page's cookie
    assert response.status == 200 and response.body().startswith("\ufeff".encode()) and b";" in response.body()
    page.get_by_label("Zeitraum", exact=True).select_option("7")
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url(re.compile(r"days=7$"))
    page.locator("#summary-title").wait_for()
    assert "days=7" in csv_link.get_attribute("href")


def test_pages_are_shells_with_a_strict_content_security_policy(app_server, workspace):
    with httpx.Client(base_url=app_server.url) as client:
        for path in ("/staff/login", "/staff", f"/staff/inbox/{workspace['handover']}", "/staff/knowledge", "/staff/analytics"):
            page = client.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
            csp = page.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
            assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
            assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=", page.text)  # nothing inline
            assert NAME not in page.text and workspace["payslip"] not in page.text  # no data in the shells
        module = client.get("/staff/static/message.js")
        assert module.headers["content-type"].startswith("text/javascript") and "personal_data" in module.text
        assert client.get("/staff/static/message.js", headers={"If-None-Match": module.headers["etag"]}).status_code == 304
        for path in ("/staff/static/..%2Fstaff.py", "/staff/static/gibtesnicht.js", "/staff/static/staff.py",
                     "/staff/inbox/%3Cscript%3E"):
            missing = client.get(path)
            assert missing.status_code == 404 and "<script>" not in missing.text, path
        assert client.get("/staff/context.json").status_code == 401
        token = client.post("/api/v1/staff/login", json={"name": "m.weber", "password": PASSWORD}).json()["token"]
        context = client.get("/staff/context.json", headers={"Authorization": f"Bearer {token}"}).json()
        assert context["user"] == {"name": "m.weber", "tenant": TENANT, "roles": ["sachbearbeitung"]}
        assert {"key": "widerspruch", "label": "Widerspruch"} in context["categories"]
        assert "Widerspruchsstelle" in context["teams"] and context["close_reasons"]["doppelt"]
        other = client.get("/staff/context.json", params={"tenant": "musterkreis"}, headers={"Authorization": f"Bearer {token}"})
        assert other.status_code == 403 and other.json()["error"]["message"].startswith("Sie dürfen nicht")
