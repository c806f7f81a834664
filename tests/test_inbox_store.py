"""The inbox queue and the audit log in the store, run against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from amtslotse.errors import IdempotencyConflict
from amtslotse.models import AuditEntry, InboxAttachment, InboxItem, TriageRecord

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def item(key: str, text: str = "Meine Miete ist gestiegen.", tenant: str = "musterkreis", minutes: int = 0, **extra) -> InboxItem:
    return InboxItem(
        tenant=tenant, channel=extra.pop("channel", "api"), external_id=key, received_at=NOW + timedelta(minutes=minutes),
        body=text, redacted=text, delete_after=NOW + timedelta(days=90), **extra,
    )


def triaged(category: str, flags: list[str], priority: int, **extra) -> TriageRecord:
    return TriageRecord(
        category=category, flags=flags, fields={"items": []}, team="Leistungsabteilung", priority=priority,
        confidence=0.8, draft={"label": "Entwurf", "text": "Guten Tag"}, **extra,
    )


def system(tenant: str, item_id: int, action: str = "triaged") -> AuditEntry:
    return AuditEntry(tenant, "system", action, "inbox_message", str(item_id), {"n": 1})


def test_intake_is_idempotent_and_numbers_references(store):
    pdf = InboxAttachment("au.pdf", "application/pdf", b"%PDF-1.4 scan")
    first = store.add_inbox_item(item("key-1", attachments=[pdf]), "MK")
    again = store.add_inbox_item(item("key-1", attachments=[pdf]), "MK")  # the same message again
    with pytest.raises(IdempotencyConflict) as conflict:  # the same key with other content: 409 in the API
        store.add_inbox_item(item("key-1", "anderer Text beim zweiten Versuch"), "MK")
    assert conflict.value.reference == first[1]
    other_channel = store.add_inbox_item(item("key-1", channel="email"), "MK")
    other_tenant = store.add_inbox_item(item("key-1", tenant="beispielstadt"), "BS")
    assert first[2] is True and again == (first[0], first[1], False)
    assert first[1] == f"MK-2026-{first[0]:06d}"
    assert other_channel[2] and other_tenant[2] and other_tenant[1].startswith("BS-2026-")
    assert len({first[0], other_channel[0], other_tenant[0]}) == 3
    stored = store.inbox_item("musterkreis", first[1], with_data=True)
    assert stored.body == "Meine Miete ist gestiegen." and stored.state == "new" and stored.triage_status == "pending"
    assert [(a.filename, a.size, a.data) for a in stored.attachments] == [("au.pdf", 13, b"%PDF-1.4 scan")]
    assert store.inbox_item("musterkreis", first[0]).attachments[0].data is None  # bytes only when asked
    # Intake leaves exactly one audit entry, with ids and counts, no text.
    entries = store.audit_entries("musterkreis", "inbox_message", str(first[0]))
    assert [(e.actor, e.action, e.details) for e in entries] == [
        ("intake", "accepted", {"reference": first[1], "channel": "api", "attachments": 1})
    ]


def test_tenants_see_only_their_own_messages_and_audit(store):
    ref = store.add_inbox_item(item("k"), "MK")
    assert store.inbox_item("beispielstadt", ref[1]) is None
    assert store.inbox_item("beispielstadt", ref[0]) is None
    assert store.inbox_items("beispielstadt") == []
    assert store.audit_entries("beispielstadt") == []
    assert not store.save_inbox_triage("beispielstadt", ref[0], triaged("zahlung", [], 0), system("beispielstadt", ref[0]))
    assert not store.update_inbox_item("beispielstadt", ref[0], {"state": "closed"}, system("beispielstadt", ref[0]))
    assert store.inbox_item("musterkreis", ref[0]).state == "new"


def test_queue_order_is_notlage_frist_rest_then_age_and_filters_work(store):
    ids = {}
    for key, minutes in [("alt-normal", 0), ("frist", 10), ("notlage-frueh", 30), ("neu-normal", 20), ("ungeordnet", 5), ("notlage-spaet", 40)]:
        ids[key] = store.add_inbox_item(item(key, minutes=minutes), "MK")[0]
    for key, record in [
        ("alt-normal", triaged("unterkunft", [], 0)), ("frist", triaged("widerspruch", ["frist"], 1)),
        ("notlage-frueh", triaged("zahlung", ["frist", "notlage"], 2)), ("neu-normal", triaged("termin", [], 0)),
        ("notlage-spaet", triaged("unterkunft", ["notlage"], 2)),
    ]:
        assert store.save_inbox_triage("musterkreis", ids[key], record, system("musterkreis", ids[key]))
    order = [i.external_id for i in store.inbox_items("musterkreis")]
    assert order == ["notlage-frueh", "notlage-spaet", "frist", "alt-normal", "neu-normal", "ungeordnet"]
    assert [i.external_id for i in store.inbox_items("musterkreis", category="unterkunft")] == ["notlage-spaet", "alt-normal"]
    assert [i.external_id for i in store.inbox_items("musterkreis", flag="frist")] == ["notlage-frueh", "frist"]
    assert [i.external_id for i in store.inbox_items("musterkreis", received_before=NOW + timedelta(minutes=6))] == [
        "alt-normal", "ungeordnet",
    ]
    assert [i.external_id for i in store.inbox_items("musterkreis", received_after=NOW + timedelta(minutes=30))] == [
        "notlage-frueh", "notlage-spaet",
    ]
    assert [i.external_id for i in store.inbox_items("musterkreis", limit=2, offset=1)] == ["notlage-spaet", "frist"]
    listed = store.inbox_items("musterkreis", team="Leistungsabteilung")[0]
    assert listed.body == "" and listed.draft == {"label": "Entwurf", "text": "Guten Tag"} and listed.flags == ["frist", "notlage"]


def test_triage_is_saved_once_with_attachments_and_audit(store):
    attachment = InboxAttachment("lohn.pdf", "application/pdf", b"%PDF")
    item_id, reference, _ = store.add_inbox_item(item("k", attachments=[attachment]), "MK")
    attachment_id = store.inbox_item("musterkreis", item_id).attachments[0].id
    assert store.pending_inbox(10) == [("musterkreis", item_id)]
    record = triaged("veraenderung", [], 0, attachments=[(attachment_id, "Lohnabrechnung November", "lohnabrechnung")])
    assert store.save_inbox_triage("musterkreis", item_id, record, system("musterkreis", item_id))
    # A second worker that computed the same message finds it done and changes nothing.
    assert not store.save_inbox_triage("musterkreis", item_id, triaged("sonstiges", [], 0), system("musterkreis", item_id))
    stored = store.inbox_item("musterkreis", item_id)
    assert (stored.category, stored.triage_status, stored.priority, stored.confidence) == ("veraenderung", "done", 0, 0.8)
    assert [(a.text, a.doc_type) for a in stored.attachments] == [("Lohnabrechnung November", "lohnabrechnung")]
    assert store.pending_inbox(10) == []
    assert [e.action for e in store.audit_entries("musterkreis", "inbox_message", str(item_id))] == ["accepted", "triaged"]


def test_failed_triage_can_be_retried(store):
    item_id = store.add_inbox_item(item("k"), "MK")[0]
    assert store.set_inbox_triage_status("musterkreis", item_id, "failed", system("musterkreis", item_id, "triage_failed"), expected="pending")
    assert store.pending_inbox(10) == [] and store.pending_inbox(10, status="failed") == [("musterkreis", item_id)]
    assert not store.set_inbox_triage_status("musterkreis", item_id, "failed", system("musterkreis", item_id), expected="pending")
    assert store.set_inbox_triage_status("musterkreis", item_id, "pending", system("musterkreis", item_id, "triage_retry"), expected="failed")
    assert store.pending_inbox(10, tenant="musterkreis") == [("musterkreis", item_id)]
    assert store.pending_inbox(10, tenant="beispielstadt") == []
    with pytest.raises(ValueError):
        store.set_inbox_triage_status("musterkreis", item_id, "kaputt", system("musterkreis", item_id), expected="pending")


def test_updates_check_the_state_and_log_in_the_same_transaction(store):
    item_id = store.add_inbox_item(item("k"), "MK")[0]
    start = AuditEntry("musterkreis", "s.berger", "review_started", "inbox_message", str(item_id), {"from": "new", "to": "in_review"})
    assert store.update_inbox_item("musterkreis", item_id, {"state": "in_review", "assignee": "s.berger"}, start, ["new"])
    # Not in the expected state: nothing changes and nothing is logged.
    late = AuditEntry("musterkreis", "k.ott", "review_started", "inbox_message", str(item_id))
    assert not store.update_inbox_item("musterkreis", item_id, {"state": "in_review", "assignee": "k.ott"}, late, ["new"])
    answered_at = NOW + timedelta(hours=2)
    done = AuditEntry("musterkreis", "s.berger", "answered", "inbox_message", str(item_id), {"chars": 5})
    draft = {"label": "Entwurf", "text": "Hallo", "approved_text": "Hallo"}
    assert store.update_inbox_item(
        "musterkreis", item_id, {"state": "answered", "draft": draft, "first_response_at": answered_at}, done, ["in_review"]
    )
    stored = store.inbox_item("musterkreis", item_id)
    assert (stored.state, stored.assignee, stored.draft, stored.first_response_at) == ("answered", "s.berger", draft, answered_at)
    assert [(e.actor, e.action) for e in store.audit_entries("musterkreis", "inbox_message", str(item_id))] == [
        ("intake", "accepted"), ("s.berger", "review_started"), ("s.berger", "answered"),
    ]
    with pytest.raises(ValueError):
        store.update_inbox_item("musterkreis", item_id, {"body": "überschrieben"}, done)
    with pytest.raises(ValueError):
        store.update_inbox_item("musterkreis", item_id, {"state": "verloren"}, done)


def test_audit_log_is_append_only_and_ordered(store):
    first = store.append_audit(AuditEntry("musterkreis", "s.berger", "login", "staff", "s.berger", at=NOW))
    second = store.append_audit(AuditEntry("musterkreis", "s.berger", "viewed", "inbox_message", "7", {"reference": "MK-2026-000007"}))
    entries = store.audit_entries("musterkreis")
    assert [e.id for e in entries] == [first, second] and entries[0].at == NOW
    assert store.audit_entries("musterkreis", "inbox_message", "7")[0].details == {"reference": "MK-2026-000007"}
    assert not any(hasattr(store, name) for name in ("delete_audit", "update_audit"))


def test_retention_deletes_messages_with_attachments_and_keeps_the_audit_trail(store):
    old = item("alt", attachments=[InboxAttachment("a.pdf", "application/pdf", b"x")])
    old.delete_after = NOW - timedelta(days=1)
    old_id, old_ref, _ = store.add_inbox_item(old, "MK")
    new_id = store.add_inbox_item(item("neu"), "MK")[0]
    assert store.delete_expired_inbox(NOW) == 1
    assert store.inbox_item("musterkreis", old_id) is None
    assert [i.id for i in store.inbox_items("musterkreis")] == [new_id]
    assert store.delete_expired_inbox(NOW) == 0
    # The attachment went with the message (no orphan rows), the trail stays with the reference.
    assert store._read("SELECT COUNT(*) FROM inbox_attachments WHERE message_id = ?", (old_id,))[0][0] == 0
    assert [(e.action, e.details) for e in store.audit_entries("musterkreis", "inbox_message", str(old_id))][-1] == (
        "deleted_retention", {"reference": old_ref},
    )
    # The same external id may come in again after deletion: a new message, a new reference.
    again = store.add_inbox_item(item("alt"), "MK")
    assert again[2] and again[1] != old_ref


def test_concurrent_intake_of_one_key_from_two_store_objects_stores_it_once(store_factory):
    from concurrent.futures import ThreadPoolExecutor

    stores = [store_factory(), store_factory()]  # as two processes would have
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: stores[n % 2].add_inbox_item(item(f"key-{n // 8}"), "MK"), range(32)))
    by_key = {}
    for n, (item_id, reference, _created) in enumerate(results):
        by_key.setdefault(n // 8, set()).add((item_id, reference))
    assert all(len(refs) == 1 for refs in by_key.values())
    assert sum(created for _, _, created in results) == 4
    assert len(stores[0].inbox_items("musterkreis")) == 4
