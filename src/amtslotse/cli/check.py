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
    _reviews_due(tenant)
    if problems:
        err.print(f"{len(problems)} Problem(e) in {len({p.path for p in problems})} von {checked} Dateien.")
        raise typer.Exit(1)
    err.print(f"Keine Probleme ({checked} Dateien geprüft).")


def _reviews_due(tenant: Optional[str]) -> None:
    """Curated answers whose cited § changed in a newer law version ("Prüfung fällig", as in the
    workspace): a task for the editors, not a data error, so the exit code stays as it is."""
    from amtslotse.cli.common import services
    from amtslotse.knowledge.law_changes import curated_review_due
    from amtslotse.models import SHARED_TENANT

    with services() as (_, store, _embedder):
        tenants = [tenant] if tenant else sorted({SHARED_TENANT, *store.tenants()})
        due = [(t, d) for t in tenants for d in curated_review_due(store, t)]
    for t, d in due:
        typer.echo(f"Prüfung fällig: {t}: „{d['question']}“ ({d['curated_id']}, {d['file']}) zitiert {d['citation']}, "
                   f"geändert ab {d['changed_on']}")
    if due:
        err.print(f"{len(due)} kuratierte Antwort(en): Prüfung fällig, weil sich ein zitierter § geändert hat.")
