"""Tenants as a lifecycle (governance/tenants.py) from the command line and the staff API, on SQLite
and PostgreSQL: create from the starter template, list, show, check, disable (the chat answers
403 in German), enable, and delete with ALL the tenant's data, reported per kind."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone

import pytest

from amtslotse.errors import UserError
from amtslotse.governance import tenants
from amtslotse.governance.audit import COOPERATIVE, verify_chain
from amtslotse.models import SHARED_TENANT
from amtslotse.tenants import load_tenant_file
from governance_data import PASSWORD, add_message, add_turn

pytest_plugins = ["governance_fixtures"]  # the `cli` and `gov` fixtures

T, OTHER = "nordkreis", "suedkreis"


def test_create_writes_the_template_with_the_new_name_and_registers_the_tenant(cli, store_factory, tmp_path):
    result = cli("tenant", "create", T, "--name", "Jobcenter Landkreis Nordkreis", "--prefix", "NK", "--as", "v.verbund")
    assert result.exit_code == 0, result.output
    path = tmp_path / "tenants" / f"{T}.toml"
    assert str(path) in result.output and "Noch zu tun" in result.output  # the template's placeholders
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert raw["name"] == "Jobcenter Landkreis Nordkreis" and raw["reference_prefix"] == "NK"
    assert "Nordkreis" in raw["greeting"] and "Musterkreis" not in path.read_text(encoding="utf-8")
    assert raw["privacy_url"] == "https://jobcenter.nordkreis.example/datenschutz"
    assert raw["emergency_contacts"] and raw["inbox"]  # the template's tables came along
    assert load_tenant_file(path).name == "Jobcenter Landkreis Nordkreis"
    store = store_factory()
    assert T in store.tenants() and store.tenant_state(T).state == "active"
    [entry] = store.audit_entries(COOPERATIVE)
    assert (entry.actor, entry.action, entry.object_id) == ("v.verbund", "tenant_created", T)

    again = cli("tenant", "create", T)
    assert isinstance(again.exception, UserError) and "gibt es schon" in str(again.exception)
    bad = cli("tenant", "create", "Nord Kreis")
    assert isinstance(bad.exception, UserError) and "kein gültiger Mandantenname" in str(bad.exception)
    shared = cli("tenant", "create", SHARED_TENANT)
    assert isinstance(shared.exception, UserError)


def test_list_show_and_check(cli, store_factory, tmp_path):
    assert cli("tenant", "create", T, "--prefix", "NK").exit_code == 0
    assert cli("tenant", "create", OTHER, "--prefix", "SK").exit_code == 0
    listed = cli("tenant", "list")
    assert listed.exit_code == 0 and f"{T}  Jobcenter Nordkreis  [aktiv]" in listed.output and OTHER in listed.output
    shown = cli("tenant", "show", T)
    assert shown.exit_code == 0 and "Status: aktiv" in shown.output and "Mandanteneintrag: 1" in shown.output

    checked = cli("tenant", "check", T)
    assert checked.exit_code == 0, checked.output
    assert "Beispieladresse" in checked.output and "Beispiel-Telefonnummer" in checked.output
    assert "[privacy]" in checked.output  # what the Art. 30 record lacks
    path = tmp_path / "tenants" / f"{T}.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\ngreting = "Hallo"\n', encoding="utf-8")
    broken = cli("tenant", "check", T)
    assert broken.exit_code == 1 and "unbekannter Schlüssel „greting“" in broken.output
    data = cli("tenant", "show", T, "--json")
    assert '"config_error"' in data.output and "greting" in data.output


def test_disable_stops_public_answers_with_a_german_403(gov, cli):
    assert cli("tenant", "create", T).exit_code == 0
    client = gov.client
    assert client.get(f"/api/v1/tenants/{T}/config").status_code == 200
    assert cli("tenant", "disable", T, "--reason", "Vertrag endet").exit_code == 0
    for response in (
        client.get(f"/api/v1/tenants/{T}/config"),
        client.post("/api/v1/conversations/abcdefgh-1234/messages", json={"text": "Zahlt ihr die Miete?", "tenant": T}),
        client.post("/v1/chat/completions", json={"model": f"amtslotse:{T}", "messages": [{"role": "user", "content": "Hallo"}]}),
    ):
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "tenant_disabled" and "zurzeit abgeschaltet" in error["message"]
    assert gov.client.get("/api/v1/tenants/musterkreis/config").status_code == 200  # others answer on
    shown = cli("tenant", "show", T)
    assert "abgeschaltet" in shown.output and "Vertrag endet" in shown.output
    assert cli("tenant", "enable", T).exit_code == 0
    assert client.get(f"/api/v1/tenants/{T}/config").status_code == 200
    actions = [e.action for e in gov.store.audit_entries(COOPERATIVE)]
    assert actions == ["tenant_created", "tenant_disabled", "tenant_enabled"]
    unknown = cli("tenant", "disable", "gibtsnicht")
    assert isinstance(unknown.exception, UserError)


def fill_tenant(store, settings, tenant: str, tmp_path) -> None:
    """Data of every kind, as the entry points would store it."""
    from amtslotse.governance.usage import record_usage
    from amtslotse.inbox import review
    from amtslotse.knowledge.ingest import ingest_paths

    page = tmp_path / f"{tenant}-sprechzeiten.md"
    page.write_text(f"# Sprechzeiten {tenant}\n\nDienstags 9 bis 12 Uhr, Zimmer 4.\n", encoding="utf-8")
    assert ingest_paths([page], store, settings, tenant=tenant, actor="r.redaktion").ingested == 1
    add_turn(store, tenant, f"{tenant}-gespraech-1", "Zahlt ihr die Miete?")
    add_turn(store, tenant, f"{tenant}-gespraech-1", "Und die Heizung?", mode="extractive")
    _, reference = add_message(store, tenant, f"{tenant}-mail-1", attachments=2)
    add_message(store, tenant, f"{tenant}-chat-1", channel="chat", conversation=f"{tenant}-gespraech-1", attachments=0)
    review.open_message(store, tenant, reference, "s.sach")
    store.add_staff_user(f"s.sach.{tenant}", tenant, ["sachbearbeitung"], PASSWORD)
    store.start_staff_session(f"s.sach.{tenant}", datetime.now(timezone.utc) + timedelta(hours=1))
    if hasattr(store, "create_api_key"):
        store.create_api_key(tenant, "Formularserver")
    record_usage(store, tenant, "ocr_pages", 3)


def fill_over_http(client, tenant: str) -> None:
    """What the public and the staff entry points store on their own: a conversation with its
    secret and the rate-limit counters of a question (the real app), a failed login of the
    tenant's account (its throttle)."""
    asked = client.post(f"/api/v1/conversations/{tenant}-http-0001/messages",
                        json={"text": "Wer zahlt die Miete?", "tenant": tenant})
    assert asked.status_code == 200 and asked.json()["conversation_token"], asked.text
    wrong = client.post("/api/v1/staff/login", json={"name": f"s.sach.{tenant}", "password": "falsch-falsch-falsch"})
    assert wrong.status_code == 401, wrong.text


