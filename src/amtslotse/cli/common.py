"""What every command shares: the app, user errors, services, input files and progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from amtslotse.errors import ConfigError, UserError
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


class Options:
    """Options of the whole program (before the command): `amtslotse --debug ingest ...`."""

    debug = False


options = Options()


@app.callback()
def global_options(
    debug: bool = typer.Option(False, "--debug", help="Bei einem internen Fehler den vollständigen Traceback zeigen."),
) -> None:
    options.debug = debug

TENANT = typer.Option(SHARED_TENANT, "--tenant", "-t", help="Mandant (Landkreis); ohne Angabe die gemeinsame Ebene 'bund'.")
AS = typer.Option(None, "--as", help="Wer handelt (für das Prüfprotokoll); Standard: cli:<Benutzer>.")


def acting(name: Optional[str]) -> str:
    """Who a command acts as in the audit log: --as, else the operating-system account."""
    from amtslotse.governance.audit import cli_actor

    return name.strip() if name and name.strip() else cli_actor()


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
def services() -> Iterator[tuple]:
    from amtslotse.store import open_store

    settings = get_settings()
    embedder = configured_embedder(settings)
    store = open_store(settings)  # StoreError or ConfigError (user errors) when it cannot be opened
    try:
        yield settings, store, embedder
    finally:
        store.close()


def configured_embedder(settings: Settings):
    """The embedder AMTSLOTSE_EMBEDDER names (cached: Services.open gets the same object)."""
    from amtslotse.search.embedders import get_embedder

    try:
        return get_embedder(settings.embedder)
    except ConfigError as error:  # say which setting it is
        raise ConfigError(f"AMTSLOTSE_EMBEDDER: {error}") from None


def question_items(question: Optional[str], path: Optional[Path], option: str) -> Iterator[dict]:
    """The single question as {"id": None, ...}, or the lines of a JSONL file, checked."""
    from amtslotse.jsonl import read_jsonl

    if (question is None) == (path is None):
        raise UserError(f"Bitte genau eines angeben: eine Frage oder {option} DATEI.jsonl")
    if path is None:
        yield {"id": None, "question": question}
        return
    for item in read_jsonl(path):
        if "question" not in item:
            raise UserError(f"{path.name}: Eintrag {item.get('id')!r} hat kein Feld 'question'")
        yield item


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "", style="progress.data.speed")


def progress_bar() -> Progress:
    """A progress bar with count and rate, on standard error (stdout stays clean for JSON)."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(),
        console=err,
    )



def embed_missing_vectors(store, embedder, settings: Settings) -> int:
    from amtslotse.knowledge.ingest import embed_missing

    if embedder is None:
        return 0
    with progress_bar() as progress:
        task = progress.add_task(f"Vektoren ({embedder.name})", total=None)
        return embed_missing(store, embedder, settings.embed_batch_size, lambda n: progress.advance(task, n))


def open_services():
    """The Services of this process (store, search, Ask flow, LLM), as the server builds them."""
    from amtslotse.services import Services

    settings = get_settings()
    configured_embedder(settings)  # a wrong AMTSLOTSE_EMBEDDER as one German line
    return Services.open(settings)  # StoreError, ConfigError: user errors with German messages
