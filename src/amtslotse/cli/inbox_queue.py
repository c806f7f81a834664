"""Inbox commands: intake (import, poll), processing, the queue, and the review steps.

    amtslotse inbox import export/ --tenant musterkreis     # .eml files, folders, Maildir
    amtslotse inbox poll                                    # the IMAP mailbox, once (cron)
    amtslotse inbox process                                 # triage and drafts for what is pending
    amtslotse inbox list --json                             # the queue, urgent and oldest first
    amtslotse inbox review MK-2026-000017 --as frau.meyer   # show, review, assign, draft, answer,
    amtslotse inbox answer MK-2026-000017 --as frau.meyer   #   forward, close, audit

Thin: each command calls the functions the HTTP API calls (`inbox.intake`, `inbox.processing`,
the store). Output names references, categories and states; only `show` prints message text
(for the staff member named with --as, and the reading is logged).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from amtslotse.cli.common import UserError, app, err, services
from amtslotse.jsonl import read_text
from amtslotse.settings import get_settings

inbox_app = typer.Typer(help="Posteingang: Nachrichten annehmen, einordnen, auflisten.", no_args_is_help=True)
app.add_typer(inbox_app, name="inbox")

TENANT = typer.Option(None, "--tenant", "-t", help="Jobcenter (Mandant); Standard: AMTSLOTSE_DEFAULT_TENANT.")


def _tenant(tenant: Optional[str]) -> str:
    return tenant or get_settings().default_tenant


@inbox_app.command("import")
def import_mail(
    path: Path = typer.Argument(..., help="Eine .eml-Datei, ein Ordner mit .eml-Dateien oder ein Maildir."),
    tenant: Optional[str] = TENANT,
) -> None:
    """E-Mails aus Dateien annehmen (doppelte werden erkannt und nicht neu angelegt)."""
    from amtslotse.inbox.intake import IntakeError, accept_mail
    from amtslotse.inbox.mail import MailError, iter_mail_files

    tenant = _tenant(tenant)
    new = known = failed = 0
    with services() as (settings, store, _embedder):
        try:
            for source, raw in iter_mail_files(path):
                if isinstance(raw, MailError):
                    err.print(f"[red]Fehler:[/red] {raw.message}")
                    failed += 1
                    continue
                try:
                    accepted = accept_mail(store, raw, tenant, settings)
                except IntakeError as error:
                    if error.code == "unknown_tenant":
                        raise UserError(str(error)) from None
                    err.print(f"[red]Fehler:[/red] {source}: {error}")
                    failed += 1
                    continue
                new, known = new + accepted.created, known + (not accepted.created)
                typer.echo(f"{accepted.reference}  {'neu' if accepted.created else 'schon vorhanden'}  {source}")
        except MailError as error:
            raise UserError(error.message) from None
    typer.echo(f"{new} neu angenommen, {known} schon vorhanden, {failed} fehlerhaft.")
    if failed and not (new or known):
        raise typer.Exit(1)


@inbox_app.command("poll")
def poll_command(tenant: Optional[str] = TENANT) -> None:
    """Das IMAP-Postfach einmal abholen (für cron oder einen Timer)."""
    from amtslotse.inbox.imap import ImapError
    from amtslotse.inbox.intake import IntakeError, imap_config, poll_imap

    tenant = _tenant(tenant)
    with services() as (settings, store, _embedder):
        config = imap_config(settings)
        if config is None:
            raise UserError("Kein IMAP-Postfach eingerichtet: bitte AMTSLOTSE_IMAP_HOST, _USER und _PASSWORD setzen.")
        try:
            accepted = poll_imap(store, settings, tenant, config)
        except (ImapError, IntakeError) as error:
            raise UserError(str(error)) from None
    for item in accepted:
        typer.echo(f"{item.reference}  {'neu' if item.created else 'schon vorhanden'}")
    typer.echo(f"{sum(a.created for a in accepted)} neu angenommen, {sum(not a.created for a in accepted)} schon vorhanden.")


@inbox_app.command("process")
def process_command(
    tenant: Optional[str] = typer.Option(None, "--tenant", "-t", help="Nur dieses Jobcenter (Standard: alle)."),
    limit: Optional[int] = typer.Option(None, min=1, help="Höchstens so viele Nachrichten."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Fehlgeschlagene noch einmal versuchen."),
) -> None:
    """Offene Nachrichten einordnen: Anhänge, Kategorie, Dringlichkeit, Felder, Team, Antwortentwurf."""
    from amtslotse.cli.common import open_services
    from amtslotse.inbox.processing import process_pending

    def show(item, outcome: str) -> None:
        typer.echo(f"{item.reference}  {'eingeordnet' if outcome == 'done' else 'fehlgeschlagen' if outcome == 'failed' else 'übersprungen'}")

    with open_services() as s:
        report = process_pending(
            s.store, s.settings, asker=s.asker, tenant=tenant, limit=limit, retry_failed=retry_failed, on_message=show,
        )
    typer.echo(f"{report.done} eingeordnet, {report.failed} fehlgeschlagen.")
    if report.failed and not report.done:
        raise typer.Exit(1)


@inbox_app.command("list")
def list_command(
    tenant: Optional[str] = TENANT,
    state: Optional[str] = typer.Option(None, help="Zustand: new, in_review, answered, forwarded, closed."),
    category: Optional[str] = typer.Option(None, help="Kategorie, z. B. unterkunft."),
    team: Optional[str] = typer.Option(None, help="Team, z. B. KdU-Team."),
    limit: int = typer.Option(50, min=1, max=1000, help="Höchstens so viele Nachrichten."),
    as_json: bool = typer.Option(False, "--json", help="Eine JSON-Zeile je Nachricht."),
) -> None:
    """Die Warteschlange: Notlagen, dann Fristen, dann der Rest; jeweils älteste zuerst."""
    from amtslotse.inbox.review import STATE_LABELS

    if state is not None and state not in STATE_LABELS:
        raise UserError(f"Unbekannter Zustand „{state}“; möglich: {', '.join(STATE_LABELS)}.")
    tenant = _tenant(tenant)
    with services() as (_settings, store, _embedder):
        items = store.inbox_items(tenant, state=state, category=category, team=team, limit=limit)
    for item in items:
        if as_json:
            typer.echo(json.dumps({
                "reference": item.reference, "received_at": item.received_at.isoformat(), "state": item.state,
                "triage_status": item.triage_status, "priority": item.priority, "flags": item.flags,
                "category": item.category, "team": item.team, "assignee": item.assignee,
            }, ensure_ascii=False))
        else:
            flags = ",".join(item.flags) or "-"
            typer.echo(
                f"{item.reference}  {item.received_at:%d.%m.%Y %H:%M}  {STATE_LABELS[item.state]:<14}  "
                f"{flags:<14}  {item.category or '(offen)':<18}  {item.team or '-'}"
            )
    if not items and not as_json:
        typer.echo("Keine Nachrichten.")


# --- review (the same steps as the staff API; each one in the audit log) ----------------------

ACTOR = typer.Option(..., "--as", help="Wer den Schritt tut (Name der Mitarbeiterin/des Mitarbeiters, fürs Protokoll).")
REFERENCE = typer.Argument(..., help="Vorgangsnummer (z. B. MK-2026-000017) oder Nummer der Nachricht.")


def _review_step(step, reference: str, tenant: Optional[str], *args, **kwargs):
    from amtslotse.inbox.review import STATE_LABELS, ReviewError

    with services() as (_settings, store, _embedder):
        try:
            item = step(store, _tenant(tenant), reference, *args, **kwargs)
        except ReviewError as error:
            raise UserError(str(error)) from None
    typer.echo(f"{item.reference}: {STATE_LABELS[item.state]}" + (f", Team {item.team}" if item.team else "")
               + (f", bei {item.assignee}" if item.assignee else ""))
    return item


@inbox_app.command("show")
def show_command(
    reference: str = REFERENCE, actor: str = ACTOR, tenant: Optional[str] = TENANT,
    as_json: bool = typer.Option(False, "--json", help="Als JSON."),
) -> None:
    """Eine Nachricht lesen: Text, Felder, Entwurf (das Lesen wird protokolliert)."""
    from amtslotse.inbox.review import STATE_LABELS, ReviewError, open_message

    with services() as (_settings, store, _embedder):
        try:
            item = open_message(store, _tenant(tenant), reference, actor)
        except ReviewError as error:
            raise UserError(str(error)) from None
    draft = item.draft or {}
    if as_json:
        typer.echo(json.dumps({
            "reference": item.reference, "state": item.state, "category": item.category, "flags": item.flags,
            "team": item.team, "assignee": item.assignee, "subject": item.subject, "text": item.body,
            "fields": item.fields, "draft": draft,
        }, ensure_ascii=False, default=str))
        return
    typer.echo(f"{item.reference}  {STATE_LABELS[item.state]}  {','.join(item.flags) or '-'}  "
               f"{item.category or '(offen)'}  {item.team or '-'}\nBetreff: {item.subject}\n\n{item.body}\n")
    if draft.get("text"):
        typer.echo(f"--- {draft.get('label', 'Entwurf')} ---\n{draft['text']}")


@inbox_app.command("review")
def review_command(reference: str = REFERENCE, actor: str = ACTOR, tenant: Optional[str] = TENANT) -> None:
    """Bearbeitung beginnen (neu -> in Bearbeitung)."""
    from amtslotse.inbox.review import start_review

    _review_step(start_review, reference, tenant, actor)


@inbox_app.command("assign")
def assign_command(
    reference: str = REFERENCE, actor: str = ACTOR, tenant: Optional[str] = TENANT,
    person: Optional[str] = typer.Option(None, help="Zuständige Person."),
    team: Optional[str] = typer.Option(None, help="Zuständiges Team."),
) -> None:
    """Einer Person und/oder einem Team zuweisen."""
    from amtslotse.inbox.review import assign

    _review_step(assign, reference, tenant, actor, person=person, team=team)


@inbox_app.command("draft")
def draft_command(
    reference: str = REFERENCE, actor: str = ACTOR, tenant: Optional[str] = TENANT,
    file: Path = typer.Option(..., "--file", help="Datei mit dem neuen Entwurfstext (UTF-8)."),
) -> None:
    """Den Antwortentwurf ersetzen (er bleibt ein Entwurf bis zur Freigabe)."""
    from amtslotse.inbox.review import edit_draft

    _review_step(edit_draft, reference, tenant, actor, read_text(file))


@inbox_app.command("answer")
def answer_command(
    reference: str = REFERENCE, actor: str = ACTOR, tenant: Optional[str] = TENANT,
    file: Optional[Path] = typer.Option(None, "--file", help="Freigegebener Text; ohne Angabe der aktuelle Entwurf."),
) -> None:
    """Antwort freigeben (in Bearbeitung -> beantwortet)."""
    from amtslotse.inbox.review import answer

    _review_step(answer, reference, tenant, actor, read_text(file) if file else None)


@inbox_app.command("forward")
def forward_command(
    reference: str = REFERENCE, actor: str = ACTOR, tenant: Optional[str] = TENANT,
    team: str = typer.Option(..., help="Wohin weitergeleitet wird."),
) -> None:
    """Weiterleiten (in Bearbeitung -> weitergeleitet)."""
    from amtslotse.inbox.review import forward

    _review_step(forward, reference, tenant, actor, team)


@inbox_app.command("close")
def close_command(
    reference: str = REFERENCE, actor: str = ACTOR, tenant: Optional[str] = TENANT,
    reason: str = typer.Option(..., help="erledigt, doppelt, kein_anliegen oder werbung."),
) -> None:
    """Abschließen (in Bearbeitung -> abgeschlossen)."""
    from amtslotse.inbox.review import close

    _review_step(close, reference, tenant, actor, reason)


@inbox_app.command("audit")
def audit_command(reference: str = REFERENCE, tenant: Optional[str] = TENANT) -> None:
    """Das Protokoll einer Nachricht: wer hat wann was getan."""
    from amtslotse.inbox.review import ReviewError, trail

    with services() as (_settings, store, _embedder):
        try:
            entries = trail(store, _tenant(tenant), reference)
        except ReviewError as error:
            raise UserError(str(error)) from None
    for entry in entries:
        typer.echo(f"{entry.at:%d.%m.%Y %H:%M:%S}  {entry.actor:<20}  {entry.action:<12}  "
                   + json.dumps(entry.details, ensure_ascii=False))
