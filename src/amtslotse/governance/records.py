"""Generated documents per tenant, from its configuration and the settings: the record of
processing activities (Art. 30 DSGVO) as Markdown or HTML, and the accessibility statement
(BITV 2.0, § 12b BGG) as a public HTML page with its feedback link::

    doc = processing_record(config, settings)
    doc.markdown()          # for the data-protection officer, to check and complete
    accessibility_statement(config, settings).html()

A tenant file may add what only the Jobcenter knows (both tables optional; `amtslotse tenant
check` says what is missing)::

    [privacy]
    controller = "Jobcenter Landkreis Nordkreis, Kreishaus 1, 12345 Nordstadt"
    dpo = "Datenschutzbeauftragte, datenschutz@jobcenter.nordkreis.example"
    operator = "Kommunale IT-Genossenschaft eG (Auftragsverarbeiter, § 80 SGB X)"
    hosting = "Rechenzentrum der Genossenschaft in Deutschland"
    recipients = ["Fachaufsicht (nur auf Anforderung)"]
    [[privacy.sub_processors]]
    name = "Beispiel-Rechenzentrum GmbH"
    purpose = "Betrieb der Server"
    location = "Deutschland"

    [accessibility]
    feedback_url = "https://jobcenter.nordkreis.example/barrierefreiheit-melden"
    feedback_email = "barrierefreiheit@jobcenter.nordkreis.example"
    status = "teilweise"          # vollständig | teilweise | nicht
    known_issues = ["…"]
    reviewed = "2026-11-30"

The texts are drafts in German that name their legal sources; they never replace the
controller's own assessment (docs/datenschutz-dsb.md explains the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html import escape
from urllib.parse import urlsplit

from amtslotse.settings import Settings

STATUS = {
    "vollständig": "vollständig vereinbar",
    "teilweise": "teilweise vereinbar",
    "nicht": "nicht vereinbar",
}
DEFAULT_KNOWN_ISSUES = (
    "Antworten werden automatisch aus Fachtexten zusammengestellt und können Fachbegriffe enthalten. "
    "Auf Wunsch antwortet der Assistent in Einfacher Sprache; Leichte Sprache bietet er nicht.",
    "Die Quellen (Gesetzestexte) werden im amtlichen Wortlaut angezeigt.",
    "Erläuterungen in Deutscher Gebärdensprache und in Leichter Sprache bietet der Assistent nicht selbst an.",
)
ENFORCEMENT = ("Schlichtungsstelle nach dem Behindertengleichstellungsgesetz (§ 16 BGG) beim Beauftragten der "
               "Bundesregierung für die Belange von Menschen mit Behinderungen", "https://www.schlichtungsstelle-bgg.de")

Block = tuple[str, str] | tuple[str, list] | tuple[str, list, list]


@dataclass
class Doc:
    """A small document (headings, paragraphs, lists, tables) rendered as Markdown or HTML."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def h2(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def h3(self, text: str) -> None:
        self.blocks.append(("h3", text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def ul(self, items: list[str]) -> None:
        self.blocks.append(("ul", list(items)))

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        self.blocks.append(("table", list(headers), [list(r) for r in rows]))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for block in self.blocks:
            kind = block[0]
            if kind in ("h2", "h3"):
                out += [("## " if kind == "h2" else "### ") + block[1], ""]
            elif kind == "p":
                out += [block[1], ""]
            elif kind == "ul":
                out += [f"- {item}" for item in block[1]] + [""]
            else:
                headers, rows = block[1], block[2]
                cell = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
                out.append("| " + " | ".join(cell(h) for h in headers) + " |")
                out.append("|" + "---|" * len(headers))
                out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
                out.append("")
        return "\n".join(out).rstrip() + "\n"

    def html(self, lang: str = "de") -> str:
        body = [f"<h1>{escape(self.title)}</h1>"]
        for block in self.blocks:
            kind = block[0]
            if kind in ("h2", "h3", "p"):
                body.append(f"<{kind}>{_inline(block[1])}</{kind}>")
            elif kind == "ul":
                body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block[1]) + "</ul>")
            else:
                head = "".join(f'<th scope="col">{escape(h)}</th>' for h in block[1])
                rows = "".join("<tr>" + "".join(f"<td>{_inline(str(v))}</td>" for v in row) + "</tr>" for row in block[2])
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        return (
            f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(self.title)}</title>\n</head>\n<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
        )


