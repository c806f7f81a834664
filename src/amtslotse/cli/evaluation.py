"""Evaluation commands: eval answers (real questions, graded)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from amtslotse.cli.common import TENANT, UserError, eval_app, open_services, parse_day


@eval_app.command("answers")
def eval_answers(
    questions: Path = typer.Option(..., exists=True, dir_okay=False, help="Fragen (JSONL): {id, question, expect?, gold?, key_points?, must_not_cite?}"),
    tenant: str = TENANT,
    key_points: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="Prüfregeln je Kernaussage (JSONL: {id, key_points: [{text, all}]})."),
    split: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="Aufteilung (JSON: {dev: [ids], holdout: [ids]})."),
    part: Optional[str] = typer.Option(None, help="Nur diesen Teil der Aufteilung (z. B. dev oder holdout)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Stand (JJJJ-MM-TT), Standard heute."),
    show: Optional[str] = typer.Option(None, help="Antworten mit diesem Urteil ausgeben: wrong, unsure, misrouted, correct oder all."),
    out: Optional[Path] = typer.Option(None, help="Jedes Urteil als JSON-Zeile in diese Datei."),
) -> None:
    """Antworten auf echte Fragen bewerten: richtig, falsch, unsicher; letzte Zeile: JSON mit den Kennzahlen.

    So sieht ein Landkreis vor dem Veröffentlichen einer Änderung, ob seine bekannten Fragen
    weiter richtig beantwortet werden."""
    from amtslotse.evaluation import answers as grader

    if (split is None) != (part is None):
        raise UserError("--split und --part gehören zusammen")
    ids = grader.load_split(split, part) if split is not None and part is not None else None
    items = grader.load_questions(questions, key_points, ids)  # DataFileError names file and line
    if not items:
        raise UserError(f"{questions.name}: keine Fragen")
    day = parse_day(as_of, "--as-of")
    with open_services() as services:
        graded = grader.run(services.asker, items, tenant, day)
    if out is not None:
        with open(out, "w", encoding="utf-8") as handle:
            for g in graded:
                handle.write(json.dumps(g.to_dict(), ensure_ascii=False) + "\n")
    for g in graded:
        if show and (show == "all" or g.verdict == show):
            typer.echo(f"[{g.id}] {g.verdict} ({g.expect} -> {g.outcome}, {g.mode}) {g.question}\n  {g.cited}\n  " + g.answer[:500].replace("\n", "\n  "))
    summary = grader.summarize(graded)
    typer.echo(json.dumps({k: v for k, v in summary.items() if not k.startswith("by_")} | {"by_topic": summary["by_topic"]}, ensure_ascii=False))
