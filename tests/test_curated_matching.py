"""The shared curated answers, matched by meaning through the whole Ask flow (starter pack, the
default embedder, the shipped calibration): paraphrases written for this test get their answer,
and near misses (same keyword, other intent) never get the answer they only share a word with.

The sets (tests/data/curated/) were written for Amtslotse, never taken from the real-question
set; they are a development set: phrasings and the calibration may be tuned on them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amtslotse.ask.choose import CuratedMatch, search_ranks
from amtslotse.jsonl import read_jsonl_lines
from amtslotse.models import Passage

DATA = Path(__file__).resolve().parent / "data" / "curated"
TENANT = "musterkreis"

NEAR_MISS_MATCHED_AT_MOST = 0.03
"""Share of near misses that may still get the answer they must not get (measured 0 of 167 over the
benchmark store in session 9; 3 of 167 in session 8; 4 of 148 in session 7; the failure message lists them). A wrong answer shown is worse than none:
tight."""

PARAPHRASES_ANSWERED_AT_LEAST = 0.20
"""Share of paraphrases answered with their own curated answer (session 9: 74 of 301 over the
benchmark store and 75 here, after the threshold began to count questions without an answer, 0.719 -> 0.893;
session 8: 104 of 301, session 7: 92 of 259, 40 before). The rest is mostly an honest "unsure". A
floor against regressions, far from the goal."""

PARAPHRASES_SHOWN_OR_OFFERED_AT_LEAST = 0.50
"""Share of paraphrases whose own answer is shown or offered ("Meinten Sie vielleicht:", one click
away; session 9: 172 of 301 here, 171 over the benchmark store)."""

PARAPHRASE_WRONG_AT_MOST = 0.05
"""Share answered with another curated answer (measured 14 of 301 in session 8; 12 of 259 in
session 7; 4 before, when only 40 were answered at all)."""


def _match(ident: str, retrieved: float) -> CuratedMatch:
    passage = Passage("Antwort", "Antworten", "antworten.jsonl", ident, external_id=ident, meta={"kind": "curated"})
    return CuratedMatch(passage, similarity=0.8, phrasing=ident, covered=1.0, extra=0.0, retrieved=retrieved)


def test_the_search_rank_of_an_answer_is_a_feature_of_its_match():
    # The search's hits, best first: law (no id), then curated answers, one of them in two parts.
    found = [None, "umzug", "umzug", None, "kaution", "miete"]
    ranks = search_ranks(found)
    ranked = {ident: _match(ident, ranks.get(ident, 0.0)) for ident in ("umzug", "kaution", "miete", "nicht-gefunden")}
    assert {i: m.features()["retrieved"] for i, m in ranked.items()} == {
        "umzug": 1.0, "kaution": 0.5, "miete": pytest.approx(1 / 3), "nicht-gefunden": 0.0,
    }


def test_other_names_of_the_benefit_get_the_answer_written_with_the_new_name(app_server):
    # "Bürgergeld" and "Hartz IV" are embedded as "Grundsicherungsgeld", the name the answers use.
    asker = app_server.services.asker
    assert _shown_id(asker, "Wann wird das Bürgergeld normalerweise überwiesen?") == "auszahlungstermin"
    assert _shown_id(asker, "Hartz 4 beantragen, wie mache ich das?") == "antrag-stellen"


def _load(prefix: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(DATA.glob(f"{prefix}_*.jsonl")):
        rows += [row for _, row in read_jsonl_lines(path)]
    return rows


def _shown_id(asker, question: str) -> str | None:
    return _shown_and_offered(asker, question)[0]


def _shown_and_offered(asker, question: str) -> tuple[str | None, list[str]]:
    """The curated answer shown (or None), and the ids offered when unsure."""
    answer = asker.ask(question, TENANT)
    if answer.outcome == "answered" and answer.mode == "curated" and answer.chosen:
        return answer.chosen["curated_id"], []
    return None, [s["curated_id"] for s in answer.suggestions]


@pytest.mark.slow
def test_near_misses_do_not_get_the_answer_they_share_a_word_with(app_server):
    rows = _load("near_misses")
    assert len(rows) >= 100
    asker = app_server.services.asker
    matched = [(r["question"], r["must_not_match"]) for r in rows if _shown_id(asker, r["question"]) == r["must_not_match"]]
    share = len(matched) / len(rows)
    assert share <= NEAR_MISS_MATCHED_AT_MOST, f"{len(matched)} of {len(rows)} near misses matched: {matched}"


@pytest.mark.slow
def test_paraphrases_get_their_answer_and_rarely_another(app_server):
    rows = _load("paraphrases")
    assert len(rows) >= 200
    asker = app_server.services.asker
    asked = [(r, *_shown_and_offered(asker, r["question"])) for r in rows]
    shown = [(r, got) for r, got, _ in asked]
    right = sum(1 for r, got in shown if got == r["id"])
    offered = sum(1 for r, got, ids in asked if got is None and r["id"] in ids)
    wrong = [(r["question"], r["id"], got) for r, got in shown if got is not None and got != r["id"]]
    summary = f"{right} of {len(rows)} right, {offered} more offered, {len(wrong)} with another answer: {wrong[:20]}"
    assert right / len(rows) >= PARAPHRASES_ANSWERED_AT_LEAST, summary
    assert (right + offered) / len(rows) >= PARAPHRASES_SHOWN_OR_OFFERED_AT_LEAST, summary
    assert len(wrong) / len(rows) <= PARAPHRASE_WRONG_AT_MOST, summary
