"""Server and accounts: serve, staff add, retention."""

from __future__ import annotations

import getpass
import sys
from typing import Optional

import typer

from amtslotse.cli.common import UserError, app, services
from amtslotse.settings import get_settings

staff_app = typer.Typer(help="Konten der Mitarbeitenden.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="Adresse (Standard: AMTSLOTSE_HOST)."),
    port: Optional[int] = typer.Option(None, help="Port (Standard: AMTSLOTSE_PORT)."),
    workers: int = typer.Option(1, min=1, help="Prozesse (mit SQLite: 1)."),
) -> None:
    """HTTP-Server starten: Chat-API, OpenAI-kompatible API, Chat-Fenster; Doku unter /docs."""
    import uvicorn

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if workers > 1 and not settings.database_url.startswith(("postgresql://", "postgres://")):
        raise UserError("Mehrere Prozesse brauchen PostgreSQL (AMTSLOTSE_DATABASE_URL); SQLite hat einen Schreiber.")
    typer.echo(f"Amtslotse läuft auf http://{host}:{port}  (Chat: /chat/{settings.default_tenant}, API-Doku: /docs)")
    uvicorn.run(
        "amtslotse.web.app:create_app", factory=True, host=host, port=port, workers=workers,
        log_level="info", proxy_headers=True,
    )


@staff_app.command("add")
def staff_add(
    name: str = typer.Argument(..., help="Anmeldename."),
    tenant: str = typer.Option(..., "--tenant", "-t", help="Mandant; '*' für alle (Verbund)."),
    role: list[str] = typer.Option(..., "--role", "-r", help="sachbearbeitung, redaktion, auswertung, admin (mehrfach möglich)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Passwort von der Standardeingabe lesen."),
) -> None:
    """Konto anlegen oder ändern (Passwort wird abgefragt)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Passwort: ")
        if getpass.getpass("Passwort wiederholen: ") != password:
            raise UserError("Die Passwörter stimmen nicht überein.")
    with services() as (_, store, _e):
        store.add_staff_user(name, tenant, role, password)
    typer.echo(f"Konto „{name}“ für {tenant} mit Rolle(n) {', '.join(sorted(set(role)))} gespeichert.")


@app.command()
def retention() -> None:
    """Löschen, was seine Aufbewahrungsfrist überschritten hat (der Server tut das stündlich)."""
    from amtslotse.privacy.retention import purge_expired

    with services() as (_, store, _e):
        deleted = purge_expired(store)
    typer.echo("Gelöscht: " + ", ".join(f"{count} {kind}" for kind, count in deleted.items()))
