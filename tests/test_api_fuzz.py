"""Issue 12: schemathesis over the public and the staff API. Requests generated from the app's own
OpenAPI document, valid and invalid ones, are sent to the real app on loopback
(tests/loopback_app.py, over a store with the starter pack); no answer may be a server error.

Staff operations carry the Bearer token of an account with every role of Musterkreis (the
tenants' lifecycle and the usage of all tenants: the cooperative's admin), the inbox an
integration's API key; rate limits are off so that every request reaches its route. Logout
is left out (it would end the token). Bounded to 20 examples per operation besides
schemathesis's coverage cases (about 3,000 requests, a minute and a half on two busy cores;
FUZZ_EXAMPLES=100 for a longer run); marked slow.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import not_a_server_error

from amtslotse.governance.audit import COOPERATIVE
from amtslotse.knowledge.starter import load_starter
from amtslotse.services import Services
from loopback_app import TENANT, serve, settings_for

pytestmark = pytest.mark.slow
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "amtslotse-hypothesis")  # not .hypothesis/ in the checkout

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
"""Examples per operation (benchmarks/api_fuzz.py runs more)."""
PASSWORD = "Schemathesis-2026-geheim"
LIMITS_OFF = {"rate_limit_per_client": 0, "rate_limit_per_tenant": 0, "rate_limit_per_api_key": 0}


@dataclass(frozen=True)
class Target:
    url: str
    staff: dict[str, str]  # an account of Musterkreis with every role
    cooperative: dict[str, str]  # the cooperative's admin: tenants' lifecycle, usage of all
    integration: dict[str, str]  # an API key of Musterkreis


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    home = tmp_path_factory.mktemp("schemathesis")
    with Services.open(settings_for(home)) as services:
        load_starter(services.store, services.settings)
    with serve(home, **LIMITS_OFF) as (url, services):
        store = services.store
        store.add_staff_user("f.fuzz", TENANT, ["sachbearbeitung", "redaktion", "auswertung", "admin"], PASSWORD)
        store.add_staff_user("f.verbund", COOPERATIVE, ["admin"], PASSWORD)
        _, key = store.create_api_key(TENANT, "schemathesis")
        yield Target(url, bearer(url, "f.fuzz"), bearer(url, "f.verbund"), {"Authorization": f"Bearer {key}"})


def bearer(url: str, name: str) -> dict[str, str]:
    token = httpx.post(f"{url}/api/v1/staff/login", json={"name": name, "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def statuses(request):
    """Status codes of every generated request, summed up at the end of the run."""
    seen: Counter[int] = Counter()
    yield seen
    errors = sum(n for status, n in seen.items() if status >= 500)
    line = (f"schemathesis: {sum(seen.values())} requests, {MAX_EXAMPLES} examples per operation, "
            f"server errors: {errors}; statuses {dict(sorted(seen.items()))}")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


@pytest.fixture(scope="module")
def api_schema(target):
    return schemathesis.openapi.from_url(f"{target.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/api/v1/staff/logout")


def headers_for(path: str, target: Target) -> dict[str, str]:
    if path.startswith(("/api/v1/staff/admin/tenants", "/api/v1/staff/admin/usage")):
        return target.cooperative
    if path.startswith("/api/v1/staff") and not path.endswith("/login"):
        return target.staff
    if path == "/api/v1/inbox":
        return target.integration
    return {}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, target, statuses):
    # The credentials replace what the generator put in Authorization (a random token would
    # only test the 401 that every staff route answers first).
    case.headers = {**(case.headers or {}), **headers_for(case.path, target)}
    response = case.call(timeout=120)
    statuses[response.status_code] += 1
    case.validate_response(response, checks=[not_a_server_error])
