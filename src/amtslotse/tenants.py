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

    [inbox]            # read by amtslotse.inbox (categories, routing)

    >>> load_tenant_config("musterkreis", settings).name
    'Jobcenter Landkreis Musterkreis'

A tenant without a file gets neutral defaults; unknown keys are kept in `raw` for the parts
that read their own tables (the inbox reads `[inbox]`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from amtslotse.ask import texts
from amtslotse.settings import Settings

TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class EmergencyContact:
    label: str
    phone: str = ""
    hours: str = ""
    text: str = ""

    def line(self) -> str:
        parts = [self.label, self.phone, f"({self.hours})" if self.hours else "", self.text]
        return " ".join(p for p in parts if p)


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
    configured: bool = False  # a file exists for this tenant
    raw: dict = field(default_factory=dict)
    path: Path | None = None  # the TOML file; relative paths in it (e.g. [inbox] routing) start beside it

    def inbox(self):
        """The `[inbox]` table: categories (renamed, hidden, added) and routing rules."""
        from amtslotse.inbox.categories import inbox_config

        return inbox_config(self.raw if self.configured else None, base_dir=self.path.parent if self.path else None)

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


class TenantConfigError(ValueError):
    """A tenant file cannot be read (message in German, names the file)."""


def _search_path(settings: Settings) -> list[Path]:
    starter = Path(str(resources.files("amtslotse").joinpath("data", "starter", "tenants")))
    return [settings.tenants_dir or settings.home / "tenants", starter]


def load_tenant_config(tenant: str, settings: Settings) -> TenantConfig:
    if not TENANT_NAME.match(tenant):
        raise TenantConfigError(f"„{tenant}“ ist kein gültiger Mandantenname (Kleinbuchstaben, Ziffern, - und _).")
    for folder in _search_path(settings):
        path = folder / f"{tenant}.toml"
        if path.is_file():
            return _parse(tenant, path, path.stat().st_mtime_ns)
    return TenantConfig(tenant=tenant, name=f"Jobcenter {tenant.capitalize()}", reference_prefix=tenant[:2].upper())


@lru_cache(maxsize=64)
def _parse(tenant: str, path: Path, _mtime: int) -> TenantConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise TenantConfigError(f"{path}: nicht lesbar ({error}).") from None
    colors = {"primary": "#00507d", "on_primary": "#ffffff"} | dict(raw.get("colors", {}))
    bad = [k for k, v in colors.items() if not _COLOR.match(str(v))]
    if bad:
        raise TenantConfigError(f"{path}: Farbe(n) {', '.join(bad)} bitte als #rrggbb angeben.")
    try:
        contacts = tuple(EmergencyContact(**c) for c in raw.get("emergency_contacts", []))
    except TypeError as error:
        raise TenantConfigError(f"{path}: emergency_contacts: {error}.") from None
    prefix = str(raw.get("reference_prefix", tenant[:2])).upper()
    return TenantConfig(
        tenant=tenant, name=str(raw.get("name", f"Jobcenter {tenant.capitalize()}")), reference_prefix=prefix,
        greeting=str(raw.get("greeting", texts.GREETING)), colors=colors, logo_url=raw.get("logo_url"),
        privacy_url=raw.get("privacy_url"), accessibility_url=raw.get("accessibility_url"),
        imprint_url=raw.get("imprint_url"), emergency_contacts=contacts, configured=True, raw=raw, path=path,
    )
