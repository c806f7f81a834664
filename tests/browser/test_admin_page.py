"""The administration page of the staff workspace (/staff/verwaltung, staff_static/admin.js) in
Chromium: the audit check, usage links, a data-protection export and erasure, and for the
cooperative the tenants with disable and enable; axe-core finds no violation.

Its own small server (SQLite, no embedding model): the page needs no knowledge and no chat."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from amtslotse.models import InboxItem
from amtslotse.services import Services
from amtslotse.settings import Settings
from app_server import running

from .conftest import Chat

PASSWORD = "Verwaltung-2026-geheim"
DESKTOP = {"width": 1280, "height": 800}
TENANT = "musterkreis"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("verwaltung")
    settings = Settings(home=home, embedder="none", llm_base_url="", llm_provider="", tenants_dir=home / "tenants")
    services = Services.open(settings)
    store = services.store
    store.ensure_tenant(TENANT)
    store.add_staff_user("v.verbund", "*", ["admin"], PASSWORD)
    store.add_staff_user("d.schutz", TENANT, ["admin"], PASSWORD)
    now = datetime.now(timezone.utc)
    item = InboxItem(tenant=TENANT, channel="api", external_id="k-1", received_at=now, body="Bitte löschen Sie meine Daten.",
                     redacted="Bitte löschen Sie meine Daten.", delete_after=now + timedelta(days=90))
    _, reference, _ = store.add_inbox_item(item, prefix="MK")
    try:
        with running(services) as url:
            yield url, services, reference
    finally:
        services.close()


@pytest.fixture
def tab(browser, axe_source, admin_server, request):
    context = browser.new_context(viewport=DESKTOP, locale="de-DE", accept_downloads=True)
    page = context.new_page()
    tab = Chat(page, admin_server[0], axe_source)
    page.on("console", lambda m: tab.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.problems.append(f"page error: {e}"))
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        tab.shot(f"FAILED-{request.node.name}")
    context.close()
    if tab.problems and report is not None and report.passed:
        pytest.fail("Errors in the browser console:\n" + "\n".join(tab.problems), pytrace=False)


def log_in(tab, name: str) -> None:
    tab.page.goto(f"{tab.app_url}/staff/verwaltung")
    tab.page.wait_for_url(re.compile(r"/staff/login\?next="))
    tab.page.get_by_label("Benutzername").fill(name)
    tab.page.get_by_label("Passwort").fill(PASSWORD)
    tab.page.get_by_label("Passwort").press("Enter")
    tab.page.wait_for_url(re.compile(r"/staff/verwaltung$"))
    tab.page.locator("#audit-title").wait_for()
    tab.problems[:] = [p for p in tab.problems if "401" not in p]  # the expected request before the login


def test_the_cooperative_checks_the_log_and_switches_a_tenant_off_and_on(tab, admin_server):
    _, services, _ = admin_server
    log_in(tab, "v.verbund")
    page = tab.page
    assert page.get_by_role("link", name="Verwaltung").get_attribute("aria-current") == "page"
    page.get_by_role("button", name="Protokoll jetzt prüfen").click()
    page.locator(".audit-result li").first.wait_for()
    assert "in Ordnung" in page.locator(".audit-result").inner_text()
    row = page.locator("#tenants-title ~ table tbody tr", has_text=TENANT)
    row.wait_for()
    tab.axe_clean("verwaltung")
    row.get_by_role("button", name=f"{TENANT} abschalten").click()
    page.locator("#tenants-title ~ table tbody tr", has_text="abgeschaltet").wait_for()
    assert services.store.tenant_state(TENANT).state == "disabled"
    page.get_by_role("button", name=f"{TENANT} einschalten").click()
    page.get_by_role("button", name=f"{TENANT} abschalten").wait_for()
    assert services.store.tenant_state(TENANT).state == "active"
    usage = page.get_by_role("link", name="Alle Jobcenter mit Anteilen (CSV)").get_attribute("href")
    assert "/api/v1/staff/admin/usage?" in usage and "format=csv" in usage


def test_a_tenants_admin_exports_and_erases_a_case(tab, admin_server):
    _, services, reference = admin_server
    log_in(tab, "d.schutz")
    page = tab.page
    assert page.locator("#tenants-title").count() == 0  # the lifecycle is the cooperative's
    page.get_by_label("Aktenzeichen oder Gesprächsnummer").fill(reference)
    with page.expect_download() as download:
        page.get_by_role("button", name="Auskunft herunterladen (JSON)").click()
    assert download.value.suggested_filename == f"auskunft-{reference}.json"
    page.get_by_role("button", name="Endgültig löschen").click()
    assert "Häkchen" in page.locator("p.alert").inner_text()
    page.get_by_label("Ich will die Daten dieses Falls endgültig löschen.").check()
    page.get_by_role("button", name="Endgültig löschen").click()
    page.locator(".erase-report li").first.wait_for()
    assert "Nachrichten im Posteingang: 1" in page.locator(".erase-report").inner_text()
    assert services.store.inbox_item(TENANT, reference) is None
    tab.axe_clean("verwaltung-datenschutz")
