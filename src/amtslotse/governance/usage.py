"""Usage and costs per tenant: what each Landkreis used in a month, as JSON, CSV (Excel) and an
HTML page, so that a cooperative can share its costs by use::

    report = usage_report(store, settings, "musterkreis", "2026-12")
    report.metrics["conversations"], report.metrics["answers:generative"]
    cooperative_report(store, settings, "2026-12").csv()    # one row per Landkreis, with shares

    $ amtslotse usage --tenant musterkreis --month 2026-12 --format csv > nutzung.csv

Flows are counted when they are stored, per tenant and day (store `usage_counts`, filled by
database triggers for what every entry point stores, and by `record_usage` for what only the
code sees: OCR pages, LLM tokens). The counts stay when retention or an erasure deletes the
conversations and messages themselves: a bill must not shrink because data protection worked.
Stocks (documents, stored messages) are read at the time of the report.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from html import escape
from typing import Any

from amtslotse.errors import InputError
from amtslotse.settings import Settings
from amtslotse.tenants import TenantConfigError, load_tenant_config

FLOWS = {
    "conversations": "Gespräche",
    "answers": "Antworten insgesamt",
    "answers:curated": "Antworten: kuratierte Antwort",
    "answers:extractive": "Antworten: aus Textstellen zusammengestellt",
    "answers:generative": "Antworten: vom Sprachmodell formuliert",
    "answers:fixed": "Antworten: feste Texte (Begrüßung, Notfall, Ablehnung)",
    "handovers": "Übergaben an Mitarbeitende (aus dem Chat)",
    "inbox_items": "Nachrichten im Posteingang insgesamt",
    "inbox:email": "Nachrichten: E-Mail",
    "inbox:api": "Nachrichten: Schnittstelle",
    "inbox:chat": "Nachrichten: Übergabe aus dem Chat",
    "attachments": "Anhänge",
    "ocr_pages": "Seiten mit Texterkennung (OCR)",
    "llm_tokens": "Tokens des Sprachmodells",
}
"""The monthly flows in report order, with their German labels (other `answers:`/`inbox:` keys
are added with a generic label)."""

STOCKS = {
    "documents": "Gespeicherte Dokumente",
    "passages": "Gespeicherte Textabschnitte",
    "inbox_messages": "Gespeicherte Nachrichten",
    "attachment_bytes": "Gespeicherte Anhänge (Bytes)",
}
"""What the tenant keeps stored now (read when the report is made)."""

SHARE_BASIS = ("conversations", "inbox_items", "ocr_pages", "llm_tokens")
"""Flows whose shares of the cooperative's total a report shows (a basis for cost keys)."""


def record_usage(store, tenant: str, metric: str, quantity: int, day: date | None = None) -> None:
    """Count what only the code sees (e.g. "ocr_pages" after reading an attachment,
    "llm_tokens" when an LLM client reports them)."""
    store.add_usage(tenant, metric, int(quantity), day)


def month_range(month: str | None, today: date | None = None) -> tuple[str, date, date]:
    """("2026-12", first day, first day of the next month); None: the current month."""
    today = today or datetime.now(timezone.utc).date()
    if month is None:
        month = today.strftime("%Y-%m")
    try:
        start = datetime.strptime(month.strip(), "%Y-%m").date()
    except ValueError:
        raise InputError(f"„{month}“ ist kein Monat (erwartet JJJJ-MM, z. B. 2026-12).") from None
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start.strftime("%Y-%m"), start, end


@dataclass
class UsageReport:
    tenant: str
    tenant_name: str
    month: str
    period: dict[str, str]  # from, to (inclusive)
    metrics: dict[str, int]
    stored: dict[str, int]
    notes: list[str] = field(default_factory=list)
    shares: dict[str, float] = field(default_factory=dict)  # metric -> share of the cooperative's total (0..1)
    generated_at: str = ""

    def labels(self) -> dict[str, str]:
        return {key: label_of(key) for key in self.metrics}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"labels": self.labels() | STOCKS}

    def csv(self) -> bytes:
        return _csv([self])

    def html(self) -> str:
        return _html([self], f"Nutzung im {_month_label(self.month)}: {self.tenant_name}")


@dataclass
class CooperativeReport:
    month: str
    reports: list[UsageReport]
    totals: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "totals": self.totals, "labels": {k: label_of(k) for k in self.totals},
                "tenants": [r.to_dict() for r in self.reports]}

    def csv(self) -> bytes:
        return _csv(self.reports, self.totals)

    def html(self) -> str:
        return _html(self.reports, f"Nutzung aller Jobcenter im {_month_label(self.month)}", self.totals)


def label_of(key: str) -> str:
    if key in FLOWS:
        return FLOWS[key]
    kind, _, detail = key.partition(":")
    return {"answers": f"Antworten: {detail}", "inbox": f"Nachrichten: {detail}"}.get(kind, key)


