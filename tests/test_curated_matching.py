"""The shared curated answers, matched by meaning through the whole Ask flow (starter pack, the
default embedder, the shipped calibration): paraphrases written for this test get their answer,
and near misses (same keyword, other intent) never get the answer they only share a word with.

The sets (tests/data/curated/) were written for Amtslotse, never taken from the real-question
set; they are a development set: phrasings and the calibration may be tuned on them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amtslotse.jsonl import read_jsonl_lines

DATA = Path(__file__).resolve().parent / "data" / "curated"
TENANT = "musterkreis"

NEAR_MISS_MATCHED_AT_MOST = 0.03
"""Share of near misses that may still get the answer they must not get (measured 3 of 148 on
2026-12-07; the failure message lists them). A wrong answer shown is worse than none: tight."""

PARAPHRASES_ANSWERED_AT_LEAST = 0.14
"""Share of paraphrases answered with their own curated answer (measured 40 of 259 on
2026-12-07, with the calibration trained on hand-graded dev answers: it shows fewer answers and
fewer wrong ones than the one before, which answered 64 and 9 wrong). The rest is mostly an honest
"unsure". A floor against regressions, far from the goal."""

PARAPHRASE_WRONG_AT_MOST = 0.05
"""Share answered with another curated answer (measured 4 of 259; 9 with the calibration before)."""


def _load(prefix: str) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(DATA.glob(f"{prefix}_*.jsonl")):
        rows += [row for _, row in read_jsonl_lines(path)]
    return rows


def _shown_id(asker, question: str) -> str | None:
    answer = asker.ask(question, TENANT)
    if answer.outcome == "answered" and answer.mode == "curated" and answer.chosen:
        return answer.chosen["curated_id"]
    return None


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
    shown = [(r, _shown_id(asker, r["question"])) for r in rows]
    right = sum(1 for r, got in shown if got == r["id"])
    wrong = [(r["question"], r["id"], got) for r, got in shown if got is not None and got != r["id"]]
    summary = f"{right} of {len(rows)} right, {len(wrong)} with another answer: {wrong[:20]}"
    assert right / len(rows) >= PARAPHRASES_ANSWERED_AT_LEAST, summary
    assert len(wrong) / len(rows) <= PARAPHRASE_WRONG_AT_MOST, summary
