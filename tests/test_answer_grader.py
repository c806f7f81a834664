"""The answer grader (evaluation/answers.py): its verdicts on answers made for the purpose."""

from __future__ import annotations

import json

import pytest

from amtslotse.ask import texts
from amtslotse.ask.pipeline import Answer
from amtslotse.evaluation import answers as grader

SGB2 = "SGB_2-BJNR295500003.md"
SGB12 = "SGB_12-BJNR302300003.md"


def question(**kw) -> grader.Question:
    base = dict(
        id="q1", question="Wie viel darf ich dazuverdienen?", expect="answer", gold=[("SGB_2", "§ 11b")],
        key_points=[grader.KeyPoint("Grundfreibetrag 100 Euro", [["100 euro"], ["frei", "absetz"]])],
        must_not_cite=["SGB_12"],
    )
    return grader.Question(**(base | kw))


def answer(text: str, cites: list[tuple[str, str]], **kw) -> Answer:
    citations = [{"source": s, "section": sec, "citation": f"{sec}"} for s, sec in cites]
    return Answer(answer=f"{texts.AI_NOTICE}\n\n{text}\n\n{texts.SOURCES_NOTE}:\n[1] x", citations=citations, **kw)


def test_a_right_answer_with_the_gold_section_is_correct() -> None:
    g = grader.grade(question(), answer("Die ersten 100 € bleiben anrechnungsfrei.", [(SGB2, "§ 11b")], mode="curated"))
    assert (g.verdict, g.shown, g.cites_gold, g.key_points, g.readable) == ("correct", True, True, [True], True)


def test_a_forbidden_law_or_a_missing_key_point_makes_a_shown_answer_wrong() -> None:
    wrong_law = grader.grade(question(), answer("Die ersten 100 € bleiben frei.", [(SGB2, "§ 11b"), (SGB12, "§ 82")]))
    assert wrong_law.verdict == "wrong" and wrong_law.cites_forbidden == ["SGB_12"]
    no_point = grader.grade(question(), answer("Einkommen wird angerechnet.", [(SGB2, "§ 11b")]))
    assert no_point.verdict == "wrong" and no_point.key_points == [False]
    other_section = grader.grade(question(), answer("Die ersten 100 € bleiben frei.", [(SGB2, "§ 11")]))
    assert other_section.verdict == "wrong"


def test_an_honest_handover_is_unsure_not_wrong() -> None:
    g = grader.grade(question(), Answer(answer=texts.UNSURE, outcome="unsure", handover=True))
    assert (g.verdict, g.shown) == ("unsure", False)


def test_expected_behaviours_other_than_an_answer() -> None:
    own_case = question(expect="handover", gold=[], key_points=[])
    assert grader.grade(own_case, Answer(answer="", outcome="handover", handover=True)).verdict == "correct"
    assert grader.grade(own_case, answer("Die ersten 100 € bleiben frei.", [(SGB2, "§ 11b")])).verdict == "wrong"
    urgent = question(expect="urgent", gold=[], key_points=[])
    assert grader.grade(urgent, Answer(answer="", outcome="urgent", urgent=True, handover=True)).verdict == "correct"
    assert grader.grade(urgent, Answer(answer=texts.UNSURE, outcome="unsure")).verdict == "misrouted"
    other = question(expect="out_of_scope", gold=[], key_points=[])
    assert grader.grade(other, Answer(answer="", outcome="authority")).verdict == "correct"


def test_law_fragments_are_not_readable() -> None:
    g = grader.grade(question(), answer("Die ersten 100 € bleiben frei; § 11a Absatz 2 Satz 2 bleibt unberührt.", [(SGB2, "§ 11b")]))
    assert g.readable is False


@pytest.mark.parametrize(
    ("point", "text", "conveyed"),
    [
        ("Antrag wirkt auf den Monatsersten zurück", "Der Antrag wirkt auf den Ersten des Monats zurück.", True),
        ("Antrag wirkt auf den Monatsersten zurück", "Stellen Sie den Antrag beim Jobcenter.", False),
        ("Regelbedarf 563 Euro", "Der Regelbedarf beträgt 563 € im Monat.", True),
        ("Regelbedarf 563 Euro", "Der Regelbedarf beträgt 506 € im Monat.", False),
    ],
)
def test_key_points_without_a_matcher_need_their_numbers_and_most_words(point, text, conveyed) -> None:
    assert grader.KeyPoint(point).conveyed(text) is conveyed


def test_summary_counts_precision_over_shown_and_coverage_over_answerable() -> None:
    q = question()
    rows = [
        grader.grade(q, answer("Die ersten 100 € bleiben frei.", [(SGB2, "§ 11b")])),
        grader.grade(q, answer("Einkommen wird angerechnet.", [(SGB2, "§ 11b")])),
        grader.grade(q, Answer(answer=texts.UNSURE, outcome="unsure")),
    ]
    s = grader.summarize(rows)
    assert (s["shown"], s["precision"], s["coverage"]) == (2, 0.5, 0.333)
    assert s["confusion"] == {"answer": {"answered": 2, "unsure": 1}}


def test_questions_split_and_matchers_are_read(tmp_path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "question": "Frage A?", "gold": [{"law": "SGB_2", "section": "§ 22"}], "key_points": ["Miete"]},
        {"id": "b", "question": "Frage B?", "expect": "handover"},
    ]) + "\n", encoding="utf-8")
    points = tmp_path / "kp.jsonl"
    points.write_text(json.dumps({"id": "a", "key_points": [{"text": "Miete", "all": [["miete", "unterkunft"]]}]}) + "\n", encoding="utf-8")
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"dev": ["a"], "holdout": ["b"]}), encoding="utf-8")
    [a] = grader.load_questions(path, points, grader.load_split(split, "dev"))
    assert a.gold == [("SGB_2", "§ 22")] and a.key_points[0].groups == [["miete", "unterkunft"]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "question": "?", "expect": "maybe"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expect"):
        grader.load_questions(bad)
