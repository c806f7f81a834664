"""A tenant's own lists in its folder (`<tenants dir>/<tenant>/`) extend the bundled inbox lists
for that tenant only: flag phrases (`flags/*.txt`), cue words (`cues/*.txt`), checklists
(`checklists.toml`) and routing rules (`routing.tsv`, or the file `[inbox] routing` names);
`amtslotse check --tenant T` names file and line of each broken line in them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from amtslotse.categories import CATEGORIES
from amtslotse.checks import run_checks
from amtslotse.inbox.checklists import checklist_for
from amtslotse.inbox.classify import cue_counts, load_model
from amtslotse.inbox.flags import rule_flags
from amtslotse.inbox.routing import route_to_team, teams
from amtslotse.inbox.triage import Triager
from amtslotse.settings import Settings
from amtslotse.tenants import load_tenant_config
from embedding_cache import seed_triage_model

TODAY = date(2026, 11, 24)
PELLETS = "Unser Pelletvorrat ist aufgebraucht."
OBJECTION = "Ich lege Widerspruch gegen den Bescheid vom 03.11.2026 ein."
APPOINTMENT = "Ich möchte meinen Termin am Donnerstag bitte auf nächste Woche verschieben."


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Two tenants: `eigenkreis` with its own lists in its folder, `andererkreis` without."""
    tenants = tmp_path / "tenants"
    own = tenants / "eigenkreis"
    (own / "flags").mkdir(parents=True)
    (own / "cues").mkdir()
    (tenants / "eigenkreis.toml").write_text('name = "Jobcenter Eigenkreis"\n', "utf-8")
    (tenants / "andererkreis.toml").write_text('name = "Jobcenter Andererkreis"\n', "utf-8")
    (own / "flags" / "de.txt").write_text("# eigene Notlagen\n[notlage]\npellet* .. aufgebraucht\n", "utf-8")
    (own / "cues" / "de.txt").write_text("[unterkunft]\npellet*\n", "utf-8")
    (own / "checklists.toml").write_text('unterkunft = ["Rechnung des Pelletlieferanten"]\n', "utf-8")
    (own / "routing.tsv").write_text("widerspruch\t*\t*\tRechtsbehelfsstelle Eigenkreis\n", "utf-8")
    return Settings(home=tmp_path / "home", tenants_dir=tenants)


def _inbox(settings: Settings, tenant: str):
    return load_tenant_config(tenant, settings).inbox()


@pytest.fixture(scope="module")
def triager(tmp_path_factory) -> Triager:
    home = tmp_path_factory.mktemp("home")
    seed_triage_model(home)  # the trained model from the test cache, not trained again (embedding_cache.py)
    return Triager(llm=None, model=load_model(home=home))


def test_flag_phrases_extend_for_the_tenant_only(settings, triager):
    own, other = _inbox(settings, "eigenkreis"), _inbox(settings, "andererkreis")
    assert "notlage" in rule_flags(PELLETS, TODAY, tenant_folder=own.folder).flags
    assert "notlage:de" in rule_flags(PELLETS, TODAY, tenant_folder=own.folder).reasons
    assert "notlage" not in rule_flags(PELLETS, TODAY, tenant_folder=other.folder).flags
    assert "notlage" not in rule_flags(PELLETS, TODAY).flags
    # the bundled phrases still apply for the tenant
    assert "notlage" in rule_flags("Der Strom ist abgestellt.", TODAY, tenant_folder=own.folder).flags
    assert triager.triage(PELLETS, own, today=TODAY).priority == 2
    assert "notlage:de" not in triager.triage(PELLETS, other, today=TODAY).reasons


def test_cue_words_extend_for_the_tenant_only(settings, triager):
    own, other = _inbox(settings, "eigenkreis"), _inbox(settings, "andererkreis")
    column = list(CATEGORIES).index("unterkunft")
    text = "Der Pelletlieferant kommt nächste Woche."
    assert cue_counts([text], own.folder)[0, column] > cue_counts([text], other.folder)[0, column] == 0
    probability = {
        name: dict([(result.category, result.confidence), *result.alternatives]).get("unterkunft", 0.0)
        for name, config in (("own", own), ("other", other))
        for result in [triager.triage(text, config, today=TODAY)]
    }
    assert probability["own"] > probability["other"]


