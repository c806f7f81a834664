"""`amtslotse check`: the data files and tenant configuration, checked (amtslotse.checks)."""

from __future__ import annotations

from typing import Optional

import typer

from amtslotse.cli.common import app, err
from amtslotse.settings import get_settings


@app.command()
def check(
    tenant: Optional[str] = typer.Option(None, "--tenant", "-t", help="Nur die Dateien dieses Mandanten (neben den mitgelieferten)."),
) -> None:
    """Alle Datendateien und Mandanten-Einstellungen prüfen: jedes Problem mit Datei und Zeile."""
    from amtslotse.checks import run_checks

    problems, checked = run_checks(get_settings(), tenant)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        err.print(f"{len(problems)} Problem(e) in {len({p.path for p in problems})} von {checked} Dateien.")
        raise typer.Exit(1)
    err.print(f"Keine Probleme ({checked} Dateien geprüft).")
