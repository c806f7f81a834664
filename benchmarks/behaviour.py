"""The behaviour set through the whole Ask flow: confusion table of expected vs. actual outcome.

    python benchmarks/behaviour.py           # current social law + the starter pack (pages, curated answers), tenant musterkreis

Outcomes: answer (with sources), handover (individual case, or unsure), urgent, refuse
(out of scope or injection counted apart as "injection" when the guard saw one).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from _common import CACHED_HOME, require_shared, starter_services
from amtslotse.evaluation.grounding import leftover

SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "behaviour.jsonl"
OUTCOMES = ("answer", "handover", "urgent", "refuse", "injection")


def outcome(answer) -> str:
    if answer.urgent:
        return "urgent"
    if answer.refused:
        return "injection" if any(r.startswith("injection") for r in answer.reasons) else "refuse"
    return "handover" if answer.handover else "answer"


def main() -> None:
    require_shared()
    with starter_services(home=CACHED_HOME) as services:
        table: Counter[tuple[str, str]] = Counter()
        misses, ungrounded = [], []
        for line in SET.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            answer = services.asker.ask(item["text"], "musterkreis")
            got = outcome(answer)
            table[item["expect"], got] += 1
            if got != item["expect"]:
                misses.append((item["id"], item["expect"], got))
            if leftover(answer, services.store, "musterkreis"):
                ungrounded.append(item["id"])
    print(f"grounded answers (every piece fixed text or source text): {table.total() - len(ungrounded)}/{table.total()} {ungrounded}")
    total = sum(table.values())
    print(f"{'expected/got':<16}" + "".join(f"{o:>11}" for o in OUTCOMES) + f"{'recall':>9}")
    for expected in OUTCOMES:
        row = [table[expected, got] for got in OUTCOMES]
        n = sum(row)
        print(f"{expected:<16}" + "".join(f"{v:>11}" for v in row) + f"{(table[expected, expected] / n if n else 0):>9.3f}")
    correct = sum(table[o, o] for o in OUTCOMES)
    print(f"overall {correct}/{total} = {correct / total:.3f}")
    for miss in misses:
        print("miss", *miss)


if __name__ == "__main__":
    main()
