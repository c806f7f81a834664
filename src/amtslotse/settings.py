"""All configuration in one place: environment variables with the prefix `AMTSLOTSE_`.

Every setting has a default that works on one small machine and a one-line description;
docs/settings.md lists them all (tests/test_settings_documented.py checks that).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("amtslotse", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMTSLOTSE_", env_file=".env", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Data folder: SQLite database, logs and caches (default: the per-user data folder).",
    )
    database_url: str = Field(
        default="",
        description="Empty: embedded SQLite file in AMTSLOTSE_HOME. Or postgresql://user:pass@host/db for PostgreSQL with pgvector.",
    )
    embedder: str = Field(
        default="e5-small+use-m3",
        description="Embedding model: 'e5-small+use-m3' (both combined: best on our question sets), 'e5-small' (multilingual-e5-small; it and the combination are bundled on Linux x86_64 only, about 5 passages/s on 2 cores), 'use-m3' (multilingual USE, bundled everywhere, about 80 passages/s), 'none', or 'sentence-transformers:/local/path'. Changing it means new vectors for all passages.",
    )
    embed_batch_size: int = Field(default=64, description="Passages embedded per batch during ingest.")
    embed_on_ingest: bool = Field(
        default=True,
        description="Compute missing vectors at the end of `ingest`; off: run `amtslotse embed` later, or let the server do it in the background (lexical search works meanwhile).",
    )
    vocabulary_dir: Path | None = Field(
        default=None,
        description="Folder with extra vocabulary files (<tenant>.tsv: everyday word -> legal terms) on top of the bundled one.",
    )
    keywords_dir: Path | None = Field(
        default=None,
        description="Folder with extra section keyword files (<tenant>.tsv: citation -> everyday words) on top of the bundled one.",
    )
    search_candidates: int = Field(
        default=50, description="Candidates taken from each of the lexical and the dense search before fusion."
    )
    lexical_weight: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Share of the lexical score in the hybrid score for a question whose best lexical passage covers 60 % of it; more coverage raises it, less lowers it (the dense score has the rest). Empty: the value tuned for the embedder (e5-small+use-m3 0.5, e5-small 0.6, use-m3 0.75, others 0.6).",
    )
    law_split_chars: int = Field(
        default=2500, description="A § longer than this many characters is split by Absatz into several passages."
    )
    page_split_chars: int = Field(
        default=1500, description="Target size of passages cut from pages (by heading, then by paragraph)."
    )
    llm_provider: str = Field(
        default="",
        description="LLM provider: empty = 'openai' if AMTSLOTSE_LLM_BASE_URL is set, else 'none' (extractive answers only); or a registered provider name.",
    )
    llm_base_url: str = Field(
        default="",
        description="Base URL of an OpenAI-compatible chat server (vLLM, Ollama, llama.cpp), e.g. http://127.0.0.1:8080/v1; empty: no LLM.",
    )
    llm_model: str = Field(default="", description="Model name sent to the LLM server (empty: the server's default model).")
    llm_api_key: SecretStr = Field(
        default="", validate_default=True,
        description="API key for the LLM server, sent as a Bearer token (empty: none); never printed or logged.",
    )
    llm_timeout_seconds: float = Field(default=60.0, gt=0, description="Time limit for one LLM answer, in seconds.")
    llm_max_tokens: int = Field(default=600, ge=1, description="Maximum tokens the LLM may generate for one answer.")
    llm_context_tokens: int = Field(
        default=2048, ge=512,
        description="Context window of the LLM in tokens; the prompt gets this minus AMTSLOTSE_LLM_MAX_TOKENS (more passages with a bigger model).",
    )
    llm_temperature: float = Field(
        default=0.2, ge=0.0, le=2.0, description="Sampling temperature of the LLM (low: closer to the sources)."
    )
    tenants_dir: Path | None = Field(
        default=None,
        description="Folder with tenant configurations (<tenant>.toml: name, greeting, colours, emergency contacts, links); default: AMTSLOTSE_HOME/tenants, then the starter pack.",
    )
    default_tenant: str = Field(
        default="musterkreis",
        description="Tenant used by HTTP clients that name none (e.g. the OpenAI-compatible endpoint).",
    )
    conversation_retention_days: int = Field(
        default=30, ge=1, description="Days after its last message that a chat conversation (redacted) is deleted."
    )
    history_turns: int = Field(
        default=3, ge=0, description="Recent turns of a conversation used to understand a follow-up question."
    )
    max_message_chars: int = Field(
        default=4000, ge=100, description="Longest chat message or handover summary accepted, in characters."
    )
    host: str = Field(default="127.0.0.1", description="Address `amtslotse serve` listens on (0.0.0.0: all interfaces).")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `amtslotse serve` listens on.")
    staff_session_hours: float = Field(default=10.0, gt=0, description="Hours a staff login stays valid.")
    review_after_days: int = Field(
        default=365, ge=1,
        description="Days after its ingest that a document is listed as 'review due' in the staff workspace.",
    )
    cors_origins: str = Field(
        default="*",
        description="Web sites that may embed the chat widget (comma-separated origins, e.g. https://www.musterkreis.de; * = any).",
    )
    inbox_retention_days: int = Field(
        default=90, ge=1, description="Days after intake that an inbox message (text, attachments) is deleted; the audit log stays."
    )
    inbox_max_text_chars: int = Field(
        default=50_000, ge=1000, description="Longest inbox message text accepted, in characters (subject included)."
    )
    inbox_max_attachments: int = Field(default=10, ge=0, description="Most attachments per inbox message.")
    inbox_max_attachment_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest attachment accepted, in bytes."
    )
    imap_host: str = Field(default="", description="IMAP server polled for incoming mail (empty: no IMAP polling).")
    imap_port: int = Field(default=0, ge=0, le=65535, description="IMAP port; 0: 993 with SSL, 143 without.")
    imap_user: str = Field(default="", description="User name of the inbox mailbox.")
    imap_password: SecretStr = Field(
        default="", validate_default=True, description="Password of the inbox mailbox; never printed or logged."
    )
    imap_folder: str = Field(
        default="INBOX",
        description="Folder polled for unseen mail; each message is marked seen once stored (use a mailbox only Amtslotse reads).",
    )
    imap_ssl: bool = Field(
        default=True, description="Implicit TLS (IMAPS); switch off only for a server on loopback or a trusted network."
    )
    imap_poll_seconds: float = Field(default=60.0, gt=0, description="Seconds between two IMAP polls.")
    ocr_languages: str = Field(
        default="deu",
        description="Tesseract languages for OCR of image attachments, e.g. 'deu+eng' (each needs its tesseract-ocr-<lang> package).",
    )
    ocr_workers: int = Field(default=2, ge=1, description="Pages OCR'd at the same time (one core each).")
    ocr_timeout_seconds: float = Field(default=120.0, gt=0, description="Time limit for the OCR of one image, in seconds.")
    attachment_timeout_seconds: float = Field(
        default=300.0, gt=0,
        description="Wall-clock limit for reading one inbox attachment (OCR included) in its own process; then it is marked unreadable, the message goes on.",
    )
    attachment_cpu_seconds: float = Field(
        default=60.0, gt=0, description="CPU-time limit of the process that reads one attachment (its OCR processes have their own time limit).",
    )
    attachment_memory_mb: int = Field(
        default=1024, ge=128, description="Memory (address space) limit of the process that reads one attachment, and of each OCR process it starts, in MB.",
    )
    attachment_max_unpacked_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024,
        description="Largest total unpacked size of a DOCX attachment (its ZIP members, checked before unpacking), in bytes.",
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Secure flag of the staff login cookie: 'auto' when the request came over HTTPS (behind a proxy: with X-Forwarded-Proto from a trusted proxy), 'always', or 'never'.",
    )
    trusted_origins: str = Field(
        default="",
        description="Origins besides the server's own address from which the staff workspace may send changes with its cookie (comma-separated, e.g. https://amtslotse.musterkreis.de behind a proxy that rewrites the Host header).",
    )
    rate_limit_window_seconds: int = Field(
        default=60, ge=1, description="Length of the fixed window in which the rate limits below count requests, in seconds.",
    )
    rate_limit_per_client: int = Field(
        default=60, ge=0,
        description="Requests per window one client address may send to each public endpoint (chat messages and feedback, handovers, OpenAI endpoint, inbox); then 429. 0: no limit.",
    )
    rate_limit_per_tenant: int = Field(
        default=1200, ge=0, description="Requests per window all clients together may send to each public endpoint of one tenant; then 429. 0: no limit.",
    )
    rate_limit_per_api_key: int = Field(
        default=600, ge=0, description="Inbox messages per window one integration's API key may send (instead of the per-address limit); 0: no limit.",
    )
    max_conversation_turns: int = Field(
        default=50, ge=1, description="Most questions in one chat conversation; then the citizen is asked to start a new one.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed staff logins of one account before it is locked for AMTSLOTSE_LOGIN_LOCKOUT_SECONDS (doubled with each further failure).",
    )
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="Failed staff logins from one client address (any account names) before that address is locked the same way.",
    )
    login_failure_window_minutes: float = Field(
        default=15.0, gt=0, description="Failed logins are counted until this many minutes pass without one.",
    )
    login_lockout_seconds: float = Field(
        default=60.0, gt=0, description="First lockout after too many failed logins, in seconds; doubled with each further failure, at most an hour.",
    )
    oidc_issuer: str = Field(
        default="", description="Issuer URL of the OpenID Connect provider for staff single sign-on (Keycloak: https://sso.example.de/realms/<realm>); its /.well-known/openid-configuration is read. Empty: local accounts only.",
    )
    oidc_client_id: str = Field(default="", description="Client id of Amtslotse at the OpenID Connect provider.")
    oidc_client_secret: SecretStr = Field(
        default="", validate_default=True, description="Client secret at the OpenID Connect provider (empty: a public client, PKCE only); never printed or logged.",
    )
    oidc_redirect_url: str = Field(
        default="", description="Redirect URL registered at the provider (empty: this server's address + /api/v1/staff/oidc/callback; set it behind a proxy).",
    )
    oidc_scopes: str = Field(default="openid profile", description="Scopes asked for at single sign-on (space-separated; add the one that puts the roles claim into the ID token if the provider needs it).")
    oidc_roles_claim: str = Field(
        default="amtslotse_roles", description="Claim with the staff roles per tenant, e.g. [\"musterkreis:redaktion\", \"*:admin\"] (a dotted path reaches nested claims: resource_access.amtslotse.roles).",
    )

    @field_validator("vocabulary_dir", "keywords_dir", "lexical_weight", "tenants_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        """`AMTSLOTSE_LEXICAL_WEIGHT=` (empty) means the default, as for the string settings."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def tenants_root(self) -> Path:
        """The folder of the tenants' TOML files and own folders (`<tenant>/`): AMTSLOTSE_TENANTS_DIR
        or AMTSLOTSE_HOME/tenants."""
        return self.tenants_dir or self.home / "tenants"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def settings_table() -> str:
    """The Markdown table of docs/settings.md (tests/test_settings_documented.py keeps them equal)."""
    rows = ["| Variable | Standard | Bedeutung |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "(Benutzer-Datenordner)" if field.default_factory else field.default
        shown = f"`{default}`" if default not in (None, "") else "(leer)"
        rows.append(f"| `AMTSLOTSE_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
