"""Tenants as a lifecycle: create, list, show, check, disable (and enable), delete.

A tenant (a Landkreis's Jobcenter) is its TOML file in the tenants folder (AMTSLOTSE_TENANTS_DIR,
default AMTSLOTSE_HOME/tenants), its row in the store, and a state: "active" or "disabled" (the
public chat then answers 403 with a German message; staff keep working). Every step is audited
in the cooperative's chain ("*"), which outlives a deleted tenant::

    create_tenant(store, settings, "nordkreis", name="Jobcenter Landkreis Nordkreis", prefix="NK", actor="cli:root")
    disable_tenant(store, "nordkreis", actor="v.verbund", reason="Vertrag endet")
    report = delete_tenant(store, settings, "nordkreis", actor="v.verbund")
    report.removed    # {'Dokumente': 12, 'Passagen': 340, 'Gespräche': 51, ...}

`create` writes the starter pack's Musterkreis file as the template, with the new name, prefix
and web addresses; its placeholders (example addresses, the sample phone number) are reported
by `check` until they are replaced.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from amtslotse.checks import run_checks
from amtslotse.errors import InputError, UserError
from amtslotse.governance.audit import COOPERATIVE
from amtslotse.governance.records import missing_record_data
from amtslotse.knowledge.starter import starter_dir
from amtslotse.models import SHARED_TENANT, AuditEntry, TenantStatus
from amtslotse.settings import Settings
from amtslotse.tenants import TENANT_NAME, TenantConfigError, load_tenant_config, load_tenant_file

TEMPLATE_TENANT = "musterkreis"

KIND_LABELS = {
    "documents": "Dokumente", "passages": "Passagen", "vectors": "Vektoren (nur von diesem Mandanten genutzt)",
    "conversations": "Gespräche", "turns": "Fragen und Antworten", "conversation_secrets": "Gesprächsschlüssel",
    "inbox_messages": "Nachrichten im Posteingang", "inbox_attachments": "Anhänge",
    "inbox_content_hashes": "Prüfsummen von Nachrichten", "audit_log": "Protokolleinträge",
    "audit_chain": "Prüfsummen des Protokolls", "audit_heads": "Protokollköpfe",
    "staff_users": "Konten der Mitarbeitenden", "staff_sessions": "Anmeldungen", "api_keys": "API-Schlüssel",
    "usage_counts": "Verbrauchszähler (Tageswerte)", "rate_counters": "Zähler der Anfragebegrenzung",
    "login_failures": "Fehlgeschlagene Anmeldungen", "tenant_status": "Status", "tenants": "Mandanteneintrag",
    "config_file": "Einstellungsdatei",
}
"""German names of what a tenant's data consists of (tables and the settings file)."""

PLACEHOLDERS = (
    (re.compile(r"\.example\b"), "eine Beispieladresse (….example)"),
    (re.compile(r"0123 45678"), "die Beispiel-Telefonnummer 0123 45678-…"),
    (re.compile(r"Musterstadt|Am Marktplatz 5"), "die Beispielanschrift (Am Marktplatz 5, Musterstadt)"),
)
"""What `create` copies from the template and an operator must replace."""


