"""Urgent flags by rules: `notlage` (acute need) and `frist` (a running deadline).

    >>> from datetime import date
    >>> rule_flags("Der Strom ist abgestellt, wir sitzen im Dunkeln.", date(2026, 11, 24)).flags
    ('notlage',)
    >>> rule_flags("Morgen kommt der Gerichtsvollzieher zur Zwangsräumung!", date(2026, 11, 24)).flags
    ('notlage', 'frist')
    >>> rule_flags("Bitte reichen Sie die Unterlagen bis zum 15.12.2026 ein.", date(2026, 11, 24)).flags
    ('frist',)

("Morgen" is the day to act by: an emergency with a day is also a deadline, see below.)

Recall first (DESIGN: "urgent need and deadlines are flagged for staff first"): a flag fires if
any of these says so, and triage.py ORs the classifier's flags on top.
- notlage: the Ask guard's urgent rules (`amtslotse.screening.guard`, hunger, eviction, energy
  cut-off, violence, suicide; six languages), plus the inbox word lists below, which also
  catch an announced cut-off or a Räumungsklage mentioned in passing.
- frist: a deadline word that needs no date (Anhörung, Mitwirkungsaufforderung, Frist), or a
  date on or after the message date that a deadline cue belongs to ("bis zum 15.12.", "zahlbar
  bis", "до 15.12", "15.12.2026 tarihine kadar"; see fields.py), or a deadline word that needs
  a date ("spätestens", "fällig") together with any such date, or a relative deadline ("bis
  Freitag", "bis Ende des Monats") together with a duty ("muss", "soll", "sonst"), or an
  objection ("Widerspruch") against a Bescheid dated within the last month and a few days
  (the objection period runs).

Word lists: `data/inbox/flags/<language>.txt`, `[section]` headers and one phrase per line
(see that folder's README.md); a tenant's own `flags/<language>.txt` in its folder adds to them. Phrases match on folded text (lower case, ä/ae/a alike, other
diacritics removed, as `text.fold.normalize` does) and tolerate one typo in words of six or
more letters. The same `PhraseMatcher` serves routing keywords and tenant categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar

from amtslotse.errors import DataFileError
from amtslotse.inbox.fields import extract_dates
from amtslotse.screening.guard import check
from amtslotse.text.fold import fold

T = TypeVar("T")

# ---------------------------------------------------------------- folding and matching

_WORD = re.compile(r"\w+")
_TYPO_MIN = 6  # words this long may carry one typo (shorter ones collide with other words)


def words(text: str) -> list[str]:
    """Folded word tokens of a text."""
    return _WORD.findall(fold(text))


def within_one(a: str, b: str) -> bool:
    """Optimal string alignment distance of a and b is at most 1 (one insertion, deletion,
    substitution or swap of neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1:] == b[i + 1:] or (a[i + 1:i + 2] == b[i:i + 1] and a[i:i + 1] == b[i + 1:i + 2] and a[i + 2:] == b[i + 2:])
    return a[i + 1:] == b[i:] if la > lb else a[i:] == b[i + 1:]


@dataclass(frozen=True)
class _Token:
    """One word of a phrase: `kind` is exact, prefix ("raumungs*"), suffix ("*raumung"),
    infix ("*kahrab*") or gap (".." : up to three words of anything)."""

    kind: str
    value: str

    def matches(self, word: str) -> bool:
        v = self.value
        if self.kind == "exact":
            return word == v or (len(v) >= _TYPO_MIN and within_one(word, v))
        if self.kind == "prefix":
            if word.startswith(v):
                return True
            return len(v) >= _TYPO_MIN and any(within_one(word[:n], v) for n in (len(v) - 1, len(v), len(v) + 1))
        if self.kind == "suffix":
            return word.endswith(v) or (len(v) >= _TYPO_MIN and any(
                within_one(word[-n:], v) for n in (len(v) - 1, len(v), len(v) + 1) if n <= len(word)))
        return v in word  # infix


_GAP = 3


