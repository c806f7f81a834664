"""Mail intake: parsing real .eml files, Maildir/folder reading, attachment text (PDF, DOCX,
OCR with tesseract), document types, and IMAP polling against a real Dovecot on loopback.

The .eml files in tests/data/mail were written for these tests (fictional people): see the
README there for what each one exercises.
"""

from __future__ import annotations

import mailbox
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from amtslotse.inbox.attachments import (
    DOCUMENT_TYPES,
    Limits,
    analyze,
    analyze_message,
    detect_document_type,
    extract_text,
    image_size,
)
from amtslotse.inbox.imap import ImapError, _quote, poll
from amtslotse.inbox.mail import MailError, iter_mail_files, parse_email
from amtslotse.inbox.message import Attachment, IncomingMessage
from dovecot import PASSWORD
from llm_server import free_port

MAIL = Path(__file__).parent / "data" / "mail"
EML = sorted(MAIL.glob("*.eml"))


def raw(name: str) -> bytes:
    return (MAIL / name).read_bytes()


@pytest.fixture(scope="module")
def analyzed() -> dict[str, IncomingMessage]:
    """Every test mail parsed and its attachments analysed once (OCR takes a second a page)."""
    return {path.name: analyze_message(parse_email(path.read_bytes())) for path in EML}


def attachment(messages: dict[str, IncomingMessage], mail: str, index: int = 0) -> Attachment:
    return messages[mail].attachments[index]


# --- parsing -----------------------------------------------------------------------------


def test_plain_quoted_printable_with_encoded_headers():
    msg = parse_email(raw("01-krankmeldung.eml"))
    assert msg.channel == "email"
    assert msg.external_id == "<20250310091403.4711@example.org>"
    assert msg.sender == "Jürgen Müller <j.mueller@example.org>"
    assert msg.subject == "Krankmeldung für den Termin am 12.03."
    assert msg.received_at == datetime(2025, 3, 10, 8, 14, 3, tzinfo=timezone.utc)
    assert msg.received_at.utcoffset() == timedelta(hours=1)
    # the quoted-printable soft line break inside "hänge" is joined again
    assert "Die Arbeitsunfähigkeitsbescheinigung hänge ich als Foto an." in msg.text
    assert msg.text.endswith("Mit freundlichen Grüßen\nJürgen Müller")
    [png] = msg.attachments
    assert (png.filename, png.content_type) == ("AU-Bescheinigung.png", "image/png")
    assert png.data.startswith(b"\x89PNG") and png.text == "" and png.doc_type == ""


def test_plain_text_is_preferred_over_the_html_alternative():
    msg = parse_email(raw("02-lohnabrechnung.eml"))
    assert msg.text == "Hallo,\n\nanbei meine Lohnabrechnung für Februar 2025.\n\nViele Grüße\nJürgen Müller"
    [pdf] = msg.attachments  # the HTML alternative is not an attachment
    assert (pdf.filename, pdf.content_type) == ("Lohnabrechnung_02_2025.pdf", "application/pdf")


def test_html_only_mail_becomes_text():
    msg = parse_email(raw("03-mietvertrag-html.eml"))
    assert msg.sender == "Sabine Kröger <s.kroeger@example.net>"
    assert msg.subject == "Neuer Mietvertrag – bitte Kosten der Unterkunft prüfen"
    assert "Den neuen Mietvertrag für die Wohnung im Lindenweg schicke ich Ihnen im Anhang." in msg.text
    assert "Die Miete beträgt 720 € warm." in msg.text  # &auml;, &nbsp;, &euro; from Latin-1 base64
    assert "- Kaltmiete 520 €\n- Nebenkosten 200 €" in msg.text
    assert "tracking" not in msg.text and "color" not in msg.text and "<" not in msg.text
    [docx_file] = msg.attachments
    assert docx_file.filename == "Mietvertrag_Wohnung_Lindenweg_Köln.docx"  # RFC 2231, UTF-8


def test_phone_mail_with_windows_1252_body_raw_utf8_header_and_no_message_id():
    data = raw("04-kontoauszug-foto.eml")
    msg = parse_email(data, channel="imap")
    assert msg.channel == "imap"
    assert msg.subject == "Kontoauszug für März"  # unencoded UTF-8 bytes in the header
    assert msg.sender == "Jürgen Müller <j.mueller@example.org>"  # ISO-8859-1 encoded word
    assert msg.text.startswith("Hier der Kontoauszug wie gewünscht. Das Geld vom Jobcenter für März fehlt noch – bitte")
    # no Message-ID: a hash of the bytes, the same whatever the line endings (file vs. IMAP)
    assert msg.external_id.startswith("sha256:") and len(msg.external_id) == 7 + 64
    assert parse_email(data.replace(b"\r\n", b"\n")).external_id == msg.external_id
    assert parse_email(b"From x@example.org\n" + data).external_id == msg.external_id  # mbox "From " line
    assert parse_email(data.replace(b"wie gew", b"wie erw")).external_id != msg.external_id
    assert [a.content_type for a in msg.attachments] == ["image/jpeg"]


