"""Extractive composer on real law passages: verbatim sentences, markers, splitting, confidence."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from amtslotse.ask.extractive import ELLIPSIS, compose_extractive, split_sentences
from amtslotse.knowledge.ingest import ingest_paths
from amtslotse.models import Hit, Passage
from amtslotse.search.hybrid import Retriever
from amtslotse.settings import Settings
from amtslotse.store.sqlite import SqliteStore
from shared_data import LAW, requires_shared

SGB_II = LAW / "current" / "SGB_2-BJNR295500003.md"

needs_law = requires_shared("data/law/current/SGB_2-BJNR295500003.md")

QUESTIONS = [
    "Muss ich mein Auto verkaufen?",
    "Ich bin krank, was muss ich tun?",
    "Darf ich in Urlaub fahren?",
    "Wie viel Vermögen darf ich haben?",
    "Übernimmt das Jobcenter die Mietkaution?",
    "Werden meine Heizkosten übernommen?",
]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("extractive")
    settings = Settings(home=tmp / "home", embedder="none")
    store = SqliteStore(tmp / "amtslotse.db")
    report = ingest_paths([SGB_II], store, settings, tenant="bund")
    assert report.ingested == 1 and not report.failed
    yield Retriever(store, None, settings)
    store.close()


def ask(retriever: Retriever, question: str, **kwargs):
    hits = retriever.search(question, "bund", limit=10)
    return hits, compose_extractive(question, hits, query_terms=retriever.query_terms(question, "bund"), **kwargs)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def fragments(sentence: str) -> list[str]:
    """The source pieces of a reply sentence: the composer's only edits are ELLIPSIS marks."""
    sentence = sentence.removesuffix(f" {ELLIPSIS}")
    return sentence.split(f" {ELLIPSIS} ")


# --- sentence splitting ----------------------------------------------------------------------


def test_abbreviations_dates_amounts_and_references_do_not_split():
    text = (
        "Nach § 22 Abs. 1 Satz 2 gilt z. B. die Karenzzeit, bzw. ggf. eine andere Frist, d. h. u. a. "
        "die Regel nach Nr. 3 (vgl. S. 4). Ab dem 1. Juli 2026 beträgt der Regelbedarf 563,00 Euro. "
        "Bis zur Vollendung des 25. Lebensjahres gilt Absatz 1 Satz 3. Dies gilt i.V.m. § 7b nicht!"
    )
    assert split_sentences(text) == [
        (
            "Nach § 22 Abs. 1 Satz 2 gilt z. B. die Karenzzeit, bzw. ggf. eine andere Frist, d. h. u. a. "
            "die Regel nach Nr. 3 (vgl. S. 4)."
        ),
        "Ab dem 1. Juli 2026 beträgt der Regelbedarf 563,00 Euro.",
        "Bis zur Vollendung des 25. Lebensjahres gilt Absatz 1 Satz 3.",
        "Dies gilt i.V.m. § 7b nicht!",
    ]


def test_absatz_markers_list_numbers_and_tables_are_handled():
    text = (
        "(1) Der Freibetrag für Vermögen richtet sich nach dem Lebensalter der Person:\n\n"
        "| Alter | Freibetrag Vermögen in Euro |\n| ab dem 31. Lebensjahr | 10 000 |\n\n"
        "(2) Nicht als Vermögen zu berücksichtigen sind\n\n"
        "1. angemessener Hausrat für die Bedarfsgemeinschaft,\n\n"
        "2. ein angemessenes Kraftfahrzeug für jede erwerbsfähige Person und\n\n"
        "3. Sachen, deren Verwertung eine besondere Härte wäre.\n\n"
        "- - -\n\n"
        "(3) Das Vermögen ist mit seinem Verkehrswert zu berücksichtigen."
    )
    hit = Hit(Passage(text=text, title="Test", source="t.md", citation="§ 12 Test", id=1), 1.0)
    extract = compose_extractive("Freibetrag Vermögen Kraftfahrzeug Lebensjahr", [hit], max_sentences=4)
    assert "|" not in extract.text and "10 000" not in extract.text
    assert not any(s.startswith("(") or s[:2] == "2." for s, _ in extract.sentences)
    kfz = [s for s, _ in extract.sentences if "Kraftfahrzeug" in s]
    assert kfz == [
        f"Nicht als Vermögen zu berücksichtigen sind {ELLIPSIS} ein angemessenes Kraftfahrzeug für jede erwerbsfähige Person {ELLIPSIS}"
    ]
    assert "- - -" not in extract.text


