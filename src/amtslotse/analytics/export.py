"""The analytics report as CSV for Excel: German headers, `;` separated, decimal commas,
UTF-8 with a byte order mark (so that Excel reads the umlauts), one section per table.

    >>> from datetime import datetime, timezone
    >>> from amtslotse.analytics.report import Minutes, Period, build_report
    >>> period = Period.last_days(30, now=datetime(2026, 11, 24, tzinfo=timezone.utc))
    >>> data = report_csv(build_report([], [], period, Minutes(), str), "Jobcenter Landkreis Musterkreis")
    >>> data[:3] == "\ufeff".encode()
    True
    >>> data.decode("utf-8-sig").splitlines()[2]
    'Jobcenter Landkreis Musterkreis;26.10.2026;24.11.2026;30;0'
"""

from __future__ import annotations

import csv
import io

from amtslotse.analytics.report import GROUP_LABELS

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def report_csv(report: dict, tenant_name: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    period = report["period"]

    def section(title: str, header: list[str], rows: list[list]) -> None:
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        writer.writerow([])

    section("Auswertung", ["Jobcenter", "von", "bis", "Tage", "Fragen"], [
        [tenant_name, _day(period["from"]), _day(period["to"]), period["days"], report["total_questions"]],
    ])
    section("Fragen pro Tag", ["Tag", "Fragen", *[label.capitalize() for label in GROUP_LABELS.values()], "davon unsicher"], [
        [_day(r["day"]), r["questions"], *[r[g] for g in GROUP_LABELS], r["unsure"]] for r in report["per_day"]
    ])
    section("Anteile", ["Ergebnis", "Anzahl", "Anteil in %"], [
        [label, report["counts"][group], _percent(report["shares"][group])] for group, label in GROUP_LABELS.items()
    ])
    section("Fragen pro Thema", ["Thema", "Fragen"], [[r["topic"], r["count"]] for r in report["topics"]])
    fb = report["feedback"]
    section("Rückmeldungen", ["Daumen hoch", "Daumen runter"], [[fb["up"], fb["down"]]])
    section("Kommentare", ["Zeitpunkt", "Bewertung", "Thema", "Kommentar"], [
        [c["at"], "hoch" if c["rating"] == "up" else "runter", c["topic"], c["comment"]] for c in fb["comments"]
    ])
    section("Offene Fragen (unsicher oder übergeben)", ["Frage", "Anzahl", "zuletzt"], [
        [r["question"], r["count"], r["last"]] for r in report["unanswered"]
    ])
    inbox = report["inbox"]
    section("Posteingang nach Kategorie", ["Kategorie", "Nachrichten"], [
        [r["label"], r["count"]] for r in inbox["per_category"]
    ])
    first = inbox["first_response_hours"]
    section("Zeit bis zur ersten Antwort (Stunden)", ["Median", "90-%-Wert", "beantwortet", "noch offen"], [
        [_number(first["median"]), _number(first["p90"]), first["count"], first["open"]],
    ])
    saved = report["time_saved"]
    section("Geschätzte eingesparte Arbeitszeit", ["Thema", "beantwortete Fragen", "Minuten je Frage", "Minuten"], [
        *[[r["topic"], r["questions"], _number(r["minutes_each"]), _number(r["minutes"])] for r in saved["by_topic"]],
        ["Summe", saved["questions"], "", _number(saved["minutes"])],
    ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value) -> str | int:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        # Questions and comments come from citizens: a cell starting like a formula would run
        # in Excel (CSV injection); the apostrophe makes it plain text.
        return "'" + value
    return value


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}".replace(".", ",")


def _percent(share: float) -> str:
    return _number(share * 100)


def _day(iso_day: str) -> str:
    year, month, day = iso_day.split("-")
    return f"{day}.{month}.{year}"
