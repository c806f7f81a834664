"""Loaders: real files of every supported format, broken files, and the shared law texts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import docx
import pytest

from amtslotse.knowledge.loaders import (
    SUPPORTED_SUFFIXES,
    LoaderError,
    iter_source_files,
    law_abbreviation,
    load_file,
)
from attack_files import pdf_file
from shared_data import LAW, requires_shared

needs_shared = requires_shared("data/law/current", "data/law/pre_2026_07")


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def make_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A minimal valid one-page PDF (Helvetica, WinAnsi) with one text line per entry."""

    def literal(text: str) -> bytes:
        raw = text.encode("cp1252")
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"

    content = b"BT /F1 12 Tf 16 TL 72 770 Td " + b" ".join(literal(x) + b" Tj T*" for x in lines) + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Title " + literal(title or "") + b" >>",
    ]
    return pdf_file(objects, info=6 if title else None)


# --- formats ---------------------------------------------------------------------------------


def test_markdown_titles(tmp_path):
    doc = load_file(write(tmp_path, "a.md", "% Mein Titel\n% Stand: 2026\n\nText"), tenant="kreis")
    assert (doc.title, doc.kind, doc.tenant, doc.source) == ("Mein Titel", "page", "kreis", "a.md")
    assert load_file(write(tmp_path, "b.markdown", "Vorwort\n\n# Wohngeld  beantragen\n\nText")).title == (
        "Wohngeld beantragen"
    )
    assert load_file(write(tmp_path, "merkblatt-kdu.md", "Nur Text.")).title == "merkblatt-kdu"


def test_markdown_law_is_detected_and_named(tmp_path):
    text = "% Gesetz\n\n# § 1 – Zweck\n\n(1) Eins.\n\n# § 2\n\nZwei.\n"
    doc = load_file(write(tmp_path, "SGB_2-BJNR295500003.md", text))
    assert (doc.kind, doc.law, doc.title) == ("law", "SGB II", "Gesetz")
    assert load_file(write(tmp_path, "faq.md", "# FAQ\n\n# § 1 ist gemeint\n\nText")).kind == "page"


@pytest.mark.parametrize(
    "stem, expected",
    [
        ("SGB_2-BJNR295500003", "SGB II"),
        ("SGB_12-BJNR302300003", "SGB XII"),
        ("SGB_10-BJNR114690980", "SGB X"),
        ("SGB_3-BJNR059500997", "SGB III"),
        ("SGB_IX-BJNR323410016", "SGB IX"),
        ("RBSFV_2026-BJNR0F30B0025", "RBSFV 2026"),
        ("BKGG-BJNR137800995", "BKGG"),
        ("Buergergeld-V-BJNR294200007", "Bürgergeld-V"),
        ("1._BImSchV-BJNR003800010", "1. BImSchV"),
        ("AGB_DDR-DDNR001850977", "AGB DDR"),
        ("hausordnung", "hausordnung"),
    ],
)
def test_law_abbreviation(stem, expected):
    assert law_abbreviation(stem) == expected


def test_html(tmp_path):
    page = """<!doctype html><html><head><title>Wohngeld – Landkreis Muster</title>
    <link rel="canonical" href="https://landkreis.example/wohngeld">
    <style>body{color:red}</style><script>var tracking = 1;</script></head>
    <body><header><nav><a href="/">Startseite</a></nav></header>
    <main><article><header><h1>Wohngeld</h1></header>
    <p>Wohngeld ist ein <strong>Zuschuss</strong> zur Miete.</p>
    <h2>Unterlagen</h2><ul><li>Mietvertrag</li><li>Einkommens&shy;nachweise</li></ul>
    <h3>Fristen</h3><table><tr><th>Was</th><th>Wann</th></tr><tr><td>Antrag</td><td>vor Bezug</td></tr></table>
    </article></main><aside>Newsletter</aside><footer>Impressum</footer></body></html>"""
    doc = load_file(write(tmp_path, "wohngeld.html", page))
    assert doc.title == "Wohngeld – Landkreis Muster"
    assert doc.url == "https://landkreis.example/wohngeld"
    assert doc.text.splitlines()[0] == "# Wohngeld"
    assert "Wohngeld ist ein Zuschuss zur Miete." in doc.text
    assert "## Unterlagen" in doc.text and "- Mietvertrag\n- Einkommensnachweise" in doc.text
    assert "### Fristen" in doc.text and "Was | Wann\nAntrag | vor Bezug" in doc.text
    for noise in ("tracking", "color:red", "Startseite", "Newsletter", "Impressum"):
        assert noise not in doc.text


