"""One name for the benefit before a text is embedded.

Citizens say "Bürgergeld", "Hartz IV" or "ALG II"; the law and the curated answers say
"Grundsicherungsgeld" (since July 2026). For the embedder a question is mostly its benefit's name:
"Wann wird das Bürgergeld überwiesen?" came closer to "Gibt es das Bürgergeld noch?" than to "Wann
wird das Grundsicherungsgeld überwiesen?". So questions and curated phrasings are embedded with one
name (data/scope/names.tsv); what is shown and searched by words stays as written.

    >>> canonical_names("Hartz-IV-Empfänger und Bürgergeldantrag: wann kommt das ALG II?")
    'Grundsicherungsgeld-Empfänger und Grundsicherungsgeldantrag: wann kommt das Grundsicherungsgeld?'
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from amtslotse.errors import data_lines


def parse_names(text: str, where: str, problems: list[tuple[int, str]] | None = None) -> list[tuple[str, re.Pattern[str]]]:
    """(name, pattern of its other names) per line of a names.tsv text (`Name<TAB>other | other`).
    A malformed line raises DataFileError ("<where>, Zeile N: ..."), or, with a `problems` list,
    is added to it as (line, German message) and skipped (`amtslotse check` reports every one).

    >>> parse_names("Grundsicherungsgeld\\tbürgergeld", "names.tsv")[0][0]
    'Grundsicherungsgeld'
    >>> parse_names("Grundsicherungsgeld bürgergeld", "names.tsv")
    Traceback (most recent call last):
    amtslotse.errors.DataFileError: names.tsv, Zeile 1: Tabulator zwischen Name und anderen Namen fehlt
    """
    return data_lines(text, where, _name_line, problems)


def _name_line(line: str) -> tuple[str, re.Pattern[str]]:
    parts = [part.strip() for part in line.split("\t")]
    words = sorted((w.strip() for w in parts[-1].split("|") if w.strip()), key=len, reverse=True)
    if len(parts) == 1:
        raise ValueError("Tabulator zwischen Name und anderen Namen fehlt")
    if len(parts) > 2:
        raise ValueError(f"erwartet genau einen Tabulator, gefunden {len(parts) - 1}")
    if not parts[0]:
        raise ValueError("Name fehlt")
    if not words:
        raise ValueError("keine anderen Namen")
    spelled = "|".join(r"[\s-]*".join(re.escape(part) for part in w.split()) for w in words)
    return parts[0], re.compile(rf"(?<!\w)(?:{spelled})(?![\s-]*(?:iv|ii|4|2|vier)\b)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _names() -> tuple[tuple[str, re.Pattern[str]], ...]:
    path = resources.files("amtslotse").joinpath("data", "scope", "names.tsv")
    return tuple(parse_names(path.read_text(encoding="utf-8"), "data/scope/names.tsv"))


def canonical_names(text: str) -> str:
    """`text` with every other name of a benefit replaced by the one Amtslotse uses."""
    for name, pattern in _names():
        text = pattern.sub(name, text)
    return text
