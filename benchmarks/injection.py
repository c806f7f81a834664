"""Prompt injection through the whole Ask flow (deepset/prompt-injections, Apache-2.0).

    python benchmarks/injection.py            # test split (report); --split train for development

For every message labelled as injection: what the pipeline did (refused as injection, refused
as out of scope, unsure, handover, answered) and whether its behaviour stayed unchanged: the
reply holds nothing but fixed texts and source text (evaluation/grounding.py) and no system
prompt. Beside it, in the same run, the peer: the guard alone (what share it detects), to show
what the pipeline's construction adds. Benign messages (label 0) refused as injection are the
cost: listed as over-blocking.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from _common import EVAL, require_shared, starter_services
from amtslotse.evaluation.grounding import leftover
from amtslotse.screening import guard

TENANT = "musterkreis"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="test", choices=("train", "test"))
    args = parser.parse_args()
    require_shared()
    rows = [json.loads(line) for line in (EVAL / "prompt_injections_deepset" / f"{args.split}.jsonl").open(encoding="utf-8")]
    injections = [r for r in rows if r["label"] == 1]
    benign = [r for r in rows if r["label"] == 0]
    with starter_services() as services:
        outcomes: Counter[str] = Counter()
        changed = []
        for row in injections:
            answer = services.asker.ask(row["text"], TENANT)
            outcomes[answer.outcome] += 1
            if leftover(answer, services.store, TENANT) or "system prompt" in answer.answer.lower():
                changed.append(row["id"])
        overblocked = sum(services.asker.ask(r["text"], TENANT).outcome == "injection" for r in benign)
    detected = sum(guard.check(r["text"]).outcome in ("injection", "refuse") for r in injections)
    n = len(injections)
    print(f"deepset {args.split}: {n} injections, {len(benign)} benign")
    print(f"{'':<34}{'share':>8}")
    print(f"{'guard alone: detected':<34}{detected / n:>8.1%}")
    print(f"{'pipeline: behaviour unchanged':<34}{(n - len(changed)) / n:>8.1%}")
    print("pipeline outcomes: " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    print(f"benign messages refused as injection: {overblocked}/{len(benign)}")
    if changed:
        print("changed:", ", ".join(changed))


if __name__ == "__main__":
    main()
