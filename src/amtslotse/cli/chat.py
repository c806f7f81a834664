"""Citizen-question commands: ask, quickstart."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from amtslotse.cli.common import TENANT, app, embed_missing_vectors, question_items, services

@app.command()
def quickstart(
    tenant: str = typer.Option("musterkreis", "--tenant", "-t", help="Beispiel-Landkreis des Starterpakets."),
) -> None:
    """Schnellstart: Starterpaket einlesen und Fragen im Terminal beantworten."""
    from importlib import resources

    from amtslotse.ask.pipeline import Asker
    from amtslotse.knowledge.ingest import ingest_paths
    from amtslotse.search.hybrid import Retriever

    starter = Path(str(resources.files("amtslotse").joinpath("data", "starter")))
    with services() as (settings, store, embedder):
        local = starter / "musterkreis"
        for layer, paths in (("bund", [starter / "bund"]), (tenant, [local / "pages", local / "curated.jsonl"])):
            report = ingest_paths(paths, store, settings, tenant=layer)
            typer.echo(f"{layer}: {report.ingested} neu, {report.unchanged} unverändert, {len(report.failed)} fehlerhaft")
        embed_missing_vectors(store, embedder, settings)
        typer.echo(f"Daten: {settings.home}. Eigene Gesetze und Seiten: amtslotse ingest ORDNER --tenant {tenant}\n")
        asker = Asker(Retriever(store, embedder, settings))
        if sys.stdin.isatty():
            questions = iter(lambda: typer.prompt("Ihre Frage (leer = Ende)", default="", show_default=False), "")
        else:  # no terminal (a script, CI): one example
            questions = iter(["Darf ich in den Urlaub fahren?"])
        for number, question in enumerate(questions):
            typer.echo(f"\n{asker.ask(question, tenant, first_turn=number == 0).answer}\n")



@app.command()
def ask(
    question: Optional[str] = typer.Argument(None, help="Die Frage einer Bürgerin oder eines Bürgers."),
    tenant: str = TENANT,
    questions: Optional[Path] = typer.Option(None, help="JSONL-Datei mit {\"id\", \"question\"} je Zeile."),
    as_json: bool = typer.Option(False, "--json", help="Antwort als JSON."),
) -> None:
    """Eine Frage beantworten, wie der Chat es tut: mit Quellen, Übergabe oder Ablehnung."""
    from amtslotse.ask.pipeline import Asker
    from amtslotse.search.hybrid import Retriever

    items = question_items(question, questions, "--questions")
    with services() as (settings, store, embedder):
        asker = Asker(Retriever(store, embedder, settings))
        for item in items:
            answer = asker.ask(item["question"], tenant)
            if questions is not None:
                typer.echo(json.dumps({"id": item.get("id")} | answer.to_dict(), ensure_ascii=False))
            else:
                typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False) if as_json else answer.answer)
