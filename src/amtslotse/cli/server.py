"""Server and accounts: serve, staff add|list|disable|remove|logout-all, apikey create|list|revoke,
retention."""

from __future__ import annotations

import getpass
import sys
from typing import Optional

import typer

from amtslotse.cli.common import UserError, app, services
from amtslotse.settings import get_settings

staff_app = typer.Typer(help="Konten der Mitarbeitenden.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
apikey_app = typer.Typer(help="API-Schlüssel für Anbindungen (z. B. ein Formularserver, der an den Posteingang sendet).",
                         no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


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
    """Konto anlegen oder ändern (Passwort wird abgefragt). Ein neues Passwort beendet alle
    Sitzungen des Kontos; ein gesperrtes Konto ist damit wieder frei."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Passwort: ")
        if getpass.getpass("Passwort wiederholen: ") != password:
            raise UserError("Die Passwörter stimmen nicht überein.")
    with services() as (_, store, _e):
        store.add_staff_user(name, tenant, role, password)
    typer.echo(f"Konto „{name}“ für {tenant} mit Rolle(n) {', '.join(sorted(set(role)))} gespeichert.")


@staff_app.command("list")
def staff_list() -> None:
    """Alle Konten mit Mandant, Rollen, Zustand und offenen Sitzungen."""
    with services() as (_, store, _e):
        accounts = store.staff_accounts()
    if not accounts:
        typer.echo("Keine Konten. Anlegen mit: amtslotse staff add NAME --tenant MANDANT --role ROLLE")
    for a in accounts:
        state = "gesperrt" if a.disabled else "aktiv"
        typer.echo(f"{a.name}\t{a.tenant}\t{','.join(sorted(a.roles))}\t{state}\t{a.sessions} Sitzung(en)")


@staff_app.command("disable")
def staff_disable(name: str = typer.Argument(..., help="Anmeldename.")) -> None:
    """Konto sperren: keine Anmeldung mehr, alle Sitzungen enden (wieder frei mit `staff add` und neuem Passwort)."""
    with services() as (_, store, _e):
        if not store.disable_staff_user(name):
            raise UserError(f"Ein Konto „{name}“ gibt es nicht.")
    typer.echo(f"Konto „{name}“ gesperrt; alle Sitzungen sind beendet.")


@staff_app.command("remove")
def staff_remove(name: str = typer.Argument(..., help="Anmeldename.")) -> None:
    """Konto löschen (mit seinen Sitzungen); das Protokoll behält den Namen."""
    with services() as (_, store, _e):
        if not store.remove_staff_user(name):
            raise UserError(f"Ein Konto „{name}“ gibt es nicht.")
    typer.echo(f"Konto „{name}“ gelöscht.")


@staff_app.command("logout-all")
def staff_logout_all(name: str = typer.Argument(..., help="Anmeldename.")) -> None:
    """Alle Sitzungen eines Kontos beenden (z. B. nach einem verlorenen Gerät)."""
    with services() as (_, store, _e):
        if name not in {a.name for a in store.staff_accounts()}:
            raise UserError(f"Ein Konto „{name}“ gibt es nicht.")
        ended = store.end_staff_sessions(name)
    typer.echo(f"{ended} Sitzung(en) von „{name}“ beendet.")


def _known_tenant(store, settings, tenant: str) -> None:
    from amtslotse.models import SHARED_TENANT
    from amtslotse.tenants import TENANT_NAME, load_tenant_config

    if not TENANT_NAME.match(tenant) or tenant == SHARED_TENANT:
        raise UserError(f"„{tenant}“ ist kein Mandant, für den es API-Schlüssel gibt.")
    if tenant not in store.tenants() and not load_tenant_config(tenant, settings).configured:
        raise UserError(f"Den Mandanten „{tenant}“ gibt es hier nicht.")


@apikey_app.command("create")
def apikey_create(
    tenant: str = typer.Option(..., "--tenant", "-t", help="Mandant, für den der Schlüssel gilt."),
    name: str = typer.Option(..., "--name", "-n", help="Wofür, z. B. „formularserver“ (in der Liste zu sehen)."),
    role: str = typer.Option("posteingang", "--role", "-r", help="posteingang: darf an den Posteingang senden."),
) -> None:
    """Neuen API-Schlüssel anlegen; er wird nur jetzt angezeigt (gespeichert ist nur sein Hash)."""
    with services() as (settings, store, _e):
        _known_tenant(store, settings, tenant)
        key, secret = store.create_api_key(tenant, name, role)
    typer.echo(secret)
    typer.echo(f"API-Schlüssel Nr. {key.id} „{key.name}“ für {key.tenant} ({key.role}). Er wird nur dieses eine Mal "
               "angezeigt; senden als Kopfzeile „Authorization: Bearer …“.", err=True)


@apikey_app.command("list")
def apikey_list(tenant: str = typer.Option(..., "--tenant", "-t", help="Mandant.")) -> None:
    """API-Schlüssel eines Mandanten mit letzter Nutzung (widerrufene mit Datum)."""
    with services() as (_, store, _e):
        keys = store.api_keys(tenant)
    if not keys:
        typer.echo(f"Keine API-Schlüssel für {tenant}.")
    for k in keys:
        used = k.last_used_at.isoformat() if k.last_used_at else "nie benutzt"
        state = f"widerrufen {k.revoked_at.isoformat()}" if k.revoked_at else "aktiv"
        typer.echo(f"{k.id}\t{k.name}\t{k.role}\t{k.prefix}…\tangelegt {k.created_at.isoformat()}\t"
                   f"zuletzt {used}\t{state}")


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: int = typer.Argument(..., help="Nummer des Schlüssels (aus `apikey list`)."),
    tenant: str = typer.Option(..., "--tenant", "-t", help="Mandant."),
) -> None:
    """API-Schlüssel sofort widerrufen."""
    with services() as (_, store, _e):
        if not store.revoke_api_key(tenant, key_id):
            raise UserError(f"{tenant} hat keinen aktiven API-Schlüssel Nr. {key_id}.")
    typer.echo(f"API-Schlüssel Nr. {key_id} von {tenant} widerrufen.")


@app.command()
def retention() -> None:
    """Löschen, was seine Aufbewahrungsfrist überschritten hat (der Server tut das stündlich)."""
    from amtslotse.privacy.retention import purge_expired

    with services() as (_, store, _e):
        deleted = purge_expired(store)
    typer.echo("Gelöscht: " + ", ".join(f"{count} {kind}" for kind, count in deleted.items()))
