"""Staff sign-in with OpenID Connect (issue 12, "Add"): the whole authorization code flow with
PKCE against a real provider on loopback (Canaille, tests/oidc_provider.py), followed with httpx
as a browser would; the app on loopback too (tests/loopback_app.py).

The claim mapping itself (roles per tenant from a claim) is checked without a provider.
"""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest

import oidc_provider
from amtslotse.governance.audit import verify_chain
from amtslotse.web.oidc import claim, roles_by_tenant
from loopback_app import TENANT, serve

CALLBACK = "/api/v1/staff/oidc/callback"


# --- claim mapping (fast) ---------------------------------------------------------------------


def test_roles_per_tenant_from_the_claim():
    value = ["musterkreis:redaktion", "musterkreis:sachbearbeitung", "nordkreis:auswertung",
             "musterkreis:hausmeister", "Kein Eintrag", "../x:admin", 7]
    assert roles_by_tenant(value) == {
        "musterkreis": frozenset({"redaktion", "sachbearbeitung"}), "nordkreis": frozenset({"auswertung"})}
    assert roles_by_tenant("*:admin musterkreis:redaktion") == {
        "*": frozenset({"admin"}), "musterkreis": frozenset({"redaktion"})}
    assert roles_by_tenant(None) == {} and roles_by_tenant({"a": 1}) == {}


def test_claim_paths_reach_nested_claims():
    claims = {"resource_access": {"amtslotse": {"roles": ["musterkreis:admin"]}}, "a.b": 1}
    assert claim(claims, "resource_access.amtslotse.roles") == ["musterkreis:admin"]
    assert claim(claims, "a.b") == 1
    assert claim(claims, "resource_access.other.roles") is None


def test_sign_in_is_off_without_an_issuer(tmp_path):
    with serve(tmp_path) as (url, _services):
        assert httpx.get(f"{url}/api/v1/staff/oidc").json() == {"enabled": False}
        assert httpx.get(f"{url}/api/v1/staff/oidc/login").status_code == 404


# --- the whole flow against Canaille (slow: the provider takes a while to start) --------------


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    with oidc_provider.app_with_provider(tmp_path_factory.mktemp("oidc")) as running:
        yield running


def _form(page: httpx.Response, **fields: str) -> dict:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:2000]
    return {"csrf_token": token.group(1), **fields}


def sign_in_at_provider(client: httpx.Client, start: httpx.Response, user: str) -> httpx.Response:
    """Fill in the provider's login form (user name, then password) like a person would."""
    assert start.status_code == 200 and start.url.path == "/login", (start.status_code, start.url)
    page = client.post(start.url, data=_form(start, login=user, answer=""))
    assert page.url.path == "/auth/password", (page.status_code, page.url)
    return client.post(page.url, data=_form(page, password=oidc_provider.PASSWORD, answer=""))


@pytest.mark.slow
def test_code_flow_signs_in_with_the_mapped_roles(sso):
    url, services, provider = sso
    assert httpx.get(f"{url}/api/v1/staff/oidc").json() == {"enabled": True}
    with httpx.Client(follow_redirects=True, timeout=60) as client:
        start = client.get(f"{url}/api/v1/staff/oidc/login", params={"next": "staff/knowledge"})
        authorize = start.history[0]
        assert authorize.status_code == 302
        query = dict(httpx.URL(authorize.headers["location"]).params)
        assert query["code_challenge_method"] == "S256" and query["code_challenge"]
        assert query["state"] and query["nonce"] and query["client_id"] == oidc_provider.CLIENT_ID
        assert "code_verifier" not in query

        done = sign_in_at_provider(client, start, oidc_provider.USER)
        assert done.status_code == 200, done.text
        assert done.url.path == CALLBACK and "Sie sind angemeldet" in done.text
        assert 'url=../../../../staff/knowledge"' in done.text
        cookie = done.history[-1].headers.get("set-cookie", "") + done.headers.get("set-cookie", "")
        assert "amtslotse_staff=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie

        me = client.get(f"{url}/staff/context.json").json()
        assert me["user"] == {"name": "sso:" + oidc_provider.USER, "tenant": TENANT,
                              "roles": ["redaktion", "sachbearbeitung"]}
        account = "sso:" + oidc_provider.USER
        created = [(e.actor, e.action, e.details) for e in services.store.audit_entries(TENANT) if e.object_id == account]
        assert created == [(account, "staff_user_created", {"tenant": TENANT, "roles": ["redaktion", "sachbearbeitung"],
                                                            "sign_in": "oidc"})]
        # The session works like a local one: a role's endpoint answers, logout ends it.
        assert client.get(f"{url}/api/v1/staff/inbox").status_code == 200
        assert client.post(f"{url}/api/v1/staff/logout", headers={"Origin": url}).status_code == 200
        assert client.get(f"{url}/staff/context.json").status_code == 401

        # Signed in at the provider already: a second sign-in needs no password, same account.
        again = client.get(f"{url}/api/v1/staff/oidc/login")
        assert again.status_code == 200 and again.url.path == CALLBACK, again.text
        assert client.get(f"{url}/staff/context.json").json()["user"]["tenant"] == TENANT
        assert len([e for e in services.store.audit_entries(TENANT) if e.object_id == account]) == 1  # nothing changed

        # The account row cannot be used with a password.
        assert httpx.post(f"{url}/api/v1/staff/login", json={"name": "sso:erika", "password": "x" * 12}).status_code == 401

        # A disabled SSO account cannot sign in again.
        assert services.store.disable_staff_user("sso:" + oidc_provider.USER)
        assert client.get(f"{url}/staff/context.json").status_code == 401
        refused = client.get(f"{url}/api/v1/staff/oidc/login")
        assert refused.status_code == 403 and "gesperrt" in refused.text
        assert services.store.remove_staff_user("sso:" + oidc_provider.USER)
        assert verify_chain(services.store, TENANT).ok


