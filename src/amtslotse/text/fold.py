"""Folding: the form in which rules, phrase lists and models match text.

- `normalize`: lower case, ä -> ae, other diacritics off, Arabic letter variants unified,
  invisible characters dropped (the guard's rules and the screening model; the patterns in
  data/guard/ are folded the same way by `fold_pattern`);
- `fold`: `normalize`, then ae/oe/ue -> a/o/u (the inbox's phrase lists and field cues);
- `plain_words`: `normalize` without punctuation and extra spaces: one key for one wording (the
  scope's benefit cues, the gap list's groups, a curated answer's phrasing asked word for word);
- `fix_typos`: known misspellings of cue words corrected (data/guard/typos.tsv);
- `unspace`: letter-spaced words joined ("i g n o r e" -> "ignore").

    >>> normalize("Ich weiß nicht, ob Ümit Çelik Geld bekommt")
    'ich weiss nicht, ob uemit celik geld bekommt'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_LETTER_FIX = str.maketrans({"ı": "i", "ł": "l", "đ": "d", "ø": "o", "ё": "е", "ـ": "",
                             "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
                             "’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"'})
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")  # zero-width tricks
    text = text.casefold().translate(_UMLAUTS).translate(_LETTER_FIX)
    out: list[str] = []
    for c in unicodedata.normalize("NFD", text):
        if unicodedata.combining(c) and out and out[-1].isascii():
            continue  # a diacritic on a Latin letter
        out.append(c)
    return _ARABIC_MARKS.sub("", unicodedata.normalize("NFC", "".join(out)))


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Lower-case, fold German umlauts to ae/oe/ue and ß to ss, strip other Latin diacritics
    (Turkish ç ş ğ ı, French é ...), unify Arabic letter variants, drop invisible characters.
    Cyrillic keeps its letters (й, ї). Patterns in data/guard/ are folded the same way."""
    return _SPACES.sub(" ", _fold(text)).strip()


def fold_pattern(pattern: str) -> str:
    """Fold a pattern like the text, letting an umlaut also match its plain vowel ("für"
    matches "fuer" and "fur"), because people without a German keyboard write both.
    Escapes (\\b, \\s, \\W ...) are kept as written."""
    parts = re.split(r"(\\.)", pattern)
    for i in range(0, len(parts), 2):
        part = unicodedata.normalize("NFKC", parts[i]).casefold()
        for umlaut, plain in (("ä", "a"), ("ö", "o"), ("ü", "u")):
            part = part.replace(umlaut, f"(?:{plain}e|{plain})")
        parts[i] = _fold(part)
    return "".join(parts)


LETTER_SPACED = re.compile(r"(?<!\w)\w(?:[ ._*\-]{1,4}\w(?!\w)){3,}")
"""A letter-spaced word ("i g n o r e"): four or more single letters with small gaps."""


def unspace(text: str) -> str:
    """Join letter-spaced words ("a l l e   A n w e i s u n g e n" -> "alle Anweisungen")."""
    return LETTER_SPACED.sub(lambda m: " ".join(re.sub(r"[\W_]+", "", w) for w in re.split(r"[ ._*\-]{2,}", m.group(0))), text)


@lru_cache(maxsize=1)
def _typo_map() -> dict[str, str]:
    """Known misspellings of cue words (data/guard/typos.tsv: wrong<TAB>right)."""
    text = resources.files("amtslotse").joinpath("data", "guard", "typos.tsv").read_text("utf-8")
    pairs = (line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {normalize(a): normalize(b) for a, b in pairs}


WORD = re.compile(r"\w+")


def fix_typos(text: str) -> str:
    typos = _typo_map()
    return WORD.sub(lambda m: typos.get(m.group(0), m.group(0)), text)


def plain_words(text: str) -> str:
    """`normalize`, then only the words, single-spaced: "Muß ich zur Straße?" and
    "muss ich  zur strasse" are one wording.

    >>> plain_words("Gibt es Geld für die  Brille?!")
    'gibt es geld fuer die brille'
    """
    return " ".join(_NOT_WORD.sub(" ", normalize(text)).split())


_NOT_WORD = re.compile(r"[^\w]+")
_PLAIN = (("ae", "a"), ("oe", "o"), ("ue", "u"))


def fold(text: str) -> str:
    """The inbox's matching form: `normalize` (lower case, ä -> ae, diacritics off), then
    ae/oe/ue -> a/o/u, so that "Räumung", "Raeumung" and "Raumung" are one word.

    >>> fold("Räumung"), fold("Raeumung"), fold("Raumung")
    ('raumung', 'raumung', 'raumung')
    """
    folded = normalize(text)
    for two, one in _PLAIN:
        folded = folded.replace(two, one)
    return folded
