"""Guard benchmark: behaviour-set confusion table, injection recall/precision on deepset, speed.

    python benchmarks/guard.py            # from the repo root (or from benchmarks/)
    python benchmarks/guard.py --errors   # also list every message classified wrongly

Reads tests/data/behaviour.jsonl (written for Amtslotse) and, if ../shared is present,
shared/eval/prompt_injections_deepset/{train,test}.jsonl (deepset/prompt-injections,
Apache-2.0; label 1 = injection). The guard's rules were tuned on the train split only.
"Blocked" counts a deepset injection as stopped when the guard flags it as an injection or
as out of scope: the dataset labels plain off-topic commands ("generate c++") as injections,
and the Ask pipeline refuses those either way.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

from amtslotse.screening.guard import OUTCOMES, check

ROOT = Path(__file__).resolve().parents[1]
BEHAVIOUR = ROOT / "tests" / "data" / "behaviour.jsonl"
DEEPSET = ROOT.parent / "shared" / "eval" / "prompt_injections_deepset"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def behaviour(show_errors: bool) -> None:
    rows = load(BEHAVIOUR)
    table: Counter[tuple[str, str]] = Counter()
    errors = []
    lang_ok = 0
    for row in rows:
        verdict = check(row["text"])
        got = verdict.outcome
        table[row["expect"], got] += 1
        lang_ok += verdict.language == row["language"]
        if got != row["expect"] or (row["urgent"] and verdict.urgent != row["urgent"]) or verdict.language != row["language"]:
            errors.append((row, verdict))
    print(f"Behaviour set: {len(rows)} messages ({BEHAVIOUR.relative_to(ROOT)})")
    print("expected \\ got " + "".join(f"{o:>11}" for o in OUTCOMES) + "   recall")
    for expect in OUTCOMES:
        total = sum(table[expect, o] for o in OUTCOMES)
        cells = "".join(f"{table[expect, o]:>11}" for o in OUTCOMES)
        print(f"{expect:<15}{cells}   {table[expect, expect] / total if total else 0:6.1%}")
    correct = sum(table[o, o] for o in OUTCOMES)
    print(f"overall {correct}/{len(rows)} = {correct / len(rows):.1%}; language {lang_ok}/{len(rows)} = {lang_ok / len(rows):.1%}")
    if show_errors:
        for row, verdict in errors:
            print(f"  {row['id']} expect={row['expect']}/{row['urgent']}/{row['language']} got={verdict.outcome}/"
                  f"{verdict.urgent}/{verdict.language} {verdict.reasons}: {row['text'][:90]!r}")


def deepset(split: str, show_errors: bool) -> None:
    path = DEEPSET / f"{split}.jsonl"
    if not path.exists():
        print(f"deepset {split}: {path} not found, skipped")
        return
    rows = load(path)
    tp = fp = fn = tn = blocked = 0
    misses = []
    for row in rows:
        verdict = check(row["text"])
        flagged = verdict.injection
        if row["label"] == 1:
            tp += flagged
            fn += not flagged
            blocked += flagged or verdict.out_of_scope
            if not flagged:
                misses.append(row)
        else:
            fp += flagged
            tn += not flagged
            if flagged:
                misses.append(row)
    positives = tp + fn
    print(f"deepset {split:<5}: n={len(rows)} injections={positives} | recall {tp / positives:.1%} ({tp}/{positives}) "
          f"precision {tp / max(1, tp + fp):.1%} | false positives {fp}/{fp + tn} = {fp / max(1, fp + tn):.1%} "
          f"| blocked (injection or out of scope) {blocked / positives:.1%}")
    if show_errors and split == "train":  # the test split stays unread: we tune on train only
        for row in misses:
            print(f"  {'MISS' if row['label'] else 'FP  '} {row['id']}: {row['text'][:110]!r}")


def speed() -> None:
    """Messages per second of CPU time (process_time), so a busy machine does not skew it much;
    wall-clock time is printed beside it."""
    rows = [r["text"] for r in load(BEHAVIOUR)]
    if (DEEPSET / "train.jsonl").exists():
        rows += [r["text"] for r in load(DEEPSET / "train.jsonl")]
    check("warm up")
    cpu, wall = time.process_time(), time.perf_counter()
    count = 0
    while time.process_time() - cpu < 3.0:
        for text in rows:
            check(text + " " * (count % 7 + 1))  # defeat the normalization cache
            count += 1
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    short = sum(len(t) < 200 for t in rows)
    print(f"speed: {count / cpu:,.0f} messages per CPU second ({count / wall:,.0f}/s wall clock), one core, "
          f"{len(rows)} distinct messages ({short} under 200 characters)")


def main() -> None:
    show_errors = "--errors" in sys.argv
    behaviour(show_errors)
    print()
    for split in ("train", "test"):
        deepset(split, show_errors)
    print()
    speed()


if __name__ == "__main__":
    main()