def tenant_rows(store, tenant: str) -> dict[str, int]:
    """Rows that still name the tenant, in every table that has a tenant column."""
    return {table: n for table, n in store.tenant_data_counts(tenant).items() if table != "vectors"}


def test_delete_removes_all_the_tenants_data_and_reports_it(cli, store_factory, tmp_path):
    from amtslotse.settings import Settings

    assert cli("tenant", "create", T).exit_code == 0
    assert cli("tenant", "create", OTHER).exit_code == 0
    store = store_factory()
    settings = Settings(home=tmp_path / "home", embedder="none", tenants_dir=tmp_path / "tenants")
    fill_tenant(store, settings, T, tmp_path)
    fill_tenant(store, settings, OTHER, tmp_path)
    before_other = tenant_rows(store, OTHER)

    refused = cli("tenant", "delete", T, input="n\n")  # asks first
    assert refused.exit_code == 1 and tenant_rows(store, T)
    result = cli("tenant", "delete", T, "--yes", "--as", "v.verbund")
    assert result.exit_code == 0, result.output
    for line in ("Dokumente: 1", "Passagen: 1", "Gespräche: 1", "Fragen und Antworten: 2",
                 "Nachrichten im Posteingang: 2", "Anhänge: 2", "Konten der Mitarbeitenden: 1", "Anmeldungen: 1",
                 "Einstellungsdatei: 1", "Protokolleinträge:", "Verbrauchszähler (Tageswerte):", "Mandanteneintrag: 1"):
        assert line in result.output, (line, result.output)
    if hasattr(store, "create_api_key"):
        assert "API-Schlüssel: 1" in result.output

    fresh = store_factory()  # what another process sees
    assert tenant_rows(fresh, T) == {}
    assert T not in fresh.tenants() and fresh.tenant_state(T) is None and fresh.audit_head(T) is None
    assert not (tmp_path / "tenants" / f"{T}.toml").exists()
    assert tenant_rows(fresh, OTHER) == before_other  # the neighbour keeps everything
    assert verify_chain(fresh, OTHER).ok
    last = fresh.audit_entries(COOPERATIVE)[-1]
    assert (last.actor, last.action, last.object_id) == ("v.verbund", "tenant_deleted", T)
    assert last.details["documents"] == 1 and last.details["config_file"] == 1
    assert verify_chain(fresh, COOPERATIVE).ok
    assert fresh.search_lexical(T, {1: 1.0}, datetime.now().date(), 5) == []
    gone = cli("tenant", "delete", T, "--yes")
    assert isinstance(gone.exception, UserError) and "gibt es hier nicht" in str(gone.exception)