# --- on real passages ------------------------------------------------------------------------


@needs_law
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_sentence_is_verbatim_from_its_cited_passage(retriever, question):
    _, extract = ask(retriever, question)
    assert extract.sentences, question
    for sentence, index in extract.sentences:
        source = squash(extract.citations[index].passage.text)
        for piece in fragments(sentence):
            assert squash(piece) in source, (question, piece)
        assert 30 <= len(sentence) <= 400 + 2 * len(ELLIPSIS) + 200  # a lead-in may come before an item


@needs_law
@pytest.mark.parametrize("question", QUESTIONS)
def test_markers_match_citations_and_limits_hold(retriever, question):
    hits, extract = ask(retriever, question)
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", extract.text)]
    assert markers == [index + 1 for _, index in extract.sentences]
    assert sorted(set(markers)) == list(range(1, len(extract.citations) + 1))
    assert markers == sorted(markers)  # grouped by passage in rank order
    ranks = [next(i for i, h in enumerate(hits) if h is c) for c in extract.citations]
    assert ranks == sorted(ranks)
    for sentence, index in extract.sentences:
        assert f"{sentence} [{index + 1}]" in extract.text
    assert len(extract.sentences) <= 4 and len(extract.text) <= 900
    assert max(markers.count(m) for m in set(markers)) <= 2  # at most two sentences per passage
    assert 0 < extract.confidence <= 1


@needs_law
def test_car_question_cites_section_12_on_vehicles(retriever):
    _, extract = ask(retriever, "Muss ich mein Auto verkaufen?")
    kfz = [(s, i) for s, i in extract.sentences if "Kraftfahrzeug" in s]
    assert kfz and extract.citations[kfz[0][1]].passage.section == "§ 12"
    assert extract.confidence > 0.5


@needs_law
def test_sentences_keep_text_order_within_a_passage(retriever):
    _, extract = ask(retriever, "Darf ich in Urlaub fahren?")
    for index, hit in enumerate(extract.citations):
        text = squash(hit.passage.text)
        starts = [text.index(squash(fragments(s)[-1])) for s, i in extract.sentences if i == index]
        assert starts == sorted(starts)


@needs_law
def test_confidence_is_higher_on_topic_than_off_topic(retriever):
    hits, on_topic = ask(retriever, "Muss ich mein Auto verkaufen?")
    _, off_topic = ask(retriever, "Wie backe ich Brot?")
    assert on_topic.confidence > off_topic.confidence
    # A dense retriever always returns something: off-topic text on those hits is still empty.
    unrelated = compose_extractive("Wie backe ich Brot?", hits)
    assert (unrelated.text, unrelated.confidence, unrelated.citations) == ("", 0.0, [])


def test_no_hits_or_no_matching_sentence_gives_an_empty_extract():
    empty = compose_extractive("Muss ich mein Auto verkaufen?", [])
    assert (empty.text, empty.confidence, empty.citations, empty.sentences) == ("", 0.0, [], [])
    hit = Hit(Passage(text="Die Sprechzeiten sind montags bis freitags von acht bis zwölf Uhr.", title="T",
                      source="t.md", citation="Sprechzeiten", id=1), 1.0)
    assert compose_extractive("Muss ich mein Auto verkaufen?", [hit]).text == ""


@needs_law
def test_near_duplicates_are_dropped(retriever):
    hits = retriever.search("Übernimmt das Jobcenter die Mietkaution?", "bund", limit=3)
    copy = Hit(replace(hits[0].passage, id=-1, citation="Kopie"), hits[0].score * 0.99)
    extract = compose_extractive("Übernimmt das Jobcenter die Mietkaution?", [hits[0], copy, *hits[1:]])
    texts = [s for s, _ in extract.sentences]
    assert len(texts) == len(set(texts))


@needs_law
def test_long_sentences_lose_trailing_semicolon_clauses_to_fit(retriever):
    question = "Übernimmt das Jobcenter die Mietkaution?"
    hits = retriever.search(question, "bund", limit=10)
    extract = compose_extractive(question, hits, max_sentences=1, max_chars=200)
    (sentence, index), = extract.sentences
    assert len(sentence) <= 200 and sentence.endswith(ELLIPSIS)
    assert squash(fragments(sentence)[-1]) + ";" in squash(extract.citations[index].passage.text)


@needs_law
def test_precomputed_and_own_query_terms_agree(retriever):
    question = "Ich bin krank, was muss ich tun?"
    hits, given = ask(retriever, question)
    assert compose_extractive(question, hits) == given
