"""Citizen-question commands: ask, quickstart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from amtslotse.cli.common import TENANT, app, embed_missing_vectors, open_services, question_items


@app.command()
def quickstart(
    tenant: str = typer.Option("musterkreis", "--tenant", "-t", help="Beispiel-Landkreis des Starterpakets."),
    serve: bool = typer.Option(True, help="Danach den Server starten (Chat im Browser, API)."),
) -> None:
    """Schnellstart: Starterpaket einlesen, eine Beispielfrage beantworten, Server starten."""
    from amtslotse.knowledge.starter import load_starter

    with open_services() as services:
        for layer, report in load_starter(services.store, services.settings, tenant).items():
            typer.echo(f"{layer}: {report.ingested} neu, {report.unchanged} unverändert, {len(report.failed)} fehlerhaft")
        embed_missing_vectors(services.store, services.embedder, services.settings)
        typer.echo(f"Daten: {services.settings.home}. Eigene Gesetze und Seiten: amtslotse ingest ORDNER --tenant {tenant}\n")
        question = "Darf ich in den Urlaub fahren?"
        typer.echo(f"Beispielfrage: {question}\n\n{services.asker.ask(question, tenant).answer}\n")
    if serve:
        from amtslotse.cli.server import serve as run_server

        run_server(host=None, port=None, workers=1)


@app.command()
def ask(
    question: Optional[str] = typer.Argument(None, help="Die Frage einer Bürgerin oder eines Bürgers."),
    tenant: str = TENANT,
    questions: Optional[Path] = typer.Option(None, help="JSONL-Datei mit {\"id\", \"question\"} je Zeile."),
    simple: bool = typer.Option(False, "--simple", help="In Einfacher Sprache antworten."),
    as_json: bool = typer.Option(False, "--json", help="Antwort als JSON."),
) -> None:
    """Eine Frage beantworten, wie der Chat es tut: mit Quellen, Übergabe oder Ablehnung."""
    items = question_items(question, questions, "--questions")
    with open_services() as services:
        for item in items:
            answer = services.asker.ask(item["question"], tenant, simple=simple)
            if questions is not None:
                typer.echo(json.dumps({"id": item.get("id")} | answer.to_dict(), ensure_ascii=False))
            else:
                typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False) if as_json else answer.answer)
