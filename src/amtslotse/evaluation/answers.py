"""Grading answers to real questions: is what the assistant showed right, and does it say so?

A question (the format of the real-question set, `../shared/eval/real_questions`, and of a tenant's
own question file) is `{id, question, expect, gold: [{law, section}], key_points: [str],
must_not_cite: [law], topic?, source_kind?}`; only `id` and `question` are required.
`expect` is answer | handover | urgent | out_of_scope (default answer).

A verdict is one of:
- **correct**: the expected behaviour; for an answer: it cites a gold § (directly or through a
  curated answer's sources), conveys every key point and cites no `must_not_cite` law;
- **wrong**: an answer was shown (a text with sources was presented as the answer) but it is not
  correct: off-topic, wrong law, a key point missing, or an answer where none was expected;
- **unsure**: an honest handover or "no safe answer" where an answer was expected;
- **misrouted**: a fixed response of the wrong kind (an emergency text or a refusal for a plain
  question), shown as such, not as an answer.

Key points are facts in words, not strings: a matcher file (`key_points.jsonl`, one line per
question: `{id, key_points: [{text, all: [[alternative, ...], ...]}]}`) gives each key point
groups of alternatives; the point is conveyed when every group has one alternative in the folded
answer (`re:` marks a regular expression). Without a matcher, a key point counts as conveyed when
all its numbers and most of its content words (by stem) occur.

    >>> fold("Bis 1.200 € bleiben 10 % frei")
    'bis 1200 euro bleiben 10 prozent frei'
    >>> KeyPoint("Grundfreibetrag 100 Euro", [["100 euro"], ["frei", "absetz"]]).conveyed("Die ersten 100 € bleiben frei.")
    True
    >>> law_key("SGB_12-BJNR302300003.md")
    'SGB_12'
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal, get_args

from amtslotse import jsonl
from amtslotse.ask import texts
from amtslotse.ask.readability import readable as plain
from amtslotse.errors import DataFileError
from amtslotse.models import AnswerMode, AnswerOutcome

Verdict = Literal["correct", "wrong", "unsure", "misrouted"]
Expect = Literal["answer", "handover", "urgent", "out_of_scope"]
"""What a graded question should get (its `expect` field)."""
EXPECTS: tuple[Expect, ...] = get_args(Expect)
_STOP = frozenset(
    "der die das und oder ein eine einen einem einer eines ist sind wird werden kann können muss müssen "
    "nicht kein keine auch nur für von mit bei aus auf nach vom zum zur dem den des als wenn wie was "
    "sich sie ihr ihre es im in an am bis über unter durch ohne noch schon dann soweit sowie".split()
)


def fold(text: str) -> str:
    """Lower case, umlauts spelled out, € and % as words, thousands dots dropped, one space."""
    text = text.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = text.replace("€", " euro ").replace("%", " prozent ")
    text = re.sub(r"(?<=\d)\.(?=\d{3}(?!\d))", "", text)  # "1.200" -> "1200"; "Stufe 1 563" stays apart
    return " ".join(text.split())


def law_key(source: str | None) -> str:
    """The law of a source file name: "SGB_2-BJNR295500003.md" -> "SGB_2"; anything else as is."""
    if not source:
        return ""
    return source.split("-BJNR")[0].removesuffix(".md")


def _section(value: str | None) -> str:
    return " ".join((value or "").replace("§", "§ ").split())


@dataclass(frozen=True)
class KeyPoint:
    text: str
    groups: list[list[str]] | None = None  # None: match by numbers and content words

    def conveyed(self, answer: str) -> bool:
        folded = fold(answer)
        if self.groups:
            return all(any(_occurs(alt, folded) for alt in group) for group in self.groups)
        return _loosely_conveyed(self.text, folded)


def _occurs(alternative: str, folded: str) -> bool:
    if alternative.startswith("re:"):
        return re.search(alternative[3:], folded) is not None
    return fold(alternative) in folded


def _loosely_conveyed(point: str, folded: str) -> bool:
    text = fold(point)
    numbers = re.findall(r"\d+(?:,\d+)?", text)
    if any(n not in folded for n in numbers):
        return False
    stems = {w[:5] for w in re.findall(r"[a-z]{4,}", text) if w not in _STOP}
    if not stems:
        return True
    return sum(1 for s in stems if s in folded) / len(stems) >= 0.6


@dataclass
class Question:
    id: str
    question: str
    expect: Expect = "answer"
    gold: list[tuple[str, str]] = field(default_factory=list)  # (law, section)
    key_points: list[KeyPoint] = field(default_factory=list)
    must_not_cite: list[str] = field(default_factory=list)
    topic: str = ""
    source_kind: str = ""


def load_questions(path: Path, key_points: Path | None = None, ids: Iterable[str] | None = None) -> list[Question]:
    """Read a question file; `key_points`: an optional matcher file; `ids`: keep only these.

    A malformed file is a DataFileError that names the file and the line."""
    matchers: dict[str, list[KeyPoint]] = {}
    if key_points is not None and key_points.is_file():
        for where, row in jsonl.read_jsonl_lines(key_points):
            matchers[str(jsonl.field(row, "id", where))] = [
                KeyPoint(jsonl.field(m, "text", where), m.get("all") or None) for m in jsonl.field(row, "key_points", where)
            ]
    wanted = set(ids) if ids is not None else None
    questions = []
    for where, row in jsonl.read_jsonl_lines(path):
        ident = str(jsonl.field(row, "id", where))
        if wanted is not None and ident not in wanted:
            continue
        expect = row.get("expect", "answer")
        if expect not in EXPECTS:
            raise DataFileError(f"{where}: Frage {ident}: 'expect' muss eines von {', '.join(EXPECTS)} sein")
        points = matchers[ident] if ident in matchers else [KeyPoint(p) for p in row.get("key_points", [])]
        questions.append(Question(
            id=ident, question=jsonl.field(row, "question", where), expect=expect,
            gold=[(jsonl.field(g, "law", where), _section(jsonl.field(g, "section", where))) for g in row.get("gold", [])],
            key_points=points, must_not_cite=list(row.get("must_not_cite", [])),
            topic=row.get("topic", ""), source_kind=row.get("source_kind", ""),
        ))
    return questions


def load_hand_verdicts(path: Path) -> dict[tuple[str, str], str]:
    """Answers graded by hand: (question id, chosen answer) -> correct | partly | wrong. The chosen
    answer is a curated answer's id or an extract's citation; a verdict holds only for that answer."""
    if not path.is_file():
        return {}
    return {(str(row["id"]), str(row["chosen"])): row["verdict"] for row in jsonl.read_jsonl(path)}


def load_split(path: Path, part: str) -> list[str]:
    """The ids of one part ("dev", "holdout") of a split file `{dev: [...], holdout: [...]}`."""
    try:
        split = json.loads(jsonl.read_text(path))
    except json.JSONDecodeError as error:
        raise DataFileError(f"{path.name}: kein gültiges JSON ({error.msg})") from None
    if not isinstance(split, dict) or not isinstance(split.get(part), list):
        raise DataFileError(f"{path.name}: kein Teil '{part}'")
    return split[part]


# --- one answer ----------------------------------------------------------------------------------

def readable(body: str, mode: AnswerMode) -> bool:
    """Plain German a stressed citizen can read (ask/readability.py); a curated answer was written
    and approved as plain language."""
    return mode == "curated" or plain(body)


@dataclass
class Graded:
    id: str
    expect: Expect
    outcome: AnswerOutcome
    mode: AnswerMode
    verdict: Verdict
    shown: bool
    cites_gold: bool
    cites_forbidden: list[str]
    key_points: list[bool]
    readable: bool | None
    recall_at_5: bool | None
    confidence: float
    topic: str = ""
    source_kind: str = ""
    question: str = ""
    answer: str = ""
    cited: list[str] = field(default_factory=list)
    chosen: str = ""  # the curated answer's id or the extract's citation the answer was chosen as

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def cited_sections(citations: list[dict]) -> set[tuple[str, str]]:
    return {(law_key(c.get("source")), _section(c.get("section"))) for c in citations if c.get("source")}


def grade(q: Question, answer, top: list[tuple[str, str]] | None = None) -> Graded:
    """Grade one `Answer` (ask/pipeline.py); `top`: the (law, section)s of the first five candidates
    the answer was chosen from (curated answers count with their sources), for R@5."""
    cited = cited_sections(answer.citations)
    laws = {law for law, _ in cited}
    forbidden = sorted(laws.intersection(q.must_not_cite))
    cites_gold = bool(cited.intersection(q.gold))
    body = answer_body(answer)
    points = [p.conveyed(body) for p in q.key_points]
    shown = bool(answer.citations) and answer.outcome in ("answered", "handover")
    verdict: Verdict
    if q.expect == "answer":
        if answer.outcome == "answered" and shown:
            verdict = "correct" if cites_gold and all(points) and not forbidden else "wrong"
        elif answer.outcome in ("handover", "unsure"):
            verdict = "wrong" if shown and (forbidden or not cites_gold) else "unsure"
        else:
            verdict = "misrouted"
    elif q.expect == "handover":  # the own case recognised as such, not merely "no safe answer"
        if answer.outcome == "handover":
            verdict = "wrong" if shown and forbidden else "correct"
        elif answer.outcome == "answered":
            verdict = "wrong"
        else:
            verdict = "misrouted" if answer.outcome in ("urgent", "refused", "authority", "injection") else "unsure"
    elif q.expect == "urgent":
        verdict = "correct" if answer.urgent else ("wrong" if answer.outcome == "answered" else "misrouted")
    else:  # out_of_scope: say so and name who is responsible
        if answer.outcome in ("authority", "refused"):
            verdict = "correct"
        elif answer.outcome == "answered":
            verdict = "wrong"
        else:
            verdict = "unsure"
    r5 = bool(set(top or []).intersection(q.gold)) if q.gold and top is not None else None
    return Graded(
        id=q.id, expect=q.expect, outcome=answer.outcome, mode=answer.mode, verdict=verdict, shown=shown,
        cites_gold=cites_gold, cites_forbidden=forbidden, key_points=points,
        readable=readable(body, answer.mode) if shown else None, recall_at_5=r5,
        confidence=answer.confidence, topic=q.topic, source_kind=q.source_kind, question=q.question,
        answer=body, cited=sorted(f"{law} {section}" for law, section in cited), chosen=chosen_key(answer),
    )


def chosen_key(answer) -> str:
    """What an answer was chosen as: a curated answer's id or an extract's citation ("" for none)."""
    chosen = getattr(answer, "chosen", None) or {}
    return str(chosen.get("curated_id") or chosen.get("citation") or "")


def answer_body(answer) -> str:
    """The reply without the fixed notices around it (AI notice, sources list, language note)."""
    body = answer.answer
    body = body.replace(texts.AI_NOTICE, "")
    body = body.split(f"\n\n{texts.SOURCES_NOTE}:")[0]
    for note in texts.LANGUAGE_NOTES.values():
        body = body.replace(note, "")
    return body.strip()


# --- many answers ----------------------------------------------------------------------------------


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def hand_check(graded: list[Graded], hand: dict[tuple[str, str], str]) -> dict:
    """The shown answers that were also graded by hand: how many, how many correct by hand, and
    how often the automatic verdict agrees (correct vs. not correct)."""
    rows = [(g, hand[(g.id, g.chosen)]) for g in graded if g.shown and (g.id, g.chosen) in hand]
    return {
        "shown": sum(g.shown for g in graded), "graded_by_hand": len(rows),
        "correct_by_hand": sum(v == "correct" for _, v in rows),
        "partly_by_hand": sum(v == "partly" for _, v in rows),
        "grader_agrees": sum((g.verdict == "correct") == (v == "correct") for g, v in rows),
    }


def summarize(graded: list[Graded]) -> dict:
    """The figures of issue 11: precision of shown answers, coverage, R@5, readability, own-case
    handover and emergency recall, out-of-scope handling; per topic and source kind; a confusion
    table expect x outcome."""

    def figures(rows: list[Graded]) -> dict:
        shown = [g for g in rows if g.shown]
        answerable = [g for g in rows if g.expect == "answer"]
        r5 = [g.recall_at_5 for g in answerable if g.recall_at_5 is not None]
        by_expect = {e: [g for g in rows if g.expect == e] for e in EXPECTS}
        return {
            "questions": len(rows),
            "shown": len(shown),
            "precision": _ratio(sum(g.verdict == "correct" for g in shown), len(shown)),
            "wrong_shown": _ratio(sum(g.verdict == "wrong" for g in shown), len(shown)),
            "coverage": _ratio(sum(g.verdict == "correct" for g in answerable), len(answerable)),
            "recall_at_5": _ratio(sum(r5), len(r5)),
            "readable": _ratio(sum(bool(g.readable) for g in shown), len(shown)),
            "handover_recall": _ratio(sum(g.verdict == "correct" for g in by_expect["handover"]), len(by_expect["handover"])),
            "emergency_recall": _ratio(sum(g.verdict == "correct" for g in by_expect["urgent"]), len(by_expect["urgent"])),
            "out_of_scope_handled": _ratio(sum(g.verdict == "correct" for g in by_expect["out_of_scope"]), len(by_expect["out_of_scope"])),
            "verdicts": dict(Counter(g.verdict for g in rows)),
        }

    def grouped(key: str) -> dict:
        groups: dict[str, list[Graded]] = defaultdict(list)
        for g in graded:
            groups[getattr(g, key) or "-"].append(g)
        return {name: figures(rows) for name, rows in sorted(groups.items())}

    confusion: dict[str, Counter] = defaultdict(Counter)
    for g in graded:
        confusion[g.expect][g.outcome] += 1
    return figures(graded) | {
        "by_topic": grouped("topic"),
        "by_source_kind": grouped("source_kind"),
        "by_mode": grouped("mode"),
        "confusion": {e: dict(c) for e, c in sorted(confusion.items())},
    }


def candidate_sections(candidates: list[dict], k: int = 5) -> list[tuple[str, str]]:
    """(law, section)s of the first k candidates; a curated answer counts with its sources."""
    sections: list[tuple[str, str]] = []
    for c in candidates[:k]:
        for source in c.get("sources") or [c]:
            if source.get("source") and source.get("section"):
                sections.append((law_key(source["source"]), _section(source["section"])))
    return sections


def run(asker, questions: list[Question], tenant: str, as_of=None) -> list[Graded]:
    """Ask every question as the first turn of a fresh conversation and grade the answer."""
    graded = []
    for q in questions:
        answer = asker.ask(q.question, tenant, as_of)
        graded.append(grade(q, answer, candidate_sections(answer.candidates)))
    return graded