def test_docx(tmp_path):
    word = docx.Document()
    word.core_properties.title = "Merkblatt Umzug"
    word.add_heading("Umzug im Leistungsbezug", level=1)
    word.add_paragraph("Vor dem Umzug die Zusicherung einholen.")
    word.add_heading("Kosten", level=2)
    table = word.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Posten", "Betrag"), ("Kaution", "Darlehen")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    word.save(tmp_path / "umzug.docx")
    doc = load_file(tmp_path / "umzug.docx")
    assert doc.title == "Merkblatt Umzug"
    assert doc.text.split("\n\n") == [
        "# Umzug im Leistungsbezug",
        "Vor dem Umzug die Zusicherung einholen.",
        "## Kosten",
        "Posten | Betrag\nKaution | Darlehen",
    ]


def test_docx_title_falls_back_to_first_heading(tmp_path):
    word = docx.Document()
    word.add_paragraph("Einleitung")
    word.add_heading("Bildung und Teilhabe", level=2)
    word.save(tmp_path / "but.docx")
    assert load_file(tmp_path / "but.docx").title == "Bildung und Teilhabe"


def test_pdf(tmp_path):
    data = make_pdf(["Öffnungszeiten des Jobcenters", "Montag bis Freitag (8 bis 12 Uhr)"], title="Aushang")
    doc = load_file(write(tmp_path, "aushang.pdf", data))
    assert doc.title == "Aushang"
    assert "Öffnungszeiten des Jobcenters" in doc.text
    assert "Montag bis Freitag (8 bis 12 Uhr)" in doc.text
    untitled = load_file(write(tmp_path, "ohne.pdf", make_pdf(["Erste Zeile", "Zweite Zeile"])))
    assert untitled.title == "Erste Zeile"


def test_txt(tmp_path):
    doc = load_file(write(tmp_path, "hinweis.txt", "\n  Hinweis zur Erreichbarkeit\n\nBitte melden Sie sich.\r\n"))
    assert doc.title == "Hinweis zur Erreichbarkeit"
    assert "\r" not in doc.text
    assert load_file(write(tmp_path, "lang.txt", "x" * 300)).title == "lang"


def test_txt_in_windows_1252_is_decoded(tmp_path):
    doc = load_file(write(tmp_path, "alt.txt", "Grüße aus Gießen".encode("cp1252")))
    assert doc.text == "Grüße aus Gießen"


def test_jsonl(tmp_path):
    lines = [
        {"id": "faq-1", "title": "Wohngeld", "text": "Wohngeld gibt es auf Antrag.", "url": "https://x.example/1"},
        {"passage_id": 7, "title": "", "text": "Ohne Titel."},
        {"text": "Ohne Kennung."},
    ]
    content = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines[:2]) + "\n\n" + json.dumps(lines[2]) + "\n"
    doc = load_file(write(tmp_path, "faq.jsonl", content))
    assert doc.kind == "records" and doc.text == "" and doc.title == "faq"
    assert [(r.external_id, r.title, r.url) for r in doc.records] == [
        ("faq-1", "Wohngeld", "https://x.example/1"),
        ("7", None, None),
        (None, None, None),
    ]


# --- normalisation and metadata -------------------------------------------------------------


def test_text_is_nfc_without_invisible_characters(tmp_path):
    decomposed = "Bu\u0308rgergeld"  # "ü" as u + combining diaeresis
    text = f"{decomposed} und Grund\u00adsicherung\u200b nach §\u00a022."
    doc = load_file(write(tmp_path, "n.txt", text))
    assert doc.text == "Bürgergeld und Grundsicherung nach § 22."


def test_content_hash_covers_file_and_metadata(tmp_path):
    path = write(tmp_path, "a.md", "# A\n\nText")
    base = load_file(path, tenant="kreis").content_hash
    assert base == load_file(path, tenant="kreis").content_hash
    assert base != load_file(path, tenant="bund").content_hash
    assert base != load_file(path, tenant="kreis", valid_from=date(2026, 7, 1)).content_hash
    assert base != load_file(path, tenant="kreis", valid_to=date(2026, 12, 31)).content_hash
    write(tmp_path, "a.md", "# A\n\nText geändert")
    assert base != load_file(path, tenant="kreis").content_hash


