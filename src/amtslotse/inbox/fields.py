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

Dates: numeric (15.12.2026, 15.12.26, 15.12., 2026-12-15, 15/12/2026) and with month names in
German, English, Russian, Ukrainian, Turkish and Arabic; Arabic-Indic digits count. A date
without a year gets the year that puts it nearest to the message date. Roles by the words
around it: `frist` ("bis zum", "spätestens", "zahlbar bis", "until", "до", "tarihine kadar",
"حتى"), `bescheid` ("Bescheid vom", "Schreiben vom", "decision dated", "решение от"), else None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from amtslotse.inbox.flags import fold
from amtslotse.privacy.redaction import Kind, iban_valid, mark

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


# ---------------------------------------------------------------- personal data (redaction.mark)

_KINDS = {
    Kind.NAME: "name", Kind.BG_NUMMER: "bg_nummer", Kind.KUNDENNUMMER: "kundennummer", Kind.IBAN: "iban",
    Kind.TELEFON: "telefon", Kind.E_MAIL: "e_mail", Kind.ADRESSE: "adresse", Kind.GEBURTSDATUM: "geburtsdatum",
    Kind.STEUER_ID: "steuer_id", Kind.SV_NUMMER: "sv_nummer",
}
_COMPACT = (Kind.BG_NUMMER, Kind.KUNDENNUMMER, Kind.IBAN, Kind.STEUER_ID, Kind.SV_NUMMER)


def _personal(text: str, today: date) -> list[Field]:
    out = []
    for f in mark(text, keep_values=True):
        value: str = f.value or ""
        if f.kind in _COMPACT:
            value = re.sub(r"[\s\-]", "", value).upper()
        elif f.kind is Kind.GEBURTSDATUM:
            parsed = _dates_in(text[f.start:f.end], today)
            value = parsed[0][2].isoformat() if parsed else value
        out.append(Field(_KINDS[f.kind], value, f.value or "", f.start, f.end, True,
                         valid=True if f.kind is Kind.IBAN else None))
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

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate([
    "januar jan january janvier январь января янв січень січня ocak يناير كانون_الثاني",
    "februar feb february февраль февраля фев лютий лютого şubat subat فبراير شباط",
    "märz marz maerz mär mar march март марта березень березня mart مارس آذار",
    "april apr апрель апреля квітень квітня nisan أبريل ابريل نيسان",
    "mai may май мая травень травня mayıs mayis مايو أيار",
    "juni jun june июнь июня червень червня haziran يونيو حزيران",
    "juli jul july июль июля липень липня temmuz يوليو تموز",
    "august aug август августа серпень серпня ağustos agustos أغسطس اغسطس آب",
    "september sep sept сентябрь сентября вересень вересня eylül eylul سبتمبر أيلول",
    "oktober okt october oct октябрь октября жовтень жовтня ekim أكتوبر اكتوبر تشرين_الأول",
    "november nov ноябрь ноября листопад листопада kasım kasim نوفمبر تشرين_الثاني",
    "dezember dez december dec декабрь декабря дек грудень грудня aralık aralik ديسمبر كانون_الأول",
], start=1):
    for _name in _names.split():
        _MONTHS[_name.replace("_", " ")] = _number
_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))

_NUMERIC = re.compile(
    r"(?<![\d.,/])(?:(?P<iy>20\d{2})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"|(?P<d>\d{1,2})[./](?P<m>\d{1,2})(?:[./](?P<y>(?:19|20)\d{2}|\d{2})(?![\d])|\.(?![\d])))"
    r"(?![\d/]|[.,]\d)")
_NAMED = re.compile(
    rf"(?i)(?<!\w)(?:(?P<d>\d{{1,2}})(?:\.|st|nd|rd|th)?(?:\s+of)?\s+(?P<mon>{_MONTH_RE})\.?"
    rf"|(?P<mon2>{_MONTH_RE})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?)(?!\w)(?:\s+(?P<y>(?:19|20)\d{{2}}))?(?!\d)")


def _year(day: int, month: int, today: date) -> date | None:
    """The date nearest to `today` with this day and month (a deadline is rarely half a year off)."""
    best = None
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - today).days) < abs((best - today).days):
            best = candidate
    return best


def _make(day: str, month: int, year: str | None, today: date) -> date | None:
    try:
        if year is None:
            return _year(int(day), month, today)
        y = int(year)
        return date(y + 2000 if y < 100 else y, month, int(day))
    except ValueError:
        return None


def _dates_in(text: str, today: date) -> list[tuple[int, int, date]]:
    plain = text.translate(_DIGITS)  # same length: offsets stay valid
    found: list[tuple[int, int, date]] = []
    for m in _NUMERIC.finditer(plain):
        if m.group("iy"):
            value = _make(m.group("id"), int(m.group("im")), m.group("iy"), today)
        else:
            value = _make(m.group("d"), int(m.group("m")), m.group("y"), today) if int(m.group("m")) <= 12 else None
        if value:
            found.append((m.start(), m.end(), value))
    for m in _NAMED.finditer(plain):
        month = _MONTHS.get((m.group("mon") or m.group("mon2")).lower())
        value = _make(m.group("d") or m.group("d2"), month, m.group("y"), today) if month else None
        if value and not any(s < m.end() and m.start() < e for s, e, _ in found):
            found.append((m.start(), m.end(), value))
    return sorted(found)


