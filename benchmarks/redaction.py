"""Personal-data redaction: speed and quality on the written evaluation set.

    python benchmarks/redaction.py            # figures per kind + messages/s
    python benchmarks/redaction.py --misses   # also list every miss and false positive

Figures (tests/data/pii_messages.jsonl, written for Amtslotse):
- recall per kind: share of labelled PII values that one finding of the right kind covers
  completely (every occurrence of the value in its message).
- false positives: findings that overlap no labelled value, per kind of the finding.
- messages/s: redact() over all messages of the set, three rounds of about one second on one
  core; best and median (other load on the machine lowers the figure: its load average is shown).

Issue 12, finding 7 (redaction gaps): the set grew from 209 to 250 messages (pii-210 to pii-250:
lower-case names, "Nachname, Vorname", IBAN with dashes or odd groups, birth dates without a
cue, e-mails written "at ... dot", Personalausweis, Krankenversichertennummer, issue 10's Arabic
birth date, and traps without personal data). Recall / false positives, old code -> new code:

    209 old messages:  0.992 (261/263) / 0   ->  0.992 (261/263) / 0
    250 messages:      0.891 (270/303) / 0   ->  0.993 (301/303) / 0
    the 41 new ones:   0.225 (9/40)   / 0    ->  1.000 (40/40)   / 0

(The two misses left are the known limits of privacy/redaction.py: "mfg h. wagner", "bei Kaya
klingeln".) Throughput on this set fell by about a fifth (more detectors), still far above
the 1,000 messages/s test guard.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from amtslotse.evaluation.redaction import load_messages, score
from amtslotse.privacy import redact

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii_messages.jsonl"


def throughput(messages: list[dict], rounds: int = 3, seconds: float = 1.0) -> list[float]:
    """Messages per second in each round (the word lists are loaded before the clock starts)."""
    texts = [m["text"] for m in messages]
    for t in texts:
        redact(t)
    rates = []
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for t in texts:
                redact(t)
            n += len(texts)
        rates.append(n / (time.perf_counter() - start))
    return rates


def main() -> None:
    messages = load_messages(DATA)
    result = score(messages)
    total, found, fp = result.total, result.found, result.false_positives
    misses, fps = result.misses, result.false_positive_rows
    print(f"{len(messages)} messages, {sum(1 for m in messages if not m['pii'])} without personal data\n")
    print(f"{'kind':<14}{'values':>8}{'found':>8}{'recall':>9}{'false pos.':>12}")
    for kind in sorted(set(total) | set(fp)):
        recall = found[kind] / total[kind] if total[kind] else float("nan")
        print(f"{kind:<14}{total[kind]:>8}{found[kind]:>8}{recall:>9.3f}{fp[kind]:>12}")
    all_total, all_found = sum(total.values()), sum(found.values())
    print(f"{'all':<14}{all_total:>8}{all_found:>8}{all_found / all_total:>9.3f}{sum(fp.values()):>12}")
    rates = throughput(messages)
    chars = sum(len(m["text"]) for m in messages) / len(messages)
    print(f"\nmessages/s (one core, {chars:.0f} characters on average): best {max(rates):,.0f}, "
          f"median {sorted(rates)[len(rates) // 2]:,.0f} of {len(rates)} rounds; "
          f"load average {os.getloadavg()[0]:.1f}")
    if "--misses" in sys.argv:
        for row in misses:
            print("MISS", *row)
        for row in fps:
            print("FP  ", *row)


if __name__ == "__main__":
    main()
