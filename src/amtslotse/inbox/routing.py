"""Routing: which team gets a message, by the tenant's rules (first match wins).

    >>> from amtslotse.inbox.triage import triage
    >>> route_to_team(triage("Ich lege Widerspruch gegen den Bescheid vom 03.11.2026 ein."))
    'Widerspruchsstelle'

Rules are a data file, `data/inbox/routing.tsv`. A tenant's own rules (`routing.tsv` in its
folder, or the file `[inbox] routing = "path"` names; see categories.py) come first and
extend the bundled ones: what the tenant does not route, the bundled rules still do. A
catch-all rule (`*  *  *  Team`) in the tenant's file ends the list there, so a tenant that
wants only its own rules ends its file with one. One rule per line, four columns separated
by tabs (several tabs may align them):

    category            flags     keywords                      team
    unterkunft          notlage   *                             KdU-Team
    veraenderung        *         umgezogen, neue Adresse       KdU-Team
    *                   *         *                             Eingangszone

- category: a category key, several separated by commas (any of them), or `*` (any).
- flags: `notlage`, `frist`, both separated by a comma (all of them), `-` (none) or `*` (any).
- keywords: phrases separated by commas (any of them, matched like the flag word lists:
  folded, typo-tolerant, `word*` for a prefix), or `*` (no condition).
- team: the team's name as staff know it.

The first rule that matches wins; when none does, the message goes to the Eingangszone
(the front desk). Staff see the team as a proposal and may forward the message elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

from amtslotse.categories import DEFAULT_CONFIG, FLAGS, InboxConfig
from amtslotse.errors import DataFileError
from amtslotse.inbox.flags import PhraseMatcher


class Triaged(Protocol):
    """What routing reads of a triage (inbox.triage.Triage)."""

    @property
    def category(self) -> str: ...
    @property
    def flags(self) -> tuple[str, ...]: ...
    @property
    def words(self) -> tuple[str, ...]: ...

DEFAULT_TEAM = "Eingangszone"
TEAMS = ("Leistungsabteilung", "Arbeitsvermittlung", "KdU-Team", "Widerspruchsstelle", "Forderungsmanagement",
         "Bildung-und-Teilhabe-Team", "Eingangszone")
"""The teams of the bundled rules (a tenant's file may name any others)."""


@dataclass(frozen=True)
class Rule:
    categories: frozenset[str] | None  # None: any
    flags: frozenset[str] | None  # None: any; empty: none at all
    keywords: PhraseMatcher | None  # None: no condition
    team: str
    line: int

    @property
    def catch_all(self) -> bool:
        """Matches every message: no rule after it is ever reached."""
        return self.categories is None and self.flags is None and self.keywords is None

    def matches(self, category: str, flags: Iterable[str], words: list[str]) -> bool:
        flags = set(flags)
        if self.categories is not None and category not in self.categories:
            return False
        if self.flags is not None and (not self.flags <= flags if self.flags else flags):
            return False
        return self.keywords is None or bool(self.keywords.labels(words))


def default_rules_file() -> Path:
    return Path(str(resources.files("amtslotse").joinpath("data", "inbox", "routing.tsv")))


def load_rules(path: Path | None = None, categories: Iterable[str] = ()) -> list[Rule]:
    """The rules of a routing file (default: the bundled one), checked against the known
    category keys; a missing file or a malformed line raises DataFileError naming file and
    line (German)."""
    path = Path(path) if path is not None else default_rules_file()
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        raise DataFileError(f"Routing-Datei nicht gefunden: {path}") from None
    return _load(path, stamp, frozenset(categories))


def rules_for(config: InboxConfig | None = None) -> list[Rule]:
    """A tenant's rules in the order they are tried: its own file's (if any), then the bundled
    ones, up to the first catch-all rule (the rules after it are never reached)."""
    config = config or DEFAULT_CONFIG
    own = load_rules(config.routing, config.labels) if config.routing is not None else []
    rules = [*own, *load_rules(None, config.labels)]  # new list: load_rules' lists are cached
    end = next((i for i, rule in enumerate(rules) if rule.catch_all), len(rules) - 1)
    return rules[:end + 1]


def teams(config: InboxConfig | None = None) -> list[str]:
    """The teams a tenant's routing rules can reach, and the Eingangszone (sorted; for
    filters and forwarding in the staff workspace).

    >>> "Widerspruchsstelle" in teams()
    True
    """
    return sorted({rule.team for rule in rules_for(config)} | {DEFAULT_TEAM})


@lru_cache(maxsize=32)
def _load(path: Path, stamp: int, known: frozenset[str]) -> list[Rule]:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(f"{path}: nicht lesbar ({error})") from None
    return parse_rules(text, path.name, known)


def parse_rules(
    text: str, where: str, known: Iterable[str] = (), problems: list[tuple[int, str]] | None = None,
) -> list[Rule]:
    """The rules of a routing file's text. A malformed line raises DataFileError ("<where>,
    Zeile N: ..."), or, with a `problems` list, is added to it as (line, German message) and
    skipped (`amtslotse check` reports every one).

    >>> [r.team for r in parse_rules("widerspruch\\t*\\t*\\tWiderspruchsstelle", "routing.tsv")]
    ['Widerspruchsstelle']
    """
    known = frozenset(known)
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            rules.append(_rule(raw, number, known))
        except ValueError as error:  # _rule's own German message for this line
            if problems is None:
                raise DataFileError(f"{where}, Zeile {number}: {error}") from None
            problems.append((number, str(error)))
    return rules


def _rule(raw: str, number: int, known: frozenset[str]) -> Rule:
    cells = [c.strip() for c in raw.split("\t") if c.strip()]
    if len(cells) != 4:
        raise ValueError("erwartet 4 durch Tabulatoren getrennte Spalten "
                         f"(Kategorie, Markierungen, Stichwörter, Team), gefunden {len(cells)}")
    category, flags, keywords, team = cells
    categories = None if category == "*" else frozenset(c.strip() for c in category.split(",") if c.strip())
    if categories and known and not categories <= known:
        raise ValueError(f"unbekannte Kategorie {', '.join(sorted(categories - known))}")
    if flags == "*":
        flag_set = None
    elif flags == "-":
        flag_set = frozenset()
    else:
        flag_set = frozenset(f.strip() for f in flags.split(",") if f.strip())
        if not flag_set <= set(FLAGS):
            raise ValueError(f"unbekannte Markierung in {flags!r} (erlaubt: notlage, frist, -, *)")
    matcher = None
    if keywords != "*":
        matcher = PhraseMatcher((k.strip(), k.strip()) for k in keywords.split(",") if k.strip())
    return Rule(categories, flag_set, matcher, team, number)


def route_to_team(triage: Triaged, config: InboxConfig | None = None) -> str:
    """The team for a triaged message under the tenant's rules and then the bundled ones
    (first match wins)."""
    words = list(triage.words)
    for rule in rules_for(config):
        if rule.matches(triage.category, triage.flags, words):
            return rule.team
    return DEFAULT_TEAM
