"""Governance commands: audit verify, tenant create|list|show|check|disable|enable|delete, usage,
privacy export|erase|records|accessibility.

    amtslotse audit verify [--tenant musterkreis]            # exit 1 naming the first broken entry
    amtslotse tenant create nordkreis --name "Jobcenter Landkreis Nordkreis" --prefix NK
    amtslotse tenant delete nordkreis --yes                  # prints what was removed
    amtslotse usage --tenant musterkreis --month 2026-12 --format csv
    amtslotse privacy export --reference MK-2026-000017 --tenant musterkreis > auskunft.json

Thin: each command calls amtslotse.governance (the functions the staff API calls) and prints.
Commands act as "cli:<operating-system user>" in the audit log unless --as names a person.
They open the store only (no embedding model): they are fast and work without one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from amtslotse.cli.common import AS, UserError, acting, app, err
from amtslotse.settings import get_settings

audit_app = typer.Typer(help="Prüfprotokoll: nur erweiterbar und mit Prüfsummen verkettet.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
tenant_app = typer.Typer(help="Mandanten (Jobcenter) anlegen, prüfen, abschalten, löschen.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
privacy_app = typer.Typer(help="Datenschutz: Auskunft und Löschung (Art. 15, 17 DSGVO), Verzeichnis, Barrierefreiheit.",
                          no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")

JSON = typer.Option(False, "--json", help="Ausgabe als JSON.")


@contextmanager
def _store() -> Iterator[tuple]:
    from amtslotse.store import open_store

    settings = get_settings()
    store = open_store(settings)
    try:
        yield settings, store
    finally:
        store.close()


def _echo_json(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _write(output: Optional[Path], data: bytes | str) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if output is None:
        typer.echo(raw.decode("utf-8-sig"), nl=False)
        return
    try:
        output.write_bytes(raw)
    except OSError as error:
        raise UserError(f"{output}: nicht schreibbar ({error.strerror}).") from None
    err.print(f"Geschrieben: {output}")


# --- audit ----------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    tenant: Optional[str] = typer.Option(None, "--tenant", "-t", help="Nur diesen Mandanten ('*': den Verbund)."),
    as_json: bool = JSON,
) -> None:
    """Die Prüfsummen-Ketten prüfen: ein geänderter, gelöschter oder eingeschobener Eintrag wird
    mit dem ersten betroffenen Eintrag genannt (Rückgabewert 1), sonst „in Ordnung“."""
    from amtslotse.governance.audit import verify_all

    with _store() as (_, store):
        reports = verify_all(store, tenant)
    broken = [r for r in reports if not r.ok]
    if as_json:
        _echo_json({"ok": not broken, "chains": [r.to_dict() for r in reports]})
    else:
        for report in reports:
            typer.echo(report.message)
        if not reports:
            typer.echo("Das Protokoll ist leer: nichts zu prüfen.")
        elif not broken:
            typer.echo(f"Alle {len(reports)} Ketten in Ordnung.")
    if broken:
        err.print(f"[red]{len(broken)} von {len(reports)} Ketten sind nicht mehr wie geschrieben.[/red]")
        raise typer.Exit(1)


# --- tenants --------------------------------------------------------------------------------------


@tenant_app.command("create")
def tenant_create(
    tenant: str = typer.Argument(..., help="Kurzname, z. B. nordkreis (Kleinbuchstaben, Ziffern, - und _)."),
    name: Optional[str] = typer.Option(None, "--name", help="Angezeigter Name, z. B. „Jobcenter Landkreis Nordkreis“."),
    prefix: Optional[str] = typer.Option(None, "--prefix", help="Kürzel der Vorgangsnummern, z. B. NK."),
    force: bool = typer.Option(False, "--force", help="Eine vorhandene Datei überschreiben."),
    actor: Optional[str] = AS,
) -> None:
    """Mandanten anlegen: Einstellungsdatei aus der Vorlage schreiben und in der Datenbank eintragen."""
    from amtslotse.governance.tenants import check_tenant, create_tenant

    with _store() as (settings, store):
        info = create_tenant(store, settings, tenant, name=name, prefix=prefix, force=force, actor=acting(actor))
        hints = check_tenant(store, settings, tenant).hints
    typer.echo(f"Mandant „{info.tenant}“ ({info.name}) angelegt: {info.config_file}")
    for hint in hints:
        typer.echo(f"  Noch zu tun: {hint}")


@tenant_app.command("list")
def tenant_list(as_json: bool = JSON) -> None:
    """Alle Mandanten mit Status und Einstellungsdatei."""
    from amtslotse.governance.tenants import list_tenants

    with _store() as (settings, store):
        infos = list_tenants(store, settings)
    if as_json:
        _echo_json([i.to_dict() for i in infos])
        return
    for info in infos:
        state = "aktiv" if info.state == "active" else f"abgeschaltet ({info.reason or 'ohne Grund'})"
        where = info.config_error or info.config_file or "ohne eigene Datei (Voreinstellungen)"
        typer.echo(f"{info.tenant}  {info.name}  [{state}]  {where}")
    if not infos:
        typer.echo("Keine Mandanten.")


@tenant_app.command("show")
def tenant_show(tenant: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """Einen Mandanten zeigen: Status, Datei, gespeicherte Daten je Art."""
    from amtslotse.governance.tenants import show_tenant

    with _store() as (settings, store):
        info = show_tenant(store, settings, tenant)
    if as_json:
        _echo_json(info.to_dict())
        return
    typer.echo(f"{info.tenant}: {info.name}")
    typer.echo(f"  Status: {'aktiv' if info.state == 'active' else 'abgeschaltet'}"
               + (f" seit {info.changed_at} durch {info.changed_by}" if info.changed_at else "")
               + (f": {info.reason}" if info.reason else ""))
    typer.echo(f"  Datei: {info.config_file or 'keine (Voreinstellungen)'}")
    if info.config_error:
        typer.echo(f"  Fehler in der Datei: {info.config_error}")
    for label, count in info.data.items():
        typer.echo(f"  {label}: {count}")


@tenant_app.command("check")
def tenant_check(tenant: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """Die Einstellungen eines Mandanten prüfen (wie `amtslotse check`, dazu Platzhalter aus der
    Vorlage und Angaben für Verzeichnis und Barrierefreiheit). Rückgabewert 1 bei Fehlern."""
    from amtslotse.governance.tenants import check_tenant

    with _store() as (settings, store):
        result = check_tenant(store, settings, tenant)
    if as_json:
        _echo_json(result.to_dict())
    else:
        for problem in result.problems:
            typer.echo(f"Fehler: {problem}")
        for hint in result.hints:
            typer.echo(f"Hinweis: {hint}")
        if result.ok:
            typer.echo(f"{tenant}: keine Fehler ({result.checked_files} Dateien geprüft, {len(result.hints)} Hinweise).")
    if not result.ok:
        raise typer.Exit(1)


@tenant_app.command("disable")
def tenant_disable(
    tenant: str = typer.Argument(...),
    reason: str = typer.Option("", "--reason", help="Grund (für das Protokoll und die Übersicht)."),
    actor: Optional[str] = AS,
) -> None:
    """Öffentliche Antworten abschalten (der Chat antwortet 403); der Arbeitsbereich bleibt."""
    from amtslotse.governance.tenants import disable_tenant

    with _store() as (_, store):
        disable_tenant(store, tenant, actor=acting(actor), reason=reason)
    typer.echo(f"Mandant „{tenant}“ abgeschaltet: der Chat antwortet nicht mehr.")


@tenant_app.command("enable")
def tenant_enable(tenant: str = typer.Argument(...), actor: Optional[str] = AS) -> None:
    """Einen abgeschalteten Mandanten wieder einschalten."""
    from amtslotse.governance.tenants import enable_tenant

    with _store() as (_, store):
        enable_tenant(store, tenant, actor=acting(actor))
    typer.echo(f"Mandant „{tenant}“ ist wieder aktiv.")


@tenant_app.command("delete")
def tenant_delete(
    tenant: str = typer.Argument(...),
    yes: bool = typer.Option(False, "--yes", help="Ohne Rückfrage löschen."),
    actor: Optional[str] = AS,
    as_json: bool = JSON,
) -> None:
    """ALLE Daten eines Mandanten löschen (Dokumente, Gespräche, Posteingang, Protokoll, Konten,
    Verbrauch, Einstellungsdatei) und ausgeben, was gelöscht wurde."""
    from amtslotse.governance.tenants import KIND_LABELS, delete_tenant

    with _store() as (settings, store):
        if not yes:
            counts = store.tenant_data_counts(tenant)
            summary = ", ".join(f"{KIND_LABELS.get(k, k)}: {v}" for k, v in counts.items()) or "keine Daten"
            typer.confirm(f"Mandant „{tenant}“ mit allen Daten löschen ({summary})?", abort=True)
        report = delete_tenant(store, settings, tenant, actor=acting(actor))
    if as_json:
        _echo_json(report.to_dict())
        return
    typer.echo(f"Mandant „{tenant}“ gelöscht. Entfernt:")
    for line in report.lines():
        typer.echo(f"  {line}")


# --- usage ----------------------------------------------------------------------------------------


@app.command()
def usage(
    tenant: Optional[str] = typer.Option(None, "--tenant", "-t", help="Ein Mandant; ohne: alle, mit Anteilen."),
    month: Optional[str] = typer.Option(None, "--month", help="Monat JJJJ-MM; Standard: der laufende."),
    output_format: str = typer.Option("json", "--format", help="json, csv oder html."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="In diese Datei schreiben."),
) -> None:
    """Nutzung je Jobcenter und Monat (Gespräche, Antworten nach Art, Übergaben, Posteingang,
    OCR-Seiten, Tokens, Dokumente): die Grundlage für die Kostenteilung im Verbund."""
    from amtslotse.governance.usage import cooperative_report, usage_report

    if output_format not in ("json", "csv", "html"):
        raise UserError(f"--format: „{output_format}“ gibt es nicht; möglich sind json, csv und html.")
    with _store() as (settings, store):
        report = usage_report(store, settings, tenant, month) if tenant else cooperative_report(store, settings, month)
    if output_format == "json":
        _write(output, json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    elif output_format == "csv":
        _write(output, report.csv())
    else:
        _write(output, report.html())


# --- privacy --------------------------------------------------------------------------------------

REFERENCE = typer.Option(None, "--reference", "-r", help="Aktenzeichen einer Nachricht, z. B. MK-2026-000017.")
CONVERSATION = typer.Option(None, "--conversation", "-c", help="Nummer eines Gesprächs.")
TENANT = typer.Option(..., "--tenant", "-t", help="Jobcenter (Mandant).")


@privacy_app.command("export")
def privacy_export(
    reference: Optional[str] = REFERENCE, conversation: Optional[str] = CONVERSATION, tenant: str = TENANT,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="In diese Datei schreiben (JSON)."),
    no_attachments: bool = typer.Option(False, "--no-attachments", help="Anhänge ohne ihren Inhalt (nur Text)."),
    actor: Optional[str] = AS,
) -> None:
    """Auskunft (Art. 15 DSGVO): alles zu einem Aktenzeichen oder Gespräch als JSON."""
    from amtslotse.governance.privacy_requests import export_case

    with _store() as (_, store):
        data = export_case(store, tenant, reference=reference, conversation_id=conversation, actor=acting(actor),
                           attachments=not no_attachments)
    _write(output, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    err.print("Gefunden: " + (", ".join(f"{k}: {v}" for k, v in data["found"].items() if v) or "nichts"))


@privacy_app.command("erase")
def privacy_erase(
    reference: Optional[str] = REFERENCE, conversation: Optional[str] = CONVERSATION, tenant: str = TENANT,
    yes: bool = typer.Option(False, "--yes", help="Ohne Rückfrage löschen."),
    actor: Optional[str] = AS, as_json: bool = JSON,
) -> None:
    """Löschung (Art. 17 DSGVO): Nachrichten, Anhänge und Gespräche zu einem Aktenzeichen oder
    Gespräch löschen; ausgegeben wird, was gelöscht wurde und was bleibt."""
    from amtslotse.governance.privacy_requests import erase_case, find_case

    with _store() as (_, store):
        if not yes:
            case = find_case(store, tenant, reference=reference, conversation_id=conversation)
            typer.confirm(f"{len(case.items)} Nachricht(en) und {len(case.conversation_ids)} Gespräch(e) "
                          "endgültig löschen?", abort=True)
        report = erase_case(store, tenant, reference=reference, conversation_id=conversation, actor=acting(actor))
    if as_json:
        _echo_json(report.to_dict())
        return
    typer.echo("Gelöscht:")
    for label, count in report.removed.items():
        typer.echo(f"  {label}: {count}")
    for label, count in report.kept.items():
        typer.echo(f"Bleibt: {label}: {count}")
    for note in report.notes:
        typer.echo(f"Hinweis: {note}")


@privacy_app.command("records")
def privacy_records(
    tenant: str = TENANT,
    output_format: str = typer.Option("md", "--format", help="md (Markdown) oder html."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="In diese Datei schreiben."),
) -> None:
    """Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO) des Mandanten erzeugen (Entwurf)."""
    from amtslotse.governance.records import processing_record
    from amtslotse.tenants import load_tenant_config

    if output_format not in ("md", "html"):
        raise UserError(f"--format: „{output_format}“ gibt es nicht; möglich sind md und html.")
    settings = get_settings()
    doc = processing_record(load_tenant_config(tenant, settings), settings)
    _write(output, doc.markdown() if output_format == "md" else doc.html())


@privacy_app.command("accessibility")
def privacy_accessibility(
    tenant: str = TENANT,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="In diese Datei schreiben (HTML)."),
) -> None:
    """Erklärung zur Barrierefreiheit (BITV 2.0) des Chats als HTML-Seite; der Server zeigt sie
    unter /tenants/<mandant>/barrierefreiheit."""
    from amtslotse.governance.records import accessibility_statement
    from amtslotse.tenants import load_tenant_config

    settings = get_settings()
    doc = accessibility_statement(load_tenant_config(tenant, settings), settings)
    _write(output, doc.html())