def test_the_cooperative_admin_runs_the_lifecycle_over_the_api(gov):
    store = gov.store
    store.add_staff_user("v.verbund", COOPERATIVE, ["admin"], PASSWORD)
    store.add_staff_user("a.admin", OTHER, ["admin"], PASSWORD)
    cooperative, local = gov.login("v.verbund"), gov.login("a.admin")
    api = gov.client

    created = api.post("/api/v1/staff/admin/tenants", json={"tenant": T, "name": "Jobcenter Landkreis Nordkreis",
                                                             "prefix": "NK"}, headers=cooperative)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Jobcenter Landkreis Nordkreis" and created.json()["hints"]
    assert api.post("/api/v1/staff/admin/tenants", json={"tenant": T}, headers=cooperative).status_code == 409
    assert api.post("/api/v1/staff/admin/tenants", json={"tenant": "X!"}, headers=cooperative).status_code == 422
    listed = api.get("/api/v1/staff/admin/tenants", headers=cooperative).json()["tenants"]
    assert T in [t["tenant"] for t in listed]
    assert api.get(f"/api/v1/staff/admin/tenants/{T}", headers=cooperative).json()["state"] == "active"
    check = api.get(f"/api/v1/staff/admin/tenants/{T}/check", headers=cooperative).json()
    assert check["ok"] and any("Beispieladresse" in h for h in check["hints"])

    disabled = api.post(f"/api/v1/staff/admin/tenants/{T}/disable", json={"reason": "Wartung"}, headers=cooperative)
    assert disabled.status_code == 200 and disabled.json()["state"] == "disabled"
    assert api.get(f"/api/v1/tenants/{T}/config").status_code == 403
    assert api.post(f"/api/v1/staff/admin/tenants/{T}/enable", headers=cooperative).json()["state"] == "active"

    # A tenant's own admin is not the cooperative: no lifecycle, not even its own.
    for method, path in (("GET", "/api/v1/staff/admin/tenants"), ("POST", f"/api/v1/staff/admin/tenants/{OTHER}/disable"),
                         ("DELETE", f"/api/v1/staff/admin/tenants/{OTHER}?confirm={OTHER}")):
        response = api.request(method, path, headers=local, json={} if method == "POST" else None)
        assert response.status_code == 403, (path, response.text)
    assert api.get("/api/v1/staff/admin/tenants").status_code == 401

    assert api.delete(f"/api/v1/staff/admin/tenants/{T}", headers=cooperative).status_code == 422  # no confirmation
    deleted = api.delete(f"/api/v1/staff/admin/tenants/{T}", params={"confirm": T}, headers=cooperative)
    assert deleted.status_code == 200 and deleted.json()["removed"]["Einstellungsdatei"] == 1
    assert api.get(f"/api/v1/staff/admin/tenants/{T}", headers=cooperative).status_code == 404
    assert api.get(f"/api/v1/tenants/{T}/config").status_code == 404


def test_render_template_keeps_a_valid_file_for_odd_names(tmp_path):
    text = tenants.render_template("sued-ost", 'Jobcenter "Süd-Ost" Kreis', "SO")
    path = tmp_path / "sued-ost.toml"
    path.write_text(text, encoding="utf-8")
    assert load_tenant_file(path).name == 'Jobcenter "Süd-Ost" Kreis'


