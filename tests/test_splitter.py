"""Splitter: laws by § and Absatz, pages by heading, records one by one; and the real law texts."""

from __future__ import annotations

import re
from datetime import date

import pytest

from amtslotse.knowledge.loaders import load_file
from amtslotse.knowledge.splitter import chunk_text, clean_markup, law_section, split_document
from amtslotse.models import Document, Record
from shared_data import LAW, requires_shared

needs_shared = requires_shared("data/law/current", "data/law/pre_2026_07")

LIMITS = {"law_split_chars": 2500, "page_split_chars": 1500}


def cut(doc: Document, *, law: int = 2500, page: int = 1500) -> list:
    return split_document(doc, law_split_chars=law, page_split_chars=page)


def law_doc(text: str, law: str = "SGB II") -> Document:
    return Document(source="SGB_2.md", title="Sozialgesetzbuch II", text=text, kind="law", law=law, tenant="bund")


def sentences(n: int, word: str = "Leistung") -> str:
    return " ".join(f"Die {word} Nummer {i} wird nach Abs. 2 bis zum 25. Lebensjahr erbracht." for i in range(n))


# --- laws ------------------------------------------------------------------------------------------

SMALL_LAW = """% Sozialgesetzbuch II
% Ausfertigungsdatum: 24.12.2003

# Inhaltsübersicht

| § 1 | Aufgabe und Ziel |
|:----|:-----------------|
| § 2 | Grundsatz |

# § 1 – Aufgabe und Ziel

(1) Die Grundsicherung soll ein Leben in Würde ermöglichen.

(2) Sie stärkt die Eigenverantwortung.

# § 2 – (weggefallen)

# §  7 B – Erreichbarkeit

Erreichbar ist, wer Post lesen kann.

# § 8

Text ohne Überschrift.

# Art 3 – Inkrafttreten

Dieses Gesetz tritt in Kraft.

# Anlage – (zu § 28)Regelbedarfsstufen in Euro

<table><thead><tr><th>gültig ab</th><th>Regel-<br />
bedarfsstufe 1</th></tr></thead>
<tbody><tr><td>1. Januar 2026</td>
<td>563</td></tr></tbody></table>

# Schlussformel

Der Bundeskanzler
"""


def test_law_sections_citations_and_skipped_blocks():
    doc = law_doc(SMALL_LAW)
    doc.valid_from = date(2026, 7, 1)
    passages = split_document(doc, **LIMITS)
    assert [(p.section, p.citation, p.heading) for p in passages] == [
        ("§ 1", "§ 1 SGB II", "§ 1 – Aufgabe und Ziel"),
        ("§ 7b", "§ 7b SGB II", "§ 7 B – Erreichbarkeit"),
        ("§ 8", "§ 8 SGB II", "§ 8"),
        ("Art 3", "Art 3 SGB II", "Art 3 – Inkrafttreten"),
        ("Anlage (zu § 28)", "Anlage (zu § 28) SGB II", "Anlage – (zu § 28) Regelbedarfsstufen in Euro"),
    ]
    assert passages[0].text == (
        "(1) Die Grundsicherung soll ein Leben in Würde ermöglichen.\n\n(2) Sie stärkt die Eigenverantwortung."
    )
    assert passages[-1].text == "gültig ab | Regelbedarfsstufe 1\n1. Januar 2026 | 563"
    assert [p.position for p in passages] == list(range(5))
    assert all(p.title == "Sozialgesetzbuch II" and p.source == "SGB_2.md" for p in passages)
    assert all(p.tenant == "bund" and p.valid_from == date(2026, 7, 1) and p.valid_to is None for p in passages)
    assert not any("Ausfertigungsdatum" in p.text or "Bundeskanzler" in p.text for p in passages)


@pytest.mark.parametrize(
    "label, section",
    [("§ 22", "§ 22"), ("§  7 B", "§ 7b"), ("§ 16a", "§ 16a"), ("Artikel 3", "Art 3"), ("Art IV", "Art IV"),
     ("§§ 14 und 15", "§§ 14 und 15"), ("Anlage 2", "Anlage 2"), ("----", None)],
)
def test_law_section_normalisation(label, section):
    assert law_section(label) == section


def test_long_paragraph_is_split_by_absatz():
    absaetze = [f"({n}) " + sentences(2, f"Absatz{n}") for n in ("1", "1a", "2", "3", "4")]  # ~170 chars each
    body = "\n\n".join(absaetze)
    passages = cut(law_doc(f"# § 22 – Unterkunft\n\n{body}\n"), law=400)
    assert [p.citation for p in passages] == ["§ 22 Abs. 1-1a SGB II", "§ 22 Abs. 2-3 SGB II", "§ 22 Abs. 4 SGB II"]
    assert all(p.section == "§ 22" and p.heading == "§ 22 – Unterkunft" for p in passages)
    assert all(len(p.text) <= 400 for p in passages)
    assert "\n\n".join(p.text for p in passages) == body


