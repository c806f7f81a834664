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

from amtslotse.errors import DataFileError


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
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = [part.strip() for part in raw.split("\t")]
        words = sorted((w.strip() for w in parts[-1].split("|") if w.strip()), key=len, reverse=True)
        problem = (
            "Tabulator zwischen Name und anderen Namen fehlt" if len(parts) == 1
            else f"erwartet genau einen Tabulator, gefunden {len(parts) - 1}" if len(parts) > 2
            else "Name fehlt" if not parts[0]
            else "keine anderen Namen" if not words
            else None
        )
        if problem:
            if problems is None:
                raise DataFileError(f"{where}, Zeile {number}: {problem}")
            problems.append((number, problem))
            continue
        spelled = "|".join(r"[\s-]*".join(re.escape(part) for part in w.split()) for w in words)
        found.append((parts[0], re.compile(rf"(?<!\w)(?:{spelled})(?![\s-]*(?:iv|ii|4|2|vier)\b)", re.IGNORECASE)))
    return found


@lru_cache(maxsize=1)
def _names() -> tuple[tuple[str, re.Pattern[str]], ...]:
    path = resources.files("amtslotse").joinpath("data", "scope", "names.tsv")
    return tuple(parse_names(path.read_text(encoding="utf-8"), "data/scope/names.tsv"))


def canonical_names(text: str) -> str:
    """`text` with every other name of a benefit replaced by the one Amtslotse uses."""
    for name, pattern in _names():
        text = pattern.sub(name, text)
    return text
