"""Dates in messages: month names in the languages of our users and date parsing, in one place.

Both the redaction (birth dates) and the inbox field extraction (deadlines, Bescheid dates)
use this module, so a month name known to one is known to the other.

    >>> from datetime import date
    >>> [(s, e, d.isoformat()) for s, e, d in dates_in("Frist bis 15.12.2026, Bescheid vom 3. März 2026")]
    [(10, 20, '2026-12-15'), (35, 47, '2026-03-03')]
    >>> month_number("مارس"), month_number("Mär"), month_number("листопада")
    (3, 3, 11)
    >>> plain_digits("١٥ مارس ١٩٩٠")
    '15 مارس 1990'

Numeric forms: 15.12.2026, 15.12.26, 15.12., 2026-12-15, 15/12/2026 (and "05.10" with a
two-digit month and no unit after it). Named forms: "3. März 2026", "March 3, 2026",
"15 мая 1990", "15 مارس 1990", without a year too. Arabic-Indic digits count (`plain_digits`
maps them to ASCII digits, keeping every offset). A date without a year gets the year that
puts it nearest to the reference date (`today`).
"""

from __future__ import annotations

import re
from datetime import date

DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
"""Arabic-Indic and Persian digits -> ASCII digits (one character each: offsets stay valid)."""

# Month names per month: German, English, French (a few), Russian and Ukrainian (nominative and
# genitive), Turkish (with and without diacritics), Arabic (Egyptian/Gulf and Levantine names).
_NAMES = [
    "januar jan january janvier январь января янв січень січня ocak يناير كانون_الثاني",
    "februar feb february février fevrier февраль февраля фев лютий лютого şubat subat فبراير شباط",
    "märz marz maerz mär mar march mars март марта березень березня mart مارس آذار",
    "april apr avril апрель апреля квітень квітня nisan أبريل ابريل نيسان",
    "mai may май мая травень травня mayıs mayis مايو أيار",
    "juni jun june juin июнь июня червень червня haziran يونيو حزيران",
    "juli jul july juillet июль июля липень липня temmuz يوليو تموز",
    "august aug août aout август августа серпень серпня ağustos agustos أغسطس اغسطس آب",
    "september sep sept septembre сентябрь сентября вересень вересня eylül eylul سبتمبر أيلول",
    "oktober okt october oct octobre октябрь октября жовтень жовтня ekim أكتوبر اكتوبر تشرين_الأول",
    "november nov novembre ноябрь ноября листопад листопада kasım kasim نوفمبر تشرين_الثاني",
    "dezember dez december dec décembre decembre декабрь декабря дек грудень грудня aralık aralik ديسمبر كانون_الأول",
]
MONTHS: dict[str, int] = {
    name.replace("_", " "): number for number, names in enumerate(_NAMES, start=1) for name in names.split()
}
"""Month name (lower case) -> month number."""

MONTH_PATTERN = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
"""A regex alternation of all month names, longest first (use it case-insensitively)."""


def month_number(name: str) -> int | None:
    """1-12 for a month name in any of our languages ("März", "Mar.", "мая", "مارس"), else None."""
    return MONTHS.get(name.strip().rstrip(".").lower())


_OTHER_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9]")


def plain_digits(text: str) -> str:
    """`text` with Arabic-Indic digits as ASCII digits; same length, so offsets stay valid."""
    return text.translate(DIGITS) if _OTHER_DIGIT.search(text) else text


NUMERIC_DATE = re.compile(
    r"(?<![\d.,/€$])(?:(?P<iy>(?:19|20)\d{2})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"|(?P<d>\d{1,2})[./](?P<m>\d{1,2})(?:[./](?P<y>(?:19|20)\d{2}|\d{2})(?![\d])|\.(?![\d]))"
    # "05.10" without the final dot (Turkish "10.12'ye", Arabic and Cyrillic texts): only with a
    # two-digit month and no unit after it, so that 12.50 €, 3.5 Stunden, 10.30 Uhr stay out.
    r"|(?P<d2>\d{1,2})\.(?P<m2>0[1-9]|1[0-2])(?![\d.,])(?!\s?(?:€|eur|euro|%|uhr|h\b|std|stunden|kg|km|prozent)))"
    r"(?![\d/]|[.,]\d)", re.IGNORECASE)
"""Numeric dates (run it over `plain_digits(text)`)."""