def test_checklists_extend_for_the_tenant_only(settings):
    own, other = _inbox(settings, "eigenkreis"), _inbox(settings, "andererkreis")
    bundled = checklist_for("unterkunft")
    assert checklist_for("unterkunft", own) == [*bundled, "Rechnung des Pelletlieferanten"]
    assert checklist_for("unterkunft", other) == bundled
    assert checklist_for("termin", own) == checklist_for("termin")


def test_routing_rules_extend_the_bundled_ones(settings, triager):
    own, other = _inbox(settings, "eigenkreis"), _inbox(settings, "andererkreis")
    assert own.routing == settings.tenants_dir / "eigenkreis" / "routing.tsv"
    assert triager.triage(OBJECTION, own, today=TODAY).team == "Rechtsbehelfsstelle Eigenkreis"
    assert triager.triage(OBJECTION, other, today=TODAY).team == "Widerspruchsstelle"
    # what the tenant does not route, the bundled rules still do (they used to be replaced)
    appointment = triager.triage(APPOINTMENT, own, today=TODAY)
    assert appointment.category == "termin" and route_to_team(appointment, own) == "Arbeitsvermittlung"
    assert {"Rechtsbehelfsstelle Eigenkreis", "Arbeitsvermittlung", "Eingangszone"} <= set(teams(own))
    assert "Rechtsbehelfsstelle Eigenkreis" not in teams(other)


def test_a_catch_all_rule_in_the_tenants_file_replaces_the_bundled_rules(settings, triager):
    (settings.tenants_dir / "eigenkreis" / "routing.tsv").write_text(
        "widerspruch\t*\t*\tRechtsbehelfsstelle Eigenkreis\n*\t*\t*\tPoststelle Eigenkreis\n", "utf-8")
    own = _inbox(settings, "eigenkreis")
    assert triager.triage(APPOINTMENT, own, today=TODAY).team == "Poststelle Eigenkreis"
    assert teams(own) == ["Eingangszone", "Poststelle Eigenkreis", "Rechtsbehelfsstelle Eigenkreis"]


def test_the_routing_setting_still_names_the_tenants_file(settings, triager):
    tenants = settings.tenants_dir
    (tenants / "eigenkreis.toml").write_text('[inbox]\nrouting = "regeln-eigenkreis.tsv"\n', "utf-8")
    (tenants / "regeln-eigenkreis.tsv").write_text("widerspruch\t*\t*\tWiderspruch Eigenkreis\n", "utf-8")
    own = _inbox(settings, "eigenkreis")
    assert own.routing == tenants / "regeln-eigenkreis.tsv"
    assert triager.triage(OBJECTION, own, today=TODAY).team == "Widerspruch Eigenkreis"
    assert triager.triage(APPOINTMENT, own, today=TODAY).team == "Arbeitsvermittlung"


