"""Fields staff need from a message: ids, name, dates (which is the deadline), amounts, IBAN.

    >>> from datetime import date
    >>> found = extract_fields("BG-Nummer 12345BG0012345. Erstattungsbescheid vom 02.11.2026 "
    ...                        "über 812,50 €, zahlbar bis 15.12.2026.", today=date(2026, 11, 24))
    >>> [(f.kind, f.value, f.role) for f in found]
    [('bg_nummer', '12345BG0012345', None), ('datum', '2026-11-02', 'bescheid'), ('betrag', 812.5, None), ('datum', '2026-12-15', 'frist')]

Personal data (name, BG-Nummer, Kundennummer, IBAN, phone, e-mail, address, birth date, tax
and insurance numbers) comes from `privacy.redaction.mark`, the same detector that redacts
messages, so the two never disagree; each such field has `personal=True` and is shown as its
placeholder by `to_dict(clear=False)`. An IBAN whose checksum fails is reported with
`valid=False` (staff must ask again), not dropped. Dates and amounts are not personal.

Dates (parsed by `text.dates`, the one home of month names, shared with the redaction):
numeric (15.12.2026, 15.12.26, 15.12., 2026-12-15, 15/12/2026) and with month names in German,
English, Russian, Ukrainian, Turkish and Arabic; Arabic-Indic digits count. A date without a
year gets the year that puts it nearest to the message date. Roles by the words
around it: `frist` ("bis zum", "spätestens", "zahlbar bis", "until", "до", "tarihine kadar",
"حتى"), `bescheid` ("Bescheid vom", "Schreiben vom", "decision dated", "решение от"), else None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from amtslotse.privacy.redaction import Kind, iban_valid, mark
from amtslotse.text.dates import dates_in, parse_full_date, plain_digits
from amtslotse.text.fold import fold

# ---------------------------------------------------------------- the field


@dataclass(frozen=True)
class Field:
    """One extracted field. `value` is normalised (ids without spaces, dates ISO, amounts a
    number); `text` is the span as written; `start`/`end` index the original message."""

    kind: str
    value: str | float
    text: str
    start: int
    end: int
    personal: bool
    role: str | None = None  # dates: "frist" (deadline) or "bescheid" (the decision's date)
    valid: bool | None = None  # IBAN: checksum correct?

    @property
    def placeholder(self) -> str:
        return f"[{self.kind.upper().replace('_', '-')}]"

    def to_dict(self, clear: bool = True) -> dict:
        """As JSON; with clear=False a personal field keeps only its kind and placeholder."""
        out: dict = {"kind": self.kind}
        if self.personal and not clear:
            out["value"] = out["text"] = self.placeholder
        else:
            out["value"], out["text"] = self.value, self.text
        out |= {"start": self.start, "end": self.end, "personal": self.personal}
        if self.role is not None:
            out["role"] = self.role
        if self.valid is not None:
            out["valid"] = self.valid
        return out


FIELD_LABELS = {
    "bg_nummer": "BG-Nummer", "kundennummer": "Kundennummer", "name": "Name", "iban": "IBAN",
    "telefon": "Telefon", "e_mail": "E-Mail", "adresse": "Adresse", "geburtsdatum": "Geburtsdatum",
    "steuer_id": "Steuer-ID", "sv_nummer": "Versicherungsnummer", "kv_nummer": "Krankenversichertennummer",
    "ausweisnummer": "Ausweisnummer", "datum": "Datum", "betrag": "Betrag",
}
"""German names of the field kinds, for staff."""

# ---------------------------------------------------------------- personal data (redaction.mark)

_KINDS = {
    Kind.NAME: "name", Kind.BG_NUMMER: "bg_nummer", Kind.KUNDENNUMMER: "kundennummer", Kind.IBAN: "iban",
    Kind.TELEFON: "telefon", Kind.E_MAIL: "e_mail", Kind.ADRESSE: "adresse", Kind.GEBURTSDATUM: "geburtsdatum",
    Kind.STEUER_ID: "steuer_id", Kind.SV_NUMMER: "sv_nummer", Kind.KV_NUMMER: "kv_nummer",
    Kind.AUSWEISNUMMER: "ausweisnummer",
}
_COMPACT = (Kind.BG_NUMMER, Kind.KUNDENNUMMER, Kind.IBAN, Kind.STEUER_ID, Kind.SV_NUMMER, Kind.KV_NUMMER,
            Kind.AUSWEISNUMMER)


def _personal(text: str, today: date | None) -> list[Field]:
    out = []
    for f in mark(text, keep_values=True):
        value: str = f.value or ""
        if f.kind in _COMPACT:
            value = re.sub(r"[\s\-]", "", value).upper()
        elif f.kind is Kind.GEBURTSDATUM:
            born = parse_full_date(value, today)
            value = born.isoformat() if born else value
        out.append(Field(_KINDS[f.kind], value, f.value or "", f.start, f.end, True,
                         valid=True if f.kind is Kind.IBAN else None))
    return out


# The Kundennummer of the Bundesagentur: three digits, a letter, six digits ("123D456789").
# redaction.mark knows only the letter D so far; the others are found here (personal too).
_KUNDENNUMMER = re.compile(r"(?<![0-9A-Za-z])[0-9]{3}[ ]?[A-Za-z][ ]?[0-9]{3}[ ]?[0-9]{3}(?![0-9A-Za-z])")


def _other_kundennummern(text: str, taken: list[Field]) -> list[Field]:
    out = []
    for m in _KUNDENNUMMER.finditer(text):
        if not any(f.start < m.end() and m.start() < f.end for f in taken):
            out.append(Field("kundennummer", re.sub(r"\s", "", m.group()).upper(), m.group(), m.start(), m.end(), True))
    return out


# Two letters, two digits, then 11-30 more letters/digits, in groups of four or not: what a
# person means as an IBAN, valid or not (redaction.mark only finds the valid ones).
_IBAN_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[ ]?[0-9]{2}(?:[ ]?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
_IBAN_CUE = re.compile(r"(?i)\b(?:iban|konto\w*|bankverbindung|account|hesap|счет|счёт|рахунок|حساب)\b")


def _invalid_ibans(text: str, taken: list[Field]) -> list[Field]:
    out = []
    for m in _IBAN_LIKE.finditer(text):
        raw = m.group().rstrip()
        compact = raw.replace(" ", "").upper()
        if any(f.start < m.end() and m.start() < f.end for f in taken):
            continue
        if not (compact[:2] == "DE" or _IBAN_CUE.search(text, max(0, m.start() - 40), m.start())):
            continue  # a foreign-looking code without the word IBAN/Konto: probably something else
        if not any(c.isdigit() for c in compact[4:]) or iban_valid(compact):
            continue
        out.append(Field("iban", compact, raw, m.start(), m.start() + len(raw), True, valid=False))
    return out


# ---------------------------------------------------------------- dates

# Month names and date parsing live in text/dates.py (one home, shared with the redaction);
# here: which role a date plays.

# Cues in folded form (text.fold.fold: lower case, umlauts as plain vowels, other diacritics off;
# Arabic ى as ي, ة as ه, أ/إ/آ as ا). The text before a date ends with one space.
_FRIST_BEFORE = re.compile(
    r"(?:\bbis\s+(?:zum\s+|spatestens\s+|sp\.\s+|am\s+|den\s+|einschliesslich\s+)?"
    r"|\bspatestens\s+(?:am\s+|bis\s+(?:zum\s+)?|zum\s+)?|\bfrist\w*\s+(?:\w+\s+){0,3}"
    r"|\bfallig\s+(?:am\s+|bis\s+(?:zum\s+)?|zum\s+)?|\bzahlbar\s+(?:bis\s+(?:zum\s+)?)?|\bdeadline\s+(?:is\s+)?"
    r"|\buntil\s+|\bby\s+|\bno later than\s+|\bdue\s+(?:on\s+|by\s+|date\s+)?|\bbefore\s+|\bexpires\s+(?:on\s+)?"
    r"|\bдо\s+|\bне позднее\s+|\bне пізніше\s+|\b(?:срок|термін)\s+(?:до\s+|истекает\s+|спливає\s+|закінчується\s+)?"
    r"|\bsuresi\s+|(?<!\w)(?:حتي|قبل|بحلول|اقصاه|موعد اقصاه)\s+)[:,]?\s*(?:dem\s+|the\s+)?$")
# A named deadline that ends on the date: "die Frist ... endet am", "Frist läuft bis", "مهلة ... تنتهي في".
_DEADLINE_ENDS = re.compile(
    r"(?:\bfrist\w*|\bdeadline|\bсрок|\bтермін)\b.{0,60}\b(?:endet|lauft|ablauft|ist|ends|expires|истекает|спливає)"
    r"\s+(?:am\s+|bis\s+(?:zum\s+)?|der\s+|on\s+)?$|مهله\S*(?:\s+\S+){0,3}\s+تنتهي\s+في\s+$")
_FRIST_AFTER = re.compile(r"^\s*(?:'?(?:e|a|ye|ya)\s+|'?(?:tarihine|tarihe)\s+)kadar\b|^\s*(?:son gun|sona)")
_RANGE_BEFORE = re.compile(
    r"(?:\d{1,2}[./]\d{1,2}[./]?\d{0,4}|\bvom\s+\w+|\bvon\s+\w+|\bfrom\s+\w+|\bс\s+\w+|\bз\s+\w+)\s+"
    r"(?:bis|to|until|по|до)\s+(?:zum\s+|einschliesslich\s+|voraussichtlich\s+)?$")
# "krankgeschrieben bis", "AU bis", "Urlaub bis", "läuft bis": a period ends, nobody must act.
_PERIOD_BEFORE = re.compile(
    r"\b(?:krank\w*|au|eau|arbeitsunfahig\w*|\w*bescheinigung|urlaub|ortsabwesenheit|reha|kur|krankenhaus\w*"
    r"|klinik\w*|bescheid\w*|bewilligung\w*|bewilligt|lauft|gilt|geht|dauert|heute|jetzt|dato|sick|leave|hospital)"
    r"(?:\s+\w+){0,2}\s+(?:bis|until|до)\s+(?:zum\s+|einschliesslich\s+|voraussichtlich\s+)?$")
# The date of a decision: "Bescheid vom", "Leistungsminderung vom", "decision dated", "решение от".
# Letters ("Schreiben vom", "Einladung vom") are not decisions: their dates stay plain dates.
_BESCHEID_BEFORE = re.compile(
    r"(?:\b(?:\w*bescheid\w*|\w*minderung\w*|sanktion\w*|entscheidung\w*|decision|notice|demand|"
    r"решени\w*|рішенн\w*|постановлени\w*|karar\w*|القرار|قرار|قرارکم)"
    r"(?:\W+\w+){0,4}?\W+(?:vom|von|datiert(?:\s+auf)?|mit datum|dated|of|from|от|від|بتاريخ|المؤرخ\w*)"
    r"|(?:القرار|قرار)(?:\s+\S+){0,3}\s+(?:بتاريخ|المؤرخ\w*))\W*$")
_BESCHEID_AFTER = re.compile(r"^\s*tarihli\s+(?:\w+\s+)?(?:karar|yazi|bildirim|mektup|belge|bescheid)")


def _role(text: str, start: int, end: int) -> str | None:
    before = fold(text[max(0, start - 90):start]) + " "
    after = fold(text[end:end + 30])
    if _BESCHEID_BEFORE.search(before) or _BESCHEID_AFTER.search(after):
        return "bescheid"
    if _DEADLINE_ENDS.search(before) or _FRIST_AFTER.search(after) or (
        _FRIST_BEFORE.search(before) and not _RANGE_BEFORE.search(before) and not _PERIOD_BEFORE.search(before)
    ):
        return "frist"
    return None


def extract_dates(text: str, today: date | None = None, births: list[tuple[int, int]] | None = None) -> list[Field]:
    """The dates of a message with their role (frist, bescheid, geburtsdatum, or None);
    `births`: the spans of birth dates if already known (else redaction.mark finds them)."""
    if births is None:
        births = [(f.start, f.end) for f in mark(text) if f.kind is Kind.GEBURTSDATUM]
    out = []
    for start, end, value in dates_in(text, today):
        if any(s <= start and end <= e for s, e in births):
            out.append(Field("geburtsdatum", value.isoformat(), text[start:end], start, end, True, role="geburtsdatum"))
        else:
            out.append(Field("datum", value.isoformat(), text[start:end], start, end, False, role=_role(text, start, end)))
    return out


def deadline(dates: list[Field], today: date | None = None) -> date | None:
    """The earliest deadline on or after the message date (any deadline if that is unknown)."""
    days = [date.fromisoformat(str(d.value)) for d in dates if d.role == "frist"]
    return min((d for d in days if today is None or d >= today), default=None)


def bescheid_date(dates: list[Field]) -> date | None:
    """The date of the referenced Bescheid (the first one named)."""
    return next((date.fromisoformat(str(d.value)) for d in dates if d.role == "bescheid"), None)


# ---------------------------------------------------------------- amounts

_NUM = (r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2}|,-{1,2})?|\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d{1,2})?"
        r"|\d+(?:[.,]\d{1,2}|,-{1,2})?")
_CURRENCY = r"€|eur\b|euro?s?\b|евро|євро|avro|yuro|يورو"
_AMOUNT = re.compile(
    rf"(?i)(?<![\w.,])(?:(?P<c1>€|eur\b)\s?(?P<n1>{_NUM})|(?P<n2>{_NUM})\s?(?P<c2>{_CURRENCY}))")


def parse_amount(number: str) -> float:
    """A number as written in German or English ("1.234,56", "1,234.56", "340,-") -> float."""
    s = re.sub(r"[ \u00a0\u202f]", "", number).replace(",--", "").replace(",-", "")
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        s = s.replace(thousands, "").replace(decimal, ".")
    elif "," in s:
        s = s.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", s) else s.replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+", s):
        s = s.replace(".", "")
    return float(s)


def extract_amounts(text: str) -> list[Field]:
    plain = plain_digits(text)
    out = []
    for m in _AMOUNT.finditer(plain):
        number = m.group("n1") or m.group("n2")
        out.append(Field("betrag", parse_amount(number), text[m.start():m.end()], m.start(), m.end(), False))
    return out


# ---------------------------------------------------------------- all together


def extract_fields(text: str, today: date | None = None) -> list[Field]:
    """All fields of a message, in text order (overlaps resolved: personal data first).
    `today`: the message date (decides the year of "15.12."); None: unknown."""
    personal = _personal(text, today)
    personal += _invalid_ibans(text, personal)
    personal += _other_kundennummern(text, personal)
    fields = list(personal)
    births = [(f.start, f.end) for f in personal if f.kind == "geburtsdatum"]
    for f in [d for d in extract_dates(text, today, births) if d.kind == "datum"] + extract_amounts(text):
        if not any(p.start < f.end and f.start < p.end for p in fields):
            fields.append(f)
    return sorted(fields, key=lambda f: (f.start, f.end))
