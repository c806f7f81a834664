"""The grader on a small fixed sample of real questions (dev part only), through the whole Ask flow.

Current social law (searched lexically here, to keep the test short) and the starter pack (with its
vectors, as shipped), tenant musterkreis. The
sample is fixed, so the figures move only when the answering does; the full dev and holdout
figures come from benchmarks/answer_quality.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amtslotse.evaluation import answers as grader

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "real_questions"
SAMPLE = (
    # dev items only: answers the system gets right and two it gets wrong today, own-case
    # questions and emergencies (the full figures: benchmarks/answer_quality.py)
    "rq-022", "rq-025", "rq-026", "rq-031", "rq-033", "rq-037", "rq-038", "rq-049", "rq-050", "rq-073",
    "rq-010", "rq-011", "rq-059", "rq-060", "rq-061", "rq-085", "rq-116", "rq-179",
)

pytestmark = [pytest.mark.slow, pytest.mark.shared("eval/real_questions", "data/law/current")]


@pytest.fixture(scope="module")
def graded(shared_dir, tmp_path_factory):
    from amtslotse.knowledge.ingest import embed_missing, ingest_paths
    from amtslotse.knowledge.starter import load_starter
    from amtslotse.services import Services
    from amtslotse.settings import Settings

    dev = set(grader.load_split(DATA / "split.json", "dev"))
    assert set(SAMPLE) <= dev, "the sample must come from the dev part"
    settings = Settings(home=tmp_path_factory.mktemp("answers"), tenants_dir=None)
    with Services.open(settings) as services:
        load_starter(services.store, settings)
        if services.embedder:  # the starter pack's vectors; the law, ingested after, stays lexical here
            embed_missing(services.store, services.embedder, settings.embed_batch_size)
        ingest_paths([shared_dir / "data" / "law" / "current"], services.store, settings, tenant="bund")
        questions = grader.load_questions(shared_dir / "eval" / "real_questions" / "questions.jsonl", DATA / "key_points.jsonl", SAMPLE)
        yield grader.run(services.asker, questions, "musterkreis")


def test_shown_answers_are_mostly_right_and_never_cite_a_wrong_law(graded) -> None:
    summary = grader.summarize(graded)
    print(json.dumps({k: summary[k] for k in ("questions", "shown", "precision", "coverage", "verdicts")}))
    assert all(not g.cites_forbidden for g in graded if g.shown)
    assert summary["shown"] >= 8 and summary["precision"] >= 0.7


def test_own_case_questions_and_emergencies_take_their_path(graded) -> None:
    for g in graded:
        if g.expect in ("handover", "urgent"):
            assert g.verdict == "correct", (g.id, g.outcome)
