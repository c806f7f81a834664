"""Tenant configuration: what a Landkreis sets for its own chat and inbox.

One TOML file per tenant, `<tenant>.toml`, looked up in AMTSLOTSE_TENANTS_DIR (default
AMTSLOTSE_HOME/tenants), then in the starter pack (the sample Landkreis "musterkreis")::

    name = "Jobcenter Landkreis Musterkreis"
    reference_prefix = "MK"
    greeting = "Guten Tag! ..."
    privacy_url = "https://.../datenschutz"
    colors = { primary = "#00507d", on_primary = "#ffffff" }

    [[emergency_contacts]]
    label = "Notfallschalter des Jobcenters"
    phone = "0123 45678-99"
    hours = "Mo-Fr 8-12 Uhr"

    [inbox]            # read by amtslotse.categories (categories, routing rules file)
    [analytics]        # read by amtslotse.analytics (minutes saved per answer)
    [privacy]          # read by amtslotse.governance.records (Art. 30 record)
    [accessibility]    # read by amtslotse.governance.records (accessibility statement)

    >>> load_tenant_config("musterkreis", Settings(home=Path("/nonexistent"))).name
    'Jobcenter Landkreis Musterkreis'

`TenantConfig` is the one way to a tenant's settings: the chat, the inbox processing, the staff
workspace and the CLI all read it (`TenantConfig.inbox()` for the `[inbox]` table, with a
relative `routing` path taken from the TOML file's folder). Beside `<tenant>.toml`, the folder
`<tenant>/` holds the tenant's own lists, which extend the bundled ones for it alone
(`TenantConfig.folder`, passed on in `InboxConfig.folder`)::

    <tenant>/flags/<language>.txt   flag phrases (format of data/inbox/flags/)
    <tenant>/cues/<language>.txt    cue words per category (format of data/inbox/cues/)
    <tenant>/checklists.toml        documents per category (format of data/inbox/checklists.toml)
    <tenant>/routing.tsv            routing rules, tried before the bundled ones (or [inbox] routing)
    <tenant>/vocabulary.tsv         search vocabulary (format of data/vocabulary/bund.tsv)
    <tenant>/keywords.tsv           section keywords (format of data/keywords/bund.tsv)
 A tenant without a file gets
neutral defaults. Unknown keys, at the top level or in a known table, are errors
(`TenantConfigError`, naming file and key): a typo must not be silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path

from amtslotse.analytics.report import ANALYTICS_KEYS, Minutes
from amtslotse.ask import texts
from amtslotse.ask.emergency import EmergencyContact
from amtslotse.ask.scope import JOBCENTER
from amtslotse.categories import EXTRA_CATEGORY_KEYS, INBOX_KEYS, InboxConfig, InboxConfigError, inbox_config
from amtslotse.errors import ConfigError
from amtslotse.settings import Settings

TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class TenantConfig:
    tenant: str
    name: str
    reference_prefix: str
    greeting: str = texts.GREETING
    colors: dict[str, str] = field(default_factory=lambda: {"primary": "#00507d", "on_primary": "#ffffff"})
    logo_url: str | None = None
    privacy_url: str | None = None
    accessibility_url: str | None = None
    imprint_url: str | None = None
    emergency_contacts: tuple[EmergencyContact, ...] = ()
    scope: frozenset[str] = JOBCENTER  # the laws it serves (ask/scope.py); others only when a question is about them
    configured: bool = False  # a file exists for this tenant
    raw: dict = field(default_factory=dict)
    path: Path | None = None  # the TOML file; relative paths in it (e.g. [inbox] routing) start beside it
    folder: Path | None = None  # the tenant's own folder (`<tenant>/` beside the TOML): lists that extend the bundled ones

    def inbox(self) -> InboxConfig:
        """The `[inbox]` table: categories (renamed, hidden, added) and routing rules (an
        InboxConfig; a relative `routing` path starts beside the TOML file). A malformed
        table raises InboxConfigError naming this file."""
        try:
            return inbox_config(self.raw if self.configured else None, base_dir=self.path.parent if self.path else None,
                                folder=self.folder)
        except InboxConfigError as error:
            raise InboxConfigError(f"{self.path}: {error}") from None

    def analytics(self) -> Minutes:
        """The `[analytics]` table: staff minutes saved per answer (analytics.report.Minutes).
        A malformed table raises TenantConfigError naming this file."""
        try:
            return Minutes.from_config(self.raw if self.configured else {})
        except ConfigError as error:
            raise TenantConfigError(f"{self.path}: {error}") from None

    def public_dict(self, retention_days: int) -> dict:
        """What the citizen widget may know (GET /api/v1/tenants/{tenant}/config)."""
        return {
            "tenant": self.tenant, "name": self.name, "greeting": self.greeting, "colors": dict(self.colors),
            "logo_url": self.logo_url, "privacy_url": self.privacy_url,
            "accessibility_url": self.accessibility_url, "imprint_url": self.imprint_url,
            "emergency_contacts": [vars(c) for c in self.emergency_contacts],
            "notices": {"ai": texts.AI_NOTICE, "data": texts.data_notice(retention_days)},
            "languages": ["de", *texts.LANGUAGE_NOTES],
        }


class TenantConfigError(ConfigError):
    """A tenant file cannot be read (message in German, names the file)."""


TOP_LEVEL_KEYS = frozenset({
    "name", "reference_prefix", "greeting", "colors", "logo_url", "privacy_url", "accessibility_url",
    "imprint_url", "emergency_contacts", "scope", "inbox", "analytics", "privacy", "accessibility",
})
"""The keys a tenant file may have; a new one must be added here (and read by TenantConfig)."""

PRIVACY_KEYS = frozenset({"controller", "dpo", "operator", "hosting", "recipients", "sub_processors", "notes"})
SUB_PROCESSOR_KEYS = frozenset({"name", "purpose", "location"})
ACCESSIBILITY_KEYS = frozenset({
    "feedback_url", "feedback_email", "feedback_phone", "status", "known_issues", "reviewed", "law",
    "enforcement_name", "enforcement_url",
})
"""The keys of the [privacy] and [accessibility] tables (read by governance/records.py: the record
of processing activities and the accessibility statement)."""


def _table_keys() -> dict[str, frozenset[str]]:
    """The keys each known table (or each entry of a known array of tables) may have."""
    return {
        "colors": frozenset({"primary", "on_primary"}),
        "emergency_contacts": frozenset(f.name for f in fields(EmergencyContact)),
        "inbox": INBOX_KEYS,
        "inbox.extra_categories": EXTRA_CATEGORY_KEYS,
        "analytics": ANALYTICS_KEYS,
        "privacy": PRIVACY_KEYS,  # governance/records.py: the record of processing activities
        "privacy.sub_processors": SUB_PROCESSOR_KEYS,
        "accessibility": ACCESSIBILITY_KEYS,  # the accessibility statement
    }


def unknown_keys(raw: dict) -> list[tuple[str, str, frozenset[str]]]:
    """(table, key, allowed) for every key a tenant file may not have ("" is the top level).

    >>> unknown_keys({"name": "X", "greting": "Hallo", "inbox": {"hiden": []}})[0][:2]
    ('', 'greting')
    """
    found = [("", key, TOP_LEVEL_KEYS) for key in raw if key not in TOP_LEVEL_KEYS]
    for table, allowed in _table_keys().items():
        value: object = raw
        for part in table.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if isinstance(entry, dict):
                found += [(table, key, allowed) for key in entry if key not in allowed]
    return found


def _check_keys(raw: dict, path: Path) -> None:
    for table, key, allowed in unknown_keys(raw):
        where = f"[{table}]" if table else "auf oberster Ebene"
        raise TenantConfigError(
            f"{path}: unbekannter Schlüssel „{key}“ {where} (erlaubt: {', '.join(sorted(allowed))})."
        )


def _search_path(settings: Settings) -> list[Path]:
    starter = Path(str(resources.files("amtslotse").joinpath("data", "starter", "tenants")))
    return [settings.tenants_root, starter]


def load_tenant_config(tenant: str, settings: Settings) -> TenantConfig:
    if not TENANT_NAME.match(tenant):
        raise TenantConfigError(f"„{tenant}“ ist kein gültiger Mandantenname (Kleinbuchstaben, Ziffern, - und _).")
    search_path = _search_path(settings)
    for folder in search_path:
        path = folder / f"{tenant}.toml"
        if path.is_file():
            return _parse(tenant, path, path.stat().st_mtime_ns)
    own = search_path[0] / tenant  # the tenant's own lists, without a TOML file
    return TenantConfig(tenant=tenant, name=f"Jobcenter {tenant.capitalize()}", reference_prefix=tenant[:2].upper(),
                        folder=own if own.is_dir() else None)


def load_tenant_file(path: Path) -> TenantConfig:
    """A tenant file named by its path (to try one out before installing it); the tenant's
    name is the file name without `.toml`."""
    path = Path(path)
    if not path.is_file():
        raise TenantConfigError(f"Mandanten-Datei nicht gefunden: {path}")
    return _parse(path.stem, path, path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _parse(tenant: str, path: Path, _mtime: int) -> TenantConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise TenantConfigError(f"{path}: kein gültiges TOML ({error}).") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TenantConfigError(f"{path}: nicht lesbar ({error}).") from None
    _check_keys(raw, path)
    colors = {"primary": "#00507d", "on_primary": "#ffffff"} | dict(raw.get("colors", {}))
    bad = [k for k, v in colors.items() if not _COLOR.match(str(v))]
    if bad:
        raise TenantConfigError(f"{path}: Farbe(n) {', '.join(bad)} bitte als #rrggbb angeben.")
    try:
        contacts = tuple(EmergencyContact(**c) for c in raw.get("emergency_contacts", []))
    except TypeError as error:
        raise TenantConfigError(f"{path}: emergency_contacts: {error}.") from None
    prefix = str(raw.get("reference_prefix", tenant[:2])).upper()
    scope = raw.get("scope", sorted(JOBCENTER))
    if not isinstance(scope, list) or not all(isinstance(law, str) for law in scope):
        raise TenantConfigError(f"{path}: scope: bitte eine Liste von Gesetzen, z. B. [\"SGB_2\", \"SGB_10\"].")
    return TenantConfig(
        tenant=tenant, name=str(raw.get("name", f"Jobcenter {tenant.capitalize()}")), reference_prefix=prefix,
        greeting=str(raw.get("greeting", texts.GREETING)), colors=colors, logo_url=raw.get("logo_url"),
        privacy_url=raw.get("privacy_url"), accessibility_url=raw.get("accessibility_url"),
        imprint_url=raw.get("imprint_url"), emergency_contacts=contacts, scope=frozenset(scope), configured=True,
        raw=raw, path=path, folder=path.parent / tenant,
    )