def test_absatz_is_cut_only_when_over_twice_the_limit():
    medium = "(1) " + sentences(3)  # between 1x and 2x the limit: stays whole
    huge = "(2) " + sentences(12)  # over 2x: cut at sentence ends
    passages = cut(law_doc(f"# § 5 – X\n\n{medium}\n\n{huge}\n"), law=200)
    assert passages[0].text == medium and passages[0].citation == "§ 5 Abs. 1 SGB II"
    rest = passages[1:]
    assert len(rest) > 1 and all(p.citation == "§ 5 Abs. 2 SGB II" for p in rest)
    assert all(len(p.text) <= 200 and p.text.endswith("erbracht.") for p in rest)


def test_long_paragraph_without_absatz_is_split_in_parts():
    passages = cut(law_doc("# § 9 – Lang\n\n" + sentences(10)), law=300)
    assert len(passages) > 1
    assert [p.citation for p in passages] == [f"§ 9 SGB II (Teil {i})" for i in range(1, len(passages) + 1)]


# --- pages -------------------------------------------------------------------------------------------

PAGE = """# Jobcenter Musterkreis

Willkommen beim Jobcenter.

## Öffnungszeiten

Montag bis Freitag 8 bis 12 Uhr.

## Adresse

Hauptstraße 1, 12345 Musterstadt.

## Unterkunft

### Umzug

{umzug}

### Heizung

{heizung}
"""


def page_doc(text: str, title: str = "Jobcenter Musterkreis") -> Document:
    return Document(source="jc.md", title=title, text=text, url="https://jc.example/", tenant="musterkreis")


def test_page_split_by_heading_with_paths_and_tiny_merge():
    umzug = "\n\n".join(sentences(3, f"Umzugshilfe{i}") for i in range(4))  # ~1000 chars
    heizung = sentences(3, "Heizkostenhilfe")
    passages = split_document(page_doc(PAGE.format(umzug=umzug, heizung=heizung)), **LIMITS)
    assert [p.heading for p in passages] == [None, "Unterkunft > Umzug", "Unterkunft > Heizung"]
    # the tiny introduction, "Öffnungszeiten" and "Adresse" share a parent and are merged
    assert passages[0].citation == "Jobcenter Musterkreis"
    assert passages[0].text == (
        "Willkommen beim Jobcenter.\n\nÖffnungszeiten\nMontag bis Freitag 8 bis 12 Uhr.\n\n"
        "Adresse\nHauptstraße 1, 12345 Musterstadt."
    )
    assert passages[1].citation == "Unterkunft > Umzug – Jobcenter Musterkreis"
    assert passages[1].text == umzug
    assert all(p.section is None and p.url == "https://jc.example/" and p.tenant == "musterkreis" for p in passages)


def test_merged_siblings_name_both_headings():
    text = "# Start\n\n" + sentences(6) + "\n\n## A\n\nKurz.\n\n## B\n\n" + sentences(4)
    passages = split_document(page_doc(text, title="Seite"), **LIMITS)
    assert [p.heading for p in passages] == ["Start", "Start > A / B"]
    assert passages[1].citation == "Start > A / B – Seite"


def test_long_page_section_is_split_at_paragraphs():
    paragraphs = [sentences(2, f"Absatzwort{i}") for i in range(12)]  # ~150 chars each
    passages = cut(page_doc("## Wohngeld\n\n" + "\n\n".join(paragraphs)), page=500)
    assert len(passages) > 3
    assert all(len(p.text) <= 500 and p.heading == "Wohngeld" for p in passages)
    assert [q for p in passages for q in p.text.split("\n\n")] == paragraphs


def test_page_without_headings_and_code_fences():
    text = "Erste Zeile.\n\n```\n# kein Titel\n```\n\nEnde."
    (passage,) = split_document(page_doc(text, title="Notiz"), **LIMITS)
    assert passage.citation == "Notiz" and passage.heading is None and "# kein Titel" in passage.text


# --- records -------------------------------------------------------------------------------------------


def test_records():
    long_text = "\n\n".join(sentences(4, f"Urteil{i}") for i in range(30))  # ~9,000 chars
    doc = Document(
        source="faq.jsonl",
        title="faq",
        kind="records",
        url="https://faq.example/",
        records=[
            Record(text="Kurz.", external_id="q1", title="Wohngeld", url="https://faq.example/q1"),
            Record(text="Ohne Titel.", external_id="q2"),
            Record(text=long_text, external_id="bag-1", title="BAG 9 AZR 1/13"),
        ],
    )
    passages = cut(doc, page=1000)
    assert [(p.citation, p.external_id, p.title, p.url) for p in passages[:2]] == [
        ("Wohngeld", "q1", "Wohngeld", "https://faq.example/q1"),
        ("q2", "q2", "faq", "https://faq.example/"),
    ]
    parts = passages[2:]
    assert len(parts) >= 9 and all(p.external_id == "bag-1" and len(p.text) <= 1000 for p in parts)
    assert [p.citation for p in parts] == [f"BAG 9 AZR 1/13 (Teil {i})" for i in range(1, len(parts) + 1)]
    assert [p.position for p in passages] == list(range(len(passages)))
    # moderately long records stay whole
    (whole,) = cut(Document(source="x", title="x", kind="records", records=[Record(text=sentences(20))]), page=1000)
    assert whole.text == sentences(20)