def _compile(phrase: str) -> tuple[_Token, ...]:
    out = []
    for raw in phrase.split():
        if raw == "..":
            out.append(_Token("gap", ""))
            continue
        star_start, star_end = raw.startswith("*"), raw.endswith("*") and len(raw) > 1
        folded = "".join(words(raw.strip("*")))
        if not folded:
            continue
        kind = {(False, False): "exact", (False, True): "prefix", (True, False): "suffix", (True, True): "infix"}[
            star_start, star_end]
        out.append(_Token(kind, folded))
    while out and out[0].kind == "gap":
        out.pop(0)
    while out and out[-1].kind == "gap":
        out.pop()
    return tuple(out)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class PhraseMatcher(Generic[T]):
    """Finds which of many phrases occur in a text, each phrase with a label.

        >>> m = PhraseMatcher([("strom .. gesperrt", "energie"), ("räumungs*", "raeumung")])
        >>> sorted(m.labels("Uns wurde der Strom gestern gesperrt"))
        ['energie']
        >>> m.labels("Die Raeumungsklage kam heute")
        {'raeumung'}

    Phrase words must follow each other in the text; ".." allows up to three words between.
    Indexed by the first word (exact form, its one-letter deletions for typos, the first two
    letters of a prefix), so a text costs about one dictionary lookup per word and letter.
    """

    def __init__(self, phrases: Iterable[tuple[str, T]]) -> None:
        self._phrases: list[tuple[tuple[_Token, ...], T]] = []
        self._exact: dict[str, list[int]] = {}
        self._fuzzy: dict[str, list[int]] = {}
        self._prefix: dict[str, list[int]] = {}
        self._scan: dict[str, list[int]] = {}  # suffix and infix first words, by script: tried on every word
        for phrase, label in phrases:
            tokens = _compile(phrase)
            if not tokens:
                continue
            index = len(self._phrases)
            self._phrases.append((tokens, label))
            first = tokens[0]
            if first.kind == "exact":
                self._exact.setdefault(first.value, []).append(index)
                if len(first.value) >= _TYPO_MIN:
                    for key in _deletes(first.value) | {first.value}:
                        self._fuzzy.setdefault(key, []).append(index)
            elif first.kind == "prefix":
                self._prefix.setdefault(first.value[:2], []).append(index)
            else:
                self._scan.setdefault(_script(first.value), []).append(index)

    def __len__(self) -> int:
        return len(self._phrases)

    def labels(self, text: str | list[str]) -> set[T]:
        """Labels of the phrases found in `text` (a string, or its `words()` already)."""
        tokens = words(text) if isinstance(text, str) else text
        found: set[T] = set()
        for i, word in enumerate(tokens):
            candidates = set(self._exact.get(word, ()))
            if len(word) >= _TYPO_MIN - 1:
                for key in _deletes(word) | {word}:
                    candidates.update(self._fuzzy.get(key, ()))
            candidates.update(self._prefix.get(word[:2], ()))
            if self._scan:
                candidates.update(self._scan.get(_script(word), ()))
            for index in candidates:
                phrase, label = self._phrases[index]
                if label not in found and phrase[0].matches(word) and _rest(phrase, 1, tokens, i + 1):
                    found.add(label)
        return found


def _script(word: str) -> str:
    """The script of a word by its first letter: an Arabic infix never matches a Latin word."""
    c = word[:1]
    return "arabic" if "\u0600" <= c <= "\u06ff" else "cyrillic" if "\u0400" <= c <= "\u04ff" else "other"


def _rest(phrase: tuple[_Token, ...], p: int, tokens: list[str], t: int) -> bool:
    if p == len(phrase):
        return True
    token = phrase[p]
    if token.kind == "gap":
        return any(_rest(phrase, p + 1, tokens, t + skip) for skip in range(_GAP + 1))
    return t < len(tokens) and token.matches(tokens[t]) and _rest(phrase, p + 1, tokens, t + 1)


# ---------------------------------------------------------------- the word lists

NOTLAGE, FRIST, WIDERSPRUCH = "notlage", "frist", "widerspruch"
FRIST_WITH_DATE, FRIST_RELATIVE, FRIST_DUTY = "frist.mit_datum", "frist.relativ", "frist.pflicht"
FRIST_DAY = "frist.tag"
SECTIONS = (NOTLAGE, FRIST, FRIST_WITH_DATE, FRIST_RELATIVE, FRIST_DUTY, FRIST_DAY, WIDERSPRUCH)
"""The sections a flag word list (data/inbox/flags/*.txt) may have."""


OwnFiles = tuple[tuple[Path, int], ...]
"""A tenant's own word-list files with their modification times (a cache key: an edited file
is read again)."""


def own_phrase_files(tenant_folder: Path | None, name: str) -> OwnFiles:
    """The tenant's own lists `<tenant folder>/<name>/<language>.txt` (name: "flags" or "cues")."""
    folder = Path(tenant_folder) / name if tenant_folder is not None else None
    if folder is None or not folder.is_dir():
        return ()
    return tuple((path, path.stat().st_mtime_ns) for path in sorted(folder.glob("*.txt")))


def read_phrase_folder(name: str, sections: Iterable[str], own: OwnFiles = ()) -> list[tuple[str, tuple[str, str]]]:
    """Phrases of `data/inbox/<name>/<language>.txt` and then of a tenant's own files of the
    same format (`own`), each labelled (section, language). Files hold `[section]` headers and
    one phrase per line; `#` starts a comment line. A malformed line raises DataFileError
    naming file and line."""
    folder = resources.files("amtslotse").joinpath("data", "inbox", name)
    phrases: list[tuple[str, tuple[str, str]]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".txt"):
            phrases += read_phrase_file(entry.read_text("utf-8"), f"{name}/{entry.name}", entry.name[:-4], sections)
    for path, _ in own:
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DataFileError(f"{path}: nicht lesbar ({error})") from None
        phrases += read_phrase_file(text, str(path), path.stem, sections)
    return phrases


