"""Personal-data redaction: find personal data in a message and replace it by typed placeholders.

DESIGN: "Personal data is redacted before anything is stored in clear, logged, or sent to an LLM."

    >>> r = redact("Ich heiße Ayşe Demir, BG-Nummer 12345BG0012345.")
    >>> r.text
    'Ich heiße [NAME], BG-Nummer [BG-NUMMER].'
    >>> [(f.kind.value, f.start, f.end) for f in r.findings]
    [('NAME', 10, 20), ('BG-NUMMER', 32, 46)]

No German NER model ships offline, so this is rules, checksums, context cues and word lists
(data/privacy/). Each detector proposes spans; overlaps are resolved by a fixed priority (the
more certain kind wins: checksummed numbers before phone numbers, before addresses, before
names), so the result is deterministic. Findings carry offsets into the original text and no
clear value unless `keep_values=True` (the citizen's own view, the staff view).

Precision choices, in short: identifiers with a checksum (IBAN mod 97 with any grouping or
dashes, Steuer-ID ISO 7064 MOD 11,10, SV-Nummer and Krankenversichertennummer weighted digit
sums, the machine-readable Ausweisnummer ICAO 9303) are found anywhere; without a valid checksum
only after a cue ("Steuer-ID", "Versicherungsnummer", "KV-Nr.", "Personalausweis"). BG-Nummer
and Kundennummer have no public check digit: their format is distinctive enough. Dates are
personal next to a birth cue, right after a name ("Erika Pflaumbaum, 14.03.1985"), or, written
in full without a cue, when they lie BIRTH_MIN_YEARS or more back and no word before them makes
them another date ("seit", "Mietvertrag vom"): deadlines and Bescheid dates stay, staff and
triage need them. Month names and date parsing come from text/dates.py (shared with the inbox).
E-mail addresses count also written "name at domain dot de", "name (at) domain (punkt) de".
Names are found after cues ("ich heiße", "Frau", "mein Sohn", "Mit freundlichen Grüßen"; in
lower case with the lower-case surname: "hier ist erika pflaumbaum"), as a known first name
before a surname, as "Nachname, Vorname", and as a known first name alone only where names
stand (greeting, signature, "Noah (3)", "Lea und Tim").

Known limits: names in lower case without a cue ("mfg h. wagner"), a surname alone without a
cue ("bei Kaya klingeln"), streets without a street word ("Rue de la Paix 12"), and public
contact data of institutions, which is redacted like a person's.
"""

from __future__ import annotations

import bisect
import re
from datetime import date
import unicodedata
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from amtslotse.search.analysis import lexicon, split_compound, stopwords
from amtslotse.text.dates import FULL_DATE_PATTERN, parse_full_date, plain_digits

_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})  # the folding lexicon() uses


class Kind(StrEnum):
    """Kinds of personal data; the value is the placeholder text between brackets."""

    NAME = "NAME"
    BG_NUMMER = "BG-NUMMER"  # Bedarfsgemeinschaftsnummer (household case number)
    KUNDENNUMMER = "KUNDENNUMMER"  # customer number of the Bundesagentur für Arbeit
    IBAN = "IBAN"
    TELEFON = "TELEFON"
    E_MAIL = "E-MAIL"
    ADRESSE = "ADRESSE"
    GEBURTSDATUM = "GEBURTSDATUM"
    STEUER_ID = "STEUER-ID"  # Steuer-Identifikationsnummer (tax id)
    SV_NUMMER = "SV-NUMMER"  # Sozial-/Rentenversicherungsnummer (social insurance number)
    KV_NUMMER = "KV-NUMMER"  # Krankenversichertennummer (health insurance number, on the eGK)
    AUSWEISNUMMER = "AUSWEISNUMMER"  # number of a Personalausweis or passport

    @property
    def placeholder(self) -> str:
        return f"[{self.value}]"


# When two findings of different kinds overlap, the one listed first wins.
_PRIORITY = {k: i for i, k in enumerate([
    Kind.E_MAIL, Kind.IBAN, Kind.BG_NUMMER, Kind.KUNDENNUMMER, Kind.SV_NUMMER, Kind.KV_NUMMER, Kind.STEUER_ID,
    Kind.AUSWEISNUMMER, Kind.GEBURTSDATUM, Kind.TELEFON, Kind.ADRESSE, Kind.NAME,
])}


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: `start`/`end` index the original text. `value` (the clear
    text) is only set when asked for with `keep_values=True`."""

    kind: Kind
    start: int
    end: int
    value: str | None = None

    def to_dict(self) -> dict:
        out = {"kind": self.kind.value, "start": self.start, "end": self.end}
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(frozen=True, slots=True)
class Redaction:
    """The redacted text (each finding replaced by its placeholder) and what was found."""

    text: str
    findings: list[Finding]


def redact(text: str, keep_values: bool = False) -> Redaction:
    """Replace every piece of personal data in `text` by a placeholder such as `[NAME]`."""
    findings = mark(text, keep_values=keep_values)
    parts: list[str] = []
    last = 0
    for f in findings:
        parts.append(text[last:f.start])
        parts.append(f.kind.placeholder)
        last = f.end
    parts.append(text[last:])
    return Redaction("".join(parts), findings)


def mark(text: str, keep_values: bool = False) -> list[Finding]:
    """The findings in `text`, sorted by position, not overlapping (for UIs that highlight)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if not text:
        return []
    spans: list[tuple[int, int, Kind]] = []
    # Every kind but names needs a digit (or "@"): most chat messages skip those scans.
    detectors = _DETECTORS if _ANY_DIGIT.search(text) else (_find_email, _find_names)
    for detector in detectors:
        spans.extend(detector(text))
    if detectors is _DETECTORS:
        spans.extend(_dates_after_names(text, spans))
    chosen = _resolve(text, spans)
    return [Finding(k, s, e, text[s:e] if keep_values else None) for s, e, k in chosen]


_ANY_DIGIT = re.compile(r"[0-9\u0660-\u0669\u06f0-\u06f9]")  # Arabic-Indic digits too


def _resolve(text: str, spans: list[tuple[int, int, Kind]]) -> list[tuple[int, int, Kind]]:
    # 1. Join overlapping spans of one kind, and addresses/names that only a separator parts
    #    ("Hauptstraße 12, 12345 Musterstadt" is one address).
    by_kind: dict[Kind, list[list[int]]] = {}
    for s, e, k in sorted(spans, key=lambda x: (x[2], x[0], x[1])):
        runs = by_kind.setdefault(k, [])
        if runs and (s < runs[-1][1] or _joinable(text, k, runs[-1][1], s)):
            runs[-1][1] = max(runs[-1][1], e)
        else:
            runs.append([s, e])
    # 2. Across kinds: the higher priority wins an overlap (kept sorted: O(n log n) lookups).
    starts: list[int] = []
    taken: list[tuple[int, int, Kind]] = []
    for k in sorted(by_kind, key=_PRIORITY.__getitem__):
        for s, e in by_kind[k]:
            i = bisect.bisect_right(starts, s)
            if (i == 0 or taken[i - 1][1] <= s) and (i == len(taken) or taken[i][0] >= e):
                starts.insert(i, s)
                taken.insert(i, (s, e, k))
    return taken


