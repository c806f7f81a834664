"""Domain types: plain records that flow between ingest, search, the Ask and Inbox flows,
governance and the store. Import them from here (`from amtslotse.models import InboxItem`);
each is defined once, in the module of its concern:

- `knowledge`: `Document`, `Record`, `Passage`, `Hit`, `Analyzed`, `DocumentInfo`, `StoreStats`;
- `conversations`: `Turn`, `ConversationAccess`;
- `inbox`: `InboxItem`, `InboxAttachment`, `TriageRecord` and the inbox's states;
- `governance`: `AuditEntry`, `ChainedEntry` (with `audit_hash`), `AuditHead`, `TenantState`;
- `staff`: `StaffAccount`, `ApiKey` and the roles;
- `timestamps`: `utc_now`, `iso` (moments as stored).

No module here imports the store, the flows or the web layer: they all import these.
"""

from amtslotse.models.conversations import AnswerMode, AnswerOutcome, ConversationAccess, ScreeningOutcome, Turn
from amtslotse.models.governance import (
    GENESIS,
    TENANT_STATES,
    AuditEntry,
    AuditHead,
    ChainedEntry,
    TenantState,
    TenantStatus,
    audit_hash,
)
from amtslotse.models.inbox import (
    STATES,
    TRIAGE_STATUSES,
    UNTRIAGED_PRIORITY,
    InboxAttachment,
    InboxItem,
    InboxState,
    TriageRecord,
    TriageStatus,
)
from amtslotse.models.knowledge import (
    EMBEDDED_TEXT_CHARS,
    SHARED_TENANT,
    Analyzed,
    Document,
    DocumentInfo,
    Hit,
    Passage,
    Record,
    StoreStats,
    text_hash,
    valid_on,
)
from amtslotse.models.staff import API_KEY_ROLES, ROLES, ApiKey, StaffAccount
from amtslotse.models.timestamps import iso, utc_now

__all__ = [
    "API_KEY_ROLES", "EMBEDDED_TEXT_CHARS", "GENESIS", "ROLES", "SHARED_TENANT", "STATES", "TENANT_STATES",
    "TRIAGE_STATUSES", "UNTRIAGED_PRIORITY", "Analyzed", "ApiKey", "AuditEntry", "AuditHead", "ChainedEntry",
    "AnswerMode", "AnswerOutcome", "ConversationAccess", "Document", "DocumentInfo", "Hit", "InboxAttachment", "InboxItem", "InboxState", "Passage", "Record", "ScreeningOutcome",
    "StaffAccount", "StoreStats", "TenantState", "TenantStatus", "TriageRecord", "TriageStatus", "Turn", "audit_hash", "iso", "text_hash",
    "utc_now", "valid_on",
]
