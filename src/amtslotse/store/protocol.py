"""The store contract, by concern: each part a small `Protocol`, and `Store` all of them.
Two implementations, SQLite (embedded) and PostgreSQL + pgvector (store/sql_base.py and the
`sql_*` mixins it joins), and `amtslotse.store.testing`, the conformance suite both pass
(a third store proves itself by running it too: tests/test_store_conformance.py shows how).

Every read takes a tenant and sees that tenant's rows plus the shared layer (`bund`),
never another tenant's: the filter lives here, in the store, not in the callers. A caller
that needs one concern may ask for its part (`SearchStore`); `services.Services.store` is a
whole `Store`. The records these methods take and return live in `amtslotse.models`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import numpy as np

from amtslotse.models import (
    Analyzed,
    ApiKey,
    AuditEntry,
    AuditHead,
    ChainedEntry,
    ConversationAccess,
    Document,
    DocumentInfo,
    InboxItem,
    Passage,
    StaffAccount,
    StoreStats,
    TenantState,
    TriageRecord,
    Turn,
)

Bucket = tuple[str, int] | tuple[str, int, str | None]
"""A rate-limit counter: (bucket, limit) or (bucket, limit, tenant), a counter, its limit and whose it is."""


class DocumentStore(Protocol):
    """Documents and their passages: ingest writes a document version with its passages in one
    transaction; reads see the tenant's own rows and the shared layer."""

    def document_hash(self, tenant: str, source: str, valid_from: date | None) -> str | None:
        """The content hash stored for this document version, or None if unknown."""

    def replace_document(
        self, document: Document, passages: Sequence[Passage], analyzed: Sequence[Analyzed]
    ) -> int:
        """Store a document version with its passages, replacing the previous passages of
        the same (tenant, source, valid_from), in one transaction. Returns the document id."""

    def delete_document(self, tenant: str, source: str, valid_from: date | None = None) -> int:
        """Delete all versions (or the one with valid_from) of a tenant's document; returns count."""

    def documents(self, tenant: str) -> list[DocumentInfo]: ...

    def document_ingested_at(self, tenant: str) -> dict[tuple[str, date | None], datetime]:
        """(source, valid_from) -> when that version of a tenant's document was stored (UTC)."""

    def document_passages(self, tenant: str, source: str) -> list[Passage]:
        """All passages of a tenant's document (every version), in version and position order."""

    def get_passages(self, tenant: str, ids: Sequence[int]) -> list[Passage]:
        """Passages by id, in the given order, leaving out those the tenant may not see."""

    def stats(self, tenant: str, model: str) -> StoreStats: ...


