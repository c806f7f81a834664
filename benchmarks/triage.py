"""Inbox triage benchmark: held-out accuracy, macro-F1, flag recall/precision, fields,
throughput; beside a plain TF-IDF + logistic-regression baseline on the same split.

    python benchmarks/triage.py             # held-out set, baseline, throughput
    python benchmarks/triage.py --errors    # also list the held-out messages classified wrongly
    python benchmarks/triage.py --massive   # also ../shared/eval/massive_de_intents (train -> test)

Training data: src/amtslotse/data/inbox/train.jsonl; held-out: tests/data/triage_holdout.jsonl
(written independently; nothing was trained or tuned on it). The held-out messages carry no
date of receipt, so they are triaged with today=None ("unknown": a deadline next to a date
counts whether or not the date has passed). Throughput is one message at a time in one
process (the CLI's batch mode is faster: one embedding call per 64 messages).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from amtslotse.categories import CATEGORIES, FLAGS
from amtslotse.inbox.classify import (
    Example,
    load_model,
    train,
    training_file,
)
from amtslotse.inbox.triage import Triager

ROOT = Path(__file__).resolve().parents[1]
HOLDOUT = ROOT / "tests" / "data" / "triage_holdout.jsonl"
MASSIVE = ROOT.parent / "shared" / "eval" / "massive_de_intents"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def f1_table(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, tuple[float, float, float, int]]:
    """label -> (precision, recall, F1, support)."""
    out = {}
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        fp = sum(p == label != g for g, p in zip(gold, predicted))
        fn = sum(g == label != p for g, p in zip(gold, predicted))
        precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
        out[label] = (precision, recall, 2 * precision * recall / max(1e-9, precision + recall), tp + fn)
    return out


def macro_f1(table: dict) -> float:
    rows = [v for v in table.values() if v[3]]
    return sum(v[2] for v in rows) / len(rows)


def baseline(train_texts: list[str], train_labels: list[str], test_texts: list[str]) -> list[str]:
    """TF-IDF over words (1-2-grams) + logistic regression, scikit-learn defaults otherwise."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=3000))
    return list(model.fit(train_texts, train_labels).predict(test_texts))


def holdout(show_errors: bool) -> list[str]:
    rows = load(HOLDOUT)
    train_rows = load(training_file())
    texts = [r["text"] for r in rows]
    started = time.perf_counter()
    model = load_model()
    print(f"model ready in {time.perf_counter() - started:.1f} s (trained on {len(train_rows)} messages, "
          f"or loaded from the cache); held-out: {len(rows)} messages ({HOLDOUT.relative_to(ROOT)})")
    triager = Triager(llm=None, model=model)
    results = triager.triage_many(texts, today=None)
    gold = [r["category"] for r in rows]
    ours = [t.category for t in results]
    base = baseline([r["text"] for r in train_rows], [r["category"] for r in train_rows], texts)
    ours_table, base_table = f1_table(gold, ours, list(CATEGORIES)), f1_table(gold, base, list(CATEGORIES))
    print(f"\n{'category':<20}{'n':>4}  {'Amtslotse acc':>13} {'F1':>6}   {'TF-IDF+LR acc':>13} {'F1':>6}")
    for label in CATEGORIES:
        o, b = ours_table[label], base_table[label]
        print(f"{label:<20}{o[3]:>4}  {o[1]:>13.1%} {o[2]:>6.3f}   {b[1]:>13.1%} {b[2]:>6.3f}")
    acc = sum(g == p for g, p in zip(gold, ours)) / len(gold)
    acc_b = sum(g == p for g, p in zip(gold, base)) / len(gold)
    print(f"{'overall':<20}{len(gold):>4}  {acc:>13.1%} {macro_f1(ours_table):>6.3f}   {acc_b:>13.1%} {macro_f1(base_table):>6.3f}"
          "   (accuracy, macro-F1)")
    by_language: dict[str, list[bool]] = defaultdict(list)
    by_language_b: dict[str, list[bool]] = defaultdict(list)
    for r, o, b in zip(rows, ours, base):
        by_language[r.get("language", "?")].append(o == r["category"])
        by_language_b[r.get("language", "?")].append(b == r["category"])
    print("per language (Amtslotse / baseline): " + ", ".join(
        f"{lang} {sum(v) / len(v):.0%}/{sum(by_language_b[lang]) / len(v):.0%} (n={len(v)})"
        for lang, v in sorted(by_language.items(), key=lambda kv: -len(kv[1]))))
    confident = [t.confidence for t in results]
    bins = [(0.0, 0.5), (0.5, 0.8), (0.8, 0.95), (0.95, 1.01)]
    print("calibration (confidence bin: share right / n): " + ", ".join(
        f"{lo:.2f}-{min(hi, 1):.2f}: {sum(ours[i] == gold[i] for i in idx) / len(idx):.0%}/{len(idx)}"
        for lo, hi in bins if (idx := [i for i, c in enumerate(confident) if lo <= c < hi])))

    print("\nflags (rules OR model; in brackets: rules alone, model alone)")
    for flag in FLAGS:
        truth = [flag in r["flags"] for r in rows]
        both = _score(truth, [flag in t.flags for t in results])
        rules = _score(truth, [any(r.startswith(f"{flag}:") and not r.endswith(":modell") for r in t.reasons)
                               for t in results])
        model_only = _score(truth, [f"{flag}:modell" in t.reasons for t in results])
        print(f"  {flag:<8} recall {both[0]:.1%} ({both[2]}/{both[3]}), precision {both[1]:.1%}   "
              f"[rules {rules[0]:.1%}/{rules[1]:.1%}, model {model_only[0]:.1%}/{model_only[1]:.1%}]")
        for r, t in zip(rows, results):
            if flag in r["flags"] and flag not in t.flags:
                print(f"    missed {r['id']} ({r.get('language')})")
    fields(rows, results)
    if show_errors:
        print("\nwrong categories:")
        for r, t in zip(rows, results):
            if t.category != r["category"]:
                print(f"  {r['id']} {r['category']} -> {t.category} ({t.confidence:.2f}): {r['text'][:100]!r}")
    return texts


