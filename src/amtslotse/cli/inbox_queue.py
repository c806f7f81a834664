"""Inbox commands: `amtslotse inbox import|poll|process|list`.

    amtslotse inbox import export/ --tenant musterkreis     # .eml files, folders, Maildir
    amtslotse inbox poll                                    # the IMAP mailbox, once (cron)
    amtslotse inbox process                                 # triage and drafts for what is pending
    amtslotse inbox list --json                             # the queue, urgent and oldest first

Thin: each command calls the functions the HTTP API calls (`inbox.intake`, `inbox.processing`,
the store). Output names references, categories and states, never message text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from amtslotse.cli.common import UserError, app, err, services
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
