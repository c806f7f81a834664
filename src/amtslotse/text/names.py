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


@lru_cache(maxsize=1)
def _names() -> tuple[tuple[str, re.Pattern[str]], ...]:
    path = resources.files("amtslotse").joinpath("data", "scope", "names.tsv")
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, others = (part.strip() for part in line.split("\t", 1))
        words = sorted((w.strip() for w in others.split("|") if w.strip()), key=len, reverse=True)
        spelled = "|".join(r"[\s-]*".join(re.escape(part) for part in w.split()) for w in words)
        found.append((name, re.compile(rf"(?<!\w)(?:{spelled})(?![\s-]*(?:iv|ii|4|2|vier)\b)", re.IGNORECASE)))
    return tuple(found)


def canonical_names(text: str) -> str:
    """`text` with every other name of a benefit replaced by the one Amtslotse uses."""
    for name, pattern in _names():
        text = pattern.sub(name, text)
    return text
