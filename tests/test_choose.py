"""Curated answers are matched by the meaning of the whole question (ask/choose.py), with the
embedder the search uses: the right answer ranks first for a paraphrase, a question that shares
only a keyword ranks the other answer first, and a translated question finds the German answer."""

from __future__ import annotations

import json
from datetime import date

import pytest

from amtslotse.ask.choose import CuratedIndex
from amtslotse.knowledge.ingest import ingest_paths
from amtslotse.search.embedders import get_embedder
from amtslotse.settings import Settings
from amtslotse.text.names import canonical_names

ITEMS = [
    {"id": "name", "question": "Wie heißt das Bürgergeld jetzt?", "alternatives": ["Neuer Name für Bürgergeld", "Heißt Bürgergeld jetzt anders?"],
     "answer": "Seit dem 1. Juli 2026 heißt die Leistung Grundsicherungsgeld.", "sources": [{"citation": "§ 19 SGB II"}],
     "translations": {"en": {"question": "What is the Bürgergeld called now?", "answer": "Since 1 July 2026 it is called Grundsicherungsgeld."}}},
    {"id": "anspruch", "question": "Wer bekommt Grundsicherungsgeld?", "alternatives": ["Wer hat Anspruch auf Bürgergeld?", "Habe ich Anspruch auf Hartz IV?"],
     "answer": "Grundsicherungsgeld bekommen erwerbsfähige Menschen ab 15 Jahren, die hilfebedürftig sind.", "sources": [{"citation": "§ 7 SGB II"}]},
    {"id": "auto", "question": "Muss ich mein Auto verkaufen?", "alternatives": ["Darf ich mein Auto behalten?", "Zählt mein Auto als Vermögen?"],
     "answer": "Nein, ein angemessenes Auto je erwerbsfähiger Person bleibt unberücksichtigt.", "sources": [{"citation": "§ 12 SGB II"}]},
]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from amtslotse.store.sqlite import SqliteStore

    tmp = tmp_path_factory.mktemp("choose")
    path = tmp / "curated.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in ITEMS) + "\n", encoding="utf-8")
    store = SqliteStore(tmp / "db.sqlite3")
    ingest_paths([path], store, Settings(home=tmp, embedder="none"), tenant="musterkreis", workers=0)
    embedder = get_embedder(Settings(home=tmp).embedder)
    yield CuratedIndex(store, embedder), embedder
    store.close()


def best(index, question: str) -> str:
    curated, embedder = index
    # The question's vector as the Ask flow computes it (Retriever.query_vector): one name for the benefit.
    matches = curated.match(question, embedder.embed_query(canonical_names(question)), "musterkreis", date(2026, 12, 1))
    return matches[0].passage.external_id


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hab ich als Arbeitsloser ein Recht auf Bürgergeld?", "anspruch"),
        ("Was ist der neue Name vom Bürgergeld?", "name"),
        ("Kann ich meinen Wagen behalten, wenn ich Grundsicherungsgeld beantrage?", "auto"),
        ("Do I have to sell my car?", "auto"),
        ("What is the new name of Bürgergeld?", "name"),
    ],
)
def test_the_intent_decides_not_a_shared_keyword(index, question, expected) -> None:
    assert best(index, question) == expected


def test_phrasing_vectors_are_cached_in_the_store(index) -> None:
    curated, embedder = index
    # Cached under the text as embedded, with one name for the benefit (text/names.py).
    keys = [curated._key(text) for text in ["Wie heißt das Grundsicherungsgeld jetzt?", "What is the Grundsicherungsgeld called now?"]]
    assert set(curated.store.get_vectors(embedder.name, keys)) == set(keys)


def test_a_tenants_own_answer_replaces_the_shared_one_of_the_same_id(tmp_path) -> None:
    from amtslotse.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "db.sqlite3")
    settings = Settings(home=tmp_path, embedder="none")
    for tenant, answer in (("bund", "Allgemeine Antwort."), ("musterkreis", "Unsere eigene Antwort.")):
        path = tmp_path / tenant / "antworten.jsonl"
        path.parent.mkdir()
        path.write_text(json.dumps({"id": "auto", "question": "Muss ich mein Auto verkaufen?", "answer": answer}) + "\n", encoding="utf-8")
        ingest_paths([path], store, settings, tenant=tenant, workers=0)
    index = CuratedIndex(store, None)
    assert [m.passage.text for m in index.match("Auto verkaufen?", None, "musterkreis", date(2026, 12, 1))] == ["Unsere eigene Antwort."]
    assert [m.passage.text for m in index.match("Auto verkaufen?", None, "nordkreis", date(2026, 12, 1))] == ["Allgemeine Antwort."]
    store.close()


def test_an_answer_left_out_is_neither_matched_nor_the_measure_of_the_margin(index) -> None:
    """Scope (`keep`) and `exclude` act before the margin is measured: the margin of the best
    answer left is to the next answer that could have been shown, not to one that could not
    (before, an answer out of scope ranked first left the next one with margin 0)."""
    curated, embedder = index
    question = "Muss ich mein Auto verkaufen, wenn ich Bürgergeld bekomme?"
    vector = embedder.embed_query(canonical_names(question))
    day = date(2026, 12, 1)
    every = curated.match(question, vector, "musterkreis", day)
    assert [m.passage.external_id for m in every][0] == "auto"
    rest = every[1:]
    for left in (curated.match(question, vector, "musterkreis", day, exclude={"auto"}),
                 curated.match(question, vector, "musterkreis", day, keep=lambda p: p.external_id != "auto")):
        assert [m.passage.external_id for m in left] == [m.passage.external_id for m in rest]
        assert left[0].margin == pytest.approx(rest[0].score - rest[1].score)
        assert left[0].margin > 0


