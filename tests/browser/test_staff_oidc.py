"""Staff single sign-on in a real browser (Chromium): the login page offers "Mit Single Sign-on
anmelden", the provider's own login form (Canaille on loopback, tests/oidc_provider.py) takes
name and password, and the browser lands in the workspace page it came from, with the roles
the provider's groups claim maps to. The app runs on loopback without knowledge
(tests/loopback_app.py), so this test does not need the starter pack.

Screenshots in test-output/screenshots/staff-sso-*.png.
"""

from __future__ import annotations

import re

import pytest

import oidc_provider
from loopback_app import TENANT

from .conftest import Chat

DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    with oidc_provider.app_with_provider(tmp_path_factory.mktemp("oidc-browser")) as running:
        yield running


@pytest.fixture
def staff(browser, axe_source, sso, request) -> Chat:
    url = sso[0]
    context = browser.new_context(viewport=DESKTOP, locale="de-DE")
    page = context.new_page()
    staff = Chat(page, url, axe_source)
    # Errors of our own pages fail the test (CSP reports included); the provider's pages are not ours.
    page.on("console", lambda m: staff.problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" and page.url.startswith(url) else None)
    page.on("pageerror", lambda e: staff.problems.append(f"page error: {e}") if page.url.startswith(url) else None)
    yield staff
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        staff.shot(f"FAILED-{request.node.name}")
    context.close()
    if staff.problems and report is not None and report.passed:
        pytest.fail("Errors in the browser console:\n" + "\n".join(staff.problems), pytrace=False)


@pytest.mark.slow
def test_sign_in_through_the_provider_lands_in_the_workspace_with_the_mapped_roles(staff, sso):
    url, _services, provider = sso
    page = staff.page
    page.goto(f"{url}/staff/knowledge")
    page.wait_for_url(re.compile(r"/staff/login\?next="))  # no session yet
    staff.problems[:] = [p for p in staff.problems if "401" not in p]  # the expected request before the login
    button = page.get_by_role("link", name="Mit Single Sign-on anmelden")
    button.wait_for()
    staff.axe_clean("staff-sso-login")
    staff.shot("staff-sso-01-login")

    button.click()
    page.wait_for_url(re.compile("^" + re.escape(provider.issuer) + "/login"))  # the provider's own form
    page.locator("#login").fill(oidc_provider.USER)
    page.locator("#login").press("Enter")
    page.wait_for_url(re.compile(re.escape(provider.issuer) + "/auth/password"))
    page.locator("#password").fill(oidc_provider.PASSWORD)
    staff.shot("staff-sso-02-provider")
    page.locator("#password").press("Enter")

    # Back at Amtslotse: the page it came from, signed in with the roles of the groups claim.
    page.wait_for_url(f"{url}/staff/knowledge")
    who = page.locator(".who")
    who.wait_for()
    assert who.locator("strong").inner_text() == "sso:" + oidc_provider.USER
    assert "Rollen: Redaktion, Sachbearbeitung" in who.inner_text()
    nav = page.get_by_role("navigation", name="Bereiche")
    assert nav.get_by_role("link", name="Posteingang").is_visible()
    assert nav.get_by_role("link", name="Wissen").is_visible()
    assert nav.get_by_role("link", name="Auswertung").count() == 0  # no such role in the claim
    context = page.evaluate("async () => (await fetch('../staff/context.json')).json()")
    assert context["user"] == {"name": "sso:erika", "tenant": TENANT, "roles": ["redaktion", "sachbearbeitung"]}
    staff.axe_clean("staff-sso-workspace")
    staff.shot("staff-sso-03-workspace")

    # Logging out ends the Amtslotse session (the provider's own session is the provider's).
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r"/staff/login$"))
