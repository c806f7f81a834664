"""Scope: which laws may answer this question for this tenant.

A tenant serves certain benefits. A Jobcenter serves the Grundsicherung für Arbeitsuchende
(SGB II) with the procedure around it (SGB I, SGB X, SGG) and the amounts (RBEG, RBSFV,
GrusiGV). Other laws (Arbeitslosengeld under SGB III, Sozialhilfe under SGB XII, Wohngeld,
Kinderzuschlag) count only when the question is about them: a wrong law is worse than no
answer. Which benefit a question means is recognised from the words people use
(data/scope/benefits.tsv: "Hartz IV", "ALG II", "Bürgergeld" mean SGB II; "Sperrzeit" SGB III).

    >>> s = scope_of("Bekomme ich Wohngeld, wenn ich Bürgergeld beziehe?")
    >>> sorted(s.extra), s.ambiguous
    (['WoGG'], ())
    >>> "SGB_12" in scope_of("Wie hoch ist der Regelsatz?").laws
    False
    >>> scope_of("Wie lange bekomme ich Arbeitslosengeld?").ambiguous
    ('SGB_3',)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from amtslotse.errors import data_lines
from amtslotse.models import Passage
from amtslotse.text.fold import plain_words

JOBCENTER = frozenset({"SGB_2", "SGB_1", "SGB_10", "SGG", "RBEG", "RBSFV_2026", "GrusiGV"})
"""What a Jobcenter serves when a tenant declares nothing else (TenantConfig.scope)."""

def law_of(source: str | None) -> str:
    """The law of a source file name: "SGB_2-BJNR295500003.md" -> "SGB_2"."""
    return (source or "").split("-BJNR")[0].removesuffix(".md")


@dataclass(frozen=True)
class Scope:
    laws: frozenset[str]  # every law that may be cited for this question
    extra: frozenset[str]  # laws beyond the tenant's own, because the question is about them
    ambiguous: tuple[str, ...] = ()  # laws added on an ambiguous word ("Arbeitslosengeld")
    own_benefit: bool = False  # the question names the tenant's benefit ("Bürgergeld", "Jobcenter")

    def allows(self, passage: Passage) -> bool:
        """Law passages of other laws are out; pages and uploads are the tenant's own; a curated
        answer counts by its main source."""
        if passage.meta.get("kind") == "curated":
            sources = passage.meta.get("sources") or []
            main = law_of(sources[0].get("source")) if sources else ""
            return not main or main in self.laws or main not in KNOWN_LAWS
        if not passage.section:
            return True
        law = law_of(passage.source)
        return law in self.laws or law not in KNOWN_LAWS


class Cue(NamedTuple):
    """One line of data/scope/benefits.tsv: a law and the words that name it."""

    law: str
    words: tuple[str, ...]  # plain: the question is about this law
    unsure: tuple[str, ...]  # written with "?": the question may be about it ("Arbeitslosengeld")


BENEFITS_COLUMNS = "Gesetz und Wörtern"


def parse_benefits(text: str, where: str, problems: list[tuple[int, str]] | None = None) -> list[Cue]:
    """The cues of a benefits.tsv text (`law<TAB>word | word | ?word`). A malformed line raises
    DataFileError ("<where>, Zeile N: ..."), or, with a `problems` list, is added to it as
    (line, German message) and skipped (`amtslotse check` reports every one).

    >>> parse_benefits("WoGG\\twohngeld | ?mietzuschuss", "benefits.tsv")
    [Cue(law='WoGG', words=('wohngeld',), unsure=('mietzuschuss',))]
    """
    return data_lines(text, where, _cue, problems)


def _cue(line: str) -> Cue:
    line = line.strip()
    tabs = line.count("\t")
    if tabs != 1:
        raise ValueError(f"Tabulator zwischen {BENEFITS_COLUMNS} fehlt" if not tabs
                         else f"erwartet genau einen Tabulator zwischen {BENEFITS_COLUMNS}, gefunden {tabs}")
    law, words = (part.strip() for part in line.split("\t"))
    if law not in KNOWN_LAWS:
        raise ValueError(f"unbekanntes Gesetz {law!r} (erlaubt: {', '.join(sorted(KNOWN_LAWS))})")
    cells = [w.strip() for w in words.split("|")]
    for cell in cells:
        if not plain_words(cell.removeprefix("?")):
            raise ValueError(f"leeres Wort in „{words}“ (Wörter durch „ | “ trennen, keines leer)")
    plain = tuple(w for w in cells if not w.startswith("?"))
    unsure = tuple(w[1:].strip() for w in cells if w.startswith("?"))
    return Cue(law, plain, unsure)


@lru_cache(maxsize=1)
def benefits() -> tuple[Cue, ...]:
    """The cues of data/scope/benefits.tsv (a malformed line: DataFileError with file and line)."""
    path = resources.files("amtslotse").joinpath("data", "scope", "benefits.tsv")
    return tuple(parse_benefits(path.read_text(encoding="utf-8"), str(path)))


@lru_cache(maxsize=1)
def _cues() -> tuple[tuple[str, re.Pattern[str], bool], ...]:
    """(law, pattern, ambiguous) from data/scope/benefits.tsv."""
    cues = []
    for cue in benefits():
        for group, ambiguous in ((cue.words, False), (cue.unsure, True)):
            if group:
                alternatives = "|".join(re.escape(plain_words(w)) for w in group)
                cues.append((cue.law, re.compile(rf"\b(?:{alternatives})"), ambiguous))
    return tuple(cues)


@lru_cache(maxsize=1)
def benefit_words() -> tuple[str, ...]:
    """The names of the Jobcenter's benefit ("Bürgergeld", "Hartz IV", "Jobcenter" ...): they say
    where a question belongs, not what it asks (ask/choose.py leaves them out of word matching)."""
    return tuple(w for cue in benefits() if cue.law == "SGB_2" for w in cue.words)


KNOWN_LAWS = frozenset({"SGB_2", "SGB_1", "SGB_3", "SGB_10", "SGB_12", "SGG", "VwVfG", "WoGG", "BKGG", "RBEG", "RBSFV_2026", "GrusiGV"})
"""The laws the scope knows; passages of any other source (a tenant's own law file) are never filtered."""


def scope_of(question: str, serves: frozenset[str] = JOBCENTER) -> Scope:
    """The laws that may answer `question` for a tenant that serves `serves`."""
    text = plain_words(question)
    named = {law for law, pattern, ambiguous in _cues() if not ambiguous and pattern.search(text)}
    own = bool(named & serves)
    # "Arbeitslosengeld 2" is SGB II; "Arbeitslosengeld" alone may be either.
    masked = re.sub(r"\barbeitslosengeld (2|ii|zwei)\b", " ", text)
    unsure = {
        law for law, pattern, ambiguous in _cues()
        if ambiguous and law not in named and pattern.search(masked) and not own
    }
    extra = frozenset((named | unsure) - serves)
    return Scope(laws=frozenset(serves | extra), extra=extra, ambiguous=tuple(sorted(unsure - serves)), own_benefit=own)
