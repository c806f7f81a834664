"""From gap to answer in the staff workspace, in a real browser (Chromium) against the real app.

Citizens ask the chat a question it cannot answer (the real chat API); the editor adds a page,
logs in, sees the question among the open ones, lets the workspace propose an answer, checks
and edits it, saves it, and the chat answers the same question with it at once. The knowledge
page is checked with axe-core (0 violations) with the list and with the filled-in proposal.
"""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest

from amtslotse.ask.choose import REFRESH_SECONDS
from amtslotse.knowledge.ingest import ingest_paths

from .conftest import SCREENSHOTS

TENANT = "fragenkreis"  # only this module's questions: the shared server also serves other tests
PASSWORD = "Redaktion-Fragen-2026"
DESKTOP = {"width": 1280, "height": 800}
QUESTION = "Gibt es im Jobcenter eine Spielecke für Kinder?"
AGAIN = "gibt es im jobcenter eine spielecke fuer kinder"
PAGE_NAME = "spielecke.md"
PAGE = (
    "# Spielecke im Jobcenter Fragenkreis\n\n"
    "Im Wartebereich des Jobcenters Fragenkreis gibt es eine Spielecke für Kinder bis sechs Jahre. "
    "Bitte bleiben Sie in der Nähe Ihrer Kinder.\n"
)
ADDED = "Die Spielecke ist zu den Öffnungszeiten geöffnet."


def ask(api: httpx.Client, text: str) -> dict:
    response = api.post(f"/api/v1/conversations/{uuid.uuid4()}/messages", json={"tenant": TENANT, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def asked(app_server, tmp_path_factory) -> None:
    """Two citizens asked the same question the chat could not answer; then the editor's page."""
    services = app_server.services
    services.store.ensure_tenant(TENANT)
    services.store.add_staff_user("r.fragen", TENANT, ["redaktion"], PASSWORD)
    with httpx.Client(base_url=app_server.url, timeout=900) as api:  # the first question embeds every phrasing
        outcomes = [ask(api, text)["outcome"] for text in (QUESTION, AGAIN)]
    assert outcomes == ["unsure", "unsure"], outcomes
    page = tmp_path_factory.mktemp("fragenkreis") / PAGE_NAME
    page.write_text(PAGE, encoding="utf-8")
    assert not ingest_paths([page], services.store, services.settings, tenant=TENANT).failed


def wait_for_curated(api: httpx.Client, headers: dict, question: str) -> None:
    """The Ask flow rereads a tenant's curated answers at most every REFRESH_SECONDS: wait for
    that (through the search test, which stores no turn), not a fixed time."""
    deadline = time.monotonic() + 10 * REFRESH_SECONDS
    while time.monotonic() < deadline:
        found = api.get("/api/v1/staff/search-test", params={"q": question}, headers=headers)
        if found.status_code == 200 and found.json()["mode"] == "curated":
            return
        time.sleep(0.2)


def log_in(staff, start: str) -> None:
    staff.page.goto(f"{staff.app_url}{start}")
    staff.page.wait_for_url(re.compile(r"/staff/login\?next="))
    staff.page.get_by_label("Benutzername").fill("r.fragen")
    staff.page.get_by_label("Passwort").fill(PASSWORD)
    staff.page.get_by_label("Passwort").press("Enter")
    staff.page.wait_for_url(re.compile(re.escape(start) + r"$"))
    staff.problems[:] = [p for p in staff.problems if "401" not in p]  # the expected request before the login


def wait_for_status(page, start: str) -> None:
    page.wait_for_function("text => document.querySelector('.status').textContent.startsWith(text)", arg=start, timeout=120_000)


def test_an_open_question_becomes_a_curated_answer_in_one_step(chat, asked, app_server):
    staff = chat
    page = staff.page
    page.set_viewport_size(DESKTOP)
    log_in(staff, "/staff/knowledge")
    section = page.locator("section[aria-labelledby=gaps-title]")
    section.locator("table.gaps").wait_for()
    assert section.locator("h2").inner_text() == "Offene Fragen der Bürgerinnen und Bürger"
    row = section.locator("tbody tr").first
    assert row.locator("th").inner_text() == AGAIN  # the latest wording of the question
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "2" and re.search(r"\d{4}", cells[1]) and "ohne sichere Antwort: 2" in cells[2], cells
    staff.axe_clean("staff-gaps")
    staff.shot("staff-11-gaps")

    propose = page.get_by_role("button", name=f"Antwort vorschlagen: „{AGAIN}“")
    assert propose.inner_text() == "Antwort vorschlagen"
    propose.click()
    wait_for_status(page, "Vorschlag eingefügt.")
    assert page.evaluate("() => document.activeElement.id") == "curated-form-title"  # on to the form
    assert page.locator("#curated-form-title").inner_text() == "Neue kuratierte Antwort aus einer offenen Frage"
    assert page.get_by_label("Frage", exact=True).input_value() == "Gibt es im jobcenter eine spielecke fuer kinder?"
    assert page.get_by_label("Andere Formulierungen").input_value() == AGAIN  # the citizen's wording as a phrasing
    answer = page.get_by_label("Antwort", exact=True)
    assert "Spielecke für Kinder bis sechs Jahre" in answer.input_value()
    sources = page.get_by_label("Quellen").input_value()
    assert sources.startswith("Spielecke im Jobcenter Fragenkreis"), sources
    note = page.locator(".proposal-note")
    assert "Quellen des Vorschlags" in note.inner_text() and "Spielecke im Jobcenter Fragenkreis" in note.inner_text()
    note.get_by_text("Wortlaut der Quelle").click()  # the source's own text, to check the proposal against
    assert "Bitte bleiben Sie in der Nähe Ihrer Kinder." in note.inner_text()
    staff.axe_clean("staff-gaps-proposal")
    page.screenshot(path=str(SCREENSHOTS / "staff-12-gaps-proposal.png"), full_page=True)

    answer.fill(f"{answer.input_value()} {ADDED}")  # the editor edits, then approves
    page.get_by_role("button", name="Antwort speichern").click()
    wait_for_status(page, "Die kuratierte Antwort wurde angelegt.")
    page.wait_for_function("() => document.querySelector('section[aria-labelledby=gaps-title]').textContent"
                           ".includes('Zurzeit gibt es keine offenen Fragen.')")  # it is answered now
    assert page.locator(".proposal-note").is_hidden()
    item = page.locator(".curated-list li", has_text="spielecke")
    assert item.count() == 1
    changes = page.locator("section[aria-labelledby=changes-title] tbody tr").first
    assert changes.get_attribute("data-action") == "curated_created" and "r.fragen" in changes.inner_text()
    staff.axe_clean("staff-gaps-saved")

    with httpx.Client(base_url=app_server.url, timeout=300) as api:
        token = api.post("/api/v1/staff/login", json={"name": "r.fragen", "password": PASSWORD}).json()["token"]
        [saved] = api.get("/api/v1/staff/curated", headers={"Authorization": f"Bearer {token}"}).json()["items"]
        assert saved["alternatives"] == [AGAIN] and saved["answer"].endswith(ADDED)
        assert saved["sources"][0]["source"] == PAGE_NAME  # kept through the form's "label | link" lines
        wait_for_curated(api, {"Authorization": f"Bearer {token}"}, AGAIN)
        reply = ask(api, AGAIN)  # the same question, live at once
    assert reply["mode"] == "curated" and ADDED in reply["answer"], reply
