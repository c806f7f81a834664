"""German analysis of the lexical search: stopwords, stems, compounds, how a query is
expanded (domain vocabulary, general thesaurus: search/thesaurus.py), and how much of a
question a passage covers (which sets the lexical share of the hybrid score)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from amtslotse.knowledge.ingest import ingest_paths
from amtslotse.models import Passage
from amtslotse.search import analysis, hybrid, thesaurus
from amtslotse.search.hybrid import Retriever
from amtslotse.settings import Settings
from amtslotse.store.sqlite import SqliteStore


def test_question_words_are_not_search_terms():
    assert analysis.tokens("Wann wurde das Haus gebaut?") == ["haus", "gebaut"]


def test_umlaut_forms_share_a_stem():
    assert analysis.stem("städten") == analysis.stem("stadte") == "stadt"


def test_compounds_are_split_but_particle_words_are_not():
    assert analysis.split_compound("heizkostenabrechnung") == ("heiz", "kosten", "abrechnung")
    assert analysis.split_compound("widerspruch") == ()  # "wider" is a particle, not a part


def test_a_synonym_is_added_with_a_lower_weight():
    added = thesaurus.expand({"auto": 1.0})
    assert added["pkw"] == thesaurus.SYNONYM_WEIGHT
    assert "auto" not in added


def test_a_synonym_of_a_compound_part_weighs_as_little_as_the_part():
    assert thesaurus.expand({"auto": analysis.PART_WEIGHT})["pkw"] == thesaurus.SYNONYM_WEIGHT * analysis.PART_WEIGHT


def test_only_unambiguous_words_are_expanded():
    senses = thesaurus.synsets()[1]
    assert len(senses["grund"]) > 1  # Ursache, Boden, gründen, ...
    assert thesaurus.expand({"grund": 1.0}) == {}


def test_a_word_the_query_has_is_not_added_again():
    assert "pkw" not in thesaurus.expand({"auto": 1.0, "pkw": 1.0})


def test_a_query_gets_a_bounded_number_of_synonyms():
    many = {term: 1.0 for term in ("auto", "arzt", "krankenhaus", "fahrrad")}  # 6-7 synonyms each
    added = thesaurus.expand(many)
    assert len(added) == thesaurus.MAX_ADDED
    assert "pkw" in added and "velo" not in added  # in the order of the query's words


def test_the_bundled_synonym_file_holds_single_word_sets_and_its_licence():
    text = resources.files("amtslotse").joinpath("data", "lexicon", "de_synonyms.txt").read_text("utf-8")
    assert "GNU Lesser General Public License" in text and "openthesaurus.de" in text
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(lines) > 20_000
    for line in lines:
        words = line.split(";")
        assert len(words) >= 2 and all(w.isalpha() for w in words), line


def test_query_terms_expand_from_the_written_words_only(tmp_path):
    terms = Retriever(None, None, Settings(home=tmp_path)).query_terms("Wann muss ich zum Arzt?", "bund")
    assert terms["arzt"] == 1.0
    assert terms["doktor"] == thesaurus.SYNONYM_WEIGHT


def test_a_passage_in_other_words_is_found_through_a_synonym(tmp_path):
    records = tmp_path / "seiten.jsonl"
    rows = [  # equally long; on equal scores the first would rank first
        {"id": "kasse", "title": "Kasse", "text": "Die Kasse hat mittwochs Sprechstunde."},
        {"id": "praxis", "title": "Praxis", "text": "Der Doktor hat mittwochs Sprechstunde."},
    ]
    records.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    settings = Settings(home=tmp_path, embedder="none")
    store = SqliteStore(tmp_path / "suche.db")
    try:
        ingest_paths([records], store, settings, tenant="bund")
        hits = Retriever(store, None, settings).search("Wann hat der Arzt Sprechstunde?", "bund", limit=2)
    finally:
        store.close()
    assert [h.passage.external_id for h in hits] == ["praxis", "kasse"]


def test_a_vocabulary_entry_of_several_words_needs_all_of_them(tmp_path):
    folder = tmp_path / "vokabular"
    folder.mkdir()
    (folder / "nordkreis.tsv").write_text("kalte bude\tFrostschutz\nbude\tQuartier\n", encoding="utf-8")
    retriever = Retriever(None, None, Settings(home=tmp_path, vocabulary_dir=folder))
    both = retriever.query_terms("Meine Bude ist kalt", "nordkreis")
    assert "frostschutz" in both and "quarti" in both  # analyzed stems
    one = retriever.query_terms("Meine Bude ist teuer", "nordkreis")
    assert "frostschutz" not in one and "quarti" in one


def _coverage(question: str, text: str, tmp_path) -> float:
    retriever = Retriever(None, None, Settings(home=tmp_path))
    passage = Passage(text=text, title="Merkblatt", source="merkblatt.md", citation="Merkblatt")
    query_ids = analysis.hashed(retriever.query_terms(question, "bund"))
    return hybrid.coverage(analysis.weighted_terms(question), query_ids, passage)


def test_coverage_is_the_share_of_the_question_a_passage_holds(tmp_path):
    assert _coverage("Muss ich mein Auto verkaufen?", "Sie müssen Ihr Auto nicht verkaufen.", tmp_path) == 1.0
    assert _coverage("Muss ich mein Auto verkaufen?", "Die Sprechstunde ist mittwochs.", tmp_path) == 0.0
    # "Auto", one of the two words asked for, and its synonym "Pkw" at the synonym's weight:
    partly = _coverage("Muss ich mein Auto verkaufen?", "Ein Auto ist ein Pkw.", tmp_path)
    assert partly == pytest.approx((1.0 + thesaurus.SYNONYM_WEIGHT) / 2)


def test_the_lexical_share_follows_coverage_within_bounds():
    weight = 0.75
    assert hybrid.adapted_weight(weight, hybrid.TYPICAL_COVERAGE) == weight
    low, high = hybrid.adapted_weight(weight, 0.0), hybrid.adapted_weight(weight, 1.0)
    assert 0.0 < low < weight < high <= 1.0
    assert hybrid.adapted_weight(0.98, 1.0) == 1.0
    # Configured as lexical only or dense only: no coverage changes that.
    assert hybrid.adapted_weight(1.0, 0.0) == 1.0 and hybrid.adapted_weight(0.0, 1.0) == 0.0