def _inline(text: str) -> str:
    """Escaped text whose http(s) and mailto addresses become links."""
    import re

    out, last = [], 0
    for match in re.finditer(r"(https?://[^\s<>()]+[^\s<>().,;:]|mailto:[^\s<>()]+[^\s<>().,;:])", text):
        out.append(escape(text[last:match.start()]))
        url = match.group(1)
        label = url.removeprefix("mailto:")
        out.append(f'<a href="{escape(url)}">{escape(label)}</a>')
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def _table(config, name: str) -> dict:
    value = config.raw.get(name) if config.configured else None
    return value if isinstance(value, dict) else {}


def _list(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value or [] if str(v).strip()]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _local(host: str) -> bool:
    return host in ("", "localhost", "::1") or host.startswith("127.")


# --- Art. 30 DSGVO ----------------------------------------------------------------------------


def processing_record(config, settings: Settings, today: date | None = None) -> Doc:
    """The record of processing activities of the tenant's use of Amtslotse (a draft)."""
    today = today or date.today()
    privacy = _table(config, "privacy")
    missing = "– bitte in der Mandanten-Datei unter [privacy] eintragen –"
    doc = Doc(f"Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO): Amtslotse – {config.name}")
    doc.p(f"Entwurf, erzeugt am {today.strftime('%d.%m.%Y')} aus der Konfiguration des Mandanten „{config.tenant}“ "
          "und den Einstellungen der Installation. Der Verantwortliche prüft und ergänzt ihn; Angaben mit "
          "„bitte eintragen“ fehlen in der Konfiguration.")
    doc.h2("1. Verantwortlicher und Beteiligte")
    doc.table(["Angabe", "Inhalt"], [
        ["Verantwortlicher (Art. 4 Nr. 7 DSGVO)", privacy.get("controller") or config.name],
        ["Datenschutzbeauftragte oder Datenschutzbeauftragter", privacy.get("dpo") or missing],
        ["Betrieb der Installation (Auftragsverarbeiter, Art. 28 DSGVO, § 80 SGB X)", privacy.get("operator") or missing],
        ["Hosting", privacy.get("hosting") or missing],
        ["Datenschutzhinweise für Bürgerinnen und Bürger", config.privacy_url or missing.replace("[privacy]", "privacy_url")],
    ])

    llm = _llm_recipient(settings)
    retention_chat, retention_inbox = settings.conversation_retention_days, settings.inbox_retention_days
    doc.h2("2. Verarbeitungstätigkeiten")
    activities = [
        ("2.1 Digitaler Assistent (Chat im Internet)", [
            ["Zweck", "Allgemeine Aufklärung und Beratung über Rechte und Pflichten in der Grundsicherung für "
                      "Arbeitsuchende (§§ 13, 14 SGB I); Hinweise auf Notfallkontakte; Übergabe an Mitarbeitende auf Wunsch."],
            ["Rechtsgrundlage (Vorschlag, vom Verantwortlichen zu prüfen)",
             "Art. 6 Abs. 1 Buchst. e DSGVO i. V. m. §§ 13, 14 SGB I; soweit Sozialdaten: §§ 67a, 67b SGB X."],
            ["Betroffene Personen", "Ratsuchende Bürgerinnen und Bürger; in Fragen genannte Dritte."],
            ["Kategorien personenbezogener Daten",
             "Fragen nach automatischer Schwärzung (Namen, Anschriften, Geburtsdaten, Konto-, Telefon- und Kennnummern "
             "werden vor dem Speichern ersetzt), Antworten mit Quellen, Bewertungen und Kommentare (geschwärzt), "
             "Zeitpunkte, Gesprächsnummer. Die Anwendung speichert keine IP-Adressen; Zugriffsprotokolle des "
             "vorgeschalteten Webservers regelt der Betrieb."],
            ["Empfänger", "Mitarbeitende mit der Rolle Auswertung oder Redaktion (geschwärzte Fragen in Auswertung und "
                          "„offene Fragen“)" + (f"; {llm}" if llm else "") + "."],
            ["Löschfrist", f"{retention_chat} Tage nach der letzten Nachricht des Gesprächs (automatisch); "
                           "Verbrauchszähler ohne Personenbezug bleiben."],
        ]),
        ("2.2 Posteingang: Übergaben aus dem Chat, E-Mail, Schnittstelle", [
            ["Zweck", "Bearbeitung der Anliegen; Vorsortierung (Kategorie, Dringlichkeit, Fristen, Zuständigkeit) und "
                      "Antwortentwurf als Vorbereitung der Bearbeitung durch Mitarbeitende, die jede Antwort selbst "
                      "prüfen und freigeben."],
            ["Rechtsgrundlage (Vorschlag, vom Verantwortlichen zu prüfen)",
             "Art. 6 Abs. 1 Buchst. e DSGVO, Art. 9 Abs. 2 Buchst. b DSGVO (soweit Gesundheitsdaten) "
             "i. V. m. §§ 67a bis 67c SGB X und den Aufgaben nach dem SGB II."],
            ["Betroffene Personen", "Leistungsberechtigte und Antragstellende, Mitglieder der Bedarfsgemeinschaft, "
                                    "in Nachrichten und Anhängen genannte Dritte."],
            ["Kategorien personenbezogener Daten",
             "Nachrichtentext und Betreff im Klartext, Absender und Kontaktangaben, Anhänge (z. B. Bescheide, "
             "Nachweise, Arbeitsunfähigkeitsbescheinigungen: auch Gesundheitsdaten nach Art. 9 DSGVO), daraus "
             "erkannter Text (Texterkennung auf dem eigenen Server), erkannte Angaben (Fristen, Aktenzeichen), "
             "Vorsortierung, Antwortentwurf."],
            ["Empfänger", "Mitarbeitende der Sachbearbeitung des Jobcenters, nach Team und Rolle"
                          + (f"; {llm} (nur der geschwärzte Text für den Antwortentwurf)" if llm else "") + "."],
            ["Löschfrist", f"{retention_inbox} Tage nach Eingang (Text und Anhänge, automatisch); "
                           "das Prüfprotokoll der Bearbeitung bleibt (ohne Inhalte)."],
        ]),
        ("2.3 Prüfprotokoll", [
            ["Zweck", "Nachweis, wer wann welche Nachricht geöffnet, bearbeitet, weitergeleitet oder gelöscht und wer "
                      "Wissen geändert hat; Datenschutzkontrolle. Das Protokoll ist nur erweiterbar und mit Prüfsummen "
                      "verkettet (`amtslotse audit verify`)."],
            ["Betroffene Personen", "Mitarbeitende; mittelbar die Personen hinter den Aktenzeichen."],
            ["Kategorien personenbezogener Daten", "Namen der Mitarbeitenden, Aktion, Zeitpunkt, Aktenzeichen und "
                                                   "Kennungen; keine Nachrichteninhalte."],
            ["Empfänger", "Mitarbeitende mit Zugriff auf die jeweilige Nachricht; Administration des Mandanten."],
            ["Löschfrist", "Keine automatische Löschung: bitte eine Frist festlegen (gelöscht wird das Protokoll mit dem "
                           "Mandanten)."],
        ]),
        ("2.4 Konten der Mitarbeitenden", [
            ["Zweck", "Anmeldung und Rechte (Rollen je Jobcenter)."],
            ["Kategorien personenbezogener Daten", "Anmeldename, Rollen, Passwort nur als scrypt-Hash, Sitzungen nur "
                                                   "als SHA-256-Hash, Fehlversuche bei der Anmeldung."],
            ["Empfänger", "Administration des Mandanten und der Genossenschaft."],
            ["Löschfrist", f"Mit dem Entfernen des Kontos; Sitzungen enden nach {settings.staff_session_hours:g} Stunden."],
        ]),
        ("2.5 Verbrauch und Auswertung", [
            ["Zweck", "Kostenteilung in der Genossenschaft nach Nutzung; Auswertung für die Redaktion."],
            ["Kategorien personenbezogener Daten", "Keine: Zählwerte je Tag (Gespräche, Antworten, Nachrichten, Seiten)."],
            ["Löschfrist", "Mit dem Mandanten."],
        ]),
    ]
    for title, rows in activities:
        doc.h3(title)
        doc.table(["Angabe", "Inhalt"], rows)

    doc.h2("3. Auftragsverarbeiter und weitere Empfänger")
    rows = [[s.get("name", "?"), s.get("purpose", ""), s.get("location", "")]
            for s in privacy.get("sub_processors", []) if isinstance(s, dict)]
    for host, purpose in _detected_services(settings):
        rows.append([host, purpose, "bitte eintragen"])
    doc.table(["Stelle", "Aufgabe", "Ort der Verarbeitung"], rows or [["– keine eingetragen –", "", ""]])
    extra = _list(privacy.get("recipients"))
    if extra:
        doc.p("Weitere Empfänger: " + "; ".join(extra) + ".")
    doc.p("Eine Verarbeitung von Sozialdaten im Auftrag ist nur im Inland, in der EU, in gleichgestellten Staaten "
          "oder bei einem Angemessenheitsbeschluss zulässig (§ 80 Abs. 2 SGB X); vor der Auftragserteilung ist sie "
          "der Rechts- oder Fachaufsichtsbehörde anzuzeigen (§ 80 Abs. 1 SGB X).")

    doc.h2("4. Übermittlung in Drittländer")
    doc.p("Keine, solange alle oben genannten Stellen in der EU oder im EWR verarbeiten. Bitte prüfen.")

    doc.h2("5. Technische und organisatorische Maßnahmen (Art. 32 DSGVO), soweit die Software sie vorgibt")
    doc.ul([
        "Personenbezogene Angaben in Chat-Fragen werden vor dem Speichern, Protokollieren und vor jedem Aufruf eines "
        "Sprachmodells unkenntlich gemacht.",
        "Strikte Trennung der Mandanten in jeder Abfrage der Datenbank; Rollen je Jobcenter.",
        "Passwörter als scrypt-Hash, Sitzungen und API-Schlüssel nur als Hash; Anmeldebremse bei Fehlversuchen.",
        "Automatische Löschung nach den Fristen oben; Auskunft und Löschung je Aktenzeichen oder Gespräch "
        "(`amtslotse privacy export|erase`).",
        "Prüfprotokoll nur erweiterbar (Datenbank-Trigger) und je Mandant mit SHA-256 verkettet.",
        "Anhänge werden in einem eigenen Prozess mit Zeit- und Speichergrenzen gelesen; Texterkennung auf dem "
        "eigenen Server.",
        "Chat-Fenster und Arbeitsbereich laden nichts von fremden Servern (Content-Security-Policy).",
    ])
    doc.p("Maßnahmen des Betriebs (Rechenzentrum, Verschlüsselung der Verbindung, Datensicherung, Zutritt) ergänzt "
          "der Auftragsverarbeiter.")
    open_points = missing_record_data(config)
    if open_points:
        doc.h2("6. Offene Punkte")
        doc.ul(open_points)
    return doc


