"""The audit log that proves itself (governance/audit.py, store/sql_governance.py), on SQLite and
PostgreSQL: append-only by trigger, hash-chained per tenant; `verify` names the first entry
that was changed or deleted with raw SQL; every write is audited by the domain code, so a
command-line ingest leaves the same trail as an upload."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from amtslotse.governance.audit import COOPERATIVE, record, verify_all, verify_chain
from amtslotse.models import AuditEntry

pytest_plugins = ["governance_fixtures"]  # the `cli` and `gov` fixtures

T = "musterkreis"
U = "beispielstadt"


def is_postgres(store) -> bool:
    return type(store).__name__ == "PostgresStore"


def raw(store, sql: str, params: tuple = ()) -> None:
    """SQL as an attacker with database access would send it (the store's own connection)."""
    with store._tx() as cur:
        cur.execute(sql, params)


def drop_triggers(store) -> None:
    """What only the database's owner can do: lift the append-only guard."""
    if is_postgres(store):
        for table in ("audit_log", "audit_chain"):
            raw(store, f"DROP TRIGGER {table}_append_only ON {table}")
    else:
        for name in ("audit_log_no_update", "audit_log_no_delete", "audit_chain_no_update", "audit_chain_no_delete"):
            raw(store, f"DROP TRIGGER {name}")


def fill(store, tenant: str = T, n: int = 5) -> list[int]:
    start = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    return [
        record(store, tenant, "s.berger", "viewed", "inbox_message", str(100 + i)) if i % 2 else
        store.append_audit(AuditEntry(tenant, "system", "triaged", "inbox_message", str(100 + i),
                                      {"reference": f"MK-2026-{100 + i:06d}", "flags": ["frist"]},
                                      at=start + timedelta(minutes=i)))
        for i in range(n)
    ]


def test_an_untouched_chain_is_in_order_per_tenant(store):
    fill(store, T, 5)
    fill(store, U, 3)
    reports = {r.tenant: r for r in verify_all(store)}
    assert set(reports) == {T, U}
    assert reports[T].ok and reports[T].entries == 5 and "in Ordnung" in reports[T].message
    assert reports[U].ok and reports[U].entries == 3
    assert store.audit_head(T).seq == 5 and store.audit_head(T).hash == reports[T].head
    assert verify_chain(store, "leerkreis").ok  # no entries: nothing to prove


def test_the_log_refuses_update_and_delete(store):
    ids = fill(store)
    for sql in ("UPDATE audit_log SET actor = 'niemand' WHERE id = ?", "DELETE FROM audit_log WHERE id = ?",
                "UPDATE audit_chain SET hash = 'x' WHERE entry_id = ?", "DELETE FROM audit_chain WHERE entry_id = ?"):
        with pytest.raises(Exception, match="nur erweiterbar"):
            raw(store, sql, (ids[1],))
    if is_postgres(store):
        with pytest.raises(Exception, match="nur erweiterbar"):
            raw(store, "TRUNCATE audit_log")
    assert verify_chain(store, T).ok and verify_chain(store, T).entries == 5


def test_a_changed_entry_is_named(store):
    ids = fill(store)
    drop_triggers(store)
    raw(store, "UPDATE audit_log SET details = ? WHERE id = ?", ('{"flags": [], "reference": "MK-2026-000102"}', ids[2]))
    report = verify_chain(store, T)
    assert not report.ok and report.broken_entry == ids[2]
    assert f"Eintrag {ids[2]} vom" in report.message and "verändert" in report.message
    assert verify_chain(store, U).ok  # another tenant's chain is its own


def test_a_changed_actor_is_named_even_with_a_recomputed_chain_row(store):
    """Rewriting one entry and its own hash breaks the link to the next entry."""
    from amtslotse.models import audit_hash

    ids = fill(store)
    drop_triggers(store)
    entry = store.audit_chain_page(T, ids[1] - 1, 1)[0]
    raw(store, "UPDATE audit_log SET actor = 'm.falsch' WHERE id = ?", (entry.id,))
    forged = audit_hash(entry.seq, entry.id, T, entry.at, "m.falsch", entry.action, entry.object_type, entry.object_id,
                        entry.details, entry.prev_hash)
    raw(store, "UPDATE audit_chain SET hash = ? WHERE entry_id = ?", (forged, entry.id))
    report = verify_chain(store, T)
    assert not report.ok and report.broken_entry == ids[2] and "unterbrochen" in report.message


def test_a_deleted_entry_is_named(store):
    ids = fill(store)
    drop_triggers(store)
    raw(store, "DELETE FROM audit_log WHERE id = ?", (ids[1],))
    report = verify_chain(store, T)
    assert not report.ok and report.broken_entry == ids[1]
    assert f"Eintrag Nr. 2 (Protokoll-Id {ids[1]}) fehlt" in report.message


def test_a_deleted_entry_with_its_chain_row_is_found(store):
    ids = fill(store)
    drop_triggers(store)
    raw(store, "DELETE FROM audit_chain WHERE entry_id = ?", (ids[3],))
    raw(store, "DELETE FROM audit_log WHERE id = ?", (ids[3],))
    report = verify_chain(store, T)
    assert not report.ok and report.broken_entry == ids[4] and "fehlt Eintrag Nr. 4" in report.message


def test_deleting_the_newest_entries_is_found_by_the_head(store):
    ids = fill(store)
    drop_triggers(store)
    raw(store, "DELETE FROM audit_log WHERE id >= ?", (ids[3],))
    report = verify_chain(store, T)
    assert not report.ok and report.broken_entry == ids[3]
    assert f"die letzten 2 Einträge fehlen, ab Nr. 4 (Protokoll-Id {ids[3]})" in report.message
    raw(store, "DELETE FROM audit_chain WHERE entry_id >= ?", (ids[3],))  # their chain rows too: the head still knows
    report = verify_chain(store, T)
    assert not report.ok and "die letzten 2 Einträge fehlen, ab Nr. 4" in report.message and report.broken_entry == ids[4]


def test_a_deleted_head_is_found_and_does_not_stop_the_next_write(store):
    fill(store)
    raw(store, "DELETE FROM audit_heads WHERE tenant = ?", (T,))  # not guarded: the head is rewritten on every write
    report = verify_chain(store, T)
    assert not report.ok and "der Kopf der Kette fehlt" in report.message
    record(store, T, "s.berger", "viewed", "inbox_message", "9")  # the inbox keeps working
    assert store.audit_head(T).seq == 6 and verify_chain(store, T).ok


def test_an_entry_slipped_in_afterwards_is_found(store):
    fill(store)
    raw(store, "INSERT INTO audit_log(tenant, at, actor, action, object_type, object_id, details) "
               "VALUES (?, '2026-12-01T12:00:00+00:00', 's.berger', 'answered', 'inbox_message', '7', '{}')", (T,))
    report = verify_chain(store, T)
    assert not report.ok and "nachträglich eingefügt" in report.message
    record(store, T, "s.berger", "viewed", "inbox_message", "8")  # the next real entry does not legitimise it
    assert not verify_chain(store, T).ok


def test_entries_from_before_the_chain_are_chained_by_the_first_new_one(store):
    """A store upgraded with an audit log: its old entries join the chain, in order, once."""
    drop_triggers(store)
    for i in range(3):
        raw(store, "INSERT INTO audit_log(tenant, at, actor, action, object_type, object_id, details) "
                   "VALUES (?, ?, 'system', 'accepted', 'inbox_message', ?, '{}')", (T, f"2026-01-0{i + 1}T00:00:00+00:00", str(i)))
    assert not verify_chain(store, T).ok  # not chained yet
    record(store, T, "s.berger", "viewed", "inbox_message", "0")
    report = verify_chain(store, T)
    assert report.ok and report.entries == 4


def test_concurrent_writers_keep_one_chain(store_factory):
    """Writers through separate connections (as separate workers): no forks, no gaps."""
    stores = [store_factory() for _ in range(3)]

    def write(store, n: int) -> None:
        for i in range(n):
            record(store, T, f"w{id(store) % 7}", "viewed", "inbox_message", str(i))

    threads = [threading.Thread(target=write, args=(s, 15)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify_chain(stores[0], T)
    assert report.ok and report.entries == 45, report.message


def test_inbox_writes_are_chained_too(store):
    """Intake, triage and review write their entries through the same path."""
    from amtslotse.inbox import review
    from amtslotse.models import InboxItem

    now = datetime.now(timezone.utc)
    item = InboxItem(tenant=T, channel="api", external_id="k-1", received_at=now, body="Hallo", redacted="Hallo",
                     delete_after=now + timedelta(days=90))
    _, reference, _ = store.add_inbox_item(item, prefix="MK")
    review.start_review(store, T, reference, "s.berger")
    review.open_message(store, T, reference, "s.berger")
    report = verify_chain(store, T)
    assert report.ok and report.entries == 3


# --- the command line -----------------------------------------------------------------------------


def test_cli_audit_verify_says_in_order_or_names_the_broken_entry(store_factory, cli):
    store = store_factory()
    ids = fill(store)
    result = cli("audit", "verify", "--tenant", T)
    assert result.exit_code == 0 and "in Ordnung" in result.output
    drop_triggers(store)
    raw(store, "UPDATE audit_log SET action = 'closed' WHERE id = ?", (ids[3],))
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"Eintrag {ids[3]} vom" in result.output and "verändert" in result.output
    data = cli("audit", "verify", "--tenant", T, "--json")
    assert data.exit_code == 1 and f'"broken_entry": {ids[3]}' in data.output


def test_a_cli_ingest_is_audited_like_an_upload(store_factory, cli, tmp_path):
    page = tmp_path / "sprechzeiten.md"
    page.write_text("# Sprechzeiten\n\nDas Familienbüro hat mittwochs von 9 bis 12 Uhr geöffnet.\n", encoding="utf-8")
    result = cli("ingest", str(page), "--tenant", T, "--no-embed")
    assert result.exit_code == 0, result.output
    store = store_factory()
    [entry] = store.audit_entries(T, "document")
    assert (entry.action, entry.object_id) == ("document_uploaded", "sprechzeiten.md")
    assert entry.actor.startswith("cli") and entry.details["passages"] >= 1
    assert cli("ingest", str(page), "--tenant", T, "--no-embed").exit_code == 0  # unchanged: nothing written
    assert len(store.audit_entries(T, "document")) == 1
    assert cli("audit", "verify", "--tenant", T).exit_code == 0


def test_a_cli_ingest_writes_the_same_audit_entry_as_an_upload_over_the_staff_api(cli, gov, tmp_path):
    """One domain function audits both entry points (DESIGN: audit entries are written by the
    domain, whatever the entry point): only the actor tells them apart."""
    from governance_data import PASSWORD

    other = "anderkreis"
    content = b"# Sprechzeiten\n\nDas Familienbuero hat mittwochs von 9 bis 12 Uhr geoeffnet.\n"
    page = tmp_path / "sprechzeiten.md"
    page.write_bytes(content)
    result = cli("ingest", str(page), "--tenant", T, "--valid-from", "2026-01-01", "--no-embed")
    assert result.exit_code == 0, result.output
    gov.store.add_staff_user("r.redaktion", other, ["redaktion"], PASSWORD)
    response = gov.client.post("/api/v1/staff/knowledge", headers=gov.login("r.redaktion"),
                               files=[("file", ("sprechzeiten.md", content, "text/markdown"))], data={"valid_from": "2026-01-01"})
    assert response.status_code == 201, response.text
    [by_cli], [by_api] = gov.store.audit_entries(T, "document"), gov.store.audit_entries(other, "document")
    assert by_cli.actor.startswith("cli") and by_api.actor == "r.redaktion"
    shape = lambda e: (e.action, e.object_type, e.object_id, e.details)  # noqa: E731
    assert shape(by_cli) == shape(by_api) == (
        "document_uploaded", "document", "sprechzeiten.md", {"valid_from": "2026-01-01", "valid_to": None, "passages": 1})


def test_the_cooperative_chain_is_verified_too(store):
    record(store, COOPERATIVE, "cli:root", "tenant_created", "tenant", T)
    assert [r.tenant for r in verify_all(store)] == [COOPERATIVE]
    assert verify_chain(store, COOPERATIVE).ok


def test_documents_are_deleted_with_an_audit_entry(store, tmp_path):
    from amtslotse.knowledge.ingest import ingest_paths, remove_document
    from amtslotse.settings import Settings

    settings = Settings(home=tmp_path, embedder="none")
    page = tmp_path / "termine.md"
    page.write_text("# Termine\n\nTermine gibt es nach Vereinbarung am Empfang.\n", encoding="utf-8")
    assert ingest_paths([page], store, settings, tenant=T, actor="r.redaktion").ingested == 1
    assert remove_document(store, T, "termine.md", None, "r.redaktion") == 1
    assert remove_document(store, T, "termine.md", None, "r.redaktion") == 0  # nothing to delete: nothing logged
    assert [(e.actor, e.action) for e in store.audit_entries(T, "document")] == [
        ("r.redaktion", "document_uploaded"), ("r.redaktion", "document_deleted")]
    assert verify_chain(store, T).ok


def test_curated_changes_are_audited_by_the_save(store, tmp_path):
    from amtslotse.knowledge.curated import curated_answers, save_curated_answers
    from amtslotse.settings import Settings

    settings = Settings(home=tmp_path, embedder="none")
    item = {"id": "hundehuette", "question": "Zahlt das Jobcenter eine Hundehütte?", "answer": "Nein.",
            "sources": [{"citation": "§ 20 SGB II"}]}
    report = save_curated_answers(store, settings, T, [item], actor="r.redaktion", change=("curated_created", "hundehuette"))
    assert not report.failed and curated_answers(store, T)[0]["id"] == "hundehuette"
    assert [(e.action, e.object_id) for e in store.audit_entries(T)] == [("curated_created", "hundehuette")]


def test_every_audit_write_in_the_routers_goes_through_the_domain():
    """No router writes the audit log itself (DESIGN: audit entries are written by the domain)."""
    web = Path(__file__).resolve().parents[1] / "src" / "amtslotse" / "web"
    writes = ("append_audit(", "AuditEntry(", "audit.record(", "import record")
    offenders = [p.name for p in web.glob("*.py") if any(w in p.read_text(encoding="utf-8") for w in writes)]
    assert offenders == []