def test_the_searchs_rank_of_an_answer_counts_in_its_match_score(index) -> None:
    """Where the search ranked an answer (by its whole text) adds to the score its phrasings got:
    two independent ways agreeing put the right answer first more often (RETRIEVED_WEIGHT)."""
    from amtslotse.ask.choose import RETRIEVED_WEIGHT

    curated, embedder = index
    question = "Muss ich mein Auto verkaufen, wenn ich Bürgergeld bekomme?"
    vector = embedder.embed_query(canonical_names(question))
    day = date(2026, 12, 1)
    alone = {m.passage.external_id: m for m in curated.match(question, vector, "musterkreis", day)}
    second = list(alone)[1]
    agreed = {m.passage.external_id: m for m in curated.match(question, vector, "musterkreis", day, found=[None, second, "auto", second])}
    assert agreed[second].retrieved == 1.0 and agreed["auto"].retrieved == 0.5
    assert all(m.retrieved == 0.0 for i, m in agreed.items() if i not in {second, "auto"})
    assert agreed[second].score == pytest.approx(alone[second].score + RETRIEVED_WEIGHT)


def test_a_question_asked_word_for_word_as_a_phrasing_gets_its_answer_whatever_the_calibration(tmp_path) -> None:
    """An editor who adds a citizen's wording as a phrasing (the gap list's one step) makes it
    live at once: asked word for word (case, punctuation and spacing aside) it gets that answer,
    even where the calibration would show nothing; any other wording is up to the calibration."""
    from amtslotse.ask.calibration import Calibration
    from amtslotse.services import Services

    path = tmp_path / "curated.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in ITEMS) + "\n", encoding="utf-8")
    settings = Settings(home=tmp_path, embedder="none", tenants_dir=None)
    with Services.open(settings) as services:
        ingest_paths([path], services.store, settings, tenant="musterkreis", workers=0)
        never = {"weights": {}, "bias": -30.0, "threshold": 1.0}
        services.asker.calibration = Calibration({"curated": never, "extractive": never})
        asked = services.asker.ask("zählt  mein Auto als Vermögen", "musterkreis")
        assert asked.mode == "curated" and asked.chosen["curated_id"] == "auto"
        assert services.asker.ask("Zählt mein Wagen als Vermögen?", "musterkreis").mode != "curated"


def test_an_ambiguous_benefit_word_gets_a_line_saying_which_benefit_the_answer_explains(tmp_path) -> None:
    """"Grundsicherung" alone may mean the Jobcenter's Grundsicherungsgeld or the Grundsicherung
    im Alter (SGB XII): the answer says which one it explains; "Grundsicherungsgeld" is clear."""
    from amtslotse.ask.texts import SCOPE_NOTES
    from amtslotse.services import Services

    item = {"id": "antrag", "question": "Wie beantrage ich Grundsicherungsgeld?", "alternatives": ["Wie beantrage ich Grundsicherung?"],
            "answer": "Stellen Sie den Antrag beim Jobcenter.",
            "sources": [{"citation": "§ 37 SGB II", "source": "SGB_2-BJNR295500003.md", "section": "§ 37"}]}
    path = tmp_path / "curated.jsonl"
    path.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    settings = Settings(home=tmp_path, embedder="none", tenants_dir=None)
    with Services.open(settings) as services:
        ingest_paths([path], services.store, settings, tenant="musterkreis", workers=0)
        ambiguous = services.asker.ask("Wie beantrage ich Grundsicherung?", "musterkreis")
        clear = services.asker.ask("Wie beantrage ich Grundsicherungsgeld?", "musterkreis")
    assert ambiguous.mode == clear.mode == "curated"
    assert f"{SCOPE_NOTES['SGB_2']}\n\nStellen Sie" in ambiguous.answer and SCOPE_NOTES["SGB_2"] not in clear.answer


def test_unsure_offers_the_nearest_questions_and_they_count_as_grounded(tmp_path) -> None:
    """Not sure enough to show (threshold 1), close enough to offer (p 0.5 >= SUGGEST_AT_LEAST): the
    questions are offered, in the text too; the grounding check accepts them as the curated
    answers' own questions, and nothing else written there."""
    from amtslotse.ask.calibration import Calibration
    from amtslotse.evaluation.grounding import leftover
    from amtslotse.services import Services

    path = tmp_path / "curated.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in ITEMS) + "\n", encoding="utf-8")
    settings = Settings(home=tmp_path, embedder="none", tenants_dir=None)
    with Services.open(settings) as services:
        ingest_paths([path], services.store, settings, tenant="musterkreis", workers=0)
        maybe = {"weights": {}, "bias": 0.0, "threshold": 1.0}
        services.asker.calibration = Calibration({"curated": maybe, "extractive": maybe})
        asked = services.asker.ask("Kann ich meinen Wagen behalten, wenn ich Geld vom Amt bekomme?", "musterkreis", first_turn=False)
        assert asked.outcome == "unsure" and asked.suggestions[0] == {"curated_id": "auto", "question": "Muss ich mein Auto verkaufen?"}
        assert "Meinten Sie vielleicht:\n- Muss ich mein Auto verkaufen?" in asked.answer
        assert leftover(asked, services.store, "musterkreis") == []
        asked.answer = asked.answer.replace("- Muss ich mein Auto verkaufen?", "- Verkaufen Sie das Auto sofort!")
        asked.suggestions[0]["question"] = "Verkaufen Sie das Auto sofort!"
        assert leftover(asked, services.store, "musterkreis") == ["- Verkaufen Sie das Auto sofort!"]
