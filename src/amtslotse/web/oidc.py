"""Staff sign-in with OpenID Connect (Keycloak or any other provider): the authorization code
flow with PKCE, for the staff workspace. Local accounts (`amtslotse staff add`) keep working.

    GET /api/v1/staff/oidc            -> {"enabled": true|false}   (the login page asks)
    GET /api/v1/staff/oidc/login      -> 302 to the provider       (?next=staff/..., ?tenant=...)
    GET /api/v1/staff/oidc/callback   <- the provider sends the browser back with code and state

Configured by AMTSLOTSE_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET (empty: a public client, PKCE
only), _REDIRECT_URL (empty: this server's .../oidc/callback), _SCOPES and _ROLES_CLAIM. The
provider's endpoints come from `<issuer>/.well-known/openid-configuration`.

What the callback checks: `state` against the one kept in a short-lived HttpOnly cookie of the
browser that started the login; the code is exchanged with the PKCE verifier from that cookie;
the ID token's signature against the provider's JWKS (asymmetric algorithms only; the JWKS is
fetched again once when a key id is unknown, for key rotation), its issuer, audience (and `azp`),
expiry and the nonce from the cookie.

Roles per tenant come from one claim (AMTSLOTSE_OIDC_ROLES_CLAIM, a dotted path such as
`resource_access.amtslotse.roles` reaches into Keycloak's nested claims; read from the ID token,
else from the userinfo endpoint): a list of "<tenant>:<role>" such as
["musterkreis:redaktion", "musterkreis:sachbearbeitung"], "*:admin" for the cooperative. Entries
with unknown roles or tenant names are ignored. Someone with roles for several tenants chooses one
(`?tenant=`), since a staff session acts for one tenant.

The session is the same as after a local login: a staff account row named "sso:<sub>" holds the
tenant and roles of the last sign-in (its password hash is a marker no password matches, so it
cannot log in locally), and `amtslotse staff disable|remove|logout-all sso:<sub>` work on it; a
disabled SSO account cannot sign in again until it is removed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amtslotse.governance import accounts
from amtslotse.models import ROLES
from amtslotse.tenants import TENANT_NAME
from amtslotse.web.deps import COOKIE, ServicesDep
from amtslotse.web.schemas import Out
from amtslotse.web.widget import SECURITY_HEADERS

# Browser redirects, not an API for integrators: left out of the OpenAPI schema (whose staff
# operations all need a token, which these do not).
router = APIRouter(prefix="/api/v1/staff/oidc", include_in_schema=False)

FLOW_COOKIE = "amtslotse_oidc"
FLOW_SECONDS = 600
ACCOUNT_PREFIX = "sso:"
SSO_MARK = "sso"
"""The password hash of an SSO account: has no "$", so no password ever matches it."""
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
"""ID-token signatures accepted: asymmetric only (never "none" or a MAC with the client secret)."""
DISCOVERY_TTL = 3600.0
LEEWAY_SECONDS = 60


class OidcError(Exception):
    """The sign-in failed; the message is shown to the member of staff (German)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Provider:
    """Discovery document and JWKS of one issuer, cached per process."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer.rstrip("/")
        self._lock = threading.Lock()
        self._config: dict[str, Any] | None = None
        self._config_at = 0.0
        self._jwks: jwt.PyJWKSet | None = None

    def config(self, client: httpx.Client) -> dict[str, Any]:
        with self._lock:
            if self._config is None or time.monotonic() - self._config_at > DISCOVERY_TTL:
                response = client.get(self.issuer + "/.well-known/openid-configuration")
                response.raise_for_status()
                config = response.json()
                if str(config.get("issuer", "")).rstrip("/") != self.issuer:
                    raise OidcError("Der Anmeldedienst meldet einen anderen Aussteller als eingestellt.", 502)
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not config.get(key):
                        raise OidcError(f"Dem Anmeldedienst fehlt „{key}“ in seiner Beschreibung.", 502)
                self._config, self._config_at, self._jwks = config, time.monotonic(), None
            return self._config

    def signing_key(self, client: httpx.Client, kid: str | None, alg: str) -> Any:
        """The provider's public key for a token signed with `alg` (and `kid`, if the token names one)."""
        key_type = {"R": "RSA", "P": "RSA", "E": "EC"}.get(alg[0]) if alg != "EdDSA" else "OKP"
        for refresh in (False, True):
            with self._lock:
                if self._jwks is None or refresh:
                    assert self._config is not None
                    response = client.get(self._config["jwks_uri"])
                    response.raise_for_status()
                    self._jwks = jwt.PyJWKSet.from_dict(response.json())
                keys = [k for k in self._jwks.keys if k.public_key_use in (None, "sig")]
            matching = [k for k in keys if (kid is None or k.key_id == kid) and k.key_type == key_type]
            if matching:
                return matching[0].key
        raise OidcError("Der Schlüssel des Anmeldedienstes für diese Anmeldung ist unbekannt.", 502)