def test_the_check_names_file_and_line_of_each_broken_line_in_the_tenants_folder(settings):
    own = settings.tenants_dir / "eigenkreis"
    (own / "flags" / "de.txt").write_text("[notlage]\npellet* .. aufgebraucht\n[dringend]\nsofort\n", "utf-8")
    (own / "cues" / "de.txt").write_text("heizöl*\n[unterkunft]\nöltank\n", "utf-8")
    (own / "checklists.toml").write_text('unterkunft = ["Heizölrechnung"]\n\nwohnen = ["Mietvertrag"]\n', "utf-8")
    (own / "routing.tsv").write_text("widerspruch\t*\t*\tRechtsbehelfsstelle\nmiete\t*\t*\tKdU\n", "utf-8")
    (own / "flag").mkdir()
    other = settings.tenants_dir / "andererkreis"
    (other / "flags").mkdir(parents=True)
    (other / "flags" / "de.txt").write_text("ohne Abschnitt\n", "utf-8")
    problems, _ = run_checks(settings, tenant="eigenkreis")
    found = {(Path(p.path).relative_to(own).as_posix(), p.line, p.message) for p in problems}
    assert found == {
        ("flags/de.txt", 3, "unbekannter Abschnitt [dringend] (erlaubt: frist, frist.mit_datum, frist.pflicht, "
                            "frist.relativ, frist.tag, notlage, widerspruch)"),
        ("cues/de.txt", 1, "Wendung vor dem ersten [Abschnitt]"),
        ("checklists.toml", 3, "unbekannte Kategorie wohnen"),
        ("routing.tsv", 2, "unbekannte Kategorie miete"),
        ("flag", None, "unbekannt im Ordner des Mandanten (erwartet: flags/, cues/, checklists.toml, routing.tsv)"),
    }
    everyone, _ = run_checks(settings)
    assert f"{other / 'flags' / 'de.txt'}, Zeile 1: Wendung vor dem ersten [Abschnitt]" in {str(p) for p in everyone}


def test_a_tenant_checklist_may_name_the_tenants_own_categories(settings):
    tenants = settings.tenants_dir
    (tenants / "eigenkreis.toml").write_text(
        '[[inbox.extra_categories]]\nkey = "heizoel"\nlabel = "Heizöl"\nkeywords = ["Heizöl"]\n', "utf-8")
    (tenants / "eigenkreis" / "checklists.toml").write_text('heizoel = ["Lieferschein"]\n', "utf-8")
    problems, _ = run_checks(settings, tenant="eigenkreis")
    assert problems == []
    assert checklist_for("heizoel", _inbox(settings, "eigenkreis")) == ["Lieferschein"]


def test_urgent_first_flags_with_the_tenants_own_phrases(settings, tmp_path):
    """Before any attachment is read, processing flags pending messages by rules: with the
    tenant's own phrases for that tenant, not for another."""
    from datetime import datetime, timedelta, timezone

    from amtslotse.inbox.processing import UrgentFirst
    from amtslotse.models import InboxItem
    from amtslotse.store.sqlite import SqliteStore

    now = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    store = SqliteStore(tmp_path / "amtslotse.db")
    try:
        ids = {}
        for tenant in ("eigenkreis", "andererkreis"):
            item = InboxItem(tenant=tenant, channel="api", external_id=f"k-{tenant}", received_at=now, body=PELLETS,
                             redacted=PELLETS, delete_after=now + timedelta(days=90))
            ids[tenant] = store.add_inbox_item(item, tenant[:2].upper())[0]
        UrgentFirst(store, settings=settings).flag_new()
        assert store.inbox_item("eigenkreis", ids["eigenkreis"]).flags == ["notlage"]
        assert store.inbox_item("andererkreis", ids["andererkreis"]).flags == []
    finally:
        store.close()


def test_the_tenants_rules_stay_the_same_however_often_they_are_read(settings):
    from amtslotse.inbox.routing import load_rules, rules_for

    own = _inbox(settings, "eigenkreis")
    first = [rule.team for rule in rules_for(own)]
    assert [rule.team for rule in rules_for(own)] == first
    assert len(load_rules(own.routing, own.labels)) == 1


def test_a_tenant_without_a_toml_file_may_have_its_own_lists(settings):
    own = settings.tenants_dir / "ohnekreis" / "flags" / "de.txt"
    own.parent.mkdir(parents=True)
    own.write_text("[notlage]\npellet* .. aufgebraucht\n", "utf-8")
    config = load_tenant_config("ohnekreis", settings)
    assert not config.configured
    assert "notlage" in rule_flags(PELLETS, TODAY, tenant_folder=config.inbox().folder).flags
    own.write_text("[notlage]\npellet* .. aufgebraucht\n[eilig]\n", "utf-8")
    problems, _ = run_checks(settings)
    assert f"{own}, Zeile 3: unbekannter Abschnitt [eilig]" in {str(p).split(" (erlaubt")[0] for p in problems}