def _llm_recipient(settings: Settings) -> str:
    if not settings.llm_base_url:
        return ""
    host = _host(settings.llm_base_url)
    if _local(host):
        return "Sprachmodell auf dem eigenen Server (kein weiterer Empfänger)"
    return f"Sprachmodell-Dienst {host} (Auftragsverarbeiter; erhält nur geschwärzte Texte)"


def _detected_services(settings: Settings) -> list[tuple[str, str]]:
    """Services the settings name that run elsewhere: each a recipient to put under contract."""
    found = []
    if settings.llm_base_url and not _local(_host(settings.llm_base_url)):
        found.append((_host(settings.llm_base_url), "Sprachmodell (Antworten und Entwürfe aus geschwärzten Texten)"))
    if settings.imap_host and not _local(settings.imap_host.lower()):
        found.append((settings.imap_host, "Postfach, aus dem E-Mails abgeholt werden"))
    if settings.database_url.startswith(("postgresql://", "postgres://")) and not _local(_host(settings.database_url)):
        found.append((_host(settings.database_url), "Datenbank (alle gespeicherten Daten)"))
    return found


def missing_record_data(config) -> list[str]:
    """What the generated records lack from the tenant file (German hints for `tenant check`)."""
    hints = []
    privacy = _table(config, "privacy")
    lacking = [key for key in ("controller", "dpo", "operator", "hosting") if not privacy.get(key)]
    if lacking:
        hints.append("Für das Verzeichnis der Verarbeitungstätigkeiten (Art. 30 DSGVO) fehlen unter [privacy]: "
                     + ", ".join(lacking) + ".")
    if not config.privacy_url:
        hints.append("privacy_url fehlt: der Link auf die Datenschutzhinweise des Jobcenters.")
    access = _table(config, "accessibility")
    if not (access.get("feedback_url") or access.get("feedback_email") or access.get("feedback_phone")):
        hints.append("Für die Erklärung zur Barrierefreiheit fehlt ein Feedback-Kontakt unter [accessibility] "
                     "(feedback_url, feedback_email oder feedback_phone)"
                     + ("; bis dahin wird accessibility_url verlinkt." if config.accessibility_url else "."))
    status = access.get("status")
    if status is not None and status not in STATUS:
        hints.append(f"[accessibility] status „{status}“ ist unbekannt; möglich: {', '.join(STATUS)}.")
    return hints