class SearchStore(Protocol):
    """Search over the passages (lexical and dense, filtered by tenant and validity date) and the
    vector cache the dense search reads (vectors keyed by model and text hash)."""

    FRESHNESS_SECONDS: float
    """How long another store object's (another process's) writes may take to show in searches;
    writes through this object show at once."""

    def search_lexical(
        self, tenant: str, query: dict[int, float], as_of: date, limit: int
    ) -> list[tuple[int, float]]:
        """BM25 over analyzed terms (term id -> query weight); best first."""

    def search_dense(
        self, tenant: str, model: str, vector: np.ndarray, as_of: date, limit: int, lead_dims: int | None = None
    ) -> list[tuple[int, float]]:
        """Cosine similarity over the passages that have a vector of `model`; best first.
        `lead_dims`: a hint for exact indexes (see `store.index.dense.DenseIndex.search`); HNSW ignores it."""

    def missing_vectors(self, model: str, limit: int) -> list[tuple[str, str]]:
        """(text_hash, text) of passages without a vector for `model`, any tenant."""

    def put_vectors(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None: ...

    def get_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of these text hashes that exist (any text: passages, phrasings)."""


class TenantStore(Protocol):
    """Tenants: registered on first use; their lifecycle state; everything they hold, counted and deleted."""

    def ensure_tenant(self, tenant: str) -> None: ...

    def tenants(self) -> list[str]: ...

    def set_tenant_state(
        self, tenant: str, state: str, actor: str, reason: str = "", audit: AuditEntry | None = None,
    ) -> None:
        """Register the tenant and record its state (active | disabled) with the audit entry."""

    def tenant_states(self) -> dict[str, TenantState]: ...

    def tenant_state(self, tenant: str) -> TenantState | None: ...

    def tenant_data_counts(self, tenant: str) -> dict[str, int]:
        """Rows per table that hold the tenant's data."""

    def delete_tenant_data(self, tenant: str, audit: AuditEntry | None = None) -> dict[str, int]:
        """Delete every row of the tenant (its audit chain included) in one transaction; rows per table."""


class ConversationStore(Protocol):
    """Conversations of the Ask flow (store/sql_conversations.py): redacted turns, feedback,
    retention, and the secret that lets a client continue one."""

    def add_turn(self, conversation_id: str, tenant: str, turn: Turn, expires_at: datetime) -> int:
        """Append a turn (creating the conversation on its first one) and move its expiry;
        returns the turn id. Raises ConversationConflict if the id belongs to another tenant."""

    def conversation_tenant(self, conversation_id: str) -> str | None: ...

    def recent_turns(self, tenant: str, conversation_id: str, limit: int) -> list[Turn]:
        """The conversation's last `limit` turns, oldest first."""

    def set_feedback(self, tenant: str, conversation_id: str, turn_id: int, rating: str, comment: str | None) -> bool:
        """Store thumbs up/down (and a redacted comment) on a turn; False if there is no such turn."""

    def turns_between(self, tenant: str, start: datetime, end: datetime) -> list[Turn]: ...

    def delete_expired_conversations(self, now: datetime) -> int:
        """Retention: delete conversations whose expiry has passed; returns how many."""

    def open_conversation(self, conversation_id: str, tenant: str, secret: str | None) -> ConversationAccess:
        """Claim an unknown id (status 'new' with a new secret) or check a known one's secret."""

    def conversation_access(self, conversation_id: str, secret: str | None) -> str | None:
        """The tenant of a conversation with turns whose secret this is, else None."""

    def release_conversation(self, conversation_id: str, secret: str) -> None: ...


class InboxStore(Protocol):
    """The inbox queue (store/sql_inbox.py): every write that changes a message appends its audit
    entry in the same transaction."""

    def add_inbox_item(self, item: InboxItem, prefix: str) -> tuple[int, str, bool]:
        """Insert a message with its attachments and commit; (id, reference, created). The same
        (tenant, channel, external_id) again returns the first one's id and reference, created False."""

    def inbox_item(self, tenant: str, key: int | str, with_data: bool = False) -> InboxItem | None:
        """One message by id or reference, with body and attachments (bytes if `with_data`)."""

    def inbox_items(
        self, tenant: str, *, state: str | None = None, category: str | None = None, team: str | None = None,
        flag: str | None = None, received_after: datetime | None = None, received_before: datetime | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[InboxItem]:
        """Messages by priority descending (notlage 2, frist 1, rest 0, untriaged -1), then oldest first;
        without bodies."""

    def pending_inbox(self, limit: int, tenant: str | None = None, status: str = "pending") -> list[tuple[str, int]]:
        """(tenant, id) of messages whose triage_status is `status`, oldest first (the worker's queue)."""

    def save_inbox_triage(self, tenant: str, item_id: int, record: TriageRecord, audit: AuditEntry) -> bool:
        """Save a triage, mark the message 'done' and append the audit entry in one transaction;
        only a pending message changes (False otherwise)."""

    def set_inbox_triage_status(
        self, tenant: str, item_id: int, status: str, audit: AuditEntry, expected: str,
        flags: list[str] | None = None, priority: int | None = None,
    ) -> bool:
        """Move triage_status from `expected` to `status` (with flags/priority if known) and log it."""

    def update_inbox_item(
        self, tenant: str, item_id: int, changes: dict[str, Any], audit: AuditEntry,
        expected_states: Collection[str] | None = None,
    ) -> bool:
        """Change state/assignee/team/draft/first_response_at with its audit entry, in one transaction,
        if the message is in one of `expected_states`."""

    def delete_expired_inbox(self, now: datetime) -> int:
        """Retention: delete messages (with attachments) past `delete_after`; returns how many."""


class AuditStore(Protocol):
    """The append-only audit log, hash-chained per tenant (store/sql_governance.py)."""

    def append_audit(self, entry: AuditEntry) -> int: ...

    def audit_entries(
        self, tenant: str, object_type: str | None = None, object_id: str | None = None, limit: int = 1000,
    ) -> list[AuditEntry]:
        """A tenant's audit entries (of one object if named), oldest first. Append-only: no update, no delete."""

    def audit_chain_page(self, tenant: str, after_id: int = 0, limit: int = 5000) -> list[ChainedEntry]:
        """A tenant's audit entries with their chain columns (None: not chained), by id."""

    def audit_chain_link(self, tenant: str, seq: int) -> tuple[int, str] | None:
        """(entry id, hash) the chain recorded for a sequence number."""

    def audit_head(self, tenant: str) -> AuditHead | None: ...

    def audit_chain_tenants(self) -> list[str]: ...


class StaffStore(Protocol):
    """Staff accounts (store/sql_staff.py). Each write appends the given audit entries in its own
    transaction (governance/accounts.py makes them)."""

    def add_staff_user(
        self, name: str, tenant: str, roles: Sequence[str], password: str, audit: Sequence[AuditEntry] = (),
    ) -> None:
        """Create or update an account (tenant "*": all tenants). Raises InputError on bad roles."""

    def set_staff_password(self, name: str, password: str, audit: Sequence[AuditEntry] = ()) -> bool:
        """A new password; the account's sessions end (and a disabled account is enabled)."""

    def set_staff_roles(self, name: str, tenant: str, roles: Sequence[str], audit: Sequence[AuditEntry] = ()) -> bool: ...

    def save_external_account(
        self, name: str, tenant: str, roles: Sequence[str], mark: str, audit: Sequence[AuditEntry] = (),
    ) -> str:
        """A single-sign-on account (`mark` for a password): "ok", "local" or "disabled" (not written)."""

    def disable_staff_user(self, name: str, audit: Sequence[AuditEntry] = ()) -> bool:
        """No login and no session any more (`add_staff_user` with a new password enables it)."""

    def remove_staff_user(self, name: str, audit: Sequence[AuditEntry] = ()) -> bool: ...

    def staff_accounts(self) -> list[StaffAccount]: ...

    def staff_account(self, name: str) -> StaffAccount | None: ...


class SessionStore(Protocol):
    """Staff logins and their sessions (store/sql_staff.py)."""

    def check_staff_password(self, name: str, password: str) -> tuple[str, frozenset[str]] | None: ...

    def start_staff_session(self, name: str, expires_at: datetime) -> str: ...

    def staff_session(self, token: str, now: datetime) -> tuple[str, str, frozenset[str]] | None: ...

    def end_staff_session(self, token: str) -> None: ...

    def end_staff_sessions(self, name: str, audit: Sequence[AuditEntry] = ()) -> int:
        """End all sessions of an account; returns how many."""


class ApiKeyStore(Protocol):
    """API keys of integrations (store/sql_staff.py): stored hashed, scoped to a tenant and a role."""

    def create_api_key(
        self, tenant: str, name: str, role: str = "posteingang", audit: Callable[[ApiKey], AuditEntry] | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key (the secret is returned once and stored hashed); `audit(key)` gives its entry."""

    def api_keys(self, tenant: str) -> list[ApiKey]: ...

    def revoke_api_key(self, tenant: str, key_id: int, audit: Sequence[AuditEntry] = ()) -> bool: ...

    def api_key(self, secret: str, now: datetime | None = None) -> ApiKey | None:
        """The active key with this secret (its last use recorded), else None."""


class LimitStore(Protocol):
    """Rate limits and login throttling (store/sql_limits.py), shared by every worker process."""

    def hit_rate_limits(self, buckets: Sequence[Bucket], window_seconds: int, now: float | None = None) -> float:
        """Count a request in each (bucket, limit[, tenant]); 0.0 if within all limits, else seconds to wait."""

    def login_wait(self, keys: Sequence[str], now: float | None = None) -> float: ...

    def record_login_failure(
        self, key: str, max_failures: int, window_seconds: float, lock_seconds: float, now: float | None = None,
        tenant: str | None = None,
    ) -> float:
        """Count a failed login for `key` (of `tenant`'s account, if any); seconds it is locked now."""

    def clear_login_failures(self, key: str) -> None: ...


class UsageStore(Protocol):
    """Usage counters per tenant and day (what a cooperative bills by) and what a tenant keeps stored."""

    def add_usage(self, tenant: str, metric: str, quantity: int = 1, day: date | None = None) -> None: ...

    def usage_totals(self, tenant: str, start: date, end: date) -> dict[str, int]:
        """Metric -> sum over the days [start, end)."""

    def usage_tenants(self, start: date, end: date) -> list[str]: ...

    def stored_totals(self, tenant: str) -> dict[str, int]:
        """What the tenant keeps stored now (documents, passages, inbox messages, attachment bytes)."""


class PrivacyStore(Protocol):
    """Data-protection requests (store/sql_governance.py): export a conversation, erase a person's data."""

    def conversation_record(self, tenant: str, conversation_id: str) -> dict[str, Any] | None:
        """A conversation with all its turns (as stored), or None."""

    def inbox_ids_of_conversation(self, tenant: str, conversation_id: str) -> list[int]: ...

    def erase_personal_data(
        self, tenant: str, conversation_ids: Sequence[str], inbox_ids: Sequence[int], audit: Sequence[AuditEntry] = (),
    ) -> dict[str, int]:
        """Delete conversations and inbox messages with every row naming them, audited, in one transaction."""


class Store(
    DocumentStore, SearchStore, TenantStore, ConversationStore, InboxStore, AuditStore, StaffStore, SessionStore,
    ApiKeyStore, LimitStore, UsageStore, PrivacyStore, Protocol,
):
    """The whole store: every part above, on one database."""

    def close(self) -> None: ...