def _score(truth: list[bool], predicted: list[bool]) -> tuple[float, float, int, int]:
    """(recall, precision, true positives, positives)."""
    tp = sum(p and t for p, t in zip(predicted, truth))
    return tp / max(1, sum(truth)), tp / max(1, sum(predicted)), tp, sum(truth)


def fields(rows: list[dict], results) -> None:
    """Extracted fields against the gold fields of the held-out set (where it has them)."""
    counts: Counter = Counter()
    for r, t in zip(rows, results):
        gold = r.get("fields") or {}
        got = {
            "bg_nummer": {f.value for f in t.fields if f.kind == "bg_nummer"},
            "kundennummer": {f.value for f in t.fields if f.kind == "kundennummer"},
            "iban": {f.value for f in t.fields if f.kind == "iban"},
            "dates": {f.value for f in t.fields if f.kind in ("datum", "geburtsdatum")},
            "deadline": {t.deadline.isoformat()} if t.deadline else set(),
            "bescheid_date": {t.bescheid_date.isoformat()} if t.bescheid_date else set(),
            "amounts": {f.text.strip() for f in t.fields if f.kind == "betrag"},
            "name": {f.text for f in t.fields if f.kind == "name"},
        }
        for kind, values in got.items():
            want = gold.get(kind)
            want = set(want) if isinstance(want, list) else ({want} if want else set())
            if kind in ("iban", "bg_nummer", "kundennummer"):
                want = {w.replace(" ", "").upper() for w in want}
            counts[kind, "tp"] += len(want & values)
            counts[kind, "fn"] += len(want - values)
            counts[kind, "fp"] += len(values - want)
    print("\nfields (recall / precision against the held-out annotations)")
    for kind in ("bg_nummer", "kundennummer", "iban", "name", "dates", "deadline", "bescheid_date", "amounts"):
        tp, fn, fp = counts[kind, "tp"], counts[kind, "fn"], counts[kind, "fp"]
        print(f"  {kind:<14} {tp / max(1, tp + fn):6.1%} / {tp / max(1, tp + fp):6.1%}   (gold {tp + fn})")


def throughput(texts: list[str]) -> None:
    """Messages per second, one message per call, one process (wall clock and CPU time)."""
    triager = Triager(llm=None, model=load_model())
    triager.triage("Aufwärmen: das Modell und die Wortlisten laden.")
    cpu, wall, count = time.process_time(), time.perf_counter(), 0
    while time.perf_counter() - wall < 10.0:
        for text in texts:
            triager.triage(text + " " * (count % 5))  # defeat the normalization cache
            count += 1
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    batch_start = time.perf_counter()
    triager.triage_many(texts)
    batch = len(texts) / (time.perf_counter() - batch_start)
    print(f"\nthroughput: {count / wall:,.0f} messages/s one at a time (wall clock; {count / cpu:,.0f} per CPU "
          f"second), {batch:,.0f}/s in one batch of {len(texts)}; mean length {sum(map(len, texts)) // len(texts)} chars")


def massive() -> None:
    """The same classifier (without the Jobcenter cue lists, which do not fire here) and the
    baseline on MASSIVE German intents, train -> test."""
    if not (MASSIVE / "train.jsonl").exists():
        print(f"\nMASSIVE: {MASSIVE} not found, skipped")
        return
    train_rows, test_rows = load(MASSIVE / "train.jsonl"), load(MASSIVE / "test.jsonl")
    started = time.perf_counter()
    model = train([Example(r["text"], r["label"]) for r in train_rows], calibrate=False)
    seconds = time.perf_counter() - started
    predicted = [model.categories[i] for i in model.predict_proba([r["text"] for r in test_rows]).argmax(axis=1)]
    gold = [r["label"] for r in test_rows]
    base = baseline([r["text"] for r in train_rows], [r["label"] for r in train_rows], [r["text"] for r in test_rows])
    labels = sorted(set(gold))
    acc = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    acc_b = sum(g == p for g, p in zip(gold, base)) / len(gold)
    print(f"\nMASSIVE de intents ({len(train_rows)} train -> {len(test_rows)} test, {len(labels)} intents; "
          f"trained in {seconds:.0f} s without calibration):")
    print(f"  Amtslotse classifier: accuracy {acc:.1%}, macro-F1 {macro_f1(f1_table(gold, predicted, labels)):.3f}")
    print(f"  TF-IDF + LR baseline: accuracy {acc_b:.1%}, macro-F1 {macro_f1(f1_table(gold, base, labels)):.3f}")


def main() -> None:
    texts = holdout("--errors" in sys.argv)
    throughput(texts)
    if "--massive" in sys.argv:
        massive()


if __name__ == "__main__":
    main()