@pytest.mark.parametrize("name", ["bund", "*", "A", "x" * 70])
def test_names_that_are_no_tenant(name):
    with pytest.raises(tenants.TenantError):
        tenants._check_name(name)


def catalogue(store, kind: str) -> dict[str, set[str]]:
    """Every table with its columns, read from the database's own catalogue."""
    if kind == "sqlite":
        rows = store._read("SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                           "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'")
    else:
        rows = store._read("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = current_schema()")
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


def count(store, sql: str, *params) -> int:
    return int(store._read(sql, params)[0][0])


ORPHANS = {
    "turns": "conversation_id NOT IN (SELECT id FROM conversations)",
    "inbox_attachments": "message_id NOT IN (SELECT id FROM inbox_messages)",
    "inbox_content_hashes": "message_id NOT IN (SELECT id FROM inbox_messages)",
    "staff_sessions": "name NOT IN (SELECT name FROM staff_users)",
    "audit_chain": "entry_id NOT IN (SELECT id FROM audit_log)",
}
"""Rows that would be left of a deleted parent: none may be."""


def test_delete_leaves_no_row_of_the_tenant_in_any_table(gov, cli, store_factory, tmp_path):
    """Every table with a tenant column holds data of both tenants before (the fill covers each
    one, also tables added later), none of the deleted tenant's after, the neighbour's all."""
    from amtslotse.web.limits import hashed

    for tenant, prefix in ((T, "NK"), (OTHER, "SK")):
        assert cli("tenant", "create", tenant, "--prefix", prefix).exit_code == 0
        fill_tenant(gov.store, gov.settings, tenant, tmp_path)
        fill_over_http(gov.client, tenant)
    store = store_factory()  # another process's view of the same database
    tables = catalogue(store, store_factory.kind)
    owned = sorted(t for t, columns in tables.items() if "tenant" in columns and t != "audit_purges")
    assert {"conversation_secrets", "api_keys", "rate_counters", "login_failures", "staff_users", "usage_counts",
            "audit_chain", "audit_heads", "tenant_status"} <= set(owned)
    before = {t: count(store, f"SELECT COUNT(*) FROM {t} WHERE tenant = ?", T) for t in owned}
    other = {t: count(store, f"SELECT COUNT(*) FROM {t} WHERE tenant = ?", OTHER) for t in owned}
    assert [t for t, n in before.items() if not n] == [] and [t for t, n in other.items() if not n] == []
    throttle = "account:" + hashed("login", f"s.sach.{T}")
    bucket = hashed("tenant", "chat", T)
    assert count(store, "SELECT COUNT(*) FROM login_failures WHERE key = ?", throttle) == 1
    assert count(store, "SELECT COUNT(*) FROM rate_counters WHERE bucket = ?", bucket) == 1

    result = cli("tenant", "delete", T, "--yes", "--as", "v.verbund")
    assert result.exit_code == 0, result.output
    for line in ("Gesprächsschlüssel: 1", "API-Schlüssel: 1", "Zähler der Anfragebegrenzung: 1",
                 "Fehlgeschlagene Anmeldungen: 1", "Konten der Mitarbeitenden: 1", "Anmeldungen: 1"):
        assert line in result.output, (line, result.output)

    fresh = store_factory()
    assert {t: count(fresh, f"SELECT COUNT(*) FROM {t} WHERE tenant = ?", T) for t in owned} == dict.fromkeys(owned, 0)
    assert {t: count(fresh, f"SELECT COUNT(*) FROM {t} WHERE tenant = ?", OTHER) for t in owned} == other
    assert count(fresh, "SELECT COUNT(*) FROM login_failures WHERE key = ?", throttle) == 0
    assert count(fresh, "SELECT COUNT(*) FROM rate_counters WHERE bucket = ?", bucket) == 0
    assert count(fresh, "SELECT COUNT(*) FROM tenants WHERE name = ?", T) == 0
    assert count(fresh, "SELECT COUNT(*) FROM conversations WHERE id LIKE ?", f"{T}-%") == 0
    assert {t: count(fresh, f"SELECT COUNT(*) FROM {t} WHERE {where}") for t, where in ORPHANS.items()} == dict.fromkeys(ORPHANS, 0)
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert gov.client.post(f"/api/v1/conversations/{OTHER}-http-0001/messages",
                           json={"text": "Und die Heizung?", "tenant": OTHER}).status_code == 403  # its secret still guards it
