"""Figures of the screening (the guard's rules with the intent model beside them).

    python -m amtslotse.screening.evaluate            # held-out set and real-question dev items

1. `tests/data/intents_holdout.jsonl`: messages written after the training set was frozen
   (lines {"id", "text", "label", "language", "authority"?}). Per language: recall of urgent
   messages (and of their kind), of own-case questions (handover), of questions for another
   authority (and of the right authority), and the share of answerable questions that get
   flagged as anything. Three columns: rules alone, model alone, both (what the guard does).
2. The real-question evaluation set beside the checkout (`../shared/eval/real_questions`), DEV
   items only (`tests/data/real_questions/split.json`; the holdout items are never read):
   recall of `expect` handover / urgent / out_of_scope (for out_of_scope: "authority" or
   "refuse") and the share of `expect: answer` flagged as anything.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from amtslotse.screening import guard
from amtslotse.screening.model import URGENT_KINDS, default_model

ROOT = Path(__file__).resolve().parents[3]
HOLDOUT = ROOT / "tests" / "data" / "intents_holdout.jsonl"
SPLIT = ROOT / "tests" / "data" / "real_questions" / "split.json"
REAL_QUESTIONS = ROOT.parent / "shared" / "eval" / "real_questions" / "questions.jsonl"
EXPECTED_OUTCOME = {"answer": "answer", "own_case": "handover", "authority": "authority", **dict.fromkeys(URGENT_KINDS, "urgent")}


def read_holdout(path: Path = HOLDOUT) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def read_dev_questions(questions: Path = REAL_QUESTIONS, split: Path = SPLIT) -> list[dict]:
    """The DEV items of the real-question set (never the holdout ones)."""
    dev = set(json.loads(split.read_text("utf-8"))["dev"])
    rows = (json.loads(line) for line in questions.read_text("utf-8").splitlines() if line.strip())
    return [r for r in rows if r["id"] in dev]


@contextmanager
def _mode(mode: str):
    """"both": the guard as shipped; "rules": without the model; "model": the model alone."""
    original = guard._screening_scores
    if mode == "rules":
        guard._screening_scores = lambda text, language: None
    try:
        yield
    finally:
        guard._screening_scores = original


def model_verdict(text: str) -> tuple[str, str | None]:
    """(outcome, urgent kind) from the model alone, with the guard's thresholds."""
    scores = default_model().scores(text)
    if scores.urgent_kind:
        return "urgent", scores.urgent_kind
    if scores.own_case:
        return "handover", None
    return ("authority" if scores.best == "authority" else "answer"), None


def verdict(text: str, mode: str) -> tuple[str, str | None, str | None]:
    """(outcome, urgent kind, authority) of one message in a mode."""
    if mode == "model":
        return (*model_verdict(text), None)
    with _mode(mode):
        v = guard.check(text)
    return v.outcome, v.urgent, v.authority


def holdout_figures(rows: list[dict], mode: str) -> dict[str, dict[str, tuple[int, int]]]:
    """language ("all" too) -> figure -> (hits, total)."""
    figures: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in rows:
        outcome, kind, authority = verdict(row["text"], mode)
        label = row["label"]
        for language in (row["language"], "all"):
            f = figures[language]
            if label == "answer":
                f["answer flagged"][0] += outcome != "answer"
                f["answer flagged"][1] += 1
            elif label in URGENT_KINDS:
                f["urgent recall"][0] += outcome == "urgent"
                f["urgent recall"][1] += 1
                f["urgent kind"][0] += outcome == "urgent" and kind == label
                f["urgent kind"][1] += 1
            elif label == "own_case":
                f["own-case recall"][0] += outcome == "handover"
                f["own-case recall"][1] += 1
            elif label == "authority":
                f["authority recall"][0] += outcome == "authority"
                f["authority recall"][1] += 1
                if mode != "model":
                    f["authority key"][0] += authority == row.get("authority")
                    f["authority key"][1] += 1
    return {lang: {name: (hits, total) for name, (hits, total) in f.items()} for lang, f in figures.items()}


def dev_figures(rows: list[dict], mode: str) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """expect -> (hits, total) on the real-question dev items, and the misses."""
    wanted: dict[str, tuple[str, ...]] = {"handover": ("handover",), "urgent": ("urgent",),
                                          "out_of_scope": ("authority", "refuse")}
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for row in rows:
        outcome = verdict(row["question"], mode)[0]
        expect = row["expect"]
        if expect == "answer":
            hit = outcome != "answer"
            name = "answer flagged"
        else:
            hit = outcome in wanted[expect]
            name = f"{expect} recall"
        counts[name][0] += hit
        counts[name][1] += 1
        if hit == (expect == "answer"):
            misses.append(f"{row['id']} expect {expect}, got {outcome}")
    return {name: (h, t) for name, (h, t) in counts.items()}, misses


def _cell(value: tuple[int, int] | None) -> str:
    if not value or not value[1]:
        return "-"
    hits, total = value
    return f"{hits}/{total} {hits / total:.0%}"


def main(out: Callable[[str], None] = print) -> None:
    modes = ("rules", "model", "both")
    rows = read_holdout()
    tables = {mode: holdout_figures(rows, mode) for mode in modes}
    out(f"held-out set ({HOLDOUT.name}, {len(rows)} messages): rules | model | both")
    for language in ["all", *sorted({r["language"] for r in rows})]:
        out(f"  [{language}]")
        names = sorted({n for m in modes for n in tables[m].get(language, {})})
        for name in names:
            out(f"    {name:<17}" + "".join(f"{_cell(tables[m][language].get(name)):>16}" for m in modes))
    if not (REAL_QUESTIONS.is_file() and SPLIT.is_file()):
        out(f"real questions: {REAL_QUESTIONS} not found, skipped")
        return
    dev = read_dev_questions()
    out(f"real-question DEV items ({len(dev)}): rules | model | both")
    results = {mode: dev_figures(dev, mode) for mode in modes}
    for name in sorted(results["both"][0]):
        out(f"    {name:<22}" + "".join(f"{_cell(results[m][0].get(name)):>16}" for m in modes))
    for miss in results["both"][1]:
        out(f"    miss (both): {miss}")


if __name__ == "__main__":
    main()
    sys.exit(0)
