"""Tenant configuration: TenantConfig is the one way to a tenant's settings (chat, inbox
processing, staff workspace and CLI read the same object), and unknown keys are errors."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from amtslotse.errors import UserError
from amtslotse.inbox.routing import route_to_team
from amtslotse.inbox.triage import triage
from amtslotse.settings import Settings
from amtslotse.tenants import TenantConfigError, load_tenant_config, load_tenant_file

OBJECTION = "Ich lege Widerspruch gegen den Bescheid vom 03.11.2026 ein."

TOML = """
name = "Jobcenter Testkreis"
reference_prefix = "TK"

[inbox]
labels = { unterkunft = "Wohnen und Heizen" }
routing = "routing-testkreis.tsv"

[[inbox.extra_categories]]
key = "energieschulden"
label = "Energieschulden"
keywords = ["Stromschulden"]
"""

RULES = "widerspruch\t*\t*\tRechtsbehelfsstelle Testkreis\n*\t*\t*\tPoststelle Testkreis\n"


@pytest.fixture
def tenants(tmp_path, monkeypatch) -> Settings:
    """A tenants folder with testkreis.toml and its routing file beside it; the working
    directory is elsewhere, so a relative path only resolves against the TOML's folder."""
    folder = tmp_path / "tenants"
    folder.mkdir()
    (folder / "testkreis.toml").write_text(TOML, "utf-8")
    (folder / "routing-testkreis.tsv").write_text(RULES, "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return Settings(home=tmp_path / "home", tenants_dir=folder)


def _services(settings: Settings) -> SimpleNamespace:
    """What the web helpers need of Services: `tenant(name)`."""
    return SimpleNamespace(tenant=lambda name: load_tenant_config(name, settings), settings=settings)


# --- one way to the inbox configuration: relative routing paths (issue 10's bug) --------------


def test_processing_routes_by_the_tenants_relative_routing_file(tenants):
    from amtslotse.inbox.processing import tenant_inbox_config

    config = tenant_inbox_config("testkreis", tenants)
    assert route_to_team(triage(OBJECTION, config), config) == "Rechtsbehelfsstelle Testkreis"


def test_staff_workspace_shows_the_teams_of_the_tenants_relative_routing_file(tenants):
    from amtslotse.web.staff import _inbox_names

    categories, teams, error = _inbox_names(_services(tenants), "testkreis")
    assert error is None
    assert "Rechtsbehelfsstelle Testkreis" in teams and "Poststelle Testkreis" in teams
    assert "Widerspruchsstelle" not in teams  # not the built-in rules
    assert {"key": "energieschulden", "label": "Energieschulden"} in categories


def test_inbox_api_labels_are_the_tenants(tenants):
    from amtslotse.web.deps import tenant_inbox

    labels, error = tenant_inbox(_services(tenants), "testkreis")
    assert error is None
    assert labels == load_tenant_config("testkreis", tenants).inbox()
    assert labels.label("unterkunft") == "Wohnen und Heizen"
    assert labels.routing == tenants.tenants_dir / "routing-testkreis.tsv"


def test_cli_reads_the_tenant_by_name_and_by_file(tenants, monkeypatch):
    from amtslotse.cli.inbox import inbox_config_of

    monkeypatch.setattr("amtslotse.settings.get_settings", lambda: tenants)
    by_name = inbox_config_of("testkreis")
    by_file = inbox_config_of(str(tenants.tenants_dir / "testkreis.toml"))
    assert by_name == by_file == load_tenant_config("testkreis", tenants).inbox()
    assert route_to_team(triage(OBJECTION, by_file), by_file) == "Rechtsbehelfsstelle Testkreis"


def test_a_missing_routing_file_names_the_tenant_file(tenants):
    (tenants.tenants_dir / "routing-testkreis.tsv").unlink()
    from amtslotse.inbox.routing import teams

    with pytest.raises(UserError, match="routing-testkreis.tsv"):
        teams(load_tenant_config("testkreis", tenants).inbox())


def test_load_tenant_file_reads_a_file_outside_the_search_path(tmp_path):
    path = tmp_path / "probe.toml"
    path.write_text('name = "Jobcenter Probe"\n', "utf-8")
    config = load_tenant_file(path)
    assert config.name == "Jobcenter Probe" and config.tenant == "probe" and config.configured
    with pytest.raises(TenantConfigError, match="nicht gefunden"):
        load_tenant_file(tmp_path / "fehlt.toml")


# --- unknown keys are errors everywhere --------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('greting = "Hallo"\n', "greting"),
        ('name = "X"\n[inbox]\nhiden = ["sonstiges"]\n', "hiden"),
        ('[[inbox.extra_categories]]\nkey = "abc"\nlabel = "Abc"\nkeywords = ["x"]\nkeyword = "y"\n', "keyword"),
        ("[analytics]\nminutes_per_questio = 5\n", "minutes_per_questio"),
        ('[colors]\nprimry = "#000000"\n', "primry"),
        ('[[emergency_contacts]]\nlabel = "Polizei"\nfon = "110"\n', "fon"),
    ],
)
def test_unknown_keys_are_errors_with_file_and_key(tmp_path, toml, key):
    folder = tmp_path / "tenants"
    folder.mkdir()
    (folder / "tippkreis.toml").write_text(toml, "utf-8")
    settings = Settings(home=tmp_path / "home", tenants_dir=folder)
    with pytest.raises(TenantConfigError) as error:
        load_tenant_config("tippkreis", settings)
    message = str(error.value)
    assert "tippkreis.toml" in message and f"„{key}“" in message and "unbekannt" in message


def test_the_starter_tenant_has_no_unknown_keys():
    config = load_tenant_config("musterkreis", Settings(home=Path("/nonexistent-amtslotse-home")))
    assert config.configured and config.inbox().label("unterkunft") == "Wohnen und Heizen"


def test_tenant_errors_are_user_errors():
    assert issubclass(TenantConfigError, UserError)