_ADDRESS_GAP = re.compile(r"[ \t]{0,3}[,;]?[ \t]{0,3}(?:\r?\n[ \t]{0,3})?")


def _joinable(text: str, kind: Kind, end: int, start: int) -> bool:
    gap = text[end:start]
    if kind is Kind.ADRESSE:
        return len(gap) <= 12 and _ADDRESS_GAP.fullmatch(gap) is not None
    if kind is Kind.NAME:
        return gap in (" ", "\t")
    return False


# ---------------------------------------------------------------- word lists and helpers

def _read_list(name: str) -> list[str]:
    text = resources.files("amtslotse").joinpath("data", "privacy", name).read_text("utf-8")
    return [w.strip() for w in text.splitlines() if w.strip() and not w.lstrip().startswith("#")]


_LETTER_FIX = str.maketrans({"ı": "i", "İ": "I", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
                             "ø": "o", "Ø": "O", "ß": "ss", "ё": "е", "Ё": "Е"})


@lru_cache(maxsize=100_000)
def _key(word: str) -> str:
    """Case- and diacritics-insensitive form: "Yılmaz", "YILMAZ", "Yilmaz" -> "yilmaz"."""
    word = unicodedata.normalize("NFKD", word.translate(_LETTER_FIX))
    return "".join(c for c in word if not unicodedata.combining(c)).casefold().replace("’", "'")


class _WordLists(NamedTuple):
    first: frozenset[str]  # first names used in Germany
    surnames: frozenset[str]  # common surnames: count only next to a first name or after a cue
    ambiguous: frozenset[str]  # first names that are also words ("Mark", "Nur", "Can")
    not_names: frozenset[str]  # roles, institutions, months... never a name after a cue


@lru_cache(maxsize=1)
def _lists() -> _WordLists:
    not_names = frozenset(_key(w) for w in _read_list("not_names.txt"))
    return _WordLists(
        first=frozenset(_key(w) for w in _read_list("first_names.txt")) - not_names,
        surnames=frozenset(_key(w) for w in _read_list("surnames.txt")) - not_names,
        ambiguous=frozenset(_key(w) for w in _read_list("ambiguous_first_names.txt")),
        not_names=not_names,
    )


def _is_first(tok: str) -> bool:
    first = _lists().first
    k = _key(tok)
    if k in first:
        return True
    parts = k.split("-")  # "Anna-Katharina": every part a first name
    return len(parts) > 1 and all(p in first for p in parts)


def _is_surname(tok: str) -> bool:
    return _key(tok) in _lists().surnames


def _is_ambiguous(tok: str) -> bool:
    return _key(tok) in _lists().ambiguous


def _is_not_name(tok: str) -> bool:
    return _key(tok) in _lists().not_names or tok.lower() in stopwords()


def _caseless(ch: str) -> bool:
    return not ch.isupper() and not ch.islower()


def _cap(tok: str) -> bool:
    """Capitalised, or in a script without case (Arabic)."""
    return tok[0].isupper() or _caseless(tok[0])


_NOUN_ENDINGS = ("ung", "heit", "keit", "schaft", "geld", "amt", "antrag", "leistung", "tion",
                 "itat", "nis", "tum", "zeit", "kosten", "miete", "stelle", "center", "bescheid")
_INFLECTIONS = ("e", "en", "n", "er", "es", "s", "in", "innen", "ern", "em", "nen")


@lru_cache(maxsize=50_000)
def _is_common(tok: str) -> bool:
    """An ordinary German word (so probably not a surname): lexicon, stopword or compound."""
    low = tok.lower()
    if low in stopwords():
        return True
    folded = low.translate(_FOLD)
    lex = lexicon()
    if folded in lex:
        return True
    for ending in _INFLECTIONS:
        if folded.endswith(ending) and len(folded) - len(ending) >= 3 and folded[: -len(ending)] in lex:
            return True
    return bool(split_compound(low)) or folded.endswith(_NOUN_ENDINGS)


_SURNAME_ENDINGS = ("mann", "müller", "meier", "meyer", "maier", "mayer", "berger", "schmidt", "huber")


def _surname_like(tok: str) -> bool:
    """Could be a surname after a first name: listed, or capitalised and not an ordinary word
    (a compound like "Feldmann" or "Obermaier" counts when it ends like a surname)."""
    if _is_not_name(tok):
        return False
    if _is_surname(tok) or _is_first(tok):
        return True
    if _caseless(tok[0]):
        return tok.startswith(("ال", "بن", "اب"))
    if not tok[0].isupper() or len(tok) < 2:
        return False
    low = tok.lower()
    if low.endswith(_SURNAME_ENDINGS) and len(low) > 6 and low.translate(_FOLD) not in lexicon():
        return True
    return not _is_common(tok)


# ---------------------------------------------------------------- numbers with checksums

_IBAN_LENGTHS = {
    "DE": 22, "AT": 20, "CH": 21, "LI": 21, "NL": 18, "BE": 16, "LU": 20, "FR": 27, "IT": 27,
    "ES": 24, "PT": 25, "GB": 22, "IE": 22, "DK": 18, "NO": 15, "SE": 24, "FI": 18, "PL": 28,
    "CZ": 24, "SK": 24, "HU": 28, "SI": 19, "HR": 21, "BA": 20, "RS": 22, "ME": 22, "MK": 19,
    "AL": 28, "XK": 20, "GR": 27, "BG": 22, "RO": 24, "MD": 24, "UA": 29, "BY": 28, "RU": 33,
    "LT": 20, "LV": 21, "EE": 20, "TR": 26, "GE": 22, "AZ": 28, "IL": 23, "PS": 29, "JO": 30,
    "LB": 28, "SA": 24, "AE": 23, "IQ": 23, "EG": 29, "TN": 24, "MA": 28, "CY": 28, "MT": 31,
}
# Separators as people write them: groups of four, odd groups, dashes ("DE44-5001-...",
# "DE 44 500 105 17 ..."); the checksum keeps out what only looks like an IBAN.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[ \-]?[0-9]{2}(?:[ \-]{0,2}[A-Z0-9]){10,32}")
_IBAN_SEPARATORS = re.compile(r"[ \-]")