# --- BITV 2.0 ---------------------------------------------------------------------------------


def feedback_link(config) -> str | None:
    """Where a citizen reports an accessibility barrier: the tenant's form, mail or page."""
    access = _table(config, "accessibility")
    if access.get("feedback_url"):
        return str(access["feedback_url"])
    if access.get("feedback_email"):
        return f"mailto:{access['feedback_email']}"
    return config.accessibility_url


def accessibility_statement(config, settings: Settings, chat_url: str | None = None, today: date | None = None) -> Doc:
    """The accessibility statement of the tenant's chat (a page in German, BITV 2.0 / § 12b BGG)."""
    access = _table(config, "accessibility")
    status = STATUS.get(str(access.get("status", "teilweise")), STATUS["teilweise"])
    law = access.get("law") or ("dem Behindertengleichstellungsgesetz (BGG) und der Barrierefreie-"
                                "Informationstechnik-Verordnung (BITV 2.0)")
    doc = Doc(f"Erklärung zur Barrierefreiheit: digitaler Assistent – {config.name}")
    doc.p(f"{config.name} ist bemüht, den digitalen Assistenten (Chat) barrierefrei zugänglich zu machen. "
          f"Rechtsgrundlage sind die Vorschriften zur Barrierefreiheit nach {law}.")
    doc.p("Diese Erklärung gilt für den Chat" + (f" unter {chat_url}" if chat_url else "")
          + " und für das Chat-Fenster, das in die Internetseite des Jobcenters eingebunden ist.")
    doc.h2("Stand der Vereinbarkeit mit den Anforderungen")
    doc.p(f"Der digitale Assistent ist mit den Anforderungen {status}.")
    issues = _list(access.get("known_issues")) or list(DEFAULT_KNOWN_ISSUES)
    if status != STATUS["vollständig"]:
        doc.h2("Nicht barrierefreie Inhalte")
        doc.ul(issues)
    doc.h2("Erstellung dieser Erklärung")
    reviewed = str(access.get("reviewed") or (today or date.today()).isoformat())
    doc.p(f"Diese Erklärung wurde am {_german_date(reviewed)} erstellt. Grundlage ist eine Selbstbewertung. "
          "Zusätzlich prüft der Hersteller das Chat-Fenster bei jeder Änderung der Software automatisch mit dem "
          "Prüfwerkzeug axe-core in einem echten Browser.")
    doc.h2("Barrieren melden: Kontakt")
    link = feedback_link(config)
    contacts = []
    if link:
        contacts.append(f"Online: {link}" if not link.startswith("mailto:") else f"E-Mail: {link}")
    if access.get("feedback_email") and access.get("feedback_url"):
        contacts.append(f"E-Mail: mailto:{access['feedback_email']}")
    if access.get("feedback_phone"):
        contacts.append(f"Telefon: {access['feedback_phone']}")
    doc.p("Haben Sie im Chat eine Barriere bemerkt, oder brauchen Sie eine Auskunft in einer anderen Form? "
          "Melden Sie sich bitte; Ihre Nachricht geht an das Jobcenter, das die Barriere beheben lässt.")
    doc.ul(contacts or ["Bitte wenden Sie sich an Ihr Jobcenter."])
    doc.h2("Schlichtungsverfahren")
    name = access.get("enforcement_name") or ENFORCEMENT[0]
    url = access.get("enforcement_url") or ENFORCEMENT[1]
    free = " Das Verfahren ist für Sie kostenlos." if name == ENFORCEMENT[0] else ""
    doc.p("Bleibt Ihre Meldung ohne befriedigende Antwort, können Sie ein Schlichtungsverfahren beantragen, "
          f"und zwar bei der {name}: {url}.{free}")
    return doc


def _german_date(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d.%m.%Y")
    except ValueError:
        return value