def read_phrase_file(
    text: str, where: str, language: str, sections: Iterable[str], problems: list[tuple[int, str]] | None = None,
) -> list[tuple[str, tuple[str, str]]]:
    """The phrases of one word-list file, labelled (section, language). A malformed line
    raises DataFileError ("<where>, Zeile N: ..."), or, with a `problems` list, is added to
    it as (line, German message) and skipped (`amtslotse check` reports every one).

    >>> read_phrase_file("[notlage]\\nStrom .. gesperrt", "flags/de.txt", "de", ["notlage"])
    [('Strom .. gesperrt', ('notlage', 'de'))]
    """
    allowed, section = set(sections), None
    phrases: list[tuple[str, tuple[str, str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        problem = None
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            if section not in allowed:
                problem = f"unbekannter Abschnitt [{section}] (erlaubt: {', '.join(sorted(allowed))})"
                section = ""  # its phrases are skipped, without a problem each
        elif section is None:
            problem = "Wendung vor dem ersten [Abschnitt]"
        elif not section:
            continue
        elif not _compile(line):
            problem = f"„{line}“ enthält kein Wort"
        else:
            phrases.append((line, (section, language)))
        if problem is not None:
            if problems is None:
                raise DataFileError(f"{where}, Zeile {number}: {problem}")
            problems.append((number, problem))
    return phrases


@lru_cache(maxsize=32)
def _matcher(own: OwnFiles = ()) -> PhraseMatcher[tuple[str, str]]:
    """All phrases of data/inbox/flags/*.txt and of a tenant's own flags/*.txt, labelled
    (section, language)."""
    return PhraseMatcher(read_phrase_folder("flags", SECTIONS, own))


# ---------------------------------------------------------------- the flags

OBJECTION_WINDOW = timedelta(days=35)
"""A Bescheid this recent can still be objected to: one month (§ 84 SGG) plus the days until it
counts as received (§ 37 SGB X). Generous on purpose: a missed deadline costs more than a look."""


@dataclass(frozen=True)
class RuleFlags:
    """Flags found by rules, and why (reason codes for the audit log, never the text)."""

    flags: tuple[str, ...]
    reasons: tuple[str, ...]
    language: str


def rule_flags(
    text: str, today: date | None = None, dates: list | None = None, tenant_folder: Path | None = None,
) -> RuleFlags:
    """Flags of one message by rules.

    `today` is the date the message came in; None when it is unknown (an undated text): then
    any date a deadline cue belongs to counts, past or not, and a Bescheid date counts as
    recent (recall first). `dates`: the message's date fields if already extracted
    (fields.extract_dates), else they are extracted here. `tenant_folder`: the tenant's own
    folder (`InboxConfig.folder`), whose `flags/*.txt` add to the bundled phrases."""
    verdict = check(text)  # the Ask guard: urgent situations in six languages
    reasons: list[str] = []
    if verdict.urgent:
        reasons.append(f"notlage:guard.{verdict.urgent}")
    hits = _matcher(own_phrase_files(tenant_folder, "flags")).labels(text)
    sections = {section for section, _ in hits}
    reasons.extend(f"{section}:{language}" for section, language in sorted(hits) if section in (NOTLAGE, FRIST))
    if dates is None:
        dates = extract_dates(text, today)
    days = [(date.fromisoformat(str(d.value)), d.role) for d in dates if d.role != "geburtsdatum"]
    open_days = [(day, role) for day, role in days if today is None or day >= today]
    if any(role == "frist" for _, role in open_days):
        reasons.append("frist:datum")
    elif open_days and FRIST_WITH_DATE in sections:
        reasons.append("frist:wort+datum")
    if FRIST_RELATIVE in sections and FRIST_DUTY in sections:
        reasons.append("frist:relativ+pflicht")
    if WIDERSPRUCH in sections and any(
        role == "bescheid" and (today is None or today - OBJECTION_WINDOW <= day <= today) for day, role in days
    ):
        reasons.append("frist:widerspruch+bescheid")
    if any(r.startswith(NOTLAGE + ":") for r in reasons) and (open_days or FRIST_DAY in sections):
        # "Der Strom wird am Freitag abgestellt": the day of the cut-off is the deadline to act by.
        reasons.append("frist:notlage+tag")
    flags = tuple(f for f in (NOTLAGE, FRIST) if any(r.startswith(f + ":") for r in reasons))
    return RuleFlags(flags, tuple(reasons), verdict.language)