def iban_valid(candidate: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to 10..35, mod 97 == 1."""
    s = _IBAN_SEPARATORS.sub("", candidate).upper()
    if not 15 <= len(s) <= 34 or not s.isalnum() or not s.isascii():
        return False
    return int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97 == 1


def _find_iban(text: str):
    for m in _IBAN.finditer(text):
        raw = m.group()
        compact = _IBAN_SEPARATORS.sub("", raw).upper()
        known = _IBAN_LENGTHS.get(compact[:2])
        lengths = [known] if known else range(min(len(compact), 34), 14, -1)
        for n in lengths:
            if n <= len(compact) and iban_valid(compact[:n]):
                end = m.start()
                seen = 0
                while seen < n:  # map n characters of the compact form back onto the text
                    if text[end] not in " -":
                        seen += 1
                    end += 1
                yield m.start(), end, Kind.IBAN
                break


_STEUER = re.compile(r"(?<![0-9A-Za-z.,/])[0-9](?:[ ]?[0-9]){10}(?![0-9])")
_STEUER_CUE = re.compile(
    r"(?i:steuer[- ]?id(?:entifikationsnummer)?|steuerliche identifikationsnummer|"
    r"identifikationsnummer|id[- ]?nr\.?|tax[- ]?id|tin\b|vergi (?:kimlik )?numaras[ıi])"
    r"[^0-9\n]{0,25}$")


def steuer_id_valid(number: str) -> bool:
    """Steuer-ID: 11 digits, no leading 0; in the first ten one digit occurs twice or three
    times (three never in a row), the others at most once; last digit ISO 7064 MOD 11,10."""
    d = number.replace(" ", "")
    if len(d) != 11 or not d.isdigit() or d[0] == "0":
        return False
    counts = Counter(d[:10])
    repeated = [c for c, n in counts.items() if n > 1]
    if len(repeated) != 1 or counts[repeated[0]] > 3:
        return False
    if counts[repeated[0]] == 3 and repeated[0] * 3 in d[:10]:
        return False
    product = 10
    for ch in d[:10]:
        total = (int(ch) + product) % 10 or 10
        product = total * 2 % 11
    check = 11 - product
    return (0 if check == 10 else check) == int(d[10])


def _find_steuer_id(text: str):
    for m in _STEUER.finditer(text):
        if steuer_id_valid(m.group()) or _STEUER_CUE.search(text, max(0, m.start() - 60), m.start()):
            yield m.start(), m.end(), Kind.STEUER_ID


_SV = re.compile(
    r"(?<![0-9A-Za-z])([0-9]{2})[ ]?([0-9]{2})([0-9]{2})([0-9]{2})[ ]?([A-Za-z])[ ]?([0-9]{2})[ ]?([0-9])"
    r"(?![0-9A-Za-z])")
_SV_CUE = re.compile(
    r"(?i:sozialversicherungs-?nummer|rentenversicherungs-?nummer|versicherungsnummer|"
    r"sv-?nummer|rv-?nummer|sv-?nr\.?|social security number|sigorta numaras[ıi])[^0-9\n]{0,25}$")
_SV_WEIGHTS = (2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1)


def sv_nummer_valid(number: str) -> bool:
    """Versicherungsnummer: area(2) birth date DDMMYY(6) letter serial(2) check(1). The letter
    becomes its two-digit alphabet position; the check digit is the sum of the digit sums of
    the 12 digits times 2,1,2,5,7,1,2,1,2,1,2,1, modulo 10."""
    m = _SV.fullmatch(number.strip())
    if not m:
        return False
    area, dd, mm, yy, letter, serial, check = m.groups()
    if not (1 <= int(dd) <= 31 and 1 <= int(mm) <= 12):
        return False
    digits = area + dd + mm + yy + f"{ord(letter.upper()) - 64:02d}" + serial
    total = sum(sum(map(int, str(int(a) * w))) for a, w in zip(digits, _SV_WEIGHTS))
    return total % 10 == int(check)


def _find_sv(text: str):
    for m in _SV.finditer(text):
        if sv_nummer_valid(m.group()) or _SV_CUE.search(text, max(0, m.start() - 60), m.start()):
            yield m.start(), m.end(), Kind.SV_NUMMER


# ---------------------------------------------------------------- KV-Nummer, Ausweisnummer

_KV = re.compile(r"(?<![0-9A-Za-z])[A-Za-z](?:[ ]?[0-9]){9}(?![0-9A-Za-z])")
_KV_CUE = re.compile(
    r"(?i:kranken-?versicherten-?(?:nummer|nr\.?)|versicherten-?(?:nummer|nr\.?)|kv-?(?:nummer|nr\.?)|kvnr|"
    r"krankenversicherungs-?(?:nummer|nr\.?)|krankenkassen-?(?:nummer|nr\.?)|gesundheitskarte|egk|"
    r"health insurance number|sağlık sigortası numarası)[^0-9\n]{0,25}$")


def kv_nummer_valid(number: str) -> bool:
    """Krankenversichertennummer: a letter and nine digits, the last a check digit. The letter
    becomes its two-digit alphabet position (A = 01); over those ten digits, weights 1,2,1,2,...;
    the sum of the products' digit sums modulo 10 is the check digit."""
    s = number.replace(" ", "").upper()
    if len(s) != 10 or not s[0].isascii() or not s[0].isalpha() or not s[1:].isdigit():
        return False
    digits = f"{ord(s[0]) - 64:02d}" + s[1:9]
    total = sum(sum(map(int, str(int(d) * (1 if i % 2 == 0 else 2)))) for i, d in enumerate(digits))
    return total % 10 == int(s[9])


def _find_kv(text: str):
    for m in _KV.finditer(text):
        if kv_nummer_valid(m.group()) or _KV_CUE.search(text, max(0, m.start() - 60), m.start()):
            yield m.start(), m.end(), Kind.KV_NUMMER


# The number of a Personalausweis or passport: 9 characters (since 2010 letters and digits
# from CFGHJKLMNPRTVWXYZ0-9; older ones 9-10 digits), after a cue; the machine-readable form
# with its ICAO check digit (10 characters) also without one.
_AUSWEIS = re.compile(r"(?<![0-9A-Za-z])(?=[A-Za-z]{0,9}[0-9])[A-Za-z0-9]{8,10}(?![0-9A-Za-z])")
_AUSWEIS_MRZ = re.compile(r"(?<![0-9A-Za-z])[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}[0-9](?![0-9A-Za-z])")
_AUSWEIS_CUES = (
    r"personalausweis\w*|ausweis-?(?:nummer|nr\.?)|(?:personal)?ausweis|perso-?(?:nummer|nr\.?)|"
    r"id-?karte|id[- ]card(?: number| no\.?)?|identity card(?: number)?|reisepass\w*|pass-?(?:nummer|nr\.?)|"
    r"passport(?: number| no\.?)?|kimlik(?: kartı| karti)?(?: no| numarası| numarasi)?|pasaport(?: no| numarası)?|"
    r"номер паспорта|паспорт\w*|посвідчення|رقم الجواز|جواز السفر|رقم الهوية|بطاقة الهوية")
_AUSWEIS_CUE = re.compile(rf"(?i:{_AUSWEIS_CUES})[^0-9\n]{{0,25}}$")
_AUSWEIS_HINTS = ("ausweis", "perso", "id-karte", "idkarte", "id card", "id-card", "identity", "pass", "pasaport", "kimlik",
                  "паспорт", "посвідчення", "الجواز", "الهوية")
_ICAO_WEIGHTS = (7, 3, 1)


def ausweis_check_valid(number: str) -> bool:
    """ICAO 9303 check digit of a document number (9 characters + check digit): digits count
    as themselves, letters A-Z as 10-35, weights 7, 3, 1 repeated, sum modulo 10."""
    s = number.upper()
    if len(s) != 10 or not s.isascii() or not s.isalnum() or not s[9].isdigit():
        return False
    total = sum(int(c, 36) * _ICAO_WEIGHTS[i % 3] for i, c in enumerate(s[:9]))
    return total % 10 == int(s[9])


def _find_ausweis(text: str):
    low = text.lower()
    if any(hint in low for hint in _AUSWEIS_HINTS):
        for m in _AUSWEIS.finditer(text):
            if _AUSWEIS_CUE.search(text, max(0, m.start() - 60), m.start()):
                yield m.start(), m.end(), Kind.AUSWEISNUMMER
    for m in _AUSWEIS_MRZ.finditer(text):
        if ausweis_check_valid(m.group()) and sum(c.isdigit() for c in m.group()) < 10:
            yield m.start(), m.end(), Kind.AUSWEISNUMMER


# ---------------------------------------------------------------- ids of the Jobcenter

_BG = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ ]?[0-9]){4}[ \-]?[Bb][Gg][ \-]?[0-9](?:[ ]?[0-9]){6}(?![0-9])")
_KUNDE = re.compile(r"(?<![0-9A-Za-z])[0-9]{3}[ ]?[A-Za-z][ ]?[0-9]{3}[ ]?[0-9]{3}(?![0-9])")  # usually D, other letters exist