_providers: dict[str, Provider] = {}


def _provider(settings) -> Provider:
    issuer = settings.oidc_issuer.rstrip("/")
    if issuer not in _providers:
        _providers[issuer] = Provider(issuer)
    return _providers[issuer]


def enabled(settings) -> bool:
    return bool(settings.oidc_issuer.strip() and settings.oidc_client_id.strip())


def _redirect_url(request: Request, settings) -> str:
    return settings.oidc_redirect_url.strip() or str(request.url_for("oidc_callback"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


ROOT = "../../../../"
"""The app's root relative to the callback (/api/v1/staff/oidc/callback): the pages use relative
URLs, so sign-in also works under a path prefix behind a proxy."""


def _safe_next(value: str | None) -> str:
    """A page of the staff workspace relative to the app's root ("staff/inbox/..."), never another site."""
    if value:
        parts = urlsplit(value)
        if (not parts.scheme and not parts.netloc and parts.path.startswith("staff")
                and "\\" not in value and ".." not in parts.path):
            return value
    return "staff/"


def claim(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted claim path ("resource_access.amtslotse.roles"), or None. A claim
    whose own name contains dots is found first."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def roles_by_tenant(value: Any) -> dict[str, frozenset[str]]:
    """{"musterkreis": {"redaktion", ...}, ...} from a claim such as ["musterkreis:redaktion"]
    (a list, or one string of space- or comma-separated entries); unknown roles are ignored."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        return {}
    found: dict[str, set[str]] = {}
    for entry in value:
        if not isinstance(entry, str) or ":" not in entry:
            continue
        tenant, _, role = entry.strip().rpartition(":")
        if role in ROLES and (tenant == "*" or TENANT_NAME.match(tenant)):
            found.setdefault(tenant, set()).add(role)
    return {tenant: frozenset(roles) for tenant, roles in found.items()}


def _sso_account(store, name: str, tenant: str, roles: frozenset[str]) -> None:
    """Create or update the account row an SSO session belongs to (the session join needs it);
    amtslotse.governance.accounts audits a new account and changed roles."""
    try:
        accounts.sync_external_account(store, name, tenant, sorted(roles), mark=SSO_MARK, via="oidc")
    except accounts.AccountError as error:
        raise OidcError(str(error), error.status) from None


def _page(title: str, body: str, status: int = 200, refresh: str | None = None) -> HTMLResponse:
    meta = f'<meta http-equiv="refresh" content="0; url={html.escape(refresh)}">' if refresh else ""
    document = (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{meta}'
        f'<title>{html.escape(title)} – Amtslotse</title>'
        f'<link rel="icon" href="{ROOT}widget/icon.svg" type="image/svg+xml">'
        f'<link rel="stylesheet" href="{ROOT}staff/static/staff.css"></head>'
        f'<body><main id="main" class="card login"><h1>{html.escape(title)}</h1>{body}</main></body></html>'
    )
    return HTMLResponse(document, status_code=status, headers=SECURITY_HEADERS | {"Cache-Control": "no-store"})


def _failure(message: str, status: int) -> HTMLResponse:
    response = _page(
        "Anmeldung fehlgeschlagen",
        f'<p class="alert" role="alert">{html.escape(message)}</p>'
        f'<p><a href="{ROOT}staff/login">Zurück zur Anmeldung</a></p>',
        status,
    )
    response.delete_cookie(FLOW_COOKIE, path=router.prefix)
    return response


class OidcStatus(Out):
    enabled: bool


@router.get("", summary="Ob die Anmeldung mit Single Sign-on eingerichtet ist")
def oidc_status(services: ServicesDep) -> OidcStatus:
    return OidcStatus(enabled=enabled(services.settings))


@router.get("/login", summary="Anmeldung mit Single Sign-on beginnen (Weiterleitung zum Anmeldedienst)")
def oidc_login(request: Request, services: ServicesDep, next: str | None = None, tenant: str | None = None) -> Response:
    settings = services.settings
    if not enabled(settings):
        return _failure("Die Anmeldung mit Single Sign-on ist nicht eingerichtet.", 404)
    try:
        with httpx.Client(timeout=10) as client:
            config = _provider(settings).config(client)
    except (httpx.HTTPError, ValueError):
        return _failure("Der Anmeldedienst ist gerade nicht erreichbar. Bitte später noch einmal versuchen.", 502)
    except OidcError as error:
        return _failure(error.message, error.status)
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    flow = {"state": state, "nonce": nonce, "verifier": verifier, "next": _safe_next(next),
            "tenant": tenant if tenant and (tenant == "*" or TENANT_NAME.match(tenant)) else None}
    query = urlencode({
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": _redirect_url(request, settings),
        "scope": settings.oidc_scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    })
    endpoint = config["authorization_endpoint"]
    response = RedirectResponse(endpoint + ("&" if "?" in endpoint else "?") + query, status_code=302)
    # SameSite=Lax: the provider's redirect back is a top-level GET from another site.
    response.set_cookie(FLOW_COOKIE, _b64(json.dumps(flow).encode()), max_age=FLOW_SECONDS, httponly=True,
                        samesite="lax", path=router.prefix, secure=request.url.scheme == "https")
    return response


def _flow(request: Request) -> dict[str, Any]:
    raw = request.cookies.get(FLOW_COOKIE, "")
    try:
        flow = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if isinstance(flow, dict) and all(isinstance(flow.get(k), str) for k in ("state", "nonce", "verifier")):
            return flow
    except ValueError:
        pass
    raise OidcError("Die Anmeldung ist abgelaufen oder wurde in einem anderen Fenster begonnen. Bitte noch einmal.")


def _verified_claims(request: Request, settings, flow: dict[str, Any], code: str) -> dict[str, Any]:
    provider = _provider(settings)
    secret = settings.oidc_client_secret.get_secret_value()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": _redirect_url(request, settings),
            "code_verifier": flow["verifier"]}
    if not secret:  # a public client names itself in the form; a confidential one by HTTP Basic
        form["client_id"] = settings.oidc_client_id
    with httpx.Client(timeout=10) as client:
        config = provider.config(client)
        auth = (settings.oidc_client_id, secret) if secret else None
        response = client.post(config["token_endpoint"], data=form, auth=auth, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise OidcError("Der Anmeldedienst hat die Anmeldung nicht bestätigt.", 502)
        tokens = response.json()
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("Der Anmeldedienst hat kein ID-Token geschickt.", 502)
        try:
            header = jwt.get_unverified_header(id_token)
            if header.get("alg") not in ALGORITHMS:
                raise OidcError("Das ID-Token ist nicht mit einem zulässigen Verfahren signiert.", 502)
            key = provider.signing_key(client, header.get("kid"), header["alg"])
            claims = jwt.decode(
                id_token, key=key, algorithms=[header["alg"]], audience=settings.oidc_client_id,
                issuer=config["issuer"], leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise OidcError(f"Das ID-Token ist ungültig ({type(error).__name__}).", 502) from error
        if not secrets.compare_digest(str(claims.get("nonce", "")), flow["nonce"]):
            raise OidcError("Das ID-Token gehört nicht zu dieser Anmeldung (nonce).", 502)
        if "azp" in claims and claims["azp"] != settings.oidc_client_id:
            raise OidcError("Das ID-Token wurde für eine andere Anwendung ausgestellt.", 502)
        if claim(claims, settings.oidc_roles_claim) is None and config.get("userinfo_endpoint") and tokens.get("access_token"):
            info = client.get(config["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"})
            if info.status_code == 200 and info.headers.get("content-type", "").startswith("application/json"):
                extra = info.json()
                if isinstance(extra, dict) and extra.get("sub") == claims["sub"]:
                    claims = {**extra, **claims}
    return claims


@router.get("/callback", name="oidc_callback", summary="Rückkehr vom Anmeldedienst (Autorisierungscode)")
def oidc_callback(request: Request, services: ServicesDep, code: str | None = None, state: str | None = None,
                  error: str | None = None) -> Response:
    settings, store = services.settings, services.store
    if not enabled(settings):
        return _failure("Die Anmeldung mit Single Sign-on ist nicht eingerichtet.", 404)
    try:
        flow = _flow(request)
        if not state or not secrets.compare_digest(state, flow["state"]):
            raise OidcError("Die Antwort des Anmeldedienstes passt nicht zu dieser Anmeldung (state).")
        if error or not code:
            raise OidcError("Der Anmeldedienst hat die Anmeldung abgebrochen.", 401 if error == "access_denied" else 400)
        try:
            claims = _verified_claims(request, settings, flow, code)
        except (httpx.HTTPError, ValueError) as failure:
            raise OidcError("Der Anmeldedienst ist gerade nicht erreichbar. Bitte später noch einmal versuchen.",
                            502) from failure
        tenants = roles_by_tenant(claim(claims, settings.oidc_roles_claim))
        if "*" in tenants:
            tenant = "*"
        elif flow.get("tenant") in tenants:
            tenant = flow["tenant"]
        elif len(tenants) == 1:
            tenant = next(iter(tenants))
        elif not tenants:
            raise OidcError("Ihr Konto hat keine Rolle für Amtslotse. Bitte wenden Sie sich an die Verwaltung.", 403)
        else:
            return _choose_tenant(sorted(tenants), flow["next"])
        name = ACCOUNT_PREFIX + str(claims["sub"])[:96]
        _sso_account(store, name, tenant, tenants[tenant])
    except OidcError as failure:
        return _failure(failure.message, failure.status)
    hours = settings.staff_session_hours
    token = store.start_staff_session(name, datetime.now(timezone.utc) + timedelta(hours=hours))
    # A page, not a redirect: a cookie with SameSite=Strict is not sent on a redirect chain that
    # began at another site (the provider), so the workspace is opened from this page.
    target = ROOT + flow["next"]
    response = _page("Angemeldet", f'<p>Sie sind angemeldet. <a href="{html.escape(target)}">Weiter zum '
                     "Arbeitsbereich</a></p>", refresh=target)
    response.set_cookie(COOKIE, token, max_age=int(hours * 3600), httponly=True, samesite="strict", path="/")
    response.delete_cookie(FLOW_COOKIE, path=router.prefix)
    return response


def _choose_tenant(tenants: list[str], next_page: str) -> HTMLResponse:
    links = "".join(
        f'<li><a href="login?{html.escape(urlencode({"tenant": t, "next": next_page}))}">'
        f"{html.escape(t)}</a></li>" for t in tenants
    )
    response = _page("Jobcenter wählen", "<p>Ihr Konto hat Rollen für mehrere Jobcenter. Für welches möchten Sie "
                     f"arbeiten?</p><ul>{links}</ul>")
    response.delete_cookie(FLOW_COOKIE, path=router.prefix)
    return response
