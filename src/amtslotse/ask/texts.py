"""Fixed texts of the assistant (German, plain language), and short notes in the clients'
languages for answers that stay German without an LLM."""

from __future__ import annotations

AI_NOTICE = (
    "Hinweis: Hier antwortet ein KI-Assistent mit allgemeinen Auskünften und Quellen. "
    "Er entscheidet nicht über Ihren Fall."
)


def data_notice(retention_days: int) -> str:
    return (
        "Persönliche Daten werden vor dem Speichern unkenntlich gemacht; das Gespräch wird nach "
        f"{retention_days} Tagen gelöscht. An Mitarbeitende geht nur, was Sie selbst weitergeben."
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

SUGGESTIONS = "Meinten Sie vielleicht:"
"""Heads the curated questions offered when no answer is sure (the widget shows them as buttons)."""

HANDOVER_OFFER = (
    "Zu Ihrem persönlichen Fall (Zahlungen, Bescheide, Bearbeitungsstand, Berechnungen) kann ich "
    "keine Auskunft geben. Ich kann Ihr Anliegen mit einer Zusammenfassung an die Mitarbeitenden "
    "weitergeben. Sie sehen die Zusammenfassung vorher und entscheiden, ob sie gesendet wird."
)

GENERAL_RULE_INTRO = "Allgemein gilt:"

# Emergencies (guard.URGENT_KINDS): what helps first, in plain words. No telephone numbers:
# the tenant's emergency contacts that fit the kind are listed below the text (tenants.py,
# `emergency_contacts_for`), so a number here would be shown twice.
URGENT = {
    "suicide": (
        "Bitte bleiben Sie damit nicht allein und sprechen Sie jetzt mit jemandem. Die Telefonseelsorge "
        "hört Ihnen zu, rund um die Uhr, kostenlos und anonym. Wenn Sie in akuter Gefahr sind, rufen Sie "
        "den Notruf."
    ),
    "violence": (
        "Wenn Sie in Gefahr sind, rufen Sie die Polizei. Ein Frauenhaus nimmt Frauen und ihre Kinder auch "
        "kurzfristig auf; das Hilfetelefon berät rund um die Uhr, anonym und in vielen Sprachen und hilft "
        "bei der Suche nach einem Platz. Auch im Frauenhaus bekommen Sie Leistungen: Zuständig ist dann "
        "das Jobcenter am Ort des Frauenhauses."
    ),
    "homeless": (
        "Wenn Sie heute keinen Schlafplatz haben: Die Stadt oder Gemeinde muss Ihnen eine Notunterkunft "
        "geben. Fragen Sie beim Ordnungsamt danach, abends und am Wochenende bei der Polizei. Melden Sie "
        "sich auch beim Jobcenter: Leistungen bekommen Sie auch ohne Wohnung."
    ),
    "hunger": (
        "Wenn Sie heute kein Geld für Essen haben: Gehen Sie heute noch zum Jobcenter oder rufen Sie an. "
        "In einer Notlage kann das Jobcenter einen Vorschuss oder eine Sachleistung geben, zum Beispiel "
        "einen Lebensmittelgutschein. Schnelle Hilfe mit Lebensmitteln gibt es auch bei der Tafel."
    ),
    "eviction": (
        "Wenn Ihnen gekündigt wurde oder eine Räumung droht: Gehen Sie sofort zum Jobcenter und bringen "
        "Sie die Kündigung oder das Schreiben vom Gericht mit. Das Jobcenter kann Mietschulden übernehmen, "
        "meist als Darlehen, wenn sonst die Wohnung verloren geht. Eine Schuldner- oder Mieterberatung "
        "hilft Ihnen zusätzlich."
    ),
    "energy": (
        "Wenn Strom oder Gas abgestellt ist oder eine Sperre angekündigt ist: Gehen Sie heute noch zum "
        "Jobcenter und bringen Sie das Schreiben des Versorgers mit. Das Jobcenter kann die Schulden in "
        "einer solchen Notlage übernehmen, meist als Darlehen. Fragen Sie den Versorger außerdem sofort "
        "nach einer Ratenzahlung."
    ),
}

# Questions for another authority (guard.AUTHORITIES): who is responsible, and what to do.
AUTHORITY = {
    "elterngeldstelle": (
        "Für das Elterngeld ist die Elterngeldstelle zuständig, nicht das Jobcenter. Dort stellen Sie den "
        "Antrag und bekommen Auskunft zu Höhe und Dauer; welche Stelle das ist, erfahren Sie bei Ihrer Stadt "
        "oder Gemeinde."
    ),
    "familienkasse": (
        "Für das Kindergeld ist die Familienkasse zuständig, nicht das Jobcenter. Dort beantragen Sie es "
        "und fragen nach, wenn eine Zahlung fehlt."
    ),
    "pflegekasse": (
        "Für Pflegegrad und Pflegegeld ist die Pflegekasse zuständig, nicht das Jobcenter. Sie gehört zur "
        "Krankenkasse der pflegebedürftigen Person: Dort stellen Sie den Antrag, danach wird der Pflegebedarf "
        "begutachtet."
    ),
    "bafoeg_amt": (
        "Für BAföG ist das Amt für Ausbildungsförderung zuständig, nicht das Jobcenter. Studierende stellen "
        "den Antrag beim Studierendenwerk ihrer Hochschule, Schülerinnen und Schüler bei ihrer Stadt oder "
        "ihrem Landkreis."
    ),
    "versorgungsamt": (
        "Für den Schwerbehindertenausweis und den Grad der Behinderung ist das Versorgungsamt zuständig "
        "(je nach Bundesland auch Amt für Soziales oder Landratsamt), nicht das Jobcenter. Dort stellen Sie "
        "den Antrag, am besten mit den Befunden Ihrer Ärztinnen und Ärzte."
    ),
    "beitragsservice": (
        "Für den Rundfunkbeitrag ist der Beitragsservice von ARD, ZDF und Deutschlandradio zuständig, nicht "
        "das Jobcenter. Dort können Sie auch eine Befreiung beantragen; den Bescheid des Jobcenters brauchen "
        "Sie dafür als Nachweis."
    ),
    "sozialamt_asylblg": (
        "Leistungen nach dem Asylbewerberleistungsgesetz zahlt das Sozialamt, nicht das Jobcenter. Fragen zu "
        "Ihrem Aufenthalt beantwortet die Ausländerbehörde."
    ),
    "krankenkasse": (
        "Für das Krankengeld ist Ihre Krankenkasse zuständig, nicht das Jobcenter. Dort fragen Sie nach "
        "Antrag, Höhe und Dauer."
    ),
    "rentenversicherung": (
        "Für die Rente ist die Deutsche Rentenversicherung zuständig, nicht das Jobcenter. Sie berät "
        "kostenlos, auch in Beratungsstellen vor Ort, und nimmt den Rentenantrag entgegen."
    ),
    "jugendamt": (
        "Für den Unterhaltsvorschuss ist das Jugendamt Ihrer Stadt oder Ihres Landkreises zuständig, nicht "
        "das Jobcenter. Dort stellen Sie den Antrag, wenn der andere Elternteil keinen oder zu wenig "
        "Unterhalt zahlt."
    ),
    "auslaenderbehoerde": (
        "Für Aufenthaltstitel und ihre Verlängerung ist die Ausländerbehörde zuständig, für die Einbürgerung "
        "die Einbürgerungsbehörde, nicht das Jobcenter. Stellen Sie den Antrag auf Verlängerung rechtzeitig "
        "vor Ablauf Ihres Aufenthaltstitels."
    ),
    "finanzamt": (
        "Für Steuern ist das Finanzamt zuständig, nicht das Jobcenter; die Steuer-Identifikationsnummer "
        "vergibt das Bundeszentralamt für Steuern. Bei der Steuererklärung helfen auch Lohnsteuerhilfevereine."
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

# Which benefit an answer explains when it is not the Jobcenter's own (ask/scope.py): one line
# before the answer, so that nobody takes a rule of another law for a Jobcenter rule.
SCOPE_NOTES = {
    "SGB_2": "Das gilt für das Grundsicherungsgeld des Jobcenters (SGB II).",
    "SGB_3": "Das gilt für das Arbeitslosengeld der Agentur für Arbeit (SGB III), nicht für das Grundsicherungsgeld des Jobcenters.",
    "SGB_12": "Das gilt für die Sozialhilfe und die Grundsicherung im Alter und bei Erwerbsminderung (SGB XII): zuständig ist das Sozialamt, nicht das Jobcenter.",
    "WoGG": "Das gilt für das Wohngeld: zuständig ist die Wohngeldstelle der Stadt oder Gemeinde, nicht das Jobcenter.",
    "BKGG": "Das gilt für den Kinderzuschlag: zuständig ist die Familienkasse, nicht das Jobcenter.",
}

# Analytics topics (ask/pipeline.answer_topic): an intent where no source decides the topic.
OUTCOME_TOPICS = {
    "urgent": "Notlage",
    "handover": "Eigener Fall (Übergabe)",
    "authority": "Andere Stelle zuständig",
    "refused": "Nicht zuständig",
    "injection": "Manipulationsversuch",
    "greeting": "Begrüßung",
}


def topic_label(key: str) -> str:
    """A curated answer's topic key ("kosten_der_unterkunft") as a readable label."""
    return key.replace("_", " ").replace("-", " ").strip().capitalize()