def _find_bg(text: str):
    for m in _BG.finditer(text):
        yield m.start(), m.end(), Kind.BG_NUMMER


def _find_kundennummer(text: str):
    for m in _KUNDE.finditer(text):
        yield m.start(), m.end(), Kind.KUNDENNUMMER


# ---------------------------------------------------------------- e-mail and telephone

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[^\W\d_]{2,24}(?![\w-])")


# Written to fool address harvesters: "erika.p at gmx dot de", "erika (at) gmx (punkt) de",
# "erika[at]web.de", "erika @ gmx . de". The spelled-out forms need a known top-level domain.
_AT = r"(?:[ \t]*[(\[{<][ \t]*(?:at|ät|@)[ \t]*[)\]}>][ \t]*|[ \t]+(?:at|ät|@)[ \t]+|[ \t]+@|@[ \t]+)"
_DOT = r"(?:[ \t]*[(\[{<][ \t]*(?:dot|punkt|point|\.)[ \t]*[)\]}>][ \t]*|[ \t]+(?:dot|punkt|point|\.)[ \t]+|\.)"
_TLDS = (r"de|at|ch|li|lu|com|net|org|eu|info|biz|io|me|email|online|nl|be|fr|it|es|pt|pl|cz|sk|hu|ro|bg|hr|"
         r"si|rs|ba|al|gr|tr|ru|ua|by|md|ge|am|az|kz|uk|ie|dk|se|no|fi|ee|lv|lt|us|ca|edu|gov|sy|iq|ir|af|"
         r"eg|ma|tn|dz|lb|jo|sa|ae|er|et|so|ng|gh|in|pk|vn|cn")
_EMAIL_SPELLED = re.compile(
    rf"(?i)(?<![\w.+-])[\w.+-]{{1,64}}{_AT}[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{0,4}}?{_DOT}(?:{_TLDS})(?![\w-])")
_SPELLED_HINTS = (" at ", "(at)", "[at]", "{at}", "<at>", " ät ", "(ät)", "[ät]", "( at )", "[ at ]", " @", "@ ")


def _find_email(text: str):
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield m.start(), m.end(), Kind.E_MAIL
    low = text.lower()
    if any(hint in low for hint in _SPELLED_HINTS):
        for m in _EMAIL_SPELLED.finditer(text):
            yield m.start(), m.end(), Kind.E_MAIL


# A run that starts like a phone number: +49, 0049, (030), 030, 0151 ...
_PHONE = re.compile(r"(?<![\w+/.,:\-])(?:\+|\(0|0)[0-9 ()/\-]{4,24}[0-9](?![0-9]|[.,][0-9]|\w)")
_PHONE_CUE = re.compile(
    r"(?i:(?<!\w)(?:tel(?:efon)?(?:nummer|nr)?|tel\.?[ -]?nr|handy(?:nummer)?|mobil(?:nummer|telefon|funk)?|"
    r"rufnummer|festnetz(?:nummer)?|fax|phone(?: number)?|mobile|cell|whatsapp|telefon numaram|"
    r"telefon numarası|телефон|номер телефона|номер телефону|тел|هاتف|جوال|رقم الهاتف))"
    r"\.?[ \t]{0,3}(?:[:.]|ist|lautet|is)?[ \t]{0,3}(?:[:.])?[ \t]{0,3}(\+?[0-9][0-9 ()/\-]{3,22}[0-9])(?![0-9]|\w)")
_DATE_LIKE = re.compile(r"(0?[1-9]|[12][0-9]|3[01])[ ./\-](0?[1-9]|1[0-2])[ ./\-](?:[0-9]{2}|[0-9]{4})")
_AFTER_AMOUNT = re.compile(r"[ \t]*(?:€|eur\b|euro|uhr|%|h\b|std|stunden|km|qm|m²|jahre|monate|tage|minuten)", re.I)
_IBAN_BEFORE = re.compile(r"[A-Z]{2}[0-9]{2}(?:[ ]?[0-9A-Z]{4})*[ ]?$")


def _phone_ok(text: str, start: int, end: int, min_digits: int) -> bool:
    run = text[start:end]
    digits = sum(c.isdigit() for c in run)
    if run.startswith("00"):
        digits -= 2
    if not min_digits <= digits <= 15 or "  " in run or "//" in run or "--" in run:
        return False
    if run.count("(") != run.count(")") or _DATE_LIKE.fullmatch(run):
        return False
    if _AFTER_AMOUNT.match(text, end) or _IBAN_BEFORE.search(text, max(0, start - 40), start):
        return False
    return True


def _find_phone(text: str):
    for m in _PHONE.finditer(text):
        if _phone_ok(text, m.start(), m.end(), 7):
            yield m.start(), m.end(), Kind.TELEFON
    for m in _PHONE_CUE.finditer(text):
        if _phone_ok(text, m.start(1), m.end(1), 5):
            yield m.start(1), m.end(1), Kind.TELEFON


# ---------------------------------------------------------------- date of birth

_DATE = FULL_DATE_PATTERN  # text/dates.py: the one home of month names (all our languages)
_DOB_CUES = (
    r"geboren|geb\.|geb(?=[ ]{1,3}am)|geburtsdatum|geburtstag|geb\.?-?datum|date of birth|birth ?date|"
    r"born|dob|d\.o\.b\.|doğum tarihi[m]?|dogum tarihi[m]?|doğdum|doğumlu|дата рождения|"
    r"родился|родилась|дата народження|народився|народилася|تاريخ الميلاد|تاريخ ميلادي|مواليد|"
    r"urodzon[ya]|data urodzenia|născut|născută|data nașterii")