# --- broken files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("daten.xyz", b"irgendwas", "Dateiformat .xyz wird nicht unterstützt"),
        ("README", b"text", "Dateiformat (ohne Endung) wird nicht unterstützt"),
        ("leer.md", b"", "Datei ist leer"),
        ("leer.txt", b"  \n\n", "Datei ist leer"),
        ("kaputt.pdf", b"%PDF-1.4\nkein echtes pdf", "PDF ist beschädigt oder verschlüsselt"),
        ("kaputt.docx", b"PK\x03\x04 kein zip", "DOCX-Datei ist beschädigt oder kein Word-Dokument"),
        ("leer.html", b"<html><body><script>x()</script></body></html>", "Datei enthält keinen Text"),
        ("a.jsonl", b'{"id": 1, "text": "gut"}\n\n{"id": 2, "text": kaputt}\n', "Zeile 3: kein gültiges JSON"),
        ("b.jsonl", b'{"id": 1, "text": "gut"}\n{"id": 2, "title": "ohne"}\n', "Zeile 2: Feld 'text' fehlt"),
        ("c.jsonl", b'["text"]\n', "Zeile 1: kein JSON-Objekt"),
        ("d.jsonl", b'{"id": 1, "text": "  "}\n', "Zeile 1: Feld 'text' ist leer oder kein Text"),
    ],
)
def test_broken_files_raise_loader_error_in_german(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(LoaderError) as caught:
        load_file(path)
    assert caught.value.message == message
    assert caught.value.path == path
    assert str(caught.value) == f"{name}: {message}"


def test_pdf_without_text(tmp_path):
    with pytest.raises(LoaderError, match=r"PDF enthält keinen Text \(gescannt\?\)"):
        load_file(write(tmp_path, "scan.pdf", make_pdf([])))


def test_missing_file(tmp_path):
    with pytest.raises(LoaderError, match="Datei nicht gefunden"):
        load_file(tmp_path / "fehlt.md")


# --- finding source files ------------------------------------------------------------------------


def test_iter_source_files(tmp_path):
    for name in ["b.md", "a/c.pdf", "a/d.xyz", ".git/e.md", "a/.f.md", "a/~$g.docx", "h.JSONL"]:
        write(tmp_path / "src", name, "x")
    explicit = write(tmp_path, "notiz.xyz", "x")
    found = list(iter_source_files([tmp_path / "src", explicit]))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "src/a/c.pdf",
        "src/b.md",
        "src/h.JSONL",
        "notiz.xyz",
    ]
    assert {".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".txt", ".jsonl"} == SUPPORTED_SUFFIXES


# --- the shared law texts ------------------------------------------------------------------------

EXPECTED_LAWS = {
    "current/BKGG-BJNR137800995.md": "BKGG",
    "current/GrusiGV-BJNR294200007.md": "GrusiGV",
    "current/RBEG-BJNR285510020.md": "RBEG",
    "current/RBSFV_2026-BJNR0F30B0025.md": "RBSFV 2026",
    "current/SGB_1-BJNR030150975.md": "SGB I",
    "current/SGB_10-BJNR114690980.md": "SGB X",
    "current/SGB_12-BJNR302300003.md": "SGB XII",
    "current/SGB_2-BJNR295500003.md": "SGB II",
    "current/SGB_3-BJNR059500997.md": "SGB III",
    "current/SGG-BJNR012390953.md": "SGG",
    "current/VwVfG-BJNR012530976.md": "VwVfG",
    "current/WoGG-BJNR185610008.md": "WoGG",
    "pre_2026_07/Buergergeld-V-BJNR294200007.md": "Bürgergeld-V",
    "pre_2026_07/SGB_2-BJNR295500003.md": "SGB II",
}


@needs_shared
@pytest.mark.parametrize("name, law", sorted(EXPECTED_LAWS.items()))
def test_shared_law_files_load_as_laws(name, law):
    doc = load_file(LAW / name, tenant="bund")
    assert (doc.kind, doc.law) == ("law", law)
    assert doc.title and not doc.title.startswith("%") and "  " not in doc.title


@needs_shared
def test_all_shared_law_files_are_covered():
    present = {p.relative_to(LAW).as_posix() for p in iter_source_files([LAW])}
    assert set(EXPECTED_LAWS) <= present


def test_curated_answers_load_as_records_with_their_phrasings_sources_and_validity(tmp_path):
    import json as _json
    from datetime import date as _date

    from amtslotse.knowledge.splitter import split_document

    path = tmp_path / "kuratiert.jsonl"
    path.write_text(_json.dumps({
        "id": "kdu-1", "question": "Zahlt das Jobcenter die Miete?", "alternatives": ["Wer zahlt meine Miete?"],
        "answer": "Ja, soweit sie angemessen ist.", "sources": [{"citation": "§ 22 SGB II", "section": "§ 22"}],
        "valid_from": "2026-07-01", "valid_to": "2026-12-31",
    }) + "\n", encoding="utf-8")
    passage, = split_document(load_file(path, tenant="musterkreis"), law_split_chars=2500, page_split_chars=1500)
    assert passage.text == "Ja, soweit sie angemessen ist." and passage.heading == "Zahlt das Jobcenter die Miete?"
    assert passage.keywords == "Wer zahlt meine Miete?" and passage.external_id == "kdu-1"
    assert passage.meta["kind"] == "curated" and passage.meta["sources"][0]["section"] == "§ 22"
    assert (passage.valid_from, passage.valid_to) == (_date(2026, 7, 1), _date(2026, 12, 31))
    path.write_text('{"id": "x", "answer": "ohne Frage"}\n', encoding="utf-8")
    with pytest.raises(LoaderError, match="Zeile 1"):
        load_file(path)
