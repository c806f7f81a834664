"""Command line: thin wrappers around the same functions the HTTP API calls."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from amtslotse.models import SHARED_TENANT
from amtslotse.settings import Settings, get_settings

app = typer.Typer(
    help="Amtslotse: KI-Auskunft für Jobcenter, transparent und offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
eval_app = typer.Typer(help="Qualität messen.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

err = Console(stderr=True, soft_wrap=True)
TENANT = typer.Option(SHARED_TENANT, "--tenant", "-t", help="Mandant (Landkreis); ohne Angabe die gemeinsame Ebene 'bund'.")


class UserError(Exception):
    """An error the user can fix; printed as one German line, exit code 2."""


def parse_day(value: Optional[str], option: str) -> Optional[date]:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            pass
    raise UserError(f"{option}: '{value}' ist kein Datum (erwartet JJJJ-MM-TT oder TT.MM.JJJJ)")


@contextmanager
def _services() -> Iterator[tuple]:
    from amtslotse.search.embedders import get_embedder
    from amtslotse.store import open_store

    settings = get_settings()
    try:
        store = open_store(settings)
    except Exception as error:  # the user's database settings or file, not our code
        raise UserError(f"Datenbank nicht erreichbar: {error}") from None
    try:
        yield settings, store, get_embedder(settings.embedder)
    finally:
        store.close()


def _question_items(question: Optional[str], path: Optional[Path], option: str) -> Iterator[dict]:
    """The single question as {"id": None, ...}, or the lines of a JSONL file, checked."""
    from amtslotse.evaluation.retrieval import read_jsonl

    if (question is None) == (path is None):
        raise UserError(f"Bitte genau eines angeben: eine Frage oder {option} DATEI.jsonl")
    if path is None:
        yield {"id": None, "question": question}
        return
    for item in read_jsonl(path):
        if "question" not in item:
            raise UserError(f"{path.name}: Eintrag {item.get('id')!r} hat kein Feld 'question'")
        yield item


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "", style="progress.data.speed")


def _progress() -> Progress:
    """A progress bar with count and rate, on standard error (stdout stays clean for JSON)."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(), TimeElapsedColumn(),
        console=err,
    )


def run() -> None:
    """Entry point: runs the app and turns user errors into one line, never a traceback."""
    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit
    except (UserError, ValueError, OSError) as error:
        err.print(f"[red]Fehler:[/red] {error}")
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        err.print("Abgebrochen.")
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: wrong option, missing argument
        error.show()
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


# --- knowledge ----------------------------------------------------------------------------


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
    from amtslotse.knowledge.ingest import ingest_paths
    from amtslotse.knowledge.loaders import iter_source_files

    start, end = parse_day(valid_from, "--valid-from"), parse_day(valid_to, "--valid-to")
    if start and end and end < start:
        raise UserError("--valid-to liegt vor --valid-from")
    files = list(iter_source_files(paths))
    with _services() as (settings, store, embedder):
        with _progress() as progress:
            task = progress.add_task("Einlesen", total=len(files))
            report = ingest_paths(
                files, store, settings, tenant=tenant, valid_from=start, valid_to=end,
                on_file=lambda _: progress.advance(task),
            )
        for path, message in report.failed:
            err.print(f"[red]Fehler:[/red] {path}: {message}")
        vectors = _embed(store, embedder, settings) if embed and settings.embed_on_ingest else 0
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


def _embed(store, embedder, settings: Settings) -> int:
    from amtslotse.knowledge.ingest import embed_missing

    if embedder is None:
        return 0
    with _progress() as progress:
        task = progress.add_task(f"Vektoren ({embedder.name})", total=None)
        return embed_missing(store, embedder, settings.embed_batch_size, lambda n: progress.advance(task, n))


@app.command()
def embed() -> None:
    """Fehlende Vektoren berechnen (lexikalische Suche funktioniert schon vorher)."""
    with _services() as (settings, store, embedder):
        if embedder is None:
            raise UserError("Kein Embedding-Modell eingestellt (AMTSLOTSE_EMBEDDER=none).")
        typer.echo(f"{_embed(store, embedder, settings)} neue Vektoren.")


@app.command()
def documents(tenant: str = TENANT, as_json: bool = typer.Option(False, "--json")) -> None:
    """Die Dokumente eines Mandanten auflisten (mit Gültigkeit und Passagenzahl)."""
    with _services() as (_, store, _e):
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

    items = _question_items(query, queries, "--queries")
    day = parse_day(as_of, "--as-of")
    with _services() as (settings, store, embedder):
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
    with _services() as (settings, store, embedder):
        local = starter / "musterkreis"
        for layer, paths in (("bund", [starter / "bund"]), (tenant, [local / "pages", local / "curated.jsonl"])):
            report = ingest_paths(paths, store, settings, tenant=layer)
            typer.echo(f"{layer}: {report.ingested} neu, {report.unchanged} unverändert, {len(report.failed)} fehlerhaft")
        _embed(store, embedder, settings)
        typer.echo(f"Daten: {settings.home}. Eigene Gesetze und Seiten: amtslotse ingest ORDNER --tenant {tenant}\n")
        asker = Asker(Retriever(store, embedder, settings))
        if sys.stdin.isatty():
            questions = iter(lambda: typer.prompt("Ihre Frage (leer = Ende)", default="", show_default=False), "")
        else:  # no terminal (a script, CI): one example
            questions = iter(["Darf ich in den Urlaub fahren?"])
        for number, question in enumerate(questions):
            typer.echo(f"\n{asker.ask(question, tenant, first_turn=number == 0).answer}\n")


# --- citizen questions ----------------------------------------------------------------------


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

    items = _question_items(question, questions, "--questions")
    with _services() as (settings, store, embedder):
        asker = Asker(Retriever(store, embedder, settings))
        for item in items:
            answer = asker.ask(item["question"], tenant)
            if questions is not None:
                typer.echo(json.dumps({"id": item.get("id")} | answer.to_dict(), ensure_ascii=False))
            else:
                typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False) if as_json else answer.answer)
