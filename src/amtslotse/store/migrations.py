"""Named schema migrations, recorded by name in a table (the pattern of simonw/llm).

Each migration is a function of the dialect ("sqlite" or "postgres") that returns its SQL; any
difference between the two stores lives inside that one function. A store applies, in list
order, the migrations whose names are not yet recorded, each in its own transaction, when it
opens. A new migration is a new function at the end of the list:

    @migration
    def api_keys(dialect: Dialect) -> str:
        return f"CREATE TABLE api_keys (id {TYPES[dialect]['serial']}, ...)"

Stores created before migrations had names recorded them by number (`schema_migrations`); those
numbers are read as the first migrations' names once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

Dialect = Literal["sqlite", "postgres"]
Migration = Callable[[Dialect], str]

MIGRATIONS: list[Migration] = []
migration = MIGRATIONS.append

TYPES: dict[str, dict[str, str]] = {
    "sqlite": {"serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "bigint": "INTEGER", "blob": "BLOB", "double": "REAL"},
    "postgres": {"serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "bigint": "BIGINT", "blob": "BYTEA",
                 "double": "DOUBLE PRECISION"},
}
"""Column types that differ between the dialects, by role."""


@migration
def documents_passages_vectors(dialect: Dialect) -> str:
    """Documents, passages with their analyzed terms, vectors cached by text hash. PostgreSQL:
    vectors of any dimension (one HNSW expression index per model and dimension is added by
    put_vectors); names and keys COLLATE "C" so that ORDER BY sorts like SQLite (by code point);
    dates and moments in their own types (SQLite: ISO text)."""
    types = TYPES[dialect]
    pg = dialect == "postgres"
    key = ' COLLATE "C"' if pg else ""
    day, moment = ("DATE", "TIMESTAMPTZ") if pg else ("TEXT", "TEXT")
    tenant_id = "INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY" if pg else "INTEGER PRIMARY KEY"
    vector = "embedding vector" if pg else "vector BLOB"  # pgvector's type; SQLite: float32 bytes
    return ("CREATE EXTENSION IF NOT EXISTS vector;" if pg else "") + f"""
    CREATE TABLE tenants (
        id {tenant_id},
        name TEXT{key} NOT NULL UNIQUE
    );
    INSERT INTO tenants(name) VALUES ('bund');
    CREATE TABLE meta (key TEXT PRIMARY KEY, value {types['bigint']} NOT NULL);
    CREATE TABLE documents (
        id {types['serial']},
        tenant TEXT{key} NOT NULL REFERENCES tenants(name),
        source TEXT{key} NOT NULL,
        version_key TEXT{key} NOT NULL,
        title TEXT NOT NULL,
        kind TEXT NOT NULL,
        law TEXT,
        url TEXT,
        language TEXT NOT NULL,
        valid_from {day},
        valid_to {day},
        content_hash TEXT NOT NULL,
        ingested_at {moment} NOT NULL,
        UNIQUE (tenant, source, version_key)
    );
    CREATE TABLE passages (
        id {types['serial']},  -- never reused (AUTOINCREMENT, IDENTITY): conversations cite passage ids
        document_id {types['bigint']} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        tenant TEXT{key} NOT NULL,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        citation TEXT NOT NULL,
        heading TEXT,
        section TEXT,
        external_id TEXT,
        url TEXT,
        position INTEGER NOT NULL,
        language TEXT NOT NULL,
        valid_from {day},
        valid_to {day},
        text TEXT NOT NULL,
        keywords TEXT NOT NULL DEFAULT '',
        text_hash TEXT NOT NULL,
        term_ids {types['blob']} NOT NULL,
        term_freqs {types['blob']} NOT NULL
    );
    CREATE INDEX passages_document ON passages(document_id);
    CREATE INDEX passages_tenant ON passages(tenant);
    CREATE INDEX passages_text_hash ON passages(text_hash);
    CREATE TABLE vectors (
        model TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        {vector} NOT NULL,
        PRIMARY KEY (model, text_hash)
    );
    """


@migration
def passage_meta(dialect: Dialect) -> str:
    """Free-form passage metadata (curated answers: kind, topic, sources)."""
    return "ALTER TABLE passages ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'"


@migration
def conversations_inbox_audit_staff(dialect: Dialect) -> str:
    """Conversations (redacted turns, retention), the inbox (messages, attachments), the
    append-only audit log and staff accounts."""
    return """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX conversations_expires ON conversations(expires_at);
    CREATE TABLE turns (
        id {serial},
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        tenant TEXT NOT NULL,
        created_at TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        outcome TEXT NOT NULL,
        mode TEXT NOT NULL,
        confidence {double} NOT NULL,
        language TEXT NOT NULL,
        topic TEXT NOT NULL DEFAULT '',
        citations TEXT NOT NULL DEFAULT '[]',
        rating TEXT,
        comment TEXT
    );
    CREATE INDEX turns_conversation ON turns(conversation_id);
    CREATE INDEX turns_tenant_created ON turns(tenant, created_at);
    CREATE TABLE inbox_messages (
        id {serial},
        tenant TEXT NOT NULL,
        reference TEXT NOT NULL UNIQUE,
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        received_at TEXT NOT NULL,
        sender TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        redacted TEXT NOT NULL,
        conversation_id TEXT,
        contact TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'new',
        assignee TEXT,
        team TEXT,
        category TEXT,
        flags TEXT NOT NULL DEFAULT '[]',
        fields TEXT NOT NULL DEFAULT '{{}}',
        priority INTEGER NOT NULL DEFAULT 9,
        confidence {double},
        draft TEXT,
        triage_status TEXT NOT NULL DEFAULT 'pending',
        updated_at TEXT NOT NULL,
        first_response_at TEXT,
        delete_after TEXT NOT NULL,
        UNIQUE (tenant, channel, external_id)
    );
    CREATE INDEX inbox_tenant_state ON inbox_messages(tenant, state, priority, received_at);
    CREATE INDEX inbox_triage ON inbox_messages(triage_status);
    CREATE TABLE inbox_attachments (
        id {serial},
        message_id {bigint} NOT NULL REFERENCES inbox_messages(id) ON DELETE CASCADE,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        data {blob} NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        doc_type TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX inbox_attachments_message ON inbox_attachments(message_id);
    CREATE TABLE audit_log (
        id {serial},
        tenant TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        object_type TEXT NOT NULL,
        object_id TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{{}}'
    );
    CREATE INDEX audit_tenant_at ON audit_log(tenant, at);
    CREATE TABLE staff_users (
        name TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        roles TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE staff_sessions (
        token_hash TEXT PRIMARY KEY,
        name TEXT NOT NULL REFERENCES staff_users(name) ON DELETE CASCADE,
        expires_at TEXT NOT NULL
    );
    """.format(**TYPES[dialect])


@migration
def security_limits(dialect: Dialect) -> str:
    """Issue 12: conversation secrets (hashed; a row may exist before the conversation's first
    turn, so no foreign key), API keys of integrations (hashed), the content hash of inbox
    messages (an idempotency key sent again with other content is a conflict), rate-limit
    counters (fixed windows) and failed logins, shared by all workers. New tables only, each
    IF NOT EXISTS: safe to apply again. A disabled staff account needs no column: its
    password hash gets a leading "!" (as in shadow(5))."""
    return """
    CREATE TABLE IF NOT EXISTS conversation_secrets (
        conversation_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS conversation_secrets_tenant ON conversation_secrets(tenant);
    CREATE TABLE IF NOT EXISTS api_keys (
        id {serial},
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    );
    CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys(tenant);
    CREATE TABLE IF NOT EXISTS inbox_content_hashes (
        message_id {bigint} PRIMARY KEY REFERENCES inbox_messages(id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS rate_counters (
        bucket TEXT PRIMARY KEY,
        window_start {bigint} NOT NULL,
        hits {bigint} NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rate_counters_window ON rate_counters(window_start);
    CREATE TABLE IF NOT EXISTS login_failures (
        key TEXT PRIMARY KEY,
        failures {bigint} NOT NULL,
        last_at {double} NOT NULL,
        locked_until {double} NOT NULL
    )
    """.format(**TYPES[dialect])


@migration
def governance(dialect: Dialect) -> str:
    """Issue 12: the audit log hash-chained per tenant and append-only; tenants' lifecycle;
    usage counters. All IF NOT EXISTS (or dropped and made again): safe to apply again.

    - `audit_chain`: per audit entry its sequence number in the tenant's chain, the previous
      entry's hash and its own (store/sql_governance.py); `audit_heads`: each chain's last
      entry, so that deleting the newest entries shows too. Triggers refuse UPDATE and DELETE
      on both tables (and TRUNCATE), except a DELETE of a tenant listed in `audit_purges`,
      which only the tenant deletion writes (and removes again) in its own transaction.
    - `tenant_status`: a tenant's state (active | disabled) with who changed it and when.
    - `usage_counts`: counters per tenant, day and metric. Triggers count what every entry
      point stores (conversations, answers by mode, inbox items and handovers by channel), so
      that the counts outlive retention and erasure: they are what a cooperative bills by.
    """
    types = TYPES[dialect]
    tables = f"""
    CREATE TABLE IF NOT EXISTS audit_chain (
        entry_id {types['bigint']} PRIMARY KEY,
        tenant TEXT NOT NULL,
        seq {types['bigint']} NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (tenant, seq)
    );
    CREATE TABLE IF NOT EXISTS audit_heads (
        tenant TEXT PRIMARY KEY,
        seq {types['bigint']} NOT NULL,
        hash TEXT NOT NULL,
        entry_id {types['bigint']} NOT NULL
    );
    CREATE TABLE IF NOT EXISTS audit_purges (tenant TEXT PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS tenant_status (
        tenant TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        changed_at TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        created_at TEXT
    );
    CREATE TABLE IF NOT EXISTS usage_counts (
        tenant TEXT NOT NULL,
        day TEXT NOT NULL,
        metric TEXT NOT NULL,
        value {types['bigint']} NOT NULL,
        PRIMARY KEY (tenant, day, metric)
    );
    """
    upsert = ("ON CONFLICT (tenant, day, metric) DO UPDATE SET value = usage_counts.value + excluded.value")
    if dialect == "sqlite":
        # One line per trigger: statements() splits the script at ";" + newline.
        refuse = "BEGIN SELECT RAISE(ABORT, 'Das Protokoll ist nur erweiterbar: Ändern und Löschen sind gesperrt.'); END"
        purging = "WHEN NOT EXISTS (SELECT 1 FROM audit_purges p WHERE p.tenant = OLD.tenant)"
        count = "INSERT INTO usage_counts(tenant, day, metric, value) VALUES"
        return tables + f"""
    CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log {refuse};
    CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log {purging} {refuse};
    CREATE TRIGGER IF NOT EXISTS audit_chain_no_update BEFORE UPDATE ON audit_chain {refuse};
    CREATE TRIGGER IF NOT EXISTS audit_chain_no_delete BEFORE DELETE ON audit_chain {purging} {refuse};
    CREATE TRIGGER IF NOT EXISTS usage_conversations AFTER INSERT ON conversations BEGIN {count} (NEW.tenant, substr(NEW.created_at, 1, 10), 'conversations', 1) {upsert}; END;
    CREATE TRIGGER IF NOT EXISTS usage_turns AFTER INSERT ON turns BEGIN {count} (NEW.tenant, substr(NEW.created_at, 1, 10), 'answers:' || NEW.mode, 1) {upsert}; END;
    CREATE TRIGGER IF NOT EXISTS usage_inbox AFTER INSERT ON inbox_messages BEGIN {count} (NEW.tenant, substr(NEW.received_at, 1, 10), 'inbox:' || NEW.channel, 1) {upsert}; END;
    CREATE TRIGGER IF NOT EXISTS usage_attachments AFTER INSERT ON inbox_attachments BEGIN {count} ((SELECT m.tenant FROM inbox_messages m WHERE m.id = NEW.message_id), (SELECT substr(m.received_at, 1, 10) FROM inbox_messages m WHERE m.id = NEW.message_id), 'attachments', 1) {upsert}; END
    """
    # PostgreSQL: one function per concern; the bodies are one line each for the same reason.
    return tables + f"""
    CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_purges p WHERE p.tenant = OLD.tenant) THEN RETURN OLD; END IF; RAISE EXCEPTION 'Das Protokoll ist nur erweiterbar: Ändern und Löschen sind gesperrt.'; END $$;
    DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    DROP TRIGGER IF EXISTS audit_chain_append_only ON audit_chain;
    CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_chain FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    DROP TRIGGER IF EXISTS audit_chain_no_truncate ON audit_chain;
    CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    CREATE OR REPLACE FUNCTION usage_count() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE t TEXT; d TEXT; m TEXT; BEGIN IF TG_TABLE_NAME = 'conversations' THEN t := NEW.tenant; d := substr(NEW.created_at, 1, 10); m := 'conversations'; ELSIF TG_TABLE_NAME = 'turns' THEN t := NEW.tenant; d := substr(NEW.created_at, 1, 10); m := 'answers:' || NEW.mode; ELSIF TG_TABLE_NAME = 'inbox_messages' THEN t := NEW.tenant; d := substr(NEW.received_at, 1, 10); m := 'inbox:' || NEW.channel; ELSE SELECT i.tenant, substr(i.received_at, 1, 10) INTO t, d FROM inbox_messages i WHERE i.id = NEW.message_id; m := 'attachments'; END IF; INSERT INTO usage_counts(tenant, day, metric, value) VALUES (t, d, m, 1) {upsert}; RETURN NEW; END $$;
    DROP TRIGGER IF EXISTS usage_conversations ON conversations;
    CREATE TRIGGER usage_conversations AFTER INSERT ON conversations FOR EACH ROW EXECUTE FUNCTION usage_count();
    DROP TRIGGER IF EXISTS usage_turns ON turns;
    CREATE TRIGGER usage_turns AFTER INSERT ON turns FOR EACH ROW EXECUTE FUNCTION usage_count();
    DROP TRIGGER IF EXISTS usage_inbox ON inbox_messages;
    CREATE TRIGGER usage_inbox AFTER INSERT ON inbox_messages FOR EACH ROW EXECUTE FUNCTION usage_count();
    DROP TRIGGER IF EXISTS usage_attachments ON inbox_attachments;
    CREATE TRIGGER usage_attachments AFTER INSERT ON inbox_attachments FOR EACH ROW EXECUTE FUNCTION usage_count()
    """


@migration
def limits_tenant(dialect: Dialect) -> str:
    """Issue 12: rate-limit counters and failed logins name the tenant they belong to (a
    tenant's own counters, an API key's, a staff account's failures; NULL for what belongs to
    no tenant, such as an address), so that deleting a tenant removes them with the rest.
    Safe to apply again: PostgreSQL adds the column IF NOT EXISTS; SQLite (no such clause)
    copies both tables into new ones with the column, so a second run only loses the tenant
    of counters that expire within a day anyway."""
    if dialect == "postgres":
        return """
    ALTER TABLE rate_counters ADD COLUMN IF NOT EXISTS tenant TEXT;
    ALTER TABLE login_failures ADD COLUMN IF NOT EXISTS tenant TEXT;
    CREATE INDEX IF NOT EXISTS rate_counters_tenant ON rate_counters(tenant);
    CREATE INDEX IF NOT EXISTS login_failures_tenant ON login_failures(tenant)
    """
    return """
    CREATE TABLE rate_counters_with_tenant (
        bucket TEXT PRIMARY KEY, window_start INTEGER NOT NULL, hits INTEGER NOT NULL, tenant TEXT
    );
    INSERT INTO rate_counters_with_tenant(bucket, window_start, hits) SELECT bucket, window_start, hits FROM rate_counters;
    DROP TABLE rate_counters;
    ALTER TABLE rate_counters_with_tenant RENAME TO rate_counters;
    CREATE INDEX IF NOT EXISTS rate_counters_window ON rate_counters(window_start);
    CREATE INDEX IF NOT EXISTS rate_counters_tenant ON rate_counters(tenant);
    CREATE TABLE login_failures_with_tenant (
        key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_at REAL NOT NULL, locked_until REAL NOT NULL, tenant TEXT
    );
    INSERT INTO login_failures_with_tenant(key, failures, last_at, locked_until)
        SELECT key, failures, last_at, locked_until FROM login_failures;
    DROP TABLE login_failures;
    ALTER TABLE login_failures_with_tenant RENAME TO login_failures;
    CREATE INDEX IF NOT EXISTS login_failures_tenant ON login_failures(tenant)
    """


def statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


_LEGACY = {1: "documents_passages_vectors", 2: "passage_meta", 3: "conversations_inbox_audit_staff"}


def apply_migrations(store, dialect: Dialect, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    migrations = MIGRATIONS if migrations is None else migrations
    with store._tx() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        legacy = "sqlite_master WHERE type = 'table' AND" if dialect == "sqlite" else "information_schema.tables WHERE"
        cur.execute(f"SELECT 1 FROM {legacy} {'name' if dialect == 'sqlite' else 'table_name'} = 'schema_migrations'")
        if cur.fetchone():  # a store from before names: its numbers become names, once
            cur.execute("SELECT version, applied_at FROM schema_migrations")
            for version, at in cur.fetchall():
                if version in _LEGACY:
                    cur.execute("INSERT INTO migrations(name, applied_at) VALUES (?, ?) ON CONFLICT DO NOTHING", (_LEGACY[version], at))
            cur.execute("DROP TABLE schema_migrations")
    applied = []
    for step in migrations:
        with store._tx() as cur:
            # Checked inside the transaction: another process may be migrating too.
            cur.execute("SELECT 1 FROM migrations WHERE name = ?", (step.__name__,))
            if cur.fetchone():
                continue
            for statement in statements(step(dialect)):
                cur.execute(statement)
            cur.execute(
                "INSERT INTO migrations(name, applied_at) VALUES (?, ?)",
                (step.__name__, datetime.now(timezone.utc).isoformat(timespec="seconds")),
            )
        applied.append(step.__name__)
    return applied
