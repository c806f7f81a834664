"""Fixed texts of the assistant (German, plain language), and short notes in the clients'
languages for answers that stay German without an LLM."""

from __future__ import annotations

AI_NOTICE = (
    "Hinweis: Sie schreiben mit einem KI-Assistenten des Jobcenters. Er gibt allgemeine "
    "Auskünfte mit Quellen, trifft keine Entscheidungen über Ihren Fall und ersetzt keinen "
    "Bescheid. Persönliche Daten in Ihren Nachrichten werden vor dem Speichern unkenntlich "
    "gemacht; Gespräche werden nach 30 Tagen gelöscht."
)


def data_notice(retention_days: int) -> str:
    return (
        "Ihre Nachrichten werden nur gespeichert, nachdem Namen, Nummern, Adressen und andere persönliche "
        f"Daten unkenntlich gemacht wurden. Das Gespräch wird {retention_days} Tage nach Ihrer letzten "
        "Nachricht gelöscht. An die Mitarbeitenden geht nur, was Sie ausdrücklich weitergeben."
    )

GREETING = (
    "Guten Tag! Stellen Sie mir gern Ihre Frage zum Jobcenter, zum Beispiel: „Zahlt das Jobcenter "
    "die Nebenkosten?“ oder „Was muss ich bei einer Krankmeldung tun?“"
)

REFUSE_OUT_OF_SCOPE = (
    "Dabei kann ich leider nicht helfen. Ich beantworte Fragen rund um das Jobcenter: "
    "Grundsicherungsgeld (Bürgergeld), Miete und Heizkosten, Anträge, Termine, Krankmeldung, "
    "Einkommen, Bildung und Teilhabe und Ihre Rechte im Verfahren."
)

REFUSE_INJECTION = (
    "Diese Anweisung kann ich nicht ausführen. Meine Regeln und Einstellungen ändere ich nicht "
    "und ich gebe sie nicht weiter. Gerne beantworte ich Ihre Frage zum Jobcenter."
)

UNSURE = (
    "Dazu habe ich in meinen Quellen keine sichere Antwort gefunden. Ich rate nicht. "
    "Sie können Ihre Frage an die Mitarbeitenden des Jobcenters weitergeben."
)

HANDOVER_OFFER = (
    "Zu Ihrem persönlichen Fall (Zahlungen, Bescheide, Bearbeitungsstand, Berechnungen) kann ich "
    "keine Auskunft geben. Ich kann Ihr Anliegen mit einer Zusammenfassung an die Mitarbeitenden "
    "weitergeben. Sie sehen die Zusammenfassung vorher und entscheiden, ob sie gesendet wird."
)

GENERAL_RULE_INTRO = "Allgemein gilt:"

URGENT = {
    "suicide": (
        "Wenn Sie an Suizid denken: Sie sind nicht allein. Die Telefonseelsorge ist rund um die Uhr "
        "kostenlos erreichbar: 0800 111 0 111 oder 0800 111 0 222. In akuter Gefahr: Notruf 112."
    ),
    "violence": (
        "Wenn Sie bedroht werden oder Gewalt erleben: In akuter Gefahr rufen Sie die Polizei (110). "
        "Das Hilfetelefon „Gewalt gegen Frauen“ ist rund um die Uhr kostenlos erreichbar: 116 016."
    ),
    "hunger": (
        "Wenn Sie kein Geld mehr für Essen haben, melden Sie sich bitte heute noch beim Jobcenter "
        "(Notfallschalter oder Telefon). Das Jobcenter kann in Notlagen einen Vorschuss oder eine "
        "Sachleistung prüfen."
    ),
    "eviction": (
        "Wenn Ihnen die Wohnung gekündigt wurde oder eine Räumung droht, melden Sie sich bitte sofort "
        "beim Jobcenter. Mietschulden können in bestimmten Fällen als Darlehen übernommen werden."
    ),
    "energy": (
        "Wenn Strom oder Gas abgestellt wurde oder eine Sperre angekündigt ist, melden Sie sich bitte "
        "sofort beim Jobcenter. Schulden beim Energieversorger können in bestimmten Fällen als "
        "Darlehen übernommen werden."
    ),
}
URGENT_HANDOVER = "Ich kann Ihr Anliegen als dringend an die Mitarbeitenden weitergeben."

SOURCES_NOTE = "Quellen"
STAND = "Stand"

SEARCHING = "Ich suche in den Quellen …"

EMERGENCY_CONTACTS = "Hier bekommen Sie sofort Hilfe:"

SIMPLE_LAW_NOTE = (
    "Die Antwort steht im Gesetz. Gesetze sind oft schwer zu lesen. Wenn Sie etwas nicht verstehen: "
    "Fragen Sie die Mitarbeitenden im Jobcenter. Das ist der Text:"
)

SUMMARY_INTRO = "Meine Fragen an das Jobcenter:"
SUMMARY_TOPIC = "Thema"
SUMMARY_URGENT = "Es ist dringend: Ich brauche schnell Hilfe."

HANDOVER_SUBJECT = "Übergabe aus dem Chat"
HANDOVER_URGENT = "dringend"

HANDOVER_RECEIVED = (
    "Ihr Anliegen ist beim Jobcenter angekommen. Mitarbeitende lesen es und melden sich bei Ihnen, "
    "in der Regel innerhalb von drei Werktagen, bei dringenden Anliegen schneller. Bitte nennen Sie "
    "bei Rückfragen Ihre Vorgangsnummer."
)

# Without an LLM the answer stays German; a short note in the client's language says so.
LANGUAGE_NOTES = {
    "en": "This answer is in German. You can ask staff at the Jobcenter for help in your language.",
    "uk": "Ця відповідь німецькою мовою. Ви можете попросити допомоги у Jobcenter вашою мовою.",
    "ru": "Этот ответ на немецком языке. Вы можете попросить помощи в Jobcenter на вашем языке.",
    "tr": "Bu cevap Almancadır. Jobcenter çalışanlarından kendi dilinizde yardım isteyebilirsiniz.",
    "ar": "هذه الإجابة باللغة الألمانية. يمكنك طلب المساعدة بلغتك من موظفي مركز العمل.",
}