def usage_report(store, settings: Settings, tenant: str, month: str | None = None, today: date | None = None) -> UsageReport:
    """One tenant's month: flows counted on its days, stocks as of now, and notes where a
    figure cannot be what its name promises."""
    label, start, end = month_range(month, today)
    counted = store.usage_totals(tenant, start, end)
    metrics = {key: 0 for key in FLOWS}
    metrics.update(counted)
    metrics["answers"] = sum(v for k, v in counted.items() if k.startswith("answers:"))
    metrics["inbox_items"] = sum(v for k, v in counted.items() if k.startswith("inbox:"))
    metrics["handovers"] = counted.get("inbox:chat", 0)
    try:
        name = load_tenant_config(tenant, settings).name
    except TenantConfigError:
        name = tenant
    last = date.fromordinal(end.toordinal() - 1)
    report = UsageReport(
        tenant, name, label, {"from": start.isoformat(), "to": last.isoformat()}, metrics, store.stored_totals(tenant),
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    report.notes = _notes(report, settings, today or datetime.now(timezone.utc).date(), end)
    return report


def _notes(report: UsageReport, settings: Settings, today: date, end: date) -> list[str]:
    notes = []
    if today < end:
        notes.append("Der Monat läuft noch: die Zahlen wachsen bis zu seinem Ende.")
    if not report.metrics["llm_tokens"]:
        if not settings.llm_base_url:
            notes.append("Tokens: 0, es ist kein Sprachmodell eingerichtet (Antworten aus Textstellen und kuratierten Antworten).")
        else:
            notes.append("Tokens: 0, der Sprachmodell-Dienst meldet seinen Verbrauch nicht an Amtslotse; "
                         "Maß der Nutzung ist die Zahl der vom Sprachmodell formulierten Antworten.")
    if report.metrics["attachments"] and not report.metrics["ocr_pages"]:
        notes.append("Seiten mit Texterkennung: 0 gezählt. Gezählt werden nur Seiten, die Amtslotse selbst per OCR "
                     "gelesen hat; Anhänge mit Textebene brauchen keine.")
    notes.append("Bestand (Dokumente, gespeicherte Nachrichten) zum Zeitpunkt des Berichts; gezählte Vorgänge bleiben "
                 "auch nach dem Löschen der Inhalte (Fristen, Löschanträge) erhalten.")
    return notes


def cooperative_report(store, settings: Settings, month: str | None = None, today: date | None = None) -> CooperativeReport:
    """Every tenant with usage or a registration, its month, and its share of the total."""
    label, start, end = month_range(month, today)
    names = set(store.usage_tenants(start, end)) | (set(store.tenants()) - {"bund"}) | set(store.tenant_states())
    reports = [usage_report(store, settings, name, label, today) for name in sorted(names)]
    totals = {key: sum(r.metrics.get(key, 0) for r in reports) for key in _keys(reports)}
    for report in reports:
        report.shares = {key: round(report.metrics.get(key, 0) / totals[key], 4) for key in SHARE_BASIS if totals.get(key)}
    return CooperativeReport(label, reports, totals)


def _keys(reports: list[UsageReport]) -> list[str]:
    keys = list(FLOWS)
    for report in reports:
        keys += [k for k in report.metrics if k not in keys]
    return keys


def _month_label(month: str) -> str:
    names = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember")
    year, number = month.split("-")
    return f"{names[int(number) - 1]} {year}"


def _csv(reports: list[UsageReport], totals: dict[str, int] | None = None) -> bytes:
    """Semicolon-separated with a BOM (Excel opens it as is): one row per tenant and month."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    keys = _keys(reports)
    shares = [k for k in SHARE_BASIS if any(k in r.shares for r in reports)]
    writer.writerow(["Mandant", "Jobcenter", "Monat", *[label_of(k) for k in keys], *STOCKS.values(),
                     *[f"Anteil {label_of(k)} (%)" for k in shares]])
    for r in reports:
        writer.writerow([r.tenant, r.tenant_name, r.month, *[r.metrics.get(k, 0) for k in keys],
                         *[r.stored.get(k, 0) for k in STOCKS],
                         *[_percent(r.shares.get(k)) for k in shares]])
    if totals is not None:
        writer.writerow(["Summe", "", reports[0].month if reports else "", *[totals.get(k, 0) for k in keys]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}".replace(".", ",")


def _html(reports: list[UsageReport], title: str, totals: dict[str, int] | None = None) -> str:
    """An accessible page: one table, metrics as rows, tenants as columns (headers scoped)."""
    keys = _keys(reports)
    head = "".join(f'<th scope="col">{escape(r.tenant_name)}</th>' for r in reports)
    head += '<th scope="col">Summe</th>' if totals is not None else ""
    rows = []
    for key in keys:
        cells = "".join(f"<td>{r.metrics.get(key, 0):,}</td>".replace(",", ".") for r in reports)
        if totals is not None:
            cells += f"<td>{totals.get(key, 0):,}</td>".replace(",", ".")
        rows.append(f'<tr><th scope="row">{escape(label_of(key))}</th>{cells}</tr>')
    for key, label in STOCKS.items():
        cells = "".join(f"<td>{r.stored.get(key, 0):,}</td>".replace(",", ".") for r in reports)
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{cells}{"<td></td>" if totals is not None else ""}</tr>')
    notes = sorted({n for r in reports for n in r.notes})
    period = reports[0].period if reports else {"from": "", "to": ""}
    return (
        '<!doctype html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n<main>\n<h1>{escape(title)}</h1>\n"
        f"<p>Zeitraum: {escape(period['from'])} bis {escape(period['to'])} (Tage in UTC).</p>\n"
        f"<table>\n<caption>{escape(title)}</caption>\n<thead><tr><th scope=\"col\">Kennzahl</th>{head}</tr></thead>\n"
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n"
        + ("<h2>Hinweise</h2>\n<ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>\n" if notes else "")
        + "</main>\n</body>\n</html>\n"
    )
