"""Inbox commands: triage (category, flags, fields, team, priority of a message).

    amtslotse triage "Ich lege Widerspruch gegen den Bescheid vom 03.11.2026 ein."
    amtslotse triage --file brief.txt --json
    amtslotse triage --messages eingang.jsonl --tenant musterkreis > ergebnis.jsonl
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from amtslotse.cli.common import TENANT, UserError, app, err, parse_day
from amtslotse.jsonl import read_jsonl_lines, read_text

BATCH = 64
"""Messages triaged together from a --messages file (one embedding batch)."""


@app.command()
def triage(
    text: Optional[str] = typer.Argument(None, help="Der Text einer eingegangenen Nachricht."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Textdatei mit einer Nachricht (UTF-8)."),
    messages: Optional[Path] = typer.Option(
        None, "--messages", help="JSONL-Datei mit {\"id\", \"text\"} je Zeile (optional \"date\"); Ausgabe: eine JSON-Zeile je Eingabe."
    ),
    tenant: str = TENANT,
    day: Optional[str] = typer.Option(
        None, "--datum", help="Eingangsdatum (JJJJ-MM-TT oder TT.MM.JJJJ): ab wann eine Frist läuft. Ohne: unbekannt."
    ),
    as_json: bool = typer.Option(False, "--json", help="Ergebnis als JSON."),
) -> None:
    """Eine Nachricht sortieren: Kategorie, Markierungen (Notlage, Frist), Felder, Team, Priorität."""
    from amtslotse.inbox.triage import default_triager

    if sum(x is not None for x in (text, file, messages)) != 1:
        raise UserError("Bitte genau eines angeben: einen Text, --file DATEI oder --messages DATEI.jsonl")
    today = parse_day(day, "--datum")
    config = inbox_config_of(tenant)
    _announce_training()
    triager = default_triager()
    if messages is not None:
        items = _read_messages(messages)
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            for (item, _when), result in zip(chunk, _triage_chunk(triager, chunk, config, today)):
                typer.echo(json.dumps({"id": item.get("id")} | result.to_dict(), ensure_ascii=False))
        return
    if file is not None:
        text = read_text(file)
    if not text or not text.strip():
        raise UserError("Die Nachricht ist leer.")
    result = triager.triage(text, config, today=today)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(_pretty(result, config))


def _triage_chunk(triager, chunk, config, today):
    """Messages of one date go through triage_many together; the results keep input order."""
    results: dict[int, object] = {}
    by_day: dict[date | None, list[int]] = {}
    for index, (_, when) in enumerate(chunk):
        by_day.setdefault(when or today, []).append(index)
    for when, indexes in by_day.items():
        for index, result in zip(indexes, triager.triage_many([chunk[i][0]["text"] for i in indexes], config, today=when)):
            results[index] = result
    return [results[i] for i in range(len(chunk))]


def _read_messages(path: Path) -> list[tuple[dict, date | None]]:
    """(item, message date) of every line, checked before any output."""
    items = []
    for where, item in read_jsonl_lines(path):
        if not isinstance(item.get("text"), str) or not item["text"].strip():
            raise UserError(f"{where}: Feld 'text' fehlt oder ist leer")
        when = parse_day(item["date"], f"{where}, Feld 'date'") if item.get("date") else None
        items.append((item, when))
    return items


def inbox_config_of(tenant: str):
    """The tenant's `[inbox]` configuration, read through `TenantConfig` as the server reads it.

    TENANT is a tenant name (its file is found by `amtslotse.tenants`; a tenant without a
    file gets the defaults) or the path of a TOML file (to try one out before installing it)."""
    from amtslotse.settings import get_settings
    from amtslotse.tenants import load_tenant_config, load_tenant_file

    if tenant.endswith(".toml"):
        return load_tenant_file(Path(tenant)).inbox()
    return load_tenant_config(tenant, get_settings()).inbox()  # TenantConfigError: one German line


def _announce_training() -> None:
    from amtslotse.inbox.classify import model_is_ready

    if not model_is_ready():
        err.print("Das Sortiermodell wird einmalig trainiert (einige Sekunden) ...")


def _euro(amount: float) -> str:
    """1234.5 -> "1.234,50 €" (German digit grouping)."""
    return f"{amount:,.2f}".translate(str.maketrans(",.", ".,")) + " €"


def _pretty(result, config) -> str:
    """The triage for staff, in German."""
    from amtslotse.inbox.checklists import checklist_for
    from amtslotse.inbox.fields import FIELD_LABELS

    flags = ", ".join(f.capitalize() for f in result.flags) or "keine"
    lines = [
        f"Kategorie:    {result.category_label} ({result.category}), Sicherheit {round(result.confidence * 100)} %"
        + (" (per LLM)" if result.method == "llm" else " (Stichwort)" if result.method == "stichwort" else ""),
        f"Markierungen: {flags}",
        f"Priorität:    {result.priority_label} ({result.priority})",
        f"Team:         {result.team}",
    ]
    if result.deadline:
        lines.append(f"Frist bis:    {result.deadline:%d.%m.%Y}")
    if result.bescheid_date:
        lines.append(f"Bescheid vom: {result.bescheid_date:%d.%m.%Y}")
    if result.fields:
        lines.append("Felder:")
        for f in result.fields:
            value = _euro(f.value) if f.kind == "betrag" else f.text
            notes = [n for n in (
                "personenbezogen" if f.personal else "",
                {"frist": "Frist", "bescheid": "Bescheiddatum"}.get(f.role or "", ""),
                "Prüfsumme falsch, bitte nachfragen" if f.valid is False else "",
            ) if n]
            lines.append(f"  {FIELD_LABELS.get(f.kind, f.kind):<20} {value}" + (f"  ({', '.join(notes)})" if notes else ""))
    documents = checklist_for(result.category, config)
    if documents:
        lines.append("Typischerweise noch nötig: " + "; ".join(documents))
    return "\n".join(lines)