def test_wrong_and_unknown_charsets_and_no_date():
    before = datetime.now(timezone.utc)
    msg = parse_email(raw("05-kaputt.eml"))
    assert before <= msg.received_at <= datetime.now(timezone.utc)  # no Date header: now
    assert msg.subject == "Nebenkosten für Herrn Müller"
    assert "Die Nachzahlung ist bis 15.04.2025 fällig." in msg.text  # declared UTF-8, sent Latin-1
    assert "Hinweis: Grüße aus der Verwaltung" in msg.text  # charset "x-unbekannt": second inline part
    assert [(a.filename, a.content_type) for a in msg.attachments] == [
        ("scan0001.pdf", "application/octet-stream"),
        ("Fax_Jobcenter.tif", "image/tiff"),
    ]


def test_sloppy_headers():
    data = (
        b"From: J\xfcrgen <j@example.org>\r\nSubject: Kontoauszug f\xfcr M\xe4rz\r\n"
        b"Message-ID: <abc def@example.org>\r\nDate: Sat, 01 Jan 2039 10:00:00 -0000\r\n\r\nText"
    )
    msg = parse_email(data)
    assert (msg.sender, msg.subject) == ("Jürgen <j@example.org>", "Kontoauszug für März")  # raw Latin-1
    assert msg.external_id == "<abcdef@example.org>"  # the key does not depend on stray whitespace
    assert msg.received_at < datetime(2030, 1, 1, tzinfo=timezone.utc)  # a date in the future: now
    old = parse_email(data.replace(b"2039", b"2024"))
    assert old.received_at == datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)  # "-0000": UTC
    broken = parse_email(data.replace(b"Sat, 01 Jan 2039 10:00:00 -0000", b"gestern abend"))
    assert broken.received_at.tzinfo is not None


def test_attachment_without_filename_and_inline_logo():
    data = (
        b'Subject: Foto\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b'--b\r\nContent-Type: multipart/related; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Siehe Foto</p><img src=\"cid:logo\">\r\n"
        b"--r\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        b"--r--\r\n"
        b"--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--b--\r\n"
    )
    msg = parse_email(data)
    assert msg.text == "Siehe Foto"
    assert [(a.filename, a.content_type) for a in msg.attachments] == [("anhang-1.jpg", "image/jpeg")]


def test_html_version_with_inline_pictures_is_not_read_twice():
    data = (
        b'Subject: Termin\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n'
        b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIch kann am Montag nicht kommen.\r\n"
        b'--a\r\nContent-Type: multipart/related; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Ich kann am Montag nicht kommen.</p>\r\n"
        b"--r\r\nContent-Type: image/png\r\nContent-ID: <sig>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        b"--r--\r\n--a--\r\n"
    )
    msg = parse_email(data)
    assert (msg.text, msg.attachments) == ("Ich kann am Montag nicht kommen.", [])


def test_forwarded_mail_text_is_kept():
    inner = raw("02-lohnabrechnung.eml")
    data = (
        b'Subject: Fwd: Lohnabrechnung\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="f"\r\n\r\n'
        b"--f\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSiehe unten.\r\n"
        b"--f\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--f--\r\n"
    )
    msg = parse_email(data)
    assert msg.text.startswith(
        "Siehe unten.\n\n--- Weitergeleitete Nachricht: Lohnabrechnung Februar ---\n\nHallo,\n\nanbei meine Lohnabrechnung"
    )
    assert "Smartphone" not in msg.text  # the forwarded mail's HTML version is not read twice
    assert [a.filename for a in msg.attachments] == ["Lohnabrechnung_02_2025.pdf"]


NESTED = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + b"".join(
    b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(3000)
)


@pytest.mark.parametrize(
    "data, expected",
    [(b"", "leer"), (b"  \r\n", "leer"), (b"\x89PNG\r\n\x1a\n\x00\x00", "keine Kopfzeilen"),
     (NESTED, "zu tief verschachtelt")],
)
def test_not_an_email(data, expected):
    with pytest.raises(MailError, match=expected):
        parse_email(data)


# --- files and Maildir -------------------------------------------------------------------