@pytest.mark.slow
def test_state_code_and_roles_are_checked(sso):
    url, _services, _provider = sso
    with httpx.Client(follow_redirects=True, timeout=60) as client:
        start = client.get(f"{url}/api/v1/staff/oidc/login")
        # Stop at the provider's redirect back, then tamper with it.
        client.follow_redirects = False
        page = client.post(start.url, data=_form(start, login=oidc_provider.USER, answer=""))
        password_page = client.get(httpx.URL(str(start.url)).join(page.headers["location"]))
        response = client.post(password_page.url, data=_form(password_page, password=oidc_provider.PASSWORD, answer=""))
        while not response.headers["location"].startswith(url + CALLBACK):
            response = client.get(httpx.URL(str(start.url)).join(response.headers["location"]))
        back = httpx.URL(response.headers["location"])
        code, state = back.params["code"], back.params["state"]

        flow_cookie = client.cookies.get("amtslotse_oidc")
        forged = httpx.get(f"{url}{CALLBACK}", params={"code": code, "state": state + "x"},
                           cookies={"amtslotse_oidc": flow_cookie})
        assert forged.status_code == 400 and "state" in forged.text
        # Another browser (no flow cookie) with the right state and code: refused as well.
        stolen = httpx.get(f"{url}{CALLBACK}", params={"code": code, "state": state})
        assert stolen.status_code == 400 and "amtslotse_staff" not in stolen.headers.get("set-cookie", "")

        # The right browser with another PKCE verifier (a code intercepted on its way back and
        # redeemed with the attacker's own flow): the provider refuses the code.
        flow = json.loads(base64.urlsafe_b64decode(flow_cookie + "=" * (-len(flow_cookie) % 4)))
        wrong = base64.urlsafe_b64encode(json.dumps(flow | {"verifier": "x" * 64}).encode()).decode().rstrip("=")
        intercepted = httpx.get(f"{url}{CALLBACK}", params={"code": code, "state": state},
                                cookies={"amtslotse_oidc": wrong})
        assert intercepted.status_code == 502 and "nicht bestätigt" in intercepted.text
        assert "amtslotse_staff" not in intercepted.headers.get("set-cookie", "")

        # The right browser: signed in; the same code a second time is refused by the provider.
        ok = client.get(f"{url}{CALLBACK}", params={"code": code, "state": state})
        assert ok.status_code == 200 and "amtslotse_staff=" in ok.headers["set-cookie"]
        replay = httpx.get(f"{url}{CALLBACK}", params={"code": code, "state": state},
                           cookies={"amtslotse_oidc": flow_cookie})
        assert replay.status_code == 502 and "nicht bestätigt" in replay.text
        assert "amtslotse_staff" not in replay.headers.get("set-cookie", "")

    # Someone the provider knows but who has no Amtslotse role gets no session.
    with httpx.Client(follow_redirects=True, timeout=60) as other:
        start = other.get(f"{url}/api/v1/staff/oidc/login")
        done = sign_in_at_provider(other, start, oidc_provider.NO_ROLES_USER)
        assert done.status_code == 403 and "keine Rolle" in done.text
        assert "amtslotse_staff" not in other.cookies


@pytest.mark.slow
def test_roles_for_two_tenants_choose_one(sso):
    url, _services, _provider = sso
    with httpx.Client(follow_redirects=True, timeout=60) as client:
        start = client.get(f"{url}/api/v1/staff/oidc/login", params={"next": "staff/analytics"})
        choice = sign_in_at_provider(client, start, oidc_provider.TWO_TENANTS_USER)
        assert choice.status_code == 200 and "mehrere Jobcenter" in choice.text
        assert "amtslotse_staff" not in client.cookies
        links = re.findall(r'<a href="(login\?[^"]+)">([a-z-]+)</a>', choice.text)
        assert [name for _href, name in links] == ["musterkreis", "nordkreis"]
        chosen = client.get(choice.url.join(links[1][0].replace("&amp;", "&")))  # signed in at the provider already
        assert chosen.status_code == 200 and 'url=../../../../staff/analytics"' in chosen.text
        me = client.get(f"{url}/staff/context.json").json()
        assert me["user"] == {"name": "sso:mara", "tenant": "nordkreis", "roles": ["auswertung"]}
        # Signing in for the other tenant moves the account: audited in both chains.
        again = client.get(f"{url}/api/v1/staff/oidc/login", params={"tenant": "musterkreis"})
        assert again.status_code == 200 and again.url.path == CALLBACK, again.text
        moved = client.get(f"{url}/staff/context.json").json()["user"]
        assert moved["tenant"] == "musterkreis"
        store = _services.store
        assert [e.action for e in store.audit_entries("nordkreis") if e.object_id == "sso:mara"] == [
            "staff_user_created", "staff_roles_changed"]
        [entry] = [e for e in store.audit_entries("musterkreis") if e.object_id == "sso:mara"]
        assert entry.action == "staff_roles_changed" and entry.actor == "sso:mara"
        assert (entry.details["tenant_before"], entry.details["roles"]) == ("nordkreis", moved["roles"])
        assert verify_chain(store, "nordkreis").ok and verify_chain(store, "musterkreis").ok
