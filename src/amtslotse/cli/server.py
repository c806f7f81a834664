"""Server and accounts: serve, staff add|list|disable|remove|logout-all, apikey create|list|revoke,
retention. Account and key changes go through amtslotse.governance.accounts (audited, as from
the staff API); --as names who acts, else cli:<operating-system user>."""

from __future__ import annotations

import getpass
import sys
from typing import Optional

import typer

from amtslotse.cli.common import AS, UserError, acting, app, services
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
    actor: Optional[str] = AS,
) -> None:
    """Konto anlegen oder ändern (Passwort wird abgefragt). Ein neues Passwort beendet alle
    Sitzungen des Kontos; ein gesperrtes Konto ist damit wieder frei. Im Prüfprotokoll."""
    from amtslotse.governance.accounts import save_staff_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Passwort: ")
        if getpass.getpass("Passwort wiederholen: ") != password:
            raise UserError("Die Passwörter stimmen nicht überein.")
    with services() as (_, store, _e):
        save_staff_user(store, name, tenant, role, password, actor=acting(actor))
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
def staff_disable(name: str = typer.Argument(..., help="Anmeldename."), actor: Optional[str] = AS) -> None:
    """Konto sperren: keine Anmeldung mehr, alle Sitzungen enden (wieder frei mit `staff add` und neuem Passwort)."""
    from amtslotse.governance.accounts import disable_staff_user

    with services() as (_, store, _e):
        disable_staff_user(store, name, actor=acting(actor))
    typer.echo(f"Konto „{name}“ gesperrt; alle Sitzungen sind beendet.")


@staff_app.command("remove")
def staff_remove(name: str = typer.Argument(..., help="Anmeldename."), actor: Optional[str] = AS) -> None:
    """Konto löschen (mit seinen Sitzungen); das Protokoll behält den Namen."""
    from amtslotse.governance.accounts import remove_staff_user

    with services() as (_, store, _e):
        remove_staff_user(store, name, actor=acting(actor))
    typer.echo(f"Konto „{name}“ gelöscht.")


@staff_app.command("logout-all")
def staff_logout_all(name: str = typer.Argument(..., help="Anmeldename."), actor: Optional[str] = AS) -> None:
    """Alle Sitzungen eines Kontos beenden (z. B. nach einem verlorenen Gerät)."""
    from amtslotse.governance.accounts import logout_everywhere

    with services() as (_, store, _e):
        ended = logout_everywhere(store, name, actor=acting(actor))
    typer.echo(f"{ended} Sitzung(en) von „{name}“ beendet.")


@apikey_app.command("create")
def apikey_create(
    tenant: str = typer.Option(..., "--tenant", "-t", help="Mandant, für den der Schlüssel gilt."),
    name: str = typer.Option(..., "--name", "-n", help="Wofür, z. B. „formularserver“ (in der Liste zu sehen)."),
    role: str = typer.Option("posteingang", "--role", "-r", help="posteingang: darf an den Posteingang senden."),
    actor: Optional[str] = AS,
) -> None:
    """Neuen API-Schlüssel anlegen; er wird nur jetzt angezeigt (gespeichert ist nur sein Hash)."""
    from amtslotse.governance.accounts import create_api_key

    with services() as (settings, store, _e):
        key, secret = create_api_key(store, settings, tenant, name, role, actor=acting(actor))
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
    actor: Optional[str] = AS,
) -> None:
    """API-Schlüssel sofort widerrufen."""
    from amtslotse.governance.accounts import revoke_api_key

    with services() as (_, store, _e):
        revoke_api_key(store, tenant, key_id, actor=acting(actor))
    typer.echo(f"API-Schlüssel Nr. {key_id} von {tenant} widerrufen.")


@app.command()
def retention() -> None:
    """Löschen, was seine Aufbewahrungsfrist überschritten hat (der Server tut das stündlich)."""
    from amtslotse.privacy.retention import purge_expired

    with services() as (_, store, _e):
        deleted = purge_expired(store)
    typer.echo("Gelöscht: " + ", ".join(f"{count} {kind}" for kind, count in deleted.items()))
