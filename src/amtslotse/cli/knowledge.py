"""Knowledge commands: ingest, embed, documents, search, eval retrieval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from amtslotse.cli.common import (
    TENANT,
    UserError,
    app,
    embed_missing_vectors,
    err,
    eval_app,
    parse_day,
    progress_bar,
    question_items,
    services,
)
from amtslotse.settings import get_settings


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Dateien oder Ordner (Markdown, HTML, PDF, DOCX, Text, JSONL)."),
    tenant: str = TENANT,
    valid_from: Optional[str] = typer.Option(None, help="Gültig ab (JJJJ-MM-TT)."),
    valid_to: Optional[str] = typer.Option(None, help="Gültig bis einschließlich (JJJJ-MM-TT)."),
    embed: bool = typer.Option(True, help="Vektoren gleich berechnen (sonst später mit 'amtslotse embed')."),
    as_json: bool = typer.Option(False, "--json", help="Zusammenfassung als JSON."),
) -> None:
    """Wissen einlesen: geänderte Dateien ersetzen ihre alten Passagen, unveränderte werden übersprungen."""
    from amtslotse.governance.audit import cli_actor
    from amtslotse.knowledge.ingest import ingest_paths
    from amtslotse.knowledge.loaders import iter_source_files

    start, end = parse_day(valid_from, "--valid-from"), parse_day(valid_to, "--valid-to")
    if start and end and end < start:
        raise UserError("--valid-to liegt vor --valid-from")
    files = list(iter_source_files(paths))
    with services() as (settings, store, embedder):
        with progress_bar() as progress:
            task = progress.add_task("Einlesen", total=len(files))
            report = ingest_paths(
                files, store, settings, tenant=tenant, valid_from=start, valid_to=end,
                on_file=lambda _: progress.advance(task), actor=cli_actor(),  # audited like an upload
            )
        for path, message in report.failed:
            err.print(f"[red]Fehler:[/red] {path}: {message}")
        vectors = embed_missing_vectors(store, embedder, settings) if embed and settings.embed_on_ingest else 0
    summary = report.to_dict() | {"vectors": vectors}
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        typer.echo(
            f"{report.ingested} Dateien eingelesen ({report.passages} Passagen), {report.unchanged} unverändert, "
            f"{len(report.failed)} fehlerhaft, {vectors} neue Vektoren."
        )
    if report.failed and not (report.ingested or report.unchanged):
        raise typer.Exit(1)


@app.command()
def embed() -> None:
    """Fehlende Vektoren berechnen (lexikalische Suche funktioniert schon vorher)."""
    with services() as (settings, store, embedder):
        if embedder is None:
            raise UserError("Kein Embedding-Modell eingestellt (AMTSLOTSE_EMBEDDER=none).")
        typer.echo(f"{embed_missing_vectors(store, embedder, settings)} neue Vektoren.")


@app.command()
def documents(tenant: str = TENANT, as_json: bool = typer.Option(False, "--json")) -> None:
    """Die Dokumente eines Mandanten auflisten (mit Gültigkeit und Passagenzahl)."""
    with services() as (_, store, _e):
        docs = store.documents(tenant)
    rows = [
        {"source": d.source, "title": d.title, "kind": d.kind, "passages": d.passages,
         "valid_from": d.valid_from.isoformat() if d.valid_from else None,
         "valid_to": d.valid_to.isoformat() if d.valid_to else None}
        for d in docs
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        validity = f"{r['valid_from'] or '…'} bis {r['valid_to'] or '…'}"
        typer.echo(f"{r['source']}  ({r['passages']} Passagen, gültig {validity})  {r['title']}")


@app.command()
def search(
    query: Optional[str] = typer.Argument(None, help="Die Frage, z. B. 'Zahlt ihr die Nebenkosten?'"),
    tenant: str = TENANT,
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Stand (JJJJ-MM-TT); Standard: heute."),
    limit: int = typer.Option(5, min=1, max=100, help="Anzahl Treffer."),
    queries: Optional[Path] = typer.Option(None, help="JSONL-Datei mit {\"id\", \"question\"} je Zeile."),
    as_json: bool = typer.Option(False, "--json", help="Treffer als JSON."),
) -> None:
    """Passagen suchen (lexikalisch + semantisch), gefiltert auf Mandant und Stichtag."""
    from amtslotse.search.hybrid import Retriever

    items = question_items(query, queries, "--queries")
    day = parse_day(as_of, "--as-of")
    with services() as (settings, store, embedder):
        retriever = Retriever(store, embedder, settings)
        for item in items:
            hits = retriever.search(item["question"], tenant, day, limit)
            if queries is not None:
                typer.echo(json.dumps({"id": item.get("id"), "hits": [h.to_dict() for h in hits]}, ensure_ascii=False))
            elif as_json:
                typer.echo(json.dumps({"query": query, "hits": [h.to_dict() for h in hits]}, ensure_ascii=False))
            else:
                _print_hits(hits)


def _print_hits(hits) -> None:
    if not hits:
        typer.echo("Keine Treffer.")
    for rank, hit in enumerate(hits, start=1):
        p = hit.passage
        snippet = " ".join(p.text.split())[:240]
        typer.echo(f"{rank}. {p.citation}  [{p.heading or p.title}]  ({hit.score:.4f})\n   {snippet}…")


@eval_app.command("retrieval")
def eval_retrieval(
    passages: Path = typer.Option(..., exists=True, dir_okay=False, help="passages.jsonl {passage_id, title, text}"),
    questions: Path = typer.Option(..., exists=True, dir_okay=False, help="questions.jsonl {id, question, passage_id}"),
) -> None:
    """Suchqualität auf einem QA-Datensatz messen (temporärer Speicher); letzte Zeile: JSON mit den Kennzahlen."""
    from amtslotse.evaluation.retrieval import eval_public_set

    result = eval_public_set(passages, questions, get_settings())
    typer.echo(json.dumps(result))


