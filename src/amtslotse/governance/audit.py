"""The audit log that proves itself: append-only and hash-chained per tenant.

Every audit entry (who did what to which object, when) is written through the store's one
append path, which gives it its tenant's next sequence number, the previous entry's hash and
its own hash over its canonical content (store/sql_governance.py). Triggers in the database
refuse changes and deletions. `verify_chain` walks a chain and names the first entry that was
changed, deleted or slipped in afterwards::

    report = verify_chain(store, "musterkreis")
    report.ok, report.message    # (True, 'musterkreis: 42 Einträge, in Ordnung (Kopf 3fa4b0c1d2e3).')

    $ amtslotse audit verify --tenant musterkreis      # exit code 1 if a chain is broken

The cooperative's own actions (creating, disabling, deleting tenants) are logged in the chain
of the tenant "*" (COOPERATIVE), which outlives a deleted tenant. The newest hash of each
chain (`report.head`) can be noted outside the database (a ticket, a letter to the data
protection officer): a chain whose head still matches it cannot have been rewritten as a whole.
"""

from __future__ import annotations

import getpass
from dataclasses import asdict, dataclass
from typing import Any

from amtslotse.models import GENESIS, AuditEntry, ChainedEntry

COOPERATIVE = "*"
"""The chain of the cooperative's own actions (the tenant of its staff accounts, too)."""

PAGE = 5000


@dataclass(frozen=True)
class ChainReport:
    """The result of one chain's check. `broken_entry`: the audit log id of the first entry that
    is not as it was written (None when the chain is in order); `message` is German."""

    tenant: str
    entries: int
    ok: bool
    message: str
    broken_entry: int | None = None
    head: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record(store, tenant: str, actor: str, action: str, object_type: str, object_id: str, **details: Any) -> int:
    """Append one audit entry (its own transaction); for a write that has none to share."""
    return store.append_audit(AuditEntry(tenant, actor, action, object_type, str(object_id), details))


def cli_actor() -> str:
    """Who a command line acts as in the audit log: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a container without /etc/passwd entry
        return "cli"


def verify_all(store, tenant: str | None = None) -> list[ChainReport]:
    """Check one tenant's chain, or every chain the store holds."""
    tenants = [tenant] if tenant is not None else store.audit_chain_tenants()
    return [verify_chain(store, name) for name in tenants]


def verify_chain(store, tenant: str) -> ChainReport:
    """Walk a tenant's chain in id order: each entry must carry the next sequence number, the
    previous entry's hash and the hash of its own content; the head must name the last one."""
    head = store.audit_head(tenant)
    expected, previous, count, after = 1, GENESIS, 0, 0
    while page := store.audit_chain_page(tenant, after, PAGE):
        for entry in page:
            problem = _check(store, tenant, entry, expected, previous, head)
            if problem is not None:
                return ChainReport(tenant, count, False, problem[1], problem[0], head.hash if head else "")
            previous, expected, count = entry.hash, expected + 1, count + 1
        after = page[-1].id
    if head is None:
        if count:
            return ChainReport(tenant, count, False, f"{tenant}: der Kopf der Kette fehlt (gelöscht).")
        return ChainReport(tenant, 0, True, f"{tenant}: keine Einträge.")
    if head.seq > count:
        missing = store.audit_chain_link(tenant, count + 1)
        entry_id = missing[0] if missing else head.entry_id
        return ChainReport(
            tenant, count, False,
            f"{tenant}: die letzten {head.seq - count} Einträge fehlen, ab Nr. {count + 1} "
            f"(Protokoll-Id {entry_id}): sie wurden gelöscht.",
            entry_id, head.hash,
        )
    if head.hash != previous:
        return ChainReport(tenant, count, False, f"{tenant}: der Kopf der Kette passt nicht zum letzten Eintrag.",
                           head.entry_id, head.hash)
    return ChainReport(tenant, count, True, f"{tenant}: {count} Einträge, in Ordnung (Kopf {head.hash[:12]}).",
                       None, head.hash)


def _check(store, tenant: str, entry: ChainedEntry, expected: int, previous: str, head) -> tuple[int, str] | None:
    """(broken entry id, German message) for the first thing wrong with `entry`, else None."""
    what = f"Eintrag {entry.id} vom {entry.at} ({entry.actor}: {entry.action} {entry.object_type} {entry.object_id})"
    if entry.seq is None:
        if head is None and expected == 1:
            return entry.id, f"{tenant}: {what} ist nicht verkettet: die Kette fehlt (gelöscht)."
        return entry.id, f"{tenant}: {what} ist nicht verkettet: nachträglich eingefügt."
    if entry.seq > expected:
        missing = store.audit_chain_link(tenant, expected)
        if missing is not None:
            return missing[0], f"{tenant}: Eintrag Nr. {expected} (Protokoll-Id {missing[0]}) fehlt: er wurde gelöscht."
        return entry.id, f"{tenant}: vor {what} fehlt Eintrag Nr. {expected}: er wurde gelöscht."
    if entry.seq < expected or entry.prev_hash != previous:
        return entry.id, f"{tenant}: die Kette ist vor {what} unterbrochen (Einträge verschoben oder ersetzt)."
    if entry.computed_hash() != entry.hash:
        return entry.id, f"{tenant}: {what} wurde nachträglich verändert."
    return None