# --- helpers -------------------------------------------------------------------------------------------


def test_chunk_text_respects_german_sentences():
    text = (
        "Wer das 25. Lebensjahr vollendet hat, erhält nach § 7 Abs. 2 Nr. 3 Leistungen. "
        "Das gilt ab 1. Januar 2026."
    )
    assert chunk_text(text, 90) == [
        "Wer das 25. Lebensjahr vollendet hat, erhält nach § 7 Abs. 2 Nr. 3 Leistungen.",
        "Das gilt ab 1. Januar 2026.",
    ]
    assert chunk_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert chunk_text("  \n ", 10) == []


def test_clean_markup():
    assert clean_markup("a  b\t c \n\n\n\n d\\-e <img src='x.jpg' /> x &amp; y") == "a b c\n\nd-e x & y"
    assert clean_markup("| A | B |\n|:--|--:|\n| 1 | 2 |") == "| A | B |\n| 1 | 2 |"


# --- the real law texts -----------------------------------------------------------------------------------


def split_law(relative: str, **limits) -> list:
    return split_document(load_file(LAW / relative, tenant="bund"), **(LIMITS | limits))


def by_section(passages, section: str) -> list:
    return [p for p in passages if p.section == section]


@needs_shared
def test_sgb2_current():
    passages = split_law("current/SGB_2-BJNR295500003.md")
    p7b = by_section(passages, "§ 7b")
    assert p7b and all(p.heading == "§ 7b – Erreichbarkeit" and p.citation.startswith("§ 7b ") for p in p7b)
    p22 = by_section(passages, "§ 22")
    assert p22 and p22[0].heading == "§ 22 – Bedarfe für Unterkunft und Heizung"
    assert all(re.fullmatch(r"§ 22( Abs\. [0-9a-z-]+)? SGB II", p.citation) for p in p22)
    whole = split_law("current/SGB_2-BJNR295500003.md", law_split_chars=100_000)
    assert [p.citation for p in by_section(whole, "§ 22")] == ["§ 22 SGB II"]
    # the table of contents yields nothing; repealed sections neither
    assert not any("Inhaltsübersicht" in (p.heading or "") or "| § 1 |" in p.text for p in passages)
    assert not by_section(passages, "§ 16j") and not by_section(passages, "§ 35")
    assert all(p.section and p.text for p in passages)
    assert [p.position for p in passages] == list(range(len(passages)))


@needs_shared
@pytest.mark.parametrize("limit", [2500, 1200])
def test_long_sections_are_split_into_absatz_groups_under_the_limit(limit):
    passages = split_law("current/SGB_2-BJNR295500003.md", law_split_chars=limit)
    split = [p for p in passages if " Abs. " in p.citation]
    assert len(split) > 20
    for p in passages:
        absatz = re.search(r" Abs\. (\S+) ", p.citation)
        if absatz and "-" in absatz.group(1):  # a group of several Absätze stays under the limit
            assert len(p.text) <= limit
        else:  # one Absatz alone may be up to twice the limit before it is cut
            assert len(p.text) <= 2 * limit


@needs_shared
def test_reform_of_july_2026_is_visible():
    before = by_section(split_law("pre_2026_07/SGB_2-BJNR295500003.md"), "§ 19")
    after = by_section(split_law("current/SGB_2-BJNR295500003.md"), "§ 19")
    assert before and after
    assert "Bürgergeld" in " ".join(p.text for p in before)
    assert "Grundsicherungsgeld" in " ".join(p.text for p in after)
    assert all(p.citation.startswith("§ 19") and p.citation.endswith("SGB II") for p in before + after)


@needs_shared
def test_all_shared_law_files_split_cleanly():
    for path in sorted(LAW.glob("*/*.md")):
        doc = load_file(path, tenant="bund")
        passages = split_document(doc, **LIMITS)
        assert passages, path
        for p in passages:
            assert p.text.strip() and "<td" not in p.text and "<table" not in p.text, (path, p.citation)
            assert re.sub(r" \(Teil \d+\)$", "", p.citation).endswith(" " + doc.law), (path, p.citation)
    regelbedarf = by_section(split_law("current/SGB_12-BJNR302300003.md"), "Anlage (zu § 28)")
    assert regelbedarf and "Regelbedarfsstufe 1" in regelbedarf[0].text
