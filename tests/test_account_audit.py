"""Issue 12: staff account and API key changes are audited by the domain code
(governance/accounts.py), so the command line and the staff API are audited alike: each
change leaves an entry in the hash-chained log of the account's tenant, naming who did it and
never a password or a key, and `amtslotse audit verify` still passes. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

from amtslotse.governance.audit import COOPERATIVE, verify_chain
from governance_data import PASSWORD

pytest_plugins = ["governance_fixtures"]  # the `cli` and `gov` fixtures

T, OTHER = "nordkreis", "suedkreis"
NEW_PASSWORD = "Ganz-neues-Passwort-2027"


def actions(store, tenant: str, object_type: str = "staff_user") -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.object_id) for e in store.audit_entries(tenant) if e.object_type == object_type]


def assert_no_secrets(store, *secrets: str) -> None:
    for tenant in store.audit_chain_tenants():
        text = json.dumps([e.details for e in store.audit_entries(tenant)], ensure_ascii=False)
        assert not any(secret in text for secret in secrets), tenant


def assert_verified(cli) -> None:
    verified = cli("audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_account_changes_from_the_command_line_are_audited(cli, store_factory):
    assert cli("tenant", "create", T).exit_code == 0
    add = ("staff", "add", "s.sach", "--tenant", T, "--password-stdin")
    assert cli(*add, "--role", "sachbearbeitung", input=PASSWORD + "\n").exit_code == 0
    assert cli(*add, "--role", "sachbearbeitung", "--role", "redaktion", "--as", "a.admin",
               input=PASSWORD + "\n").exit_code == 0  # a role change, the same password
    assert cli(*add, "--role", "sachbearbeitung", "--role", "redaktion", input=NEW_PASSWORD + "\n").exit_code == 0
    assert cli(*add, "--role", "sachbearbeitung", "--role", "redaktion", input=NEW_PASSWORD + "\n").exit_code == 0
    for command in ("logout-all", "disable", "remove"):
        result = cli("staff", command, "s.sach", "--as", "a.admin")
        assert result.exit_code == 0, result.output
    created = cli("apikey", "create", "--tenant", T, "--name", "formularserver")
    assert created.exit_code == 0, created.output
    secret = created.output.splitlines()[0]
    key = store_factory().api_keys(T)[0]
    assert cli("apikey", "revoke", str(key.id), "--tenant", T, "--as", "a.admin").exit_code == 0
    missing = cli("staff", "disable", "gibtsnicht")
    assert missing.exit_code != 0 and "gibt es nicht" in str(missing.exception)

    store = store_factory()
    logged = actions(store, T)
    assert [action for _, action, _ in logged] == [
        "staff_user_created", "staff_roles_changed", "staff_password_changed",  # the fourth add changed nothing
        "staff_sessions_ended", "staff_user_disabled", "staff_user_removed"]
    assert {name for _, _, name in logged} == {"s.sach"}
    actors = [actor for actor, _, _ in logged]
    assert actors[0].startswith("cli") and actors[1] == "a.admin" and actors[3:] == ["a.admin"] * 3
    changed = [e for e in store.audit_entries(T) if e.action == "staff_roles_changed"][0].details
    assert changed["roles_before"] == ["sachbearbeitung"] and changed["roles"] == ["redaktion", "sachbearbeitung"]
    assert [(a, o) for a, _, o in actions(store, T, "api_key")] == [(actors[0], str(key.id)), ("a.admin", str(key.id))]
    assert [e.action for e in store.audit_entries(T) if e.object_type == "api_key"] == ["api_key_created", "api_key_revoked"]
    assert_no_secrets(store, PASSWORD, NEW_PASSWORD, secret)
    assert verify_chain(store, T).ok
    assert_verified(cli)


def test_account_changes_over_the_api_are_audited_and_bounded_by_tenant(gov, cli):
    store, api = gov.store, gov.client
    assert cli("tenant", "create", T).exit_code == 0 and cli("tenant", "create", OTHER).exit_code == 0
    store.add_staff_user("v.verbund", COOPERATIVE, ["admin"], PASSWORD)
    store.add_staff_user("a.sued", OTHER, ["admin"], PASSWORD)
    cooperative, neighbour = gov.login("v.verbund"), gov.login("a.sued")

    created = api.post("/api/v1/staff/admin/accounts", headers=cooperative,
                       json={"name": "a.nord", "tenant": T, "roles": ["admin"], "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert created.json() | {"created_at": None} == {"name": "a.nord", "tenant": T, "roles": ["admin"], "disabled": False,
                                                      "created_at": None, "sessions": 0}
    local = gov.login("a.nord")
    made = api.post("/api/v1/staff/admin/accounts", headers=local,
                    json={"name": "s.nord", "roles": ["sachbearbeitung"], "password": PASSWORD})  # own tenant
    assert made.status_code == 201 and made.json()["tenant"] == T
    assert api.post("/api/v1/staff/admin/accounts", headers=local, json={
        "name": "s.nord", "roles": ["sachbearbeitung"], "password": PASSWORD}).status_code == 409
    sach = gov.login("s.nord")
    assert api.patch("/api/v1/staff/admin/accounts/s.nord", headers=local,
                     json={"roles": ["sachbearbeitung", "auswertung"]}).json()["roles"] == ["auswertung", "sachbearbeitung"]
    assert api.get("/api/v1/staff/analytics", headers=sach, params={"tenant": T}).status_code == 200  # the new role
    assert api.post("/api/v1/staff/admin/accounts/s.nord/logout-all", headers=local).json() == {"ended": 1}
    assert api.get("/api/v1/staff/admin/accounts", headers=sach).status_code == 401  # the session ended
    assert api.post("/api/v1/staff/admin/accounts/s.nord/password", headers=local,
                    json={"password": NEW_PASSWORD}).json() == {"ok": True}
    assert api.post("/api/v1/staff/admin/accounts/s.nord/disable", headers=local).json()["disabled"] is True
    assert api.delete("/api/v1/staff/admin/accounts/s.nord", headers=local).json() == {"ok": True}
    for locked_out in (api.post("/api/v1/staff/admin/accounts/a.nord/disable", headers=local),
                       api.delete("/api/v1/staff/admin/accounts/a.nord", headers=local)):
        assert locked_out.status_code == 409 and "eigene Konto" in locked_out.json()["error"]["message"], locked_out.text

    # The neighbour's admin reaches none of it; a tenant admin makes no cooperative account.
    for method, path, body in (("PATCH", "/api/v1/staff/admin/accounts/a.nord", {"roles": ["redaktion"]}),
                               ("POST", "/api/v1/staff/admin/accounts/a.nord/disable", None),
                               ("DELETE", "/api/v1/staff/admin/accounts/a.nord", None),
                               ("POST", "/api/v1/staff/admin/accounts/v.verbund/password", {"password": NEW_PASSWORD})):
        assert api.request(method, path, headers=neighbour, json=body).status_code == 404, path
    assert api.post("/api/v1/staff/admin/accounts", headers=local, json={
        "name": "x.verbund", "tenant": COOPERATIVE, "roles": ["admin"], "password": PASSWORD}).status_code == 403
    assert api.patch("/api/v1/staff/admin/accounts/a.nord", headers=local,
                     json={"roles": ["admin"], "tenant": OTHER}).status_code == 403
    assert [a["name"] for a in api.get("/api/v1/staff/admin/accounts", headers=neighbour).json()["accounts"]] == ["a.sued"]

    key = api.post("/api/v1/staff/admin/api-keys", headers=local, json={"name": "formularserver"})
    assert key.status_code == 201 and key.json()["secret"].startswith("alk_")
    assert api.get("/api/v1/staff/admin/api-keys", headers=neighbour, params={"tenant": T}).status_code == 403
    assert api.delete(f"/api/v1/staff/admin/api-keys/{key.json()['id']}", headers=neighbour,
                      params={"tenant": OTHER}).status_code == 404
    assert api.delete(f"/api/v1/staff/admin/api-keys/{key.json()['id']}", headers=local).json() == {"ok": True}
    assert api.get("/api/v1/staff/admin/api-keys", headers=local).json()["api_keys"][0]["active"] is False

    # One's own password: the wrong current one is refused; the change ends every session.
    wrong = api.post("/api/v1/staff/password", headers=local, json={"current_password": "geraten-geraten",
                                                                    "new_password": NEW_PASSWORD})
    assert wrong.status_code == 403
    changed = api.post("/api/v1/staff/password", headers=local, json={"current_password": PASSWORD,
                                                                      "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    assert api.get("/api/v1/staff/admin/accounts", headers=local).status_code == 401

    assert actions(store, T) == [
        ("v.verbund", "staff_user_created", "a.nord"), ("a.nord", "staff_user_created", "s.nord"),
        ("a.nord", "staff_roles_changed", "s.nord"), ("a.nord", "staff_sessions_ended", "s.nord"),
        ("a.nord", "staff_password_changed", "s.nord"), ("a.nord", "staff_user_disabled", "s.nord"),
        ("a.nord", "staff_user_removed", "s.nord"), ("a.nord", "staff_password_changed", "a.nord")]
    assert [(a, e) for a, e, _ in actions(store, T, "api_key")] == [("a.nord", "api_key_created"),
                                                                     ("a.nord", "api_key_revoked")]
    assert actions(store, OTHER) == [] and actions(store, COOPERATIVE) == []
    assert_no_secrets(store, PASSWORD, NEW_PASSWORD, key.json()["secret"])
    assert api.get("/api/v1/staff/admin/audit/verify", headers=cooperative).json()["ok"] is True
    assert_verified(cli)


def test_a_move_to_another_tenant_is_written_in_both_chains(gov, cli):
    store, api = gov.store, gov.client
    store.add_staff_user("v.verbund", COOPERATIVE, ["admin"], PASSWORD)
    store.add_staff_user("r.red", T, ["redaktion"], PASSWORD)
    moved = api.patch("/api/v1/staff/admin/accounts/r.red", headers=gov.login("v.verbund"),
                      json={"roles": ["redaktion"], "tenant": OTHER})
    assert moved.status_code == 200 and moved.json()["tenant"] == OTHER
    for tenant in (T, OTHER):
        [entry] = store.audit_entries(tenant)
        assert entry.action == "staff_roles_changed" and (entry.details["tenant_before"], entry.details["tenant"]) == (T, OTHER)
    assert_verified(cli)