# Cues in folded form (fold(): lower case, umlauts as plain vowels, diacritics off).
_FRIST_BEFORE = re.compile(
    r"(?:\bbis\s+(?:zum|spatestens|spaetestens|sp\.|am|den|einschliesslich)?|\bspatestens(?:\s+(?:am|bis(?:\s+zum)?|zum))?"
    r"|\bfrist\w*(?:\s+\w+){0,3}|\bfallig(?:\s+(?:am|bis(?:\s+zum)?|zum))?|\bzahlbar(?:\s+bis(?:\s+zum)?)?|\bdeadline(?:\s+is)?"
    r"|\buntil|\bby|\bno later than|\bdue(?:\s+(?:on|by|date))?|\bbefore|\bдо|\bне позднее|\bне пизниш\w*|\bне позднише"
    r"|\bсрок(?:\s+до)?|\bтермин(?:\s+до)?|\bпротягом|\bحتى|\bقبل|\bبحلول|\bاقصاه|\bموعد)\s*[:,]?\s*(?:dem\s+|the\s+)?$")
_FRIST_AFTER = re.compile(r"^\s*(?:'?(?:e|a|ye|ya)\s+|'?(?:tarihine|tarihe)\s+)kadar\b|^\s*(?:son gun|sona)")
_RANGE_BEFORE = re.compile(r"(?:\d{1,2}[./]\d{1,2}[./]?\d{0,4}|vom\s+\w+|von\s+\w+)\s+bis\s*(?:zum|einschliesslich)?\s*$")
_BESCHEID_BEFORE = re.compile(
    r"(?:\b(?:\w*bescheid\w*|schreiben\w*|brief\w*|anhorung\w*|mahnung\w*|forderung\w*|aufforderung\w*|einladung\w*)"
    r"(?:\s+\w+){0,3}\s+(?:vom|von|datiert(?:\s+auf)?|mit datum)"
    r"|\b(?:decision|notice|letter|demand|notification)(?:\s+\w+){0,2}\s+(?:dated|of|from)"
    r"|\b(?:решени\w*|уведомлени\w*|письм\w*|рiшенн\w*|ришенн\w*|лист\w*|повидомленн\w*|требовани\w*)(?:\s+\w+){0,2}\s+(?:от|вид)"
    r"|(?:القرار|قرار|الرسالة|رسالة|اشعار|الاشعار)(?:\s+\S+){0,2}\s+(?:بتاريخ|المؤرخ\w*))\s*:?\s*$")
_BESCHEID_AFTER = re.compile(r"^\s*tarihli\s+(?:\w+\s+)?(?:karar|yazi|bildirim|mektup|belge)")


def _role(text: str, start: int, end: int) -> str | None:
    before = fold(text[max(0, start - 60):start])
    after = fold(text[end:end + 30])
    if _BESCHEID_BEFORE.search(before) or _BESCHEID_AFTER.search(after):
        return "bescheid"
    if (_FRIST_BEFORE.search(before) and not _RANGE_BEFORE.search(before)) or _FRIST_AFTER.search(after):
        return "frist"
    return None


def extract_dates(text: str, today: date | None = None, births: list[tuple[int, int]] | None = None) -> list[Field]:
    """The dates of a message with their role (frist, bescheid, geburtsdatum, or None);
    `births`: the spans of birth dates if already known (else redaction.mark finds them)."""
    today = today or date.today()
    if births is None:
        births = [(f.start, f.end) for f in mark(text) if f.kind is Kind.GEBURTSDATUM]
    out = []
    for start, end, value in _dates_in(text, today):
        if any(s <= start and end <= e for s, e in births):
            out.append(Field("geburtsdatum", value.isoformat(), text[start:end], start, end, True, role="geburtsdatum"))
        else:
            out.append(Field("datum", value.isoformat(), text[start:end], start, end, False, role=_role(text, start, end)))
    return out


def deadline(dates: list[Field], today: date) -> date | None:
    """The earliest deadline on or after the message date."""
    future = [date.fromisoformat(str(d.value)) for d in dates if d.role == "frist"]
    future = [d for d in future if d >= today]
    return min(future, default=None)


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
    plain = text.translate(_DIGITS)
    out = []
    for m in _AMOUNT.finditer(plain):
        number = m.group("n1") or m.group("n2")
        out.append(Field("betrag", parse_amount(number), text[m.start():m.end()], m.start(), m.end(), False))
    return out


# ---------------------------------------------------------------- all together


def extract_fields(text: str, today: date | None = None) -> list[Field]:
    """All fields of a message, in text order (overlaps resolved: personal data first)."""
    today = today or date.today()
    personal = _personal(text, today)
    personal += _invalid_ibans(text, personal)
    fields = list(personal)
    births = [(f.start, f.end) for f in personal if f.kind == "geburtsdatum"]
    for f in [d for d in extract_dates(text, today, births) if d.kind == "datum"] + extract_amounts(text):
        if not any(p.start < f.end and f.start < p.end for p in fields):
            fields.append(f)
    return sorted(fields, key=lambda f: (f.start, f.end))
