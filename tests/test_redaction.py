"""Personal-data redaction: the written evaluation set, one block of unit tests per kind, and
the promises of the API (offsets into the original text, no clear values unless asked for,
deterministic, safe on any input)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from amtslotse.evaluation.redaction import load_messages, score
from amtslotse.privacy import Finding, Kind, Redaction, mark, redact
from amtslotse.privacy.redaction import iban_valid, steuer_id_valid, sv_nummer_valid

DATA = Path(__file__).parent / "data" / "pii_messages.jsonl"


def kinds(text: str) -> list[tuple[str, str]]:
    """(kind, found text) for every finding, in order."""
    return [(f.kind.value, text[f.start:f.end]) for f in mark(text)]


def found(text: str, kind: str) -> list[str]:
    return [v for k, v in kinds(text) if k == kind]


# ---------------------------------------------------------------- evaluation set

def _load() -> list[dict]:
    return load_messages(DATA)


def test_evaluation_set_is_well_formed():
    messages = _load()
    assert len(messages) >= 80
    assert sum(1 for m in messages if not m["pii"]) >= 20
    assert len({m["id"] for m in messages}) == len(messages)
    for m in messages:
        for item in m["pii"]:
            assert item["kind"] in {k.value for k in Kind}, m["id"]
            assert item["value"] in m["text"], (m["id"], item["value"])
            if item["kind"] == "IBAN":
                assert iban_valid(item["value"]), item["value"]
            if item["kind"] == "STEUER-ID":
                assert steuer_id_valid(item["value"]), item["value"]
            if item["kind"] == "SV-NUMMER":
                assert sv_nummer_valid(item["value"]), item["value"]


def test_evaluation_set_recall_and_false_positives():
    """Recall: a labelled value counts as found when one finding of its kind covers every
    occurrence of it. False positive: a finding that overlaps no labelled value."""
    result = score(_load())
    assert result.recall >= 0.95, result.misses
    for kind in ("BG-NUMMER", "KUNDENNUMMER", "IBAN", "E-MAIL"):
        assert result.total[kind] and result.found[kind] == result.total[kind], [
            x for x in result.misses if x[1] == kind
        ]
    assert len(result.false_positive_rows) <= 3, result.false_positive_rows


# ---------------------------------------------------------------- API

def test_redact_replaces_with_typed_placeholders_and_keeps_offsets():
    text = "Ich heiße Ayşe Demir, BG-Nummer 12345BG0012345."
    r = redact(text)
    assert isinstance(r, Redaction)
    assert r.text == "Ich heiße [NAME], BG-Nummer [BG-NUMMER]."
    assert [(f.kind, text[f.start:f.end]) for f in r.findings] == [
        (Kind.NAME, "Ayşe Demir"), (Kind.BG_NUMMER, "12345BG0012345")]


def test_values_are_only_kept_on_request():
    text = "Meine Mail: ayse.demir@example.org"
    assert all(f.value is None for f in redact(text).findings)
    assert all(f.value is None for f in mark(text))
    kept = redact(text, keep_values=True).findings
    assert [f.value for f in kept] == ["ayse.demir@example.org"]
    assert mark(text, keep_values=True) == kept
    assert kept[0].to_dict() == {"kind": "E-MAIL", "start": 12, "end": 34, "value": "ayse.demir@example.org"}
    assert "value" not in redact(text).findings[0].to_dict()


def test_every_kind_has_its_placeholder():
    assert {k.placeholder for k in Kind} == {
        "[NAME]", "[BG-NUMMER]", "[KUNDENNUMMER]", "[IBAN]", "[TELEFON]", "[E-MAIL]", "[ADRESSE]",
        "[GEBURTSDATUM]", "[STEUER-ID]", "[SV-NUMMER]", "[KV-NUMMER]", "[AUSWEISNUMMER]"}


def test_mark_matches_redact_and_findings_do_not_overlap():
    for m in _load():
        findings = mark(m["text"])
        assert findings == redact(m["text"]).findings
        assert findings == sorted(findings, key=lambda f: f.start)
        assert all(a.end <= b.start for a, b in zip(findings, findings[1:]))


def test_empty_and_wrong_types():
    assert redact("") == Redaction("", [])
    assert mark("") == []
    with pytest.raises(TypeError):
        redact(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        mark(b"bytes")  # type: ignore[arg-type]


def test_deterministic():
    text = _load()[2]["text"]
    assert redact(text) == redact(text)


def test_any_unicode_is_safe():
    rng = random.Random(42)
    alphabet = ("abcÄÖÜßş İı0123456789 .,:;/-+()@*\n\t" "АаЇїЁё" "محمد" "\u0301\u0327\u200b\x00"
                "\ud800\udfff" "€§%😀")
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        r = redact(text)
        for f in r.findings:
            assert 0 <= f.start < f.end <= len(text)
    assert redact("\x00Frau Müller\x00").text == "\x00Frau [NAME]\x00"


# ---------------------------------------------------------------- BG-Nummer, Kundennummer

@pytest.mark.parametrize("value", ["12345BG0012345", "12345 BG 0012345", "12345-BG-0012345", "12345bg0012345",
                                   "12345 bg 0012345"])
def test_bg_nummer(value):
    assert found(f"Meine BG: {value}, danke", "BG-NUMMER") == [value]


@pytest.mark.parametrize("text", ["1234BG0012345", "12345BG001234", "X12345BG0012345"])
def test_not_a_bg_nummer(text):
    assert found(text, "BG-NUMMER") == []


@pytest.mark.parametrize("value", ["123D456789", "123 D 456789", "123d456789", "123D 456 789"])
def test_kundennummer(value):
    assert found(f"Kundennummer {value}.", "KUNDENNUMMER") == [value]


@pytest.mark.parametrize("text", ["1234D456789", "123D4567890", "ID123D456789"])
def test_not_a_kundennummer(text):
    assert found(text, "KUNDENNUMMER") == []


# ---------------------------------------------------------------- IBAN

@pytest.mark.parametrize("value", [
    "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "de89 3704 0044 0532 0130 00",
    "AT61 1904 3002 3457 3201", "NL91 ABNA 0417 1643 00", "TR33 0006 1005 1978 6457 8413 26",
    "UA74 3052 9900 0002 6007 2335 6600 1"])
def test_iban(value):
    assert iban_valid(value)
    assert found(f"Konto: {value} bitte", "IBAN") == [value]


def test_iban_stops_at_its_country_length():
    assert found("IBAN DE89 3704 0044 0532 0130 00 12345BG0012345", "IBAN") == ["DE89 3704 0044 0532 0130 00"]


@pytest.mark.parametrize("value", ["DE89 3704 0044 0532 0130 01", "DE88370400440532013000",
                                   "AT61 1904 3002 3457 3202"])
def test_iban_with_wrong_checksum_is_not_an_iban(value):
    assert not iban_valid(value)
    assert kinds(f"Konto: {value}") == []


# ---------------------------------------------------------------- telephone

@pytest.mark.parametrize("value", [
    "0151 23456789", "0171/1234567", "030 12345678", "030-1234567", "(030) 1234567",
    "+49 30 1234567", "+49 (0)30 2345 6789", "0049 351 4412345", "+49 176 23456789",
    "0341/1234567", "05121 778899", "069 / 24 68 13 57", "+90 532 123 45 67", "+380 67 123 4567",
    "+7 912 345-67-89", "0800 1265265"])
def test_phone(value):
    assert found(f"Erreichbar unter {value}.", "TELEFON") == [value]


def test_phone_with_cue_and_no_area_code():
    assert found("Tel.: 45 67 89", "TELEFON") == ["45 67 89"]
    assert found("Meine Handynummer ist 1234567", "TELEFON") == ["1234567"]


@pytest.mark.parametrize("text", [
    "Bescheid vom 01.02.2024", "am 01 02 2024", "Miete 563 Euro", "Heizkosten 1.234,56 €",
    "geöffnet 8-12 Uhr und 14-18 Uhr", "nach § 22 Abs. 3 SGB II", "BG 12345BG0012345",
    "Zeitraum 2023-2025", "Betrag 0,50 €", "Nachzahlung 0815 Euro", "0 Euro",
    "Konto DE89 3704 0044 0532 0130 01"])
def test_not_a_phone(text):
    assert found(text, "TELEFON") == []


# ---------------------------------------------------------------- e-mail

@pytest.mark.parametrize("value", ["ayse.demir@example.org", "k.nowak+jc@mail.example.de", "julia_sn@example.org",
                                   "o.kovalenko@пример.укр"])
def test_email(value):
    assert found(f"Mail an {value}, danke", "E-MAIL") == [value]


@pytest.mark.parametrize("text", ["a@b", "@jobcenter", "Treffen @ 10 Uhr", "name@localhost"])
def test_not_an_email(text):
    assert found(text, "E-MAIL") == []


# ---------------------------------------------------------------- addresses

@pytest.mark.parametrize("text,value", [
    ("Ich wohne in der Hauptstraße 12.", "Hauptstraße 12"),
    ("Adresse: Am Markt 3a, bitte", "Am Markt 3a"),
    ("jetzt Karl-Marx-Str. 5 im 2. Stock", "Karl-Marx-Str. 5"),
    ("Lindenweg 7 ist neu", "Lindenweg 7"),
    ("in der Berliner Straße 45", "Berliner Straße 45"),
    ("Post an 12345 Musterstadt", "12345 Musterstadt"),
    ("Hauptstraße 12, 12345 Musterstadt", "Hauptstraße 12, 12345 Musterstadt"),
    ("Karl-Marx-Str. 5\n04109 Leipzig", "Karl-Marx-Str. 5\n04109 Leipzig"),
    ("An der Kirche 5, 26121 Oldenburg", "An der Kirche 5, 26121 Oldenburg"),
    ("wohne hauptstraße 7", "hauptstraße 7"),
    ("Gartenstraße 18a, 45127 Essen", "Gartenstraße 18a, 45127 Essen"),
    ("67433 Neustadt an der Weinstraße", "67433 Neustadt an der Weinstraße"),
    ("Alte Dorfstraße 2b, 14513 Teltow", "Alte Dorfstraße 2b, 14513 Teltow"),
])
def test_address(text, value):
    assert found(text, "ADRESSE") == [value]


@pytest.mark.parametrize("text", [
    "nach § 22 Abs. 3 SGB II", "Mein Sohn ist in Klasse 5.", "Mein Arbeitsplatz 2 km entfernt",
    "Im Jahr 2024 habe ich", "Am Montag 3 Termine", "Ich habe 10000 Euro gespart",
    "In 10115 Fällen wurde abgelehnt", "Zimmer 204 im Erdgeschoss", "Im Anhang 2.",
    "In den Jahren 1997 und 1998", "Zum Beispiel 3 Kinder"])
def test_not_an_address(text):
    assert found(text, "ADRESSE") == []


# ---------------------------------------------------------------- date of birth

@pytest.mark.parametrize("text,value", [
    ("geboren am 03.04.2015", "03.04.2015"),
    ("Sohn (geb. 14.09.2012)", "14.09.2012"),
    ("Geburtsdatum: 30.06.1981", "30.06.1981"),
    ("Geburtsdatum 1983-04-27", "1983-04-27"),
    ("geboren am 5. März 2018", "5. März 2018"),
    ("born on 17 May 2016", "17 May 2016"),
    ("DOB 02/11/2014", "02/11/2014"),
    ("* 12.06.1995 in Kyjiw", "12.06.1995"),
    ("Mein Geburtstag ist der 24.12.1976", "24.12.1976"),
    ("ist am 03.10.2007 geboren", "03.10.2007"),
    ("дата рождения 12.07.1979", "12.07.1979"),
    ("doğum tarihi 15.03.1958", "15.03.1958"),
])
def test_date_of_birth(text, value):
    assert found(text, "GEBURTSDATUM") == [value]


@pytest.mark.parametrize("text", [
    "Widerspruch bis zum 15.07.2025", "Bescheid vom 12.03.2024", "seit 01.06.2023 Leistungen",
    "am 1. August 2025 in die Schule", "geboren 1990 in Kabul", "Ich bin geboren. Frist: 01.02.2025",
    "Personen, die vor dem 1. Januar 1947 geboren sind"])
def test_other_dates_stay(text):
    assert found(text, "GEBURTSDATUM") == []


# ---------------------------------------------------------------- Steuer-ID

def test_steuer_id_checksum():
    assert steuer_id_valid("93141705862")
    assert steuer_id_valid("88 310 679 245")
    assert not steuer_id_valid("93141705863")  # wrong check digit
    assert not steuer_id_valid("01234567891")  # leading zero
    assert not steuer_id_valid("12345678903")  # no digit repeated in the first ten
    assert not steuer_id_valid("11123456780")  # a digit three times in a row


def test_steuer_id_with_checksum_needs_no_cue():
    assert found("Die Nummer 93141705862 steht auf dem Brief", "STEUER-ID") == ["93141705862"]
    assert found("Steuer-ID: 88 310 679 245", "STEUER-ID") == ["88 310 679 245"]


def test_steuer_id_without_checksum_only_after_cue():
    assert found("Die Nummer 93141705863 steht auf dem Brief", "STEUER-ID") == []
    assert found("Meine Steuer-ID ist 93141705863", "STEUER-ID") == ["93141705863"]
    assert found("IdNr. 12345678903", "STEUER-ID") == ["12345678903"]


# ---------------------------------------------------------------- SV-Nummer

def test_sv_nummer_checksum():
    assert sv_nummer_valid("15 070649 C 103")
    assert sv_nummer_valid("15070649C103")
    assert sv_nummer_valid("65 170385 M 031")
    assert not sv_nummer_valid("15 070649 C 104")  # wrong check digit
    assert not sv_nummer_valid("15 320649 C 103")  # day 32


@pytest.mark.parametrize("value", ["15 070649 C 103", "15070649C103", "12 010190 A 124", "53 240779 k 219"])
def test_sv_nummer(value):
    assert found(f"Nummer {value}.", "SV-NUMMER") == [value]


def test_sv_nummer_without_checksum_only_after_cue():
    assert found("Nummer 15 070649 C 104.", "SV-NUMMER") == []
    assert found("Rentenversicherungsnummer 15 070649 C 104.", "SV-NUMMER") == ["15 070649 C 104"]


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("text,names", [
    ("Ich heiße Ayşe Demir und habe eine Frage.", ["Ayşe Demir"]),
    ("mein Name ist Olena Kovalenko", ["Olena Kovalenko"]),
    ("Name: Müller, Vorname: Hans", ["Müller", "Hans"]),
    ("Ich bin Svetlana und alleinerziehend.", ["Svetlana"]),
    ("Ich bin Roza Hakimi.", ["Roza Hakimi"]),
    ("Sehr geehrte Frau Schmidt,", ["Schmidt"]),
    ("Herr Dr. Weber hat angerufen", ["Weber"]),
    ("Hr. Kowalczyk und Fr. Nowak", ["Kowalczyk", "Nowak"]),
    ("Frau Sachbearbeiterin Schulze sagte", ["Schulze"]),
    ("Mit freundlichen Grüßen\nMehmet Yılmaz", ["Mehmet Yılmaz"]),
    ("Danke! Gruß Tomasz", ["Tomasz"]),
    ("Bis bald. LG Sabine", ["Sabine"]),
    ("Viele Grüße, Siobhan", ["Siobhan"]),
    ("My name is Daniel Okafor.", ["Daniel Okafor"]),
    ("меня зовут Сергей Петров", ["Сергей Петров"]),
    ("Мене звати Ірина Бондаренко.", ["Ірина Бондаренко"]),
    ("Benim adım Fatma Kaya.", ["Fatma Kaya"]),
    ("اسمي أحمد الحسن وأنا من سوريا", ["أحمد الحسن"]),
    ("Das Kindergeld für Emma Hartmann fehlt.", ["Emma Hartmann"]),
    ("Mein Sohn Ali ist krank.", ["Ali"]),
    ("Meine Kinder heißen Lea und Tim.", ["Lea", "Tim"]),
    ("Wir haben 2 Kinder: Noah (3) und Emilia (7).", ["Noah", "Emilia"]),
    ("Hallo Dilara,\ndanke!", ["Dilara"]),
    ("Unterschrift: A. Novak", ["A. Novak"]),
    ("Vermieter ist Herr Klaus-Dieter Brandt.", ["Klaus-Dieter Brandt"]),
    ("hi, ich bin mohammed", ["mohammed"]),
    ("Danke für alles!\nOlena", ["Olena"]),
    ("Hey, ich bin der Kevin und brauche Hilfe", ["Kevin"]),
    ("Name Krasniqi, Vorname Valmira", ["Krasniqi", "Valmira"]),
    ("Mit besten Grüßen\nDr. Hannelore Vogt-Rieger", ["Hannelore Vogt-Rieger"]),
    ("Herzliche Grüße von Jana und Tobias Brückner", ["Jana", "Tobias Brückner"]),
    ("Emre und Selin gehen in die Kita.", ["Emre", "Selin"]),
    ("Seit dem Tod meines Mannes Horst bin ich allein.", ["Horst"]),
    ("Mein Ex-Mann Rüdiger zahlt nicht.", ["Rüdiger"]),
    ("Mein Mitbewohner heißt Jonas Feldmann.", ["Jonas Feldmann"]),
    ("Привет, это Маша.", ["Маша"]),
    ("Hanna Schmitz Analphabetin", ["Hanna Schmitz"]),
])
def test_names(text, names):
    assert found(text, "NAME") == names


@pytest.mark.parametrize("text", [
    "Als alleinerziehende Frau bekomme ich Grundsicherungsgeld.",
    "Meine Sachbearbeiterin hat gesagt, bis Ende Mai.",
    "Nach SGB II und SGB XII gilt das nicht.",
    "Ich bin Alleinerziehende Mutter von zwei Kindern.",
    "Sehr geehrte Damen und Herren, ich habe eine Frage.",
    "Hallo zusammen, kann man das online beantragen?",
    "Viele Grüße\nIhr Team vom Jobcenter",
    "Herr Jobcenter, ich brauche Hilfe!",
    "Im Mai und im August bekomme ich weniger.",
    "Rosa ist meine Lieblingsfarbe.",
    "Klaus hat gesagt, dass Emma Schulgeld braucht.",
    "Nur eine Frage: Wer zahlt die Heizkosten?",
    "Can you help me with the form?",
    "Grüße aus Berlin!",
    "Schalte den Staubsauger an und benutz ihn.",
    "Mark Twain hat das gesagt.",
])
def test_not_names(text):
    assert found(text, "NAME") == []


def test_surname_alone_is_not_a_name():
    # "Becker", "Koch", "Wolf" are surnames and words: only next to a first name or a cue.
    assert found("Der Becker und der Koch backen Brot mit Wolf.", "NAME") == []
    assert found("Frau Koch hat angerufen.", "NAME") == ["Koch"]


def test_finding_is_a_value_object():
    f = Finding(Kind.NAME, 0, 4)
    assert f == Finding(Kind.NAME, 0, 4) and f.value is None
    assert Kind("E-MAIL") is Kind.E_MAIL
