"""Scoring redaction against a labelled message set ({id, text, pii: [{kind, value}]}).

Recall: a labelled value counts as found when a finding of its kind covers every occurrence
of it. False positive: a finding that overlaps no labelled value.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from amtslotse.privacy import mark


def load_messages(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def occurrences(text: str, value: str) -> list[tuple[int, int]]:
    out, i = [], text.find(value)
    while i >= 0:
        out.append((i, i + len(value)))
        i = text.find(value, i + 1)
    return out


@dataclass
class RedactionScore:
    total: Counter = field(default_factory=Counter)  # labelled values per kind
    found: Counter = field(default_factory=Counter)
    false_positives: Counter = field(default_factory=Counter)
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (id, kind, value)
    false_positive_rows: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.found.values()) / (sum(self.total.values()) or 1)


def score(messages: list[dict]) -> RedactionScore:
    result = RedactionScore()
    for msg in messages:
        text, findings = msg["text"], mark(msg["text"])
        labelled = []
        for item in msg["pii"]:
            occ = occurrences(text, item["value"])
            labelled.extend(occ)
            result.total[item["kind"]] += 1
            if occ and all(
                any(f.kind.value == item["kind"] and f.start <= s and e <= f.end for f in findings) for s, e in occ
            ):
                result.found[item["kind"]] += 1
            else:
                result.misses.append((msg["id"], item["kind"], item["value"]))
        for f in findings:
            if not any(f.start < e and s < f.end for s, e in labelled):
                result.false_positives[f.kind.value] += 1
                result.false_positive_rows.append((msg["id"], f.kind.value, text[f.start:f.end]))
    return result