class TenantError(InputError):
    """A lifecycle step is not possible (German message); `status` for HTTP."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class TenantDisabled(UserError):
    """The tenant is disabled: no public answers (the chat API answers 403 with this message)."""


@dataclass
class TenantInfo:
    tenant: str
    name: str
    state: TenantStatus
    reason: str = ""
    changed_at: str | None = None
    changed_by: str | None = None
    created_at: str | None = None
    registered: bool = False  # known to the store
    config_file: str | None = None
    config_error: str | None = None
    data: dict[str, int] = field(default_factory=dict)  # rows per kind (German labels)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeletionReport:
    tenant: str
    removed: dict[str, int]  # German label -> count
    config_file: str | None  # the file removed, if any
    kept_config: str | None = None  # a file that stays (the starter pack's sample)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        lines = [f"{label}: {count}" for label, count in self.removed.items()]
        if self.kept_config:
            lines.append(f"Hinweis: die mitgelieferte Beispieldatei {self.kept_config} bleibt (Teil des Programms).")
        return lines


def tenants_dir(settings: Settings) -> Path:
    return settings.tenants_dir or settings.home / "tenants"


def _check_name(tenant: str) -> None:
    if not TENANT_NAME.match(tenant or ""):
        raise TenantError(f"„{tenant}“ ist kein gültiger Mandantenname (Kleinbuchstaben, Ziffern, - und _; "
                          "2 bis 63 Zeichen).", 422)
    if tenant in (SHARED_TENANT, COOPERATIVE):
        raise TenantError(f"„{tenant}“ ist die gemeinsame Ebene aller Jobcenter, kein eigener Mandant.", 422)


# --- create ---------------------------------------------------------------------------------------


def template_path() -> Path:
    return starter_dir() / "tenants" / f"{TEMPLATE_TENANT}.toml"


def render_template(tenant: str, name: str, prefix: str) -> str:
    """The starter pack's sample file with the new tenant's name, prefix and web addresses."""
    text = template_path().read_text(encoding="utf-8")
    place = re.sub(r"^(Jobcenter|Landkreis|Kreis|Stadt)\s+", "", name.strip())
    place = re.sub(r"^(Landkreis|Kreis|Stadt)\s+", "", place) or tenant.capitalize()
    header = (f"# {name}: angelegt mit `amtslotse tenant create {tenant}` am {date.today().isoformat()} aus der\n"
              "# Vorlage des Startpakets. Bitte die Beispieldaten (….example, 0123 45678-…, Musterstadt) ersetzen;\n"
              f"# `amtslotse tenant check {tenant}` nennt, was noch fehlt.\n")
    body = re.sub(r"\A(#[^\n]*\n)+", "", text)
    body = re.sub(r'(?m)^name = ".*"$', lambda _m: f"name = {_toml_string(name)}", body, count=1)
    body = re.sub(r'(?m)^reference_prefix = ".*"$', lambda _m: f"reference_prefix = {_toml_string(prefix)}", body, count=1)
    body = body.replace(f"jobcenter.{TEMPLATE_TENANT}.example", f"jobcenter.{tenant}.example")
    body = body.replace("Musterkreis", _toml_string(place)[1:-1])  # inside TOML strings (the greeting)
    return header + body


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create_tenant(
    store, settings: Settings, tenant: str, *, actor: str, name: str | None = None, prefix: str | None = None,
    force: bool = False,
) -> TenantInfo:
    """Write the tenant's file from the template, register the tenant (active) and audit it."""
    _check_name(tenant)
    name = (name or f"Jobcenter {tenant.replace('-', ' ').replace('_', ' ').title()}").strip()
    prefix = (prefix or re.sub(r"[^A-Za-z]", "", tenant)[:2] or "JC").upper()
    if not re.fullmatch(r"[A-Z]{1,6}", prefix):
        raise TenantError("Das Aktenzeichen-Kürzel (prefix) bitte aus 1 bis 6 Buchstaben, z. B. „NK“.", 422)
    if not name or len(name) > 200 or "\n" in name:
        raise TenantError("Der Name bitte in einer Zeile, höchstens 200 Zeichen.", 422)
    folder = tenants_dir(settings)
    path = folder / f"{tenant}.toml"
    if path.exists() and not force:
        raise TenantError(f"Die Datei {path} gibt es schon; mit --force wird sie überschrieben.")
    taken = {t for t in store.tenants()} | set(store.tenant_states())
    if tenant in taken and not force and not path.exists():
        raise TenantError(f"Den Mandanten „{tenant}“ gibt es schon in der Datenbank (ohne eigene Datei); "
                          "mit --force wird die Datei aus der Vorlage angelegt.")
    text = render_template(tenant, name, prefix)
    with tempfile.TemporaryDirectory(prefix="amtslotse-mandant-") as scratch:
        trial = Path(scratch) / f"{tenant}.toml"
        trial.write_text(text, encoding="utf-8")
        load_tenant_file(trial)  # the rendered file must read back (TenantConfigError otherwise)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise TenantError(f"Die Datei {path} lässt sich nicht schreiben ({error.strerror}).", 500) from None
    store.set_tenant_state(tenant, "active", actor, audit=AuditEntry(
        COOPERATIVE, actor, "tenant_created", "tenant", tenant, {"name": name, "prefix": prefix, "file": str(path)},
    ))
    return show_tenant(store, settings, tenant)


# --- read -----------------------------------------------------------------------------------------


def list_tenants(store, settings: Settings) -> list[TenantInfo]:
    """Every tenant the store knows or the tenants folder configures (not the shared layer)."""
    states = store.tenant_states()
    names = set(store.tenants()) | set(states)
    folder = tenants_dir(settings)
    if folder.is_dir():
        names |= {p.stem for p in folder.glob("*.toml") if TENANT_NAME.match(p.stem)}
    names.discard(SHARED_TENANT)
    return [_info(store, settings, name, states.get(name), counts=False) for name in sorted(names)]


def show_tenant(store, settings: Settings, tenant: str) -> TenantInfo:
    _check_name(tenant)
    info = _info(store, settings, tenant, store.tenant_state(tenant), counts=True)
    if not info.registered and info.config_file is None:
        raise TenantError(f"Den Mandanten „{tenant}“ gibt es hier nicht.", 404)
    return info


def _info(store, settings: Settings, tenant: str, state, counts: bool) -> TenantInfo:
    info = TenantInfo(tenant, tenant, state.state if state else "active")
    if state is not None:
        info.reason, info.changed_at, info.changed_by, info.created_at = (
            state.reason, state.changed_at, state.changed_by, state.created_at)
    info.registered = state is not None or tenant in store.tenants()
    try:
        config = load_tenant_config(tenant, settings)
        info.name = config.name
        info.config_file = str(config.path) if config.path else None
    except TenantConfigError as error:
        info.config_error = str(error)
        own = tenants_dir(settings) / f"{tenant}.toml"
        info.config_file = str(own) if own.exists() else None
    if counts:
        info.data = {KIND_LABELS.get(k, k): v for k, v in store.tenant_data_counts(tenant).items()}
    return info