_DOB_AFTER_CUE = re.compile(rf"(?i:(?<!\w)(?:{_DOB_CUES}))[^\n0-9.!?;]{{0,30}}?(?P<date>(?i:{_DATE}))")
_DOB_BEFORE_CUE = re.compile(  # "ist am 03.10.2007 geboren"
    rf"(?<![\w.])(?P<date>(?i:{_DATE}))[ \t]{{1,3}}(?i:(?:in [^\W\d_]+[ \t]+)?geboren\b)")
_THRESHOLD = re.compile(r"(?i:vor dem|nach dem|bis zum|ab dem|before|after)[ \t]{1,3}$")
_DOB_STAR = re.compile(r"(?<![\w*])\*[ ]?(?P<date>[0-9]{1,2}\.[0-9]{1,2}\.(?:19|20)?[0-9]{2})(?![0-9])")


# A complete numeric date without a cue is taken for a birth date when it lies at least
# BIRTH_MIN_YEARS back (a deadline, a Bescheid or a payment never does) and no word before it
# makes it another date ("seit", "Mietvertrag vom"); or when it follows a name ("Erika
# Pflaumbaum, 14.03.1985": see _dates_after_names), whatever its year.
BIRTH_MIN_YEARS = 14
_NUMERIC_FULL = re.compile(
    r"(?<![\w.,/\-])(?P<date>[0-9]{1,2}[./\-][0-9]{1,2}[./\-](?:19|20)?[0-9]{2}|(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2})"
    r"(?![\w/\-]|[.,][0-9])")
_OTHER_DATE_BEFORE = re.compile(
    r"(?i:(?<!\w)(?:vom|von|seit|ab|bis|zum|zur|am|im|datiert|bescheid\w*|schreiben|brief|\w*vertrag\w*|antrag|"
    r"frist\w*|termin\w*|g(?:ü|ue)ltig\w*|eingezogen|umgezogen|zugezogen|eingereist|angemeldet|heirat\w*|verheiratet|"
    r"geschieden|getrennt|gestorben|verstorben|dated|since|from|until|valid|issued|ausgestellt)[ \t:,]{0,3}$)")


def _likely_birth_date(text: str, start: int, written: str, today: date) -> bool:
    born = parse_full_date(written, today)
    if born is None or born.year < 1900 or _OTHER_DATE_BEFORE.search(text, max(0, start - 30), start):
        return False
    return born <= date(today.year - BIRTH_MIN_YEARS, today.month, min(today.day, 28))


def _find_dob(text: str):
    text = plain_digits(text)  # "١٥ مارس ١٩٩٠": same length, offsets stay
    patterns = [_DOB_AFTER_CUE]
    if "eboren" in text:  # the other two are rare: skip their scan when they cannot match
        patterns.append(_DOB_BEFORE_CUE)
    if "*" in text:
        patterns.append(_DOB_STAR)
    for pattern in patterns:
        for m in pattern.finditer(text):
            if pattern is _DOB_BEFORE_CUE and _THRESHOLD.search(text, max(0, m.start() - 12), m.start()):
                continue  # "Personen, die vor dem 1. Januar 1947 geboren sind": a cut-off, not a birthday
            yield m.start("date"), m.end("date"), Kind.GEBURTSDATUM
    today = date.today()
    for m in _NUMERIC_FULL.finditer(text):
        if _likely_birth_date(text, m.start(), m.group("date"), today):
            yield m.start("date"), m.end("date"), Kind.GEBURTSDATUM


_AFTER_NAME = re.compile(r"[ \t]{0,2}(?:[,(][ \t]{0,2}|[ \t]-[ \t])?(?:\*[ \t]?|geb\.?[ \t]{0,2})?")


def _dates_after_names(text: str, spans: list[tuple[int, int, Kind]]):
    """A complete date right after a name is that person's birth date: "Lea Pflaumbaum
    (02.05.2019)", "Pflaumbaum, Erika, 14.3.85"."""
    plain = None
    for _, end, kind in spans:
        if kind is not Kind.NAME:
            continue
        plain = plain if plain is not None else plain_digits(text)
        gap = _AFTER_NAME.match(plain, end)
        m = _NUMERIC_FULL.match(plain, gap.end()) if gap else None
        if m and parse_full_date(m.group("date")) is not None:
            yield m.start("date"), m.end("date"), Kind.GEBURTSDATUM


# ---------------------------------------------------------------- postal addresses

_UP = "A-ZÄÖÜ"
_LOW = "a-zäöüßéèáàóòíìúùâêîôûçñ"
_STREET_SUFFIX = (
    r"stra(?:ß|ss)e|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|steig|stieg|pfad|"
    r"promenade|zeile|graben|wall|kamp|markt|anger|deich|twiete")
_STREET_WORD = (
    r"Stra(?:ß|ss)e|Str\.|Weg|Gasse|Allee|Platz|Ring|Damm|Ufer|Chaussee|Steig|Stieg|Pfad|"
    r"Promenade|Zeile|Graben|Wall|Kamp|Markt|Anger|Deich|Twiete")
_HOUSE = r"[ ]?(?P<num>[0-9]{1,4}(?:[ ]?[a-zA-Z](?![\w]))?(?:[ ]?[-/][ ]?[0-9]{1,4}[a-zA-Z]?)?)(?![0-9]|[.,][0-9])"
_PREPOSITIONS = (
    r"Am|Im|Beim|Zum|Zur|An der|An den|An dem|Auf der|Auf dem|Auf den|In der|In den|Hinter der|"
    r"Hinter dem|Hinter den|Unter den|Unter der|Vor dem|Vor der|Vor den|Neben der|Alt")
_STREET = re.compile(
    rf"(?<![\w\-])(?P<street>"
    rf"(?:{_PREPOSITIONS})[ ](?P<prepnoun>(?:[{_UP}][{_LOW}]+[ ])?[{_UP}][{_LOW}]+(?:-[{_UP}{_LOW}][{_LOW}]+)*)"
    rf"|[{_UP}][{_LOW}]*(?:-[{_UP}{_LOW}][{_LOW}]*)*?(?:{_STREET_SUFFIX}|-(?:{_STREET_WORD}))"
    rf"|[a-zäöü][{_LOW}]{{2,}}(?:stra(?:ß|ss)e|str\.)"
    rf"|(?P<adj>[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)*)[ ](?:{_STREET_WORD})"
    rf"|(?P<adj2>[{_UP}][{_LOW}]+e[rs]?)[ ][{_UP}][{_LOW}]*(?:{_STREET_SUFFIX}))"
    rf"{_HOUSE}")
_NOT_STREETS = frozenset({
    "arbeitsplatz", "ausbildungsplatz", "studienplatz", "kitaplatz", "krippenplatz", "schulplatz",
    "kindergartenplatz", "parkplatz", "stellplatz", "spielplatz", "sportplatz", "praktikumsplatz",
    "therapieplatz", "heimplatz", "pflegeplatz", "wohnheimplatz", "arbeitsweg", "schulweg",
    "heimweg", "rechtsweg", "umweg", "ausweg", "postweg", "arbeitsmarkt", "wohnungsmarkt",
    "binnenmarkt", "flohmarkt", "supermarkt", "ehering", "freundeskreis", "platz", "weg", "markt",
    "ring", "wall", "graben", "damm"})
