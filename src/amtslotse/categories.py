"""Inbox categories (Anliegen) and a tenant's `[inbox]` configuration: rename, hide, add.

The 13 built-in keys are fixed (the classifier is trained on them); a tenant changes how they
are shown and which are used, in the `[inbox]` table of its TOML file::

    [inbox]
    labels = { unterkunft = "Wohnen und Heizen" }
    hidden = ["bildung_teilhabe"]          # falls back to the next best visible category
    routing = "routing-musterkreis.tsv"    # own routing rules, before the bundled ones (see routing.py)

    [[inbox.extra_categories]]
    key = "energieschulden"
    label = "Energieschulden"
    keywords = ["Stromschulden", "Energieschulden", "Abschlag Stadtwerke"]

    >>> config = inbox_config({"inbox": {"labels": {"unterkunft": "Wohnen und Heizen"}}})
    >>> config.label("unterkunft"), config.label("termin")
    ('Wohnen und Heizen', 'Termine')

`inbox_config()` takes the whole tenant config (the dict the TOML loader returns) and reads
its `inbox` table; a missing table gives the defaults. Errors are `InboxConfigError`
(a ConfigError, so a UserError) with a German message that names the offending entry.
The product reads a tenant's table through `TenantConfig.inbox()` (tenants.py), which also
anchors a relative `routing` path at the TOML file's folder, names the file in errors and
passes the tenant's own folder (`<tenants dir>/<tenant>/`): its `flags/`, `cues/`,
`checklists.toml` and `routing.tsv` extend the bundled lists for this tenant
(`InboxConfig.folder`; `routing.tsv` there is the routing file unless `routing` names one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from amtslotse.errors import ConfigError

CATEGORIES: Mapping[str, str] = MappingProxyType({
    "weiterbewilligung": "Weiterbewilligung",
    "antrag": "Erstantrag",
    "veraenderung": "Veränderungsmitteilung",
    "unterkunft": "Kosten der Unterkunft und Heizung",
    "krankmeldung": "Krankmeldung",
    "termin": "Termine",
    "widerspruch": "Widerspruch",
    "zahlung": "Zahlung und Bankverbindung",
    "bildung_teilhabe": "Bildung und Teilhabe",
    "arbeit_foerderung": "Arbeit und Förderung",
    "mehrbedarf": "Mehrbedarf und Erstausstattung",
    "rueckforderung": "Rückforderung und Aufrechnung",
    "sonstiges": "Sonstiges",
})
"""Built-in category keys -> German labels shown to staff (the keys never change)."""

DESCRIPTIONS: Mapping[str, str] = MappingProxyType({
    "weiterbewilligung": "Weiterbewilligungsantrag, Bewilligungszeitraum endet",
    "antrag": "Erstantrag, erstmals Leistungen beantragen",
    "veraenderung": "Veränderung: Arbeit, Einkommen, Lohnabrechnung, Haushalt, Adresse, Rente",
    "unterkunft": "Miete, Nebenkosten, Heizung, Strom, Umzug, Kaution",
    "krankmeldung": "Krankmeldung, AU-Bescheinigung, krank und kann nicht kommen",
    "termin": "Termin verschieben oder absagen, Fragen zur Einladung",
    "widerspruch": "Widerspruch gegen einen Bescheid, Leistungsminderung",
    "zahlung": "Geld nicht angekommen, Zahltag, neue Bankverbindung",
    "bildung_teilhabe": "Klassenfahrt, Mittagessen, Nachhilfe, Schulbedarf, Sportverein",
    "arbeit_foerderung": "Arbeitsvermittlung, Weiterbildung, Bildungsgutschein, Bewerbungskosten",
    "mehrbedarf": "Schwangerschaft, alleinerziehend, Behinderung, Ernährung, Erstausstattung",
    "rueckforderung": "Rückforderung, Erstattungsbescheid, Aufrechnung, Ratenzahlung, Stundung",
    "sonstiges": "alles andere: Dank, Beschwerde, Datenschutz, Kindergeld",
})
"""One line per built-in category (German): what belongs there; used in the LLM prompt."""

FALLBACK = "sonstiges"
"""The category that can never be hidden: where everything lands that fits nowhere else."""

FLAGS: Mapping[str, str] = MappingProxyType({"notlage": "Notlage", "frist": "Frist"})
"""Flags -> German labels. notlage: acute need (food, eviction, energy cut-off, violence);
frist: a running deadline (objection period, Anhörung, payment demand with a date)."""

_KEY = re.compile(r"[a-z][a-z0-9_]{1,39}")


INBOX_KEYS = frozenset({"labels", "hidden", "extra_categories", "routing"})
"""The keys of a tenant's `[inbox]` table."""
EXTRA_CATEGORY_KEYS = frozenset({"key", "label", "keywords"})
"""The keys of each `[[inbox.extra_categories]]` entry."""


class InboxConfigError(ConfigError):
    """The tenant's `[inbox]` table is malformed; the message (German) names the entry."""