def is_disabled(store, tenant: str) -> bool:
    state = store.tenant_state(tenant)
    return state is not None and state.state == "disabled"


def require_active(store, tenant: str, display_name: str | None = None) -> None:
    """Raise TenantDisabled (German, for the citizen) when the tenant is disabled."""
    if is_disabled(store, tenant):
        raise TenantDisabled(
            f"{display_name or tenant}: Der digitale Assistent ist zurzeit abgeschaltet. "
            "Bitte wenden Sie sich direkt an Ihr Jobcenter (Telefon, E-Mail oder vor Ort)."
        )


# --- check ----------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    tenant: str
    problems: list[str]  # errors (German): the configuration cannot be used as it is
    hints: list[str]  # what is not wrong but should be done (placeholders, missing records data)
    checked_files: int

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "ok": self.ok, "problems": self.problems, "hints": self.hints,
                "checked_files": self.checked_files}


def check_tenant(store, settings: Settings, tenant: str) -> CheckResult:
    """The tenant's configuration checked: `amtslotse check`'s reader checks (file and line of
    each problem), then what the lifecycle adds: placeholders from the template, the data
    the generated records (Art. 30, accessibility statement) need."""
    _check_name(tenant)
    found, checked = run_checks(settings, tenant)
    own = tenants_dir(settings) / f"{tenant}.toml"
    problems = [str(p) for p in found]
    hints: list[str] = []
    try:
        config = load_tenant_config(tenant, settings)
    except TenantConfigError:
        return CheckResult(tenant, problems, hints, checked)
    if config.path is not None and config.path == own:
        text = own.read_text(encoding="utf-8")
        for pattern, what in PLACEHOLDERS:
            lines = [n for n, line in enumerate(text.splitlines(), start=1)
                     if pattern.search(line) and not line.lstrip().startswith("#")]
            if lines:
                hints.append(f"{own}, Zeile {', '.join(map(str, lines))}: noch {what} aus der Vorlage")
    hints += missing_record_data(config)
    if is_disabled(store, tenant):
        hints.append(f"Der Mandant ist abgeschaltet: {store.tenant_state(tenant).reason or 'ohne Grund'}.")
    return CheckResult(tenant, problems, hints, checked)


# --- state ----------------------------------------------------------------------------------------


def disable_tenant(store, tenant: str, *, actor: str, reason: str = "") -> None:
    """Stop public answers for the tenant (staff keep their access to inbox and knowledge)."""
    _set_state(store, tenant, "disabled", actor, reason.strip()[:500])


def enable_tenant(store, tenant: str, *, actor: str) -> None:
    _set_state(store, tenant, "active", actor, "")


def _set_state(store, tenant: str, state: str, actor: str, reason: str) -> None:
    _check_name(tenant)
    if tenant not in store.tenants() and store.tenant_state(tenant) is None:
        raise TenantError(f"Den Mandanten „{tenant}“ gibt es hier nicht.", 404)
    action = "tenant_disabled" if state == "disabled" else "tenant_enabled"
    store.set_tenant_state(tenant, state, actor, reason, audit=AuditEntry(
        COOPERATIVE, actor, action, "tenant", tenant, {"reason": reason} if reason else {},
    ))


# --- delete ---------------------------------------------------------------------------------------


def delete_tenant(store, settings: Settings, tenant: str, *, actor: str) -> DeletionReport:
    """Remove ALL of the tenant's data: every row of every table that holds it (documents,
    passages, vectors only it used, conversations and their secrets, inbox and attachments,
    audit log, staff accounts and their sessions and failed logins, API keys, rate-limit and
    usage counters, state) in one transaction, and its file in the tenants folder. The
    cooperative's chain records what was removed (counts)."""
    _check_name(tenant)
    path = tenants_dir(settings) / f"{tenant}.toml"
    counts = store.tenant_data_counts(tenant)
    if not counts and not path.exists():
        raise TenantError(f"Den Mandanten „{tenant}“ gibt es hier nicht.", 404)
    details: dict[str, Any] = dict(counts)
    if path.exists():
        details["config_file"] = 1
    removed = store.delete_tenant_data(tenant, audit=AuditEntry(COOPERATIVE, actor, "tenant_deleted", "tenant", tenant, details))
    labelled = {KIND_LABELS.get(k, k): v for k, v in removed.items()}
    removed_file = None
    if path.exists():
        try:
            path.unlink()
        except OSError as error:
            raise TenantError(f"Die Daten sind gelöscht, die Datei {path} aber nicht ({error.strerror}).", 500) from None
        removed_file = str(path)
        labelled[KIND_LABELS["config_file"]] = 1
    kept = None
    try:
        config = load_tenant_config(tenant, settings)
        kept = str(config.path) if config.path else None
    except TenantConfigError:
        pass
    return DeletionReport(tenant, labelled, removed_file, kept)
