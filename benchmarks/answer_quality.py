"""Answers to real questions, graded automatically (src/amtslotse/evaluation/answers.py).

    python benchmarks/answer_quality.py                 # dev and holdout, tenant musterkreis
    python benchmarks/answer_quality.py --part dev --show wrong   # read what the system says
    python benchmarks/answer_quality.py --out /tmp/graded.jsonl   # every verdict, one JSON per line

The questions are ../shared/eval/real_questions (226 real citizens' and FAQ questions), split once
into dev (tune on it) and holdout (report it, never tune on it): tests/data/real_questions/split.json;
the key-point matchers are tests/data/real_questions/key_points.jsonl. The store is current social
law plus the starter pack, kept in benchmarks/.home between runs.

The peer in the same run: bm25s over the same law passages, its best passage shown as the answer
(what a plain search box would give), graded the same way.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import CACHED_HOME, EVAL, Bm25sBaseline, require_shared, starter_services

from amtslotse.evaluation import answers as grader

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = EVAL / "real_questions" / "questions.jsonl"
SPLIT = ROOT / "tests" / "data" / "real_questions" / "split.json"
KEY_POINTS = ROOT / "tests" / "data" / "real_questions" / "key_points.jsonl"
HAND = ROOT / "tests" / "data" / "real_questions" / "hand_verdicts.jsonl"
FIGURES = ("precision", "wrong_shown", "coverage", "recall_at_5", "readable", "handover_recall",
           "emergency_recall", "out_of_scope_handled", "shown", "questions")


@dataclass
class PeerAnswer:
    """The bm25s peer's reply in the shape the grader reads."""

    answer: str
    citations: list[dict] = field(default_factory=list)
    outcome: str = "answered"
    mode: str = "extractive"
    handover: bool = False
    urgent: bool = False
    confidence: float = 0.0


def peer_graded(questions: list[grader.Question], passages) -> list[grader.Graded]:
    bm25 = Bm25sBaseline([f"{p.heading or ''} {p.text}" for p in passages])
    graded = []
    for q in questions:
        top = [passages[i] for i in bm25.search(q.question, 5)]
        cites = [{"source": p.source, "section": p.section, "citation": p.citation} for p in top]
        answer = PeerAnswer(top[0].text if top else "", cites[:1]) if top else PeerAnswer("", outcome="unsure")
        graded.append(grader.grade(q, answer, [(grader.law_key(c["source"]), c["section"] or "") for c in cites]))
    return graded


def table(rows: dict[str, dict]) -> str:
    names = list(rows)
    lines = [f"{'':<22}" + "".join(f"{n:>18}" for n in names)]
    for key in FIGURES:
        cells = []
        for n in names:
            v = rows[n].get(key)
            cells.append(f"{'-' if v is None else v:>18}")
        lines.append(f"{key:<22}" + "".join(cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["dev", "holdout", "both"], default="both")
    parser.add_argument("--tenant", default="musterkreis")
    parser.add_argument("--show", choices=["wrong", "unsure", "misrouted", "correct", "all"], help="print these answers")
    parser.add_argument("--out", type=Path, help="write every verdict as JSON Lines")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--home", type=Path, default=CACHED_HOME, help="the store's home, kept between runs")
    args = parser.parse_args()
    require_shared()
    parts = ["dev", "holdout"] if args.part == "both" else [args.part]
    hand = grader.load_hand_verdicts(HAND)
    with starter_services(home=args.home) as services:
        law = [] if args.no_peer else [
            p for d in services.store.documents("bund") if d.kind == "law"
            for p in services.store.document_passages("bund", d.source)
        ]
        out = open(args.out, "w", encoding="utf-8") if args.out else None
        for part in parts:
            questions = grader.load_questions(QUESTIONS, KEY_POINTS, grader.load_split(SPLIT, part))
            start = time.perf_counter()
            graded = grader.run(services.asker, questions, args.tenant)
            seconds = time.perf_counter() - start
            summary = grader.summarize(graded)
            rows = {"amtslotse": summary}
            if law:
                rows["bm25s top passage"] = grader.summarize(peer_graded(questions, law))
            print(f"\n== {part}: {len(questions)} questions, {seconds / len(questions) * 1000:.0f} ms per answer")
            print(table(rows))
            print("confusion (expect -> outcome):")
            for expect, outcomes in summary["confusion"].items():
                print(f"  {expect:<14} {outcomes}")
            print("by source kind:", {k: (v['precision'], v['coverage']) for k, v in summary["by_source_kind"].items()})
            print("by mode:", {k: (v['shown'], v['precision']) for k, v in summary["by_mode"].items()})
            print("by topic (shown, precision, coverage):")
            for topic, f in summary["by_topic"].items():
                print(f"  {topic:<20} {f['questions']:>3} {f['shown']:>3} {f['precision']!s:>6} {f['coverage']!s:>6}")
            check = grader.hand_check(graded, hand)
            if check["graded_by_hand"]:
                print("graded by hand (dev answers read by the team):", check)
            for g in graded:
                if out:
                    out.write(json.dumps({"part": part} | g.to_dict(), ensure_ascii=False) + "\n")
                if args.show and (args.show == "all" or g.verdict == args.show):
                    print(f"\n[{g.id} {g.verdict} expect={g.expect} outcome={g.outcome} mode={g.mode} conf={g.confidence}]"
                          f" {g.question}\n  cited={g.cited} kp={g.key_points}\n  > " + g.answer[:600].replace("\n", "\n  > "))
        if out:
            out.close()


if __name__ == "__main__":
    main()