@dataclass(frozen=True)
class ExtraCategory:
    """A tenant's own category, assigned when one of its keywords occurs in a message."""

    key: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class InboxConfig:
    """A tenant's view of the inbox categories (defaults: all built-ins, German labels)."""

    labels: Mapping[str, str] = field(default_factory=lambda: dict(CATEGORIES))
    hidden: frozenset[str] = frozenset()
    extra_categories: tuple[ExtraCategory, ...] = ()
    routing: Path | None = None  # the tenant's routing file, tried before the bundled rules; None: none
    folder: Path | None = None  # the tenant's own folder: its word lists and checklists extend the bundled ones

    def label(self, key: str) -> str:
        """The German label of a category key (the key itself if unknown)."""
        return self.labels.get(key, key)

    def visible(self, key: str) -> bool:
        return key in self.labels and key not in self.hidden

    @property
    def keys(self) -> list[str]:
        """All visible category keys: built-ins in their order, then the tenant's own."""
        return [k for k in self.labels if k not in self.hidden]


DEFAULT_CONFIG = InboxConfig()


TENANT_ROUTING = "routing.tsv"
"""The routing file in a tenant's own folder (when `[inbox] routing` names none)."""


def inbox_config(raw: Mapping | None, base_dir: Path | None = None, folder: Path | None = None) -> InboxConfig:
    """Parse the `[inbox]` table of a tenant config; `base_dir` (the TOML file's folder)
    anchors a relative `routing` path; `folder` is the tenant's own folder (its lists extend
    the bundled ones). Unknown keys in the table are errors (a typo like `hiden` would
    otherwise silently do nothing)."""
    if raw is None and folder is None:
        return DEFAULT_CONFIG
    if raw is None:
        raw = {}
    if isinstance(raw, InboxConfig):
        return raw
    if not isinstance(raw, Mapping):
        raise InboxConfigError("Die Mandanten-Konfiguration muss eine Tabelle sein.")
    table = raw.get("inbox", {})
    if not isinstance(table, Mapping):
        raise InboxConfigError("[inbox] muss eine Tabelle sein.")
    unknown = set(table) - INBOX_KEYS
    if unknown:
        raise InboxConfigError(
            f"[inbox]: unbekannte Einträge {', '.join(sorted(unknown))} (erlaubt: {', '.join(sorted(INBOX_KEYS))})."
        )
    labels = dict(CATEGORIES)
    extras = tuple(_extra(i, item) for i, item in enumerate(_list(table, "extra_categories", Mapping)))
    for extra in extras:
        if extra.key in labels:
            raise InboxConfigError(f"[[inbox.extra_categories]]: Schlüssel {extra.key!r} ist schon vergeben.")
        labels[extra.key] = extra.label
    renames = table.get("labels", {})
    if not isinstance(renames, Mapping):
        raise InboxConfigError("[inbox] labels muss eine Tabelle sein, z. B. labels = { unterkunft = \"Wohnen\" }.")
    for key, label in renames.items():
        _known(key, labels, "labels")
        if not isinstance(label, str) or not label.strip():
            raise InboxConfigError(f"[inbox] labels: die Bezeichnung für {key!r} muss ein nicht leerer Text sein.")
        labels[key] = label.strip()
    hidden = frozenset(_list(table, "hidden", str))
    for key in hidden:
        _known(key, labels, "hidden")
    if FALLBACK in hidden:
        raise InboxConfigError(f"[inbox] hidden: {FALLBACK!r} kann nicht ausgeblendet werden (Auffangkategorie).")
    routing = table.get("routing")
    if routing is not None:
        if not isinstance(routing, str) or not routing.strip():
            raise InboxConfigError("[inbox] routing muss ein Dateipfad (Text) sein.")
        routing = Path(routing.strip()).expanduser()
        if not routing.is_absolute() and base_dir is not None:
            routing = Path(base_dir) / routing
    elif folder is not None and (Path(folder) / TENANT_ROUTING).is_file():
        routing = Path(folder) / TENANT_ROUTING
    return InboxConfig(labels=MappingProxyType(labels), hidden=hidden, extra_categories=extras, routing=routing,
                       folder=Path(folder) if folder is not None else None)


def _list(table: Mapping, name: str, kind: type) -> list:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        what = "Texten" if kind is str else "Tabellen"
        raise InboxConfigError(f"[inbox] {name} muss eine Liste von {what} sein.")
    return value


def _known(key: str, labels: Mapping[str, str], where: str) -> None:
    if key not in labels:
        raise InboxConfigError(
            f"[inbox] {where}: unbekannte Kategorie {key!r}; bekannt sind {', '.join(labels)}."
        )


def _extra(index: int, item: Mapping) -> ExtraCategory:
    where = f"[[inbox.extra_categories]] Nr. {index + 1}"
    unknown = set(item) - EXTRA_CATEGORY_KEYS
    if unknown:
        raise InboxConfigError(
            f"{where}: unbekannte Einträge {', '.join(sorted(unknown))} (erlaubt: {', '.join(sorted(EXTRA_CATEGORY_KEYS))})."
        )
    key = item.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InboxConfigError(f"{where}: key muss aus Kleinbuchstaben, Ziffern und _ bestehen (z. B. \"energieschulden\").")
    label = item.get("label", key)
    if not isinstance(label, str) or not label.strip():
        raise InboxConfigError(f"{where}: label muss ein nicht leerer Text sein.")
    keywords = item.get("keywords")
    if not isinstance(keywords, list) or not keywords or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise InboxConfigError(f"{where} ({key}): keywords muss eine nicht leere Liste von Texten sein.")
    return ExtraCategory(key=key, label=label.strip(), keywords=tuple(k.strip() for k in keywords))
