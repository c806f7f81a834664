"""Security finding 7 (issue 12): personal data that was stored in clear. Each case below was
left in clear by the redaction before this fix; the examples are invented for Amtslotse.
Also issue 10's bug: month names had two homes (privacy/redaction and inbox/fields) and the
redaction's lacked Arabic; now both use text/dates.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from amtslotse.evaluation.redaction import load_messages, score
from amtslotse.inbox import fields
from amtslotse.inbox.fields import extract_fields
from amtslotse.privacy import mark, redact, redaction
from amtslotse.privacy.redaction import ausweis_check_valid, kv_nummer_valid
from amtslotse.text import dates

DATA = Path(__file__).parent / "data" / "pii_messages.jsonl"


def found(text: str, kind: str) -> list[str]:
    return [text[f.start:f.end] for f in mark(text) if f.kind.value == kind]


@pytest.mark.parametrize("text,name", [
    ("hier ist erika pflaumbaum, ich habe eine frage", "erika pflaumbaum"),
    ("hallo ich bin jens oberthür und brauche hilfe", "jens oberthür"),
    ("mein name ist svenja kreutzfeldt", "svenja kreutzfeldt"),
])
def test_a_surname_after_a_lower_case_cue(text, name):
    assert found(text, "NAME") == [name]
    assert "pflaumbaum" not in redact(text).text and "kreutzfeldt" not in redact(text).text


@pytest.mark.parametrize("text,name", [
    ("Pflaumbaum, Erika\nBitte um Rückruf.", "Pflaumbaum, Erika"),
    ("Antragstellerin: Yıldırım, Zeynep – Unterlagen anbei", "Yıldırım, Zeynep"),
    ("Unterlagen für Brenninkmeyer, Lotte Marie anbei.", "Brenninkmeyer, Lotte Marie"),
])
def test_surname_comma_first_name(text, name):
    assert found(text, "NAME") == [name]


@pytest.mark.parametrize("text", ["Miete, Strom, Heizung und Wasser.", "Danke, das hilft.", "Berlin, München und Köln",
                                  "Name: Müller, Vorname: Hans"])
def test_lists_are_no_surname_comma_first_name(text):
    assert not any("," in name for name in found(text, "NAME"))


@pytest.mark.parametrize("value", ["DE44-5001-0517-5407-3249-31", "DE 44 500 105 175 407 324 931", "DE89 37040044 0532013000",
                                   "AT61-1904-3002-3457-3201", "DE89  3704  0044  0532  0130  00"])
def test_iban_with_dashes_or_odd_groups(value):
    assert found(f"Neue IBAN: {value}, bitte", "IBAN") == [value]


def test_iban_with_dashes_and_a_wrong_checksum_stays_no_iban():
    assert found("Nummer DE44-5001-0517-5407-3249-32", "IBAN") == []


@pytest.mark.parametrize("text,value", [
    ("Meine Daten: 14/03/1985, ledig.", "14/03/1985"),
    ("Ich wurde 14.3.85 in Aleppo", "14.3.85"),
    ("Erika Pflaumbaum, 02.05.2019", "02.05.2019"),  # recent, but right after a name
    ("Lea Brandtner (11.11.2016) braucht einen Kitaplatz", "11.11.2016"),
    ("تاريخ الميلاد: 15 مارس 1990", "15 مارس 1990"),  # issue 10: Arabic month names
    ("تاريخ الميلاد: ١٥ مارس ١٩٩٠", "١٥ مارس ١٩٩٠"),
])
def test_likely_birth_dates_without_a_cue(text, value):
    assert found(text, "GEBURTSDATUM") == [value]


@pytest.mark.parametrize("text", [
    "Ich bin seit 01.03.2005 gemeldet.", "Der Mietvertrag vom 01.07.2008 gilt weiter.", "Bescheid vom 14.03.2024",
    "Widerspruch bis zum 15.12.2026", "Am 01.01.2005 wurde das Gesetz geändert.", "Zahlung am 3.2.26 erhalten",
])
def test_other_dates_stay(text):
    assert found(text, "GEBURTSDATUM") == []


@pytest.mark.parametrize("text,value", [
    ("Schreiben Sie an erika.pflaumbaum at gmx dot de", "erika.pflaumbaum at gmx dot de"),
    ("Mail: jens.o (at) web (punkt) de", "jens.o (at) web (punkt) de"),
    ("Kontakt k.wendriner[at]posteo.de bitte", "k.wendriner[at]posteo.de"),
    ("my email is ahmad.s at outlook dot com", "ahmad.s at outlook dot com"),
    ("erika @ gmx.de", "erika @ gmx.de"),
])
def test_e_mail_written_with_at_and_dot(text, value):
    assert found(text, "E-MAIL") == [value]


@pytest.mark.parametrize("text", ["We can meet at the office at ten.", "Ich war at home dot", "Treffen @ 10 Uhr"])
def test_at_in_plain_text_is_no_e_mail(text):
    assert found(text, "E-MAIL") == []


def test_personalausweis_and_passport_numbers():
    assert ausweis_check_valid("L01X00T471") and not ausweis_check_valid("L01X00T472")
    assert found("Meine Personalausweisnummer ist L01X00T47.", "AUSWEISNUMMER") == ["L01X00T47"]
    assert found("Ausweis-Nr.: T22000129", "AUSWEISNUMMER") == ["T22000129"]
    assert found("Reisepass C01X00T47 liegt bei", "AUSWEISNUMMER") == ["C01X00T47"]
    assert found("Zeile: L01X00T471", "AUSWEISNUMMER") == ["L01X00T471"]  # machine-readable, with its check digit
    assert found("Bestellnummer L01X00T47", "AUSWEISNUMMER") == []


def test_krankenversichertennummer():
    assert kv_nummer_valid("A123456780") and not kv_nummer_valid("A123456781")
    assert found("Auf der Karte steht A123456780.", "KV-NUMMER") == ["A123456780"]
    assert found("Krankenversichertennummer M 987 654 321", "KV-NUMMER") == ["M 987 654 321"]
    assert found("Vorgang A123456781", "KV-NUMMER") == []  # wrong check digit, no cue
    assert redact("KVNR A123456780").text == "KVNR [KV-NUMMER]"


def test_new_kinds_are_inbox_fields_with_labels():
    found_fields = {f.kind: f.value for f in extract_fields("KV-Nr. A 123456780, Ausweis-Nr. T22000129, geb. 14.3.85")}
    assert found_fields["kv_nummer"] == "A123456780" and found_fields["ausweisnummer"] == "T22000129"
    assert found_fields["geburtsdatum"] == "1985-03-14"  # a birth date's two-digit year is in the past
    assert {"kv_nummer", "ausweisnummer"} <= set(fields.FIELD_LABELS)


def test_month_names_and_date_parsing_have_one_home():
    """Issue 10: `redact("تاريخ الميلاد: 15 مارس 1990")` kept the date because the redaction had its
    own month list without Arabic. Both now use text/dates.py."""
    assert redact("تاريخ الميلاد: 15 مارس 1990").text == "تاريخ الميلاد: [GEBURTSDATUM]"
    assert not hasattr(redaction, "_MONTHS") and not hasattr(fields, "_MONTHS")
    assert redaction._DATE == dates.FULL_DATE_PATTERN
    for name in dates.MONTHS:  # every month name the inbox knows makes a birth date
        text = f"geboren am 3 {name} 1990"
        assert found(text, "GEBURTSDATUM") == [f"3 {name} 1990"], name
    assert [f.value for f in extract_fields("Bescheid vom 15 مارس 2026", today=date(2026, 4, 1))] == ["2026-03-15"]


def test_the_labelled_set_covers_each_gap_and_the_figures_hold():
    messages = load_messages(DATA)
    gaps = [m for m in messages if int(m["id"].split("-")[1]) >= 210]
    kinds = {item["kind"] for m in gaps for item in m["pii"]}
    assert {"NAME", "IBAN", "GEBURTSDATUM", "E-MAIL", "AUSWEISNUMMER", "KV-NUMMER"} <= kinds
    assert sum(1 for m in gaps if not m["pii"]) >= 8  # traps: dates, "at", commas that are no PII
    result = score(gaps)
    assert result.recall == 1.0, result.misses
    assert not result.false_positive_rows, result.false_positive_rows
    whole = score(messages)
    assert whole.recall >= 0.99 and len(whole.false_positive_rows) <= 1, (whole.misses, whole.false_positive_rows)