def test_folder_and_single_file():
    items = list(iter_mail_files(MAIL))
    assert [Path(source).name for source, _ in items] == [p.name for p in EML]
    assert all(isinstance(data, bytes) for _, data in items)
    [(_, data)] = list(iter_mail_files(MAIL / "02-lohnabrechnung.eml"))
    assert data == raw("02-lohnabrechnung.eml")


def test_maildir_with_unreadable_messages(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(mailbox.MaildirMessage(raw("02-lohnabrechnung.eml")))  # new/
    seen = mailbox.MaildirMessage(raw("01-krankmeldung.eml"))
    seen.set_subdir("cur")
    seen.set_flags("S")
    box.add(seen)
    (tmp_path / "Maildir" / "cur" / "1741600000.M1P1.host:2,S").symlink_to(tmp_path / "gone")  # dangling
    (tmp_path / "Maildir" / "new" / "1741600001.M2P2.host").write_bytes(b"")
    items = list(iter_mail_files(tmp_path / "Maildir"))
    good = [data for _, data in items if isinstance(data, bytes)]
    errors = [data.message for _, data in items if isinstance(data, MailError)]
    assert len(good) == 2 and len(errors) == 2
    assert any("Nachricht kann nicht gelesen werden" in e for e in errors)
    assert any(e.endswith("Datei ist leer") for e in errors)
    assert {parse_email(data).external_id for data in good} == {
        "<a1b2c3d4-lohn@mail.example.org>", "<20250310091403.4711@example.org>"
    }


def test_file_errors_are_german_and_the_caller_continues(tmp_path):
    with pytest.raises(MailError, match="nicht gefunden"):
        list(iter_mail_files(tmp_path / "fehlt"))
    with pytest.raises(MailError, match="keine .eml-Dateien"):
        list(iter_mail_files(tmp_path))
    (tmp_path / "a.eml").write_bytes(raw("02-lohnabrechnung.eml"))
    (tmp_path / "b.eml").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    (tmp_path / "c.eml").write_bytes(b"Das ist nur ein Text ohne Kopfzeilen.")
    (tmp_path / "d.eml").write_bytes(raw("01-krankmeldung.eml"))
    items = dict(iter_mail_files(tmp_path, max_bytes=50_000))
    assert isinstance(items[str(tmp_path / "a.eml")], bytes)
    assert "Outlook-Datei (.msg) wird nicht unterstützt" in items[str(tmp_path / "b.eml")].message
    assert "keine E-Mail" in items[str(tmp_path / "c.eml")].message
    assert "Datei ist zu groß (0,1 MB, höchstens 0,0 MB)" in items[str(tmp_path / "d.eml")].message


# --- attachments -------------------------------------------------------------------------


def test_pdf_with_text_layer(analyzed):
    pdf = attachment(analyzed, "02-lohnabrechnung.eml")
    assert "Verdienstabrechnung Februar 2025" in pdf.text
    assert "Überweisung an IBAN DE02 1203 0000 0000 2020 51" in pdf.text
    assert (pdf.doc_type, pdf.note) == ("lohnabrechnung", "")


def test_docx(analyzed):
    doc = attachment(analyzed, "03-mietvertrag-html.eml")
    assert doc.text.startswith("# Mietvertrag über Wohnraum")
    assert "Nettokaltmiete | 520,00 EUR" in doc.text  # table rows
    assert doc.doc_type == "mietvertrag"


def test_ocr_of_a_png_scan(analyzed):
    png = attachment(analyzed, "01-krankmeldung.eml")
    for words in ["Arbeitsunfähigkeitsbescheinigung", "Erstbescheinigung", "arbeitsunfähig seit 10.03.2025",
                  "einschließlich 21.03.2025", "Ausfertigung zur Vorlage beim Arbeitgeber"]:
        assert words in png.text
    assert png.doc_type == "arbeitsunfaehigkeitsbescheinigung"
    assert DOCUMENT_TYPES[png.doc_type] == "Arbeitsunfähigkeitsbescheinigung"


def test_ocr_of_a_jpeg_photo(analyzed):
    jpg = attachment(analyzed, "04-kontoauszug-foto.eml")
    for words in ["Kontoauszug Nr. 3/2025", "Buchungstag", "Gutschrift Jobcenter", "Neuer Kontostand"]:
        assert words in jpg.text
    assert jpg.doc_type == "kontoauszug"


def test_scanned_pdf_and_tiff_fax(analyzed):
    scan, fax = analyzed["05-kaputt.eml"].attachments
    assert scan.content_type == "application/pdf"  # sent as application/octet-stream
    assert "Betriebskostenabrechnung 2024" in scan.text and "Abrechnungszeitraum" in scan.text
    assert scan.doc_type == "nebenkostenabrechnung"
    assert "Änderungsbescheid" in fax.text and "Rechtsbehelfsbelehrung" in fax.text
    assert fax.doc_type == "bescheid"
    limited = analyze(Attachment("scan.pdf", "application/pdf", scan.data), Limits(max_pixels=1_000_000))
    assert limited.text == "[Seite 1: Bild zu groß, Text nicht erkannt]"


def test_image_size_from_headers(analyzed):
    assert image_size(attachment(analyzed, "01-krankmeldung.eml").data) == (1240, 1754)
    assert image_size(attachment(analyzed, "04-kontoauszug-foto.eml").data) == (1240, 1754)
    assert image_size(attachment(analyzed, "05-kaputt.eml", 1).data) == (1728, 2200)
    assert image_size(b"not an image") is None


def test_limits_and_unreadable_attachments(analyzed):
    png = attachment(analyzed, "01-krankmeldung.eml")
    big = analyze(Attachment("AU.png", "image/png", png.data), Limits(max_bytes=10_000))
    assert big.note.startswith("Anhang zu groß (0,1 MB, höchstens 0,0 MB)") and big.text == ""
    assert big.doc_type == "arbeitsunfaehigkeitsbescheinigung"  # still recognised by its file name
    huge = analyze(Attachment("foto.png", "image/png", png.data), Limits(max_pixels=1_000_000))
    assert huge.note == "Bild zu groß (1240 × 1754 Pixel): Text nicht erkannt"
    damaged = analyze(Attachment("scan.png", "image/png", png.data[:2000]))
    assert "Bild ist beschädigt" in damaged.note
    pdf = analyze(Attachment("x.pdf", "application/pdf", b"%PDF-1.4\nkaputt"))
    assert pdf.note == "PDF ist beschädigt oder verschlüsselt: Text nicht gelesen"
    heic = analyze(Attachment("IMG_1.HEIC", "image/heic", b"\0\0\0\x18ftypheic" + b"\0" * 100))
    assert "HEIC" in heic.note and heic.content_type == "image/heic"
    unknown = analyze(Attachment("daten.bin", "application/octet-stream", b"\x01\x02\x03"))
    assert unknown.note == "Dateiformat wird nicht unterstützt: Text nicht gelesen"
    assert (unknown.doc_type, analyze(Attachment("leer.txt", "text/plain", b"")).note) == ("sonstiges", "Anhang ist leer")
    with pytest.raises(Exception, match="zu groß"):
        extract_text(Attachment("AU.png", "image/png", png.data), Limits(max_bytes=10))


def test_text_and_html_attachments():
    text = analyze(Attachment("notiz.txt", "text/plain", "Kündigung der Wohnung, Mietvertrag endet".encode("cp1252")))
    assert text.text == "Kündigung der Wohnung, Mietvertrag endet"
    html = analyze(Attachment("seite.html", "text/html", b"<h1>Kontoauszug</h1><p>Alter Kontostand</p>"))
    assert html.text == "# Kontoauszug\n\nAlter Kontostand" and html.doc_type == "kontoauszug"


WBA = """Antrag auf Weiterbewilligung von Bürgergeld
Bitte füllen Sie den Antrag vollständig aus und fügen Sie Nachweise bei.
Haben sich Änderungen ergeben? Bitte ankreuzen: ja / nein
Unterschrift der antragstellenden Person"""

BESCHEID_KDU = """Jobcenter Musterkreis
Bescheid über Leistungen zur Sicherung des Lebensunterhalts
Bewilligungszeitraum 01.05.2025 bis 30.04.2026
Bei der Berechnung der Kosten der Unterkunft wurde Ihr Mietvertrag berücksichtigt. Bitte reichen Sie
Ihre Kontoauszüge der letzten drei Monate und die Nebenkostenabrechnung ein.
Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann Widerspruch erhoben werden."""


@pytest.mark.parametrize(
    "text, filename, expected",
    [
        (WBA, "", "weiterbewilligungsantrag"),
        (BESCHEID_KDU, "", "bescheid"),  # mentions Mietvertrag, Kontoauszüge, Nebenkostenabrechnung
        # OCR noise: lost umlauts, l/I/1 slips, a word broken at a line end, stray characters
        ("Arbelts-\nunfahigkeitsbeschelnigung\nvoraussichtlich arbeitsunfahig bls 21.03.", "", "arbeitsunfaehigkeitsbescheinigung"),
        ("GEHALTSABRECHNUNG 03/2025\nGesamt-Brutto 2.150,00 Steuerk1asse 1 Auszah1ungsbetrag", "", "lohnabrechnung"),
        ("Betriebskostenabrechnung fuer 2024 Umlageschluessel Wohnflaeche", "", "nebenkostenabrechnung"),
        ("Kontoauszug 4/2025 a1ter Kontostand neuer Kontostand", "", "kontoauszug"),
        ("Wohnraummietvertrag zwischen Vermieter und Mieter, Mietsache: 2 Zimmer", "", "mietvertrag"),
        ("Sehr geehrte Damen und Herren, ich komme am Montag vorbei.", "", "sonstiges"),
        ("Kündigung: hiermit kündige ich Ihnen als Vermieter die Wohnung wegen Mietrückstand.", "", "sonstiges"),
        ("", "AU_Mueller.pdf", "arbeitsunfaehigkeitsbescheinigung"),
        ("", "Lohnabrechnung_Maerz.pdf", "lohnabrechnung"),
        ("", "WBA-2025.pdf", "weiterbewilligungsantrag"),
        ("", "scan0001.jpg", "sonstiges"),
    ],
)
def test_document_types(text, filename, expected):
    assert detect_document_type(text, filename) == expected


# --- IMAP against a real Dovecot ---------------------------------------------------------


def test_imap_poll_marks_seen_only_after_handle(dovecot):
    folder = "poll-ok"
    for name in ["01-krankmeldung.eml", "02-lohnabrechnung.eml"]:
        dovecot.append(raw(name), folder)
    handled, unseen_during_handle = [], []

    def handle(data: bytes) -> None:
        # Another connection still sees this message unseen while it is being handled.
        unseen_during_handle.append(any(parse_email(u).external_id == parse_email(data).external_id
                                        for u in dovecot.unseen(folder)))
        handled.append(parse_email(data, channel="imap"))

    assert poll(dovecot.config(folder), handle) == 2
    assert [m.external_id for m in handled] == ["<20250310091403.4711@example.org>", "<a1b2c3d4-lohn@mail.example.org>"]
    assert handled[0].attachments[0].data == parse_email(raw("01-krankmeldung.eml")).attachments[0].data
    assert unseen_during_handle == [True, True]
    assert dovecot.unseen(folder) == [] and dovecot.count(folder) == 2  # seen, not moved or deleted
    assert poll(dovecot.config(folder), handle) == 0


def test_imap_handler_error_leaves_the_message_unseen(dovecot):
    folder = "Posteingang Bürgergeld"  # a space and an umlaut: quoted, modified UTF-7
    dovecot.append(raw("01-krankmeldung.eml"), folder)
    dovecot.append(raw("03-mietvertrag-html.eml"), folder)
    handled = []

    def crashing(data: bytes) -> None:
        if b"Krankmeldung" in data:
            raise RuntimeError("Datenbank nicht erreichbar")
        handled.append(data)

    with pytest.raises(RuntimeError, match="Datenbank nicht erreichbar"):
        poll(dovecot.config(folder), crashing)
    [other] = handled  # the message after the failing one was still handled
    assert parse_email(other).external_id == "<mietvertrag.2025.03.20@example.net>"
    [left] = dovecot.unseen(folder)
    assert parse_email(left).external_id == "<20250310091403.4711@example.org>"
    # the next poll fetches it again
    assert poll(dovecot.config(folder), handled.append) == 1
    assert dovecot.unseen(folder) == []


def test_imap_errors_are_german(dovecot):
    with pytest.raises(ImapError, match="Anmeldung am IMAP-Server 127.0.0.1 fehlgeschlagen") as wrong:
        poll(dovecot.config(password="falsch-123"), lambda data: None)
    assert "falsch-123" not in str(wrong.value)
    with pytest.raises(ImapError, match="IMAP-Ordner „gibt-es-nicht“ nicht gefunden"):
        poll(dovecot.config("gibt-es-nicht"), lambda data: None)
    closed = replace(dovecot.config(), port=free_port())  # nothing listens there
    with pytest.raises(ImapError, match=f"IMAP-Server 127.0.0.1:{closed.port} nicht erreichbar: Verbindung abgelehnt"):
        poll(closed, lambda data: None)
    assert PASSWORD not in repr(closed)


def test_folder_quoting():
    assert _quote("INBOX") == '"INBOX"'
    assert _quote("Eingang/Bürgergeld") == '"Eingang/B&APw-rgergeld"'  # RFC 3501 example style
    assert _quote('a&b "c"') == '"a&-b \\"c\\""'