_NOT_PLACE_NOUNS = frozenset(_key(w) for w in (
    "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonnabend Sonntag Wochenende Januar "
    "Februar März April Mai Juni Juli August September Oktober November Dezember Anfang Ende Tag "
    "Morgen Abend Jahr Monat Moment Zeitraum Rahmen Fall Vergleich Gesamt Haushalt Team Raum "
    "Zimmer Schalter Erdgeschoss Haus Anhang Anlage Absatz Abschnitt Kapitel Punkt Satz Nummer "
    "Seite Bescheid Schreiben Brief Antrag Formular Durchschnitt Schnitt Beispiel Alter Termin "
    "Quartal Halbjahr Semester Winter Sommer Frühjahr Herbst Jobcenter Büro Gebäude Stock "
    "Obergeschoss Untergeschoss Warteraum Wartebereich Paragraph Paragraf Gesetz Grunde Prinzip "
    "Vorjahr Folgemonat Vormonat Moment Augenblick Schnitt Notfall Regelfall Einzelfall Jahren Jahre "
    "Jahres Monaten Monate Tagen Wochen Zeiten Zeit Hause").split())
_STREET_CUE = re.compile(r"(?i:wohne|wohnen|wohnt|adresse|anschrift|wohnhaft|umgezogen|ziehe|ziehen|address|adres)[^\n]{0,20}$")
_AFTER_HOUSE = re.compile(r"[ \t]*(?:$|[,;.!?)\n]|in\b|bei\b|und\b|[0-9]{5}\b)")
_PLZ = re.compile(
    rf"(?<![\w.,/\-])(?:D-)?(?P<plz>[0-9]{{5}})[ ]{{1,3}}(?P<city>[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)*)"
    rf"(?:[ ](?:am|an der|an|im|in|ob|bei|vor der|a\.|i\.)[ ][{_UP}][{_LOW}]+\.?)?"
    rf"(?:[ ]?\([{_UP}][{_LOW}. ]{{1,30}}\))?")
_NOT_CITIES = frozenset(_key(w) for w in (
    "Euro Eur Einwohner Menschen Personen Haushalte Kunden Kundinnen Leistungsberechtigte "
    "Bedarfsgemeinschaften Anträge Antraege Fälle Stellen Arbeitslose Beschäftigte Mitarbeiter "
    "Mitarbeitende Kinder Familien Jugendliche Besucher Schüler Studierende Mal Stück Stunden Tage "
    "Jahre Monate Seiten Zeichen Wörter Punkte Kilometer Meter Dollar Franken Lira Rubel Zloty "
    "Teilnehmende Teilnehmer Plätze Wohnungen Nutzer Bewerbungen Bescheide Widersprüche Klagen "
    "Anrufe Nachrichten Mails Briefe Termine Euros Cent Kilo Gramm Liter Minuten Sekunden Fällen "
    "Haushalten Tagen Jahren Monaten Wochen Anträgen Bescheiden Widersprüchen Kindern Fall").split())


def _find_address(text: str):
    for m in _STREET.finditer(text):
        street = m.group("street")
        if street.lower() in _NOT_STREETS or any(c.isdigit() for c in street):
            continue
        if _AFTER_AMOUNT.match(text, m.end()):
            continue
        adj = m.group("adj") or m.group("adj2")
        if adj and (adj.lower() in stopwords() or _key(adj) in _NOT_PLACE_NOUNS):
            continue
        noun = m.group("prepnoun")
        if noun:  # "Am Markt 3a" needs the end of a phrase after it, and no time word inside
            if len(m.group("num")) > 4 or sum(c.isdigit() for c in m.group("num")) > 3:
                continue
            if any(_key(w) in _NOT_PLACE_NOUNS for w in noun.split()):
                continue
            if not (_AFTER_HOUSE.match(text, m.end()) or _STREET_CUE.search(text, max(0, m.start() - 40), m.start())):
                continue
        yield m.start(), m.end(), Kind.ADRESSE
    for m in _PLZ.finditer(text):
        plz = m.group("plz")
        if plz.startswith("00") or _key(m.group("city")) in _NOT_CITIES:
            continue
        yield m.start(), m.end(), Kind.ADRESSE


# ---------------------------------------------------------------- names

_L = r"[^\W\d_]"
_M = r"[\u0300-\u036f\u064b-\u065f\u0670]"  # combining marks (decomposed accents, harakat)
_TOK = rf"{_L}(?:{_L}|{_M})*(?:['’\-]{_L}(?:{_L}|{_M})*)*\.?"
_TOKEN = re.compile(_TOK)
_PARTICLES = frozenset("von van de der den zu al el bin ibn da di dos del la le ter ten".split())
_AND = re.compile(r"(?:[ \t]{0,3},[ \t]{0,3}|[ \t]{1,3})(?:(?:und|and|ve|и|і|та|i|oraz|și|و)[ \t]+)?(?=\w)")
_WITH_AGE = re.compile(rf"(?<![\w-])({_L}+)(?:[ \t]?\([ \t]?[0-9]{{1,2}}(?:[ \t]?(?:J\.|Jahre|years|yaş|лет|років|роки))?[ \t]?\)"
                       rf"|,[ \t]?[0-9]{{1,2}}[ \t]?(?:Jahre|years|yaşında|лет|років|роки)\b)")
_TWO_FIRST = re.compile(rf"(?<![\w-])({_L}+)[ \t]{{1,3}}(?:und|and|&|ve|и|і|та|oraz|și)[ \t]{{1,3}}({_L}+)(?![\w-])")
_AND_BEFORE = re.compile(rf"(?<![\w-])({_TOK})[ \t]{{1,3}}(?:und|and|&|ve|и|і|та|oraz|și)[ \t]{{1,3}}$")
_INITIAL = re.compile(r"[A-ZÄÖÜ]\.")
_ACADEMIC = re.compile(r"(?:(?:Dr|Prof|Dipl|Ing|med|rer|nat|phil|jur|Mag|dent)\.[ \t-]{0,2})+")
_LINE_END = re.compile(r"[ \t]{0,3}(?:$|\r?\n|[.,!])")
_NAME_NEXT = re.compile(rf"[ \t]{{1,2}}({_TOK})")