NAMED_DATE = re.compile(
    rf"(?i)(?<!\w)(?:(?P<d>\d{{1,2}})(?:\.|st|nd|rd|th)?(?:\s+of)?\s+(?P<mon>{MONTH_PATTERN})\.?"
    rf"|(?P<mon2>{MONTH_PATTERN})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?)(?!\w)(?:\s+(?P<y>(?:19|20)\d{{2}}))?(?!\d)")
"""Dates with a month name, with or without a year (run it over `plain_digits(text)`)."""

FULL_DATE_PATTERN = (
    r"(?:[0-9]{1,2}[ ]?[./\-][ ]?[0-9]{1,2}[ ]?[./\-][ ]?(?:19|20)?[0-9]{2}(?![0-9])"
    r"|(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}(?![0-9])"
    rf"|[0-9]{{1,2}}\.?[ ]{{1,3}}(?:{MONTH_PATTERN})\.?[ ]{{1,3}}(?:19|20)[0-9]{{2}}(?![0-9])"
    rf"|(?:{MONTH_PATTERN})\.?[ ]{{1,3}}[0-9]{{1,2}}(?:st|nd|rd|th)?,?[ ]{{1,3}}(?:19|20)[0-9]{{2}}(?![0-9]))")
"""A regex (string, to embed; use it case-insensitively) for a complete date with a year, as
birth dates are written: numeric with . / - (spaces allowed around them), ISO, or named."""


def nearest_year(day: int, month: int, today: date | None) -> date | None:
    """A date written without a year: the one nearest to `today` (a deadline is rarely half a
    year off); without `today`, the current year. None if there is no such day."""
    if today is None:
        try:
            return date(date.today().year, month, day)
        except ValueError:
            return None
    best = None
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - today).days) < abs((best - today).days):
            best = candidate
    return best


def make_date(day: str | int, month: int, year: str | int | None, today: date | None = None) -> date | None:
    """The date, or None if it does not exist. Two-digit years are 20xx (the inbox's view:
    deadlines and Bescheide); see `birth_year` for birth dates."""
    try:
        if year is None:
            return nearest_year(int(day), month, today)
        y = int(year)
        return date(y + 2000 if y < 100 else y, month, int(day))
    except ValueError:
        return None


def birth_year(year: str, today: date | None = None) -> int:
    """A year as written in a birth date: "85" is 1985, "07" is 2007 (the century that puts it
    in the past)."""
    y = int(year)
    if len(year) > 2:
        return y
    current = (today or date.today()).year
    return 2000 + y if 2000 + y <= current else 1900 + y


def dates_in(text: str, today: date | None = None) -> list[tuple[int, int, date]]:
    """(start, end, date) of every date in `text`, in text order; offsets index `text`."""
    plain = plain_digits(text)
    found: list[tuple[int, int, date]] = []
    for m in NUMERIC_DATE.finditer(plain):
        if m.group("iy"):
            value = make_date(m.group("id"), int(m.group("im")), m.group("iy"), today)
        elif m.group("d2"):
            value = make_date(m.group("d2"), int(m.group("m2")), None, today)
        else:
            value = make_date(m.group("d"), int(m.group("m")), m.group("y"), today) if int(m.group("m")) <= 12 else None
        if value:
            found.append((m.start(), m.end(), value))
    for m in NAMED_DATE.finditer(plain):
        month = month_number(m.group("mon") or m.group("mon2"))
        value = make_date(m.group("d") or m.group("d2"), month, m.group("y"), today) if month else None
        if value and not any(s < m.end() and m.start() < e for s, e, _ in found):
            found.append((m.start(), m.end(), value))
    return sorted(found)


_PARTS = re.compile(r"[0-9]+")


def parse_full_date(written: str, today: date | None = None) -> date | None:
    """A complete date as matched by FULL_DATE_PATTERN ("14.3.85", "14 / 03 / 1985",
    "1985-03-14", "15 мая 1990"), with birth-date centuries for two-digit years; else None."""
    plain = plain_digits(written)
    numbers = _PARTS.findall(plain)
    try:
        if len(numbers) == 3:
            if len(numbers[0]) == 4:  # ISO
                return date(int(numbers[0]), int(numbers[1]), int(numbers[2]))
            return date(birth_year(numbers[2], today), int(numbers[1]), int(numbers[0]))
        if len(numbers) == 2:  # a named month between or before
            word = re.sub(r"[0-9.,]|st\b|nd\b|rd\b|th\b", " ", plain).split()
            month = next((month_number(w) for w in word if month_number(w)), None)
            if month:
                return date(int(numbers[1]), month, int(numbers[0]))
    except ValueError:
        return None
    return None
