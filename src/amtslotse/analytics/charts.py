"""Server-rendered SVG charts of the analytics report: small, accessible, self-contained.

    >>> from datetime import datetime, timezone
    >>> from amtslotse.analytics.report import Minutes, Period, build_report
    >>> period = Period.last_days(30, now=datetime(2026, 11, 24, tzinfo=timezone.utc))
    >>> report = build_report([], [], period, Minutes(), str)   # no turns, no messages
    >>> svg = render_chart("topics", report)      # names: CHARTS
    >>> svg.startswith("<svg") and 'role="img"' in svg
    True

Each chart is an image with a `<title>` and a `<desc>` that says in words what the bars show
(`role="img"` with `aria-labelledby`, so screen readers read both); every bar carries its
number as text, so no colour has to be told apart to read it. No scripts, no external
fonts or styles: the SVG works as `<img src>` and inline under a strict CSP.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape

from amtslotse.analytics.report import GROUP_LABELS

WIDTH = 640
ROW = 28
LABEL_WIDTH = 240
MAX_LABEL_CHARS = 30  # about 200 px at 13 px sans-serif: fits left of the bars
VALUE_ROOM = 110  # right of the longest bar, for "157 (53,4 %)"
TEXT = "#1a1a1a"
MUTED = "#595959"  # 7:1 on white
COLORS = {"answered": "#00507d", "handover": "#9a4a00", "refused": "#595959", "urgent": "#b00020", "up": "#1b6e2e", "down": "#b00020"}
"""Each at least 4.5:1 against white (WCAG 1.4.11 needs 3:1 for graphics)."""
BAR = COLORS["answered"]
NO_DATA = "Keine Daten im gewählten Zeitraum."


def render_chart(name: str, report: dict) -> str:
    """The chart `name` (KeyError if there is none) of a report from `build_report`."""
    return CHARTS[name](report)


def _svg(name: str, width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    ident = f"chart-{name}"
    return "".join([
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident}-title {ident}-desc" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="13">'
        ),
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        *body,
        "</svg>",
    ])


def _text(x: float, y: float, content: str, anchor: str = "start", color: str = TEXT, size: int | None = None) -> str:
    font = f' font-size="{size}"' if size else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{color}"{font}>{escape(content)}</text>'


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def bar_chart(name: str, title: str, rows: list[tuple[str, float, str, str]], unit_desc: str) -> str:
    """Horizontal bars: rows of (label, value, value as text, colour)."""
    if not rows:
        return _svg(name, WIDTH, 60, title, NO_DATA, [_text(16, 36, NO_DATA, color=MUTED)])
    top, height = 12, 12 + len(rows) * ROW + 8
    largest = max(value for _, value, _, _ in rows) or 1
    area = WIDTH - LABEL_WIDTH - VALUE_ROOM
    body = []
    for n, (label, value, shown, color) in enumerate(rows):
        y = top + n * ROW
        length = max(area * value / largest, 2 if value else 0)
        body.append(_text(LABEL_WIDTH - 8, y + 18, _short(label), anchor="end"))
        body.append(f'<rect x="{LABEL_WIDTH}" y="{y + 5}" width="{length:.1f}" height="{ROW - 10}" fill="{color}"/>')
        body.append(_text(LABEL_WIDTH + length + 6, y + 18, shown))
    body.append(f'<line x1="{LABEL_WIDTH}" y1="{top}" x2="{LABEL_WIDTH}" y2="{height - 8}" stroke="{MUTED}"/>')
    desc = f"{unit_desc}: " + "; ".join(f"{label}: {shown}" for label, _, shown, _ in rows) + "."
    return _svg(name, WIDTH, height, title, desc, body)


def per_day_chart(report: dict) -> str:
    """Stacked columns per day (answered, handed over, refused, urgent) with a legend."""
    days = report["per_day"]
    title = "Fragen pro Tag"
    total = sum(d["questions"] for d in days)
    if not total:
        return _svg("per_day", WIDTH, 60, title, NO_DATA, [_text(16, 36, NO_DATA, color=MUTED)])
    height, left, top, bottom = 280, 40, 40, 240
    largest = max(d["questions"] for d in days)
    step = (WIDTH - left - 10) / len(days)
    bar = max(step * 0.75, 1)
    body = []
    for n, (group, label) in enumerate(GROUP_LABELS.items()):  # legend
        x = left + n * 140
        body.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{COLORS[group]}"/>')
        body.append(_text(x + 18, 21, label))
    body.append(_text(left - 6, top + 4, str(largest), anchor="end", color=MUTED, size=11))
    body.append(_text(left - 6, bottom + 4, "0", anchor="end", color=MUTED, size=11))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="{MUTED}"/>')
    label_every = max(1, round(len(days) / 8))
    for n, d in enumerate(days):
        x, y = left + n * step + (step - bar) / 2, float(bottom)
        for group in GROUP_LABELS:
            if d[group]:
                h = (bottom - top) * d[group] / largest
                y -= h
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{COLORS[group]}"/>')
        if d["questions"] and step >= 14:
            body.append(_text(x + bar / 2, y - 3, str(d["questions"]), anchor="middle", size=10))
        if (len(days) - 1 - n) % label_every == 0:  # counted from the last day: today always has its label
            body.append(_text(x + bar / 2, bottom + 16, _short_day(d["day"]), anchor="middle", color=MUTED, size=11))
    busiest = max(days, key=lambda d: d["questions"])
    desc = (
        f"{total} Fragen an {len(days)} Tagen ({_long_day(days[0]['day'])} bis {_long_day(days[-1]['day'])}), "
        f"höchstens {largest} am {_long_day(busiest['day'])}. "
        + "; ".join(f"{label}: {sum(d[g] for d in days)}" for g, label in GROUP_LABELS.items()) + "."
    )
    if len(days) <= 31:
        desc += " Pro Tag: " + "; ".join(f"{_short_day(d['day'])} {d['questions']}" for d in days) + "."
    return _svg("per_day", WIDTH, height, title, desc, body)


def outcomes_chart(report: dict) -> str:
    counts, shares = report["counts"], report["shares"]
    rows = [
        (label.capitalize(), counts[group], f"{counts[group]} ({_pct(shares[group])})", COLORS[group])
        for group, label in GROUP_LABELS.items()
    ] if report["total_questions"] else []
    return bar_chart("outcomes", "Anteil beantwortet, übergeben, abgelehnt, Notlage", rows, "Fragen nach Ergebnis")


def topics_chart(report: dict) -> str:
    rows = [(r["topic"], r["count"], str(r["count"]), BAR) for r in report["topics"][:12]]
    return bar_chart("topics", "Fragen pro Thema", rows, "Fragen pro Thema, die häufigsten zuerst")


def feedback_chart(report: dict) -> str:
    fb = report["feedback"]
    rows = [("Daumen hoch", fb["up"], str(fb["up"]), COLORS["up"]), ("Daumen runter", fb["down"], str(fb["down"]), COLORS["down"])]
    return bar_chart("feedback", "Rückmeldungen zu Antworten", rows if fb["up"] or fb["down"] else [], "Bewertungen")


def inbox_chart(report: dict) -> str:
    rows = [(r["label"], r["count"], str(r["count"]), BAR) for r in report["inbox"]["per_category"][:12]]
    return bar_chart("inbox", "Posteingang nach Kategorie", rows, "Nachrichten pro Kategorie")


def time_saved_chart(report: dict) -> str:
    saved = report["time_saved"]
    rows = [(r["topic"], r["minutes"], f"{_num(r['minutes'])} Min.", BAR) for r in saved["by_topic"][:12]]
    title = f"Geschätzte eingesparte Arbeitszeit: {_num(saved['minutes'])} Minuten"
    return bar_chart("time_saved", title, rows, "Eingesparte Minuten pro Thema")


CHARTS: dict[str, Callable[[dict], str]] = {
    "per_day": per_day_chart, "outcomes": outcomes_chart, "topics": topics_chart, "feedback": feedback_chart,
    "inbox": inbox_chart, "time_saved": time_saved_chart,
}


def _num(value: float) -> str:
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def _pct(share: float) -> str:
    return f"{_num(share * 100)} %"


def _short_day(iso_day: str) -> str:
    day = date.fromisoformat(iso_day)
    return f"{day.day}.{day.month}."


def _long_day(iso_day: str) -> str:
    return date.fromisoformat(iso_day).strftime("%d.%m.%Y")