# Cue sets: what must hold for the word(s) after the cue to be taken as a name.
# strong: "ich heiße", "Name:"   any capitalised word (or a listed one in lower case)
# weak: "ich bin", "mein Sohn"   a known first name, or two capitalised words (first + surname)
# title: "Frau", "Herr", roles   a listed name or a capitalised word that is no ordinary word
# greeting: "Hallo", "heißt"     a known first name
# signature: "Grüße", "LG"       a known first name, or surname-like words that end the line
_STRONG, _WEAK, _TITLE, _GREETING, _SIGNATURE = "strong", "weak", "title", "greeting", "signature"
_CUES: list[tuple[str, re.Pattern[str]]] = [
    (_STRONG, re.compile(
        r"(?i:(?<!\w)(?:ich hei(?:ß|ss)e|mein (?:vor-?|nach-?|familien)?name (?:ist|lautet|:)|"
        r"(?:vor|nach|familien|geburts|mädchen|ruf)?name(?: des kindes| der mutter| des vaters)?[ \t]{0,3}:|"
        r"kontoinhaber(?:in)?[ \t]{0,3}:|unterschrift[ \t]{0,3}:|absender[ \t]{0,3}:|my name is|my name's|"
        r"(?:benim )?ad[ıi]m|(?:benim )?ismim|меня зовут|мене звати|мо[её] имя|моє ім[’']я|"
        r"nazywam się|mam na imię|m[ăa] numesc|numele meu (?:este|e)|je m'appelle|me llamo|"
        r"mi chiamo|ismi|[اإ]سمي)(?!\w))[ \t]{0,3}[:,]?[ \t]{0,3}")),
    (_STRONG, re.compile(r"(?im:^[ \t]*(?:von|from|absender)[ \t]*:[ \t]*)")),
    (_TITLE, re.compile(r"(?<!\w)(?:[Vv]or|[Nn]ach|[Ff]amilien|[Gg]eburts)?[Nn]ame[ \t]{1,3}(?=[^\W\d_])")),
    (_WEAK, re.compile(
        r"(?i:(?<!\w)(?:ich bin(?: der| die)?|это|i am|i'm|this is|hier (?:ist|spricht|schreibt)|ben|я|jestem|sunt|"
        r"mein(?:en|em|es)? (?:sohn(?:es)?|kind(?:es)?|(?:ex-?)?mann(?:es)?|(?:ex-?)?ehemann(?:e?s)?|(?:ex-?)?partners?|"
        r"lebensgefährten?|bruders?|vaters?|enkels?|neffen)|"
        r"meine[nr]? (?:tochter|(?:ex-?)?frau|(?:ex-?)?ehefrau|(?:ex-?)?partnerin|lebensgefährtin|schwester|mutter|enkelin|nichte)|"
        r"unser(?:e|en|em)? (?:sohn|tochter|kind)|my (?:son|daughter|wife|husband|partner|child)|"
        r"oğlum|kızım|eşim|(?:мой|мій) (?:сын|син|муж|чоловік)|моя (?:дочь|дочка|донька|жена|дружина)|"
        r"ابني|ابنتي|زوجي|زوجتي|أنا|انا)(?!\w))[ \t]{0,3}[:,]?[ \t]{0,3}")),
    (_TITLE, re.compile(
        r"(?<!\w)(?:Herrn?|herrn?|HERRN?|Frau|frau|FRAU|Hr\.|Fr\.|Fräulein|Familie|Mr\.?|Mrs\.?|Ms\.?|Miss|"
        r"Dr\.|Prof\.|Pan|Pani|Panie|Domnul|Doamna|Sayın|господин|господину|госпожа|госпоже|пан|пані|пане)"
        r"[ \t]+(?:(?:Dr|Prof|Dipl|Ing|med|rer|nat|phil|jur)\.[ \t-]*)*")),
    (_TITLE, re.compile(
        r"(?=[AaBbCcDdFfKkLlMmNnRrSsVvÄä])(?<!\w)(?:(?:Arbeits)?[Vv]ermittler|[Ss]achbearbeiter|[Bb]erater|[Ff]allmanager|[Vv]ermieter|"
        r"[Aa]nsprechpartner|[Bb]etreuer|[Ss]ozialarbeiter|[Dd]olmetscher|[Kk]ollege|[Nn]achbar|[Ll]ehrer|"
        r"[Cc]hef|(?:Rechts)?[Aa]nwalt|(?:Rechts)?[Aa]nwältin|[Aa]rzt|[Ää]rztin|[Mm]itarbeiter)(?:in)?"
        r"[ \t]+(?:(?:Herrn?|Frau|Dr\.|Prof\.)[ \t]+)*")),
    (_GREETING, re.compile(
        r"(?im:^[ \t]*(?:hallo|hi|hey|moin|servus|liebe[rs]?|guten (?:tag|morgen|abend)|dear|hello|"
        r"merhaba|selam|sevgili|привет|здравствуйте|добрый день|вітаю|доброго дня|привіт|مرحبا|"
        r"cześć|dzień dobry|bună ziua|salut)[ \t]*,?[ \t]*)")),
    (_GREETING, re.compile(r"(?i:(?<!\w)hei(?:ß|ss)(?:t|en)[ \t]{1,3})")),  # "Meine Kinder heißen Lea und Tim"
    (_SIGNATURE, re.compile(
        r"(?i:(?<!\w)(?:(?:mit )?(?:freundlichen|freundliche|besten|beste|vielen|viele|lieben|liebe|"
        r"herzlichen|herzliche|schöne|sonnige)?[ ]?gr(?:ü|ue|u)(?:ß|ss)(?:e|en)?|mfg|lg|vg|"
        r"danke(?: schön| sehr)?|vielen dank|(?:best |kind |warm )?regards|best wishes|sincerely|"
        r"yours(?: sincerely| faithfully)?|thanks|thank you|cheers|saygılarımla|saygilarimla|saygılar|"
        r"sevgiler|iyi günler|teşekkürler|с уважением|з повагою|дякую|спасибо|مع التحية|مع تحياتي|"
        r"شكرا|pozdrawiam|z poważaniem|cu stimă|cu respect|mulțumesc)(?!\w))"
        r"[ \t]{0,3}[,.!:]?[ \t]{0,3}(?:\r?\n[ \t]{0,3})?")),
]


def _tokens_at(text: str, pos: int, limit: int = 4) -> list[tuple[int, int, str]]:
    """Up to `limit` words from `pos`, each separated by one or two spaces (no line break)."""
    m = _TOKEN.match(text, pos)
    out: list[tuple[int, int, str]] = []
    while m and len(out) < limit:
        tok = m.group()
        if _INITIAL.fullmatch(tok):  # "A. Novak": an initial goes on
            out.append((m.start(), m.end(), tok))
        else:
            tok = tok.rstrip(".")
            out.append((m.start(), m.start() + len(tok), tok))
            if m.group().endswith("."):  # "Str." / sentence end: stop
                break
        m = _NAME_NEXT.match(text, m.end())
        if m:
            m = _TOKEN.match(text, m.start(1))
    return out


def _extend(toks: list[tuple[int, int, str]], i: int, liberal: bool = False) -> int:
    """Index after the last token of a name that starts at toks[i] (already accepted).

    The word right after the start may be any surname-like word; later words only when
    listed or still among the given names ("Anna Maria Schmidt"), so that "Hanna Schmitz
    Analphabetin" stops after the surname. After a strong cue ("mein Name ist") any
    surname-like word goes on: the words there are almost surely the name."""
    j = i + 1
    while j < len(toks):
        tok = toks[j][2]
        if _INITIAL.fullmatch(tok) and j + 1 < len(toks) and _surname_like(toks[j + 1][2]):
            j += 2
            continue
        if tok in _PARTICLES and j + 1 < len(toks) and _cap(toks[j + 1][2]) and _surname_like(toks[j + 1][2]):
            j += 2
            continue
        listed = _is_surname(tok) or _is_first(tok)
        if not _surname_like(tok) or not (_cap(tok) or listed):
            break
        if j > i + 1 and not (liberal or listed or _is_first(toks[j - 1][2])):
            break
        j += 1
    return j


