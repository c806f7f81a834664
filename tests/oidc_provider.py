"""A real OpenID Connect provider on loopback for the OIDC sign-in tests: Canaille (PyPI
`canaille[front,oidc]`, a Flask identity provider built on Authlib), in a subprocess.

Canaille runs with its in-memory backend, so this script seeds it in the same process before it
serves: one user, the groups that carry the user's Amtslotse roles (Canaille puts group names
into the `groups` claim, scope `groups`) and one confidential client for Amtslotse. Nothing here
answers a protocol request itself: discovery, login form, consent, authorization codes, PKCE,
tokens, ID-token signing and JWKS are all Canaille's.

    python tests/oidc_provider.py PORT REDIRECT_URI     # prints "ready" when it serves

`start_provider()` is the test-side helper (tests/test_oidc.py, tests/browser/test_staff_oidc.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "erika"
PASSWORD = "Sso-Testpasswort-2026"
CLIENT_ID = "amtslotse"
CLIENT_SECRET = "amtslotse-test-secret-0123456789"
GROUPS = ("musterkreis:redaktion", "musterkreis:sachbearbeitung")
NO_ROLES_USER = "max"
"""A second user in no group: signs in at the provider, but has no role in Amtslotse."""
TWO_TENANTS_USER = "mara"
TWO_TENANTS_GROUPS = ("musterkreis:auswertung", "nordkreis:auswertung")
"""A third user with roles for two tenants: chooses one at sign-in."""


def available() -> bool:
    try:
        import canaille  # noqa: F401
        import flask  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_provider(redirect_uri: str, port: int | None = None, timeout: float = 120.0) -> Provider:
    """Canaille on `port` (default: a free one), with `redirect_uri` registered for Amtslotse."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(port), redirect_uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == "ready":
            # Keep draining the log so the provider never blocks on a full pipe.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return Provider(f"http://127.0.0.1:{port}", process)
    process.kill()
    raise RuntimeError("the OIDC provider (canaille) did not start:\n" + "".join(lines[-40:]))


@contextmanager
def app_with_provider(home: Path, **overrides):
    """The app on loopback (tests/loopback_app.py) configured for single sign-on at Canaille,
    and Canaille with the app's callback registered: yields (app url, services, provider)."""
    import pytest

    from app_server import free_port as app_free_port
    from loopback_app import TENANT, serve

    if not available():
        pytest.fail("canaille is missing: `pip install -e .[test]` (canaille[front,oidc]).")
    port = app_free_port()
    settings = {"oidc_issuer": f"http://127.0.0.1:{port}", "oidc_client_id": CLIENT_ID,
                "oidc_client_secret": CLIENT_SECRET, "oidc_roles_claim": "groups",
                "oidc_scopes": "openid profile groups"} | overrides
    with serve(home, **settings) as (url, services):
        for tenant in (TENANT, "nordkreis"):
            services.store.ensure_tenant(tenant)
        provider = start_provider(url + "/api/v1/staff/oidc/callback", port=port)
        try:
            yield url, services, provider
        finally:
            provider.stop()


def _serve(port: int, redirect_uri: str) -> None:
    import datetime

    from canaille import create_app
    from canaille.app import models
    from canaille.backends import Backend
    from werkzeug.serving import make_server

    app = create_app(
        {
            "SECRET_KEY": os.urandom(16).hex(),
            "SERVER_NAME": f"127.0.0.1:{port}",
            "PREFERRED_URL_SCHEME": "http",
            "WTF_CSRF_ENABLED": True,
            "CANAILLE": {
                "DATABASE": "memory",
                "NAME": "Testanbieter",
                "ENABLE_PASSWORD_RECOVERY": False,
                "CAPTCHA_ENABLED": False,
                "LANGUAGE": "de",
            },
            "CANAILLE_OIDC": {"REQUIRE_NONCE": True},
        }
    )
    with app.app_context():
        backend = Backend.instance
        user = models.User(
            user_name=USER,
            password=PASSWORD,
            given_name="Erika",
            family_name="Muster",
            formatted_name="Erika Muster",
            emails=["erika@example.org"],
        )
        backend.save(user)
        backend.save(models.User(user_name=NO_ROLES_USER, password=PASSWORD, formatted_name="Max Ohnerolle"))
        mara = models.User(user_name=TWO_TENANTS_USER, password=PASSWORD, formatted_name="Mara Zweikreis")
        backend.save(mara)
        for name in TWO_TENANTS_GROUPS:
            backend.save(models.Group(display_name=name, members=[mara]))
        for name in GROUPS:
            group = models.Group(display_name=name, members=[user])
            backend.save(group)
        client = models.Client(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            client_name="Amtslotse",
            client_uri="http://127.0.0.1",  # a trusted domain: no consent page
            client_id_issued_at=datetime.datetime.now(datetime.timezone.utc),
            redirect_uris=[redirect_uri],
            grant_types=["authorization_code"],
            response_types=["code"],
            scope=["openid", "profile", "email", "groups"],
            token_endpoint_auth_method="client_secret_basic",
        )
        backend.save(client)
        client.audience = [client]
        backend.save(client)
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2])