def _name_after_cue(text: str, mode: str, pos: int):
    title = _ACADEMIC.match(text, pos)  # "Mit freundlichen Grüßen\nDr. Hannelore Vogt"
    toks = _tokens_at(text, title.end() if title else pos)
    if not toks:
        return None
    first = toks[0][2]
    if _INITIAL.fullmatch(first) and mode in (_STRONG, _TITLE, _SIGNATURE):
        j = _extend(toks, 0)
        return (toks[0][0], toks[j - 1][1]) if j > 1 else None
    if _is_not_name(first) and not (mode == _STRONG and (_is_first(first) or _is_surname(first))):
        return None
    listed = _is_first(first) or _is_surname(first)
    if mode == _STRONG:
        ok = _cap(first) or listed
    elif mode == _TITLE:
        ok = _cap(first) and (listed or (not _is_common(first) and not first.isupper()))
    elif mode == _GREETING:
        ok = _cap(first) and _is_first(first)
    elif mode == _WEAK:
        lower_first = first.islower() and _is_first(first) and not _is_ambiguous(first) and not _is_common(first)
        ok = lower_first or (_cap(first) and (_is_first(first) or (
            len(toks) > 1 and not _is_common(first) and _cap(toks[1][2]) and _surname_like(toks[1][2]))))
    else:  # _SIGNATURE: a first name, or a surname-like word(s) that end the line
        ok = _cap(first) and (_is_first(first) or _surname_like(first))
        if ok and not _is_first(first):
            end = toks[_extend(toks, 0) - 1][1]
            ok = _LINE_END.match(text, end) is not None
    if not ok:
        return None
    j = _extend(toks, 0, liberal=mode == _STRONG)
    if j == 1 and len(toks) > 1 and first.islower() and _lower_surname(toks[1][2]):
        j = 2  # "hier ist erika pflaumbaum": who writes in lower case writes the surname so too
    return toks[0][0], toks[j - 1][1]


def _lower_surname(tok: str) -> bool:
    """A word in lower case after a lower-case first name that is no ordinary word: the surname."""
    if not tok.islower() or len(tok) < 3 or _is_not_name(tok):
        return False
    if _is_surname(tok):
        return True
    folded = tok.translate(_FOLD)
    lex = lexicon()
    return folded not in lex and not any(
        folded.endswith(e) and len(folded) - len(e) >= 3 and folded[: -len(e)] in lex for e in _INFLECTIONS)


# "Pflaumbaum, Erika" (forms, lists, signatures): a surname-like word, a comma, a known first name.
_COMMA_BEFORE_WORD = re.compile(r",[ \t]{1,2}(?=[^\W\d_])")
_WORD_BEFORE_COMMA = re.compile(rf"(?<![\w-])({_TOK})[ \t]?$")


def _find_names(text: str):
    for mode, pattern in _CUES:
        for m in pattern.finditer(text):
            span = _name_after_cue(text, mode, m.end())
            while span:  # "Lea und Tim", "Noah, Emilia": further first names in the same list
                yield span[0], span[1], Kind.NAME
                nxt = _AND.match(text, span[1])
                span = _name_after_cue(text, _GREETING, nxt.end()) if nxt else None
    # A known first name with an age: "Noah (3)", "Emilia, 7 Jahre".
    for m in _WITH_AGE.finditer(text):
        if _cap(m.group(1)) and _is_first(m.group(1)) and not _is_ambiguous(m.group(1)):
            yield m.start(1), m.end(1), Kind.NAME
    # A known first name followed by a surname, anywhere.
    for m in _TOKEN.finditer(text):
        tok = m.group().rstrip(".")
        if not _cap(tok) or len(tok) < 2 or not _is_first(tok) or m.group().endswith("."):
            continue
        toks = _tokens_at(text, m.start())
        if len(toks) < 2:
            continue
        nxt = toks[1][2]
        if nxt in _PARTICLES and len(toks) > 2:
            nxt = toks[2][2]
        if _is_ambiguous(tok) and not _is_surname(nxt):
            continue
        if _cap(nxt) and _surname_like(nxt) and not (_is_first(nxt) and _is_ambiguous(nxt)):
            j = _extend(toks, 0)
            if j > 1:
                yield toks[0][0], toks[j - 1][1], Kind.NAME
                before = _AND_BEFORE.search(text, max(0, m.start() - 40), m.start())
                if before and _cap(before.group(1)) and _is_first(before.group(1)):
                    yield before.start(1), before.end(1), Kind.NAME  # "Jana und Tobias Brückner"
    # Surname first, then a comma and a known first name: "Pflaumbaum, Erika".
    for comma in _COMMA_BEFORE_WORD.finditer(text) if "," in text else ():
        m = _WORD_BEFORE_COMMA.search(text, max(0, comma.start() - 50), comma.start())
        if m is not None:
            surname = m.group(1)
            if surname.endswith(".") or not _cap(surname) or len(surname) < 2:
                continue
            if not (_is_surname(surname) or (not _is_first(surname) and _surname_like(surname))):
                continue
            toks = _tokens_at(text, comma.end(), limit=3)
            if not toks or not _cap(toks[0][2]) or not _is_first(toks[0][2]) or _is_ambiguous(toks[0][2]):
                continue
            j = 1
            while j < len(toks) and _cap(toks[j][2]) and _is_first(toks[j][2]) and not _is_ambiguous(toks[j][2]):
                j += 1  # "Pflaumbaum, Erika Johanna"
            yield m.start(1), toks[j - 1][1], Kind.NAME
    # Two known first names joined by "und": "Emre und Selin gehen in die Kita".
    for m in _TWO_FIRST.finditer(text):
        a, b = m.group(1), m.group(2)
        if all(_cap(x) and _is_first(x) and not _is_ambiguous(x) for x in (a, b)):
            yield m.start(1), m.end(1), Kind.NAME
            yield m.start(2), m.end(2), Kind.NAME
    # A known first name alone on the last line (a signature without a greeting formula).
    tail = text.rstrip()
    line_start = tail.rfind("\n") + 1
    if line_start > 0:
        last = tail[line_start:].strip(" \t-–—")
        toks = _tokens_at(tail, tail.find(last, line_start)) if last else []
        if (toks and _is_first(toks[0][2]) and _cap(toks[0][2]) and _extend(toks, 0) == len(toks)
                and toks[-1][1] >= len(tail.rstrip(".!"))):
            yield toks[0][0], toks[-1][1], Kind.NAME


_DETECTORS = (_find_email, _find_iban, _find_bg, _find_kundennummer, _find_sv, _find_kv, _find_steuer_id,
              _find_ausweis, _find_dob, _find_phone, _find_address, _find_names)
