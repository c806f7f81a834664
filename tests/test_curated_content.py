"""The curated answers the product ships are checked against the law they cite.

- every line is a valid curated answer; ids are unique across all files;
- every cited § exists in the cited law file (../shared/data/law/current);
- every amount, percentage, period and deadline written in digits occurs in the text of a cited §;
- an answer has at most five sentences, no "…" fragments and no dangling opening;
- no phrasing is a (near) copy of a question of the real-question evaluation set.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from amtslotse.knowledge.starter import starter_dir
from shared_data import SHARED

ROOT = Path(__file__).resolve().parents[1]
LAW = SHARED / "data" / "law" / "current"
REAL = SHARED / "eval" / "real_questions" / "questions.jsonl"

FILES = sorted((starter_dir() / "bund" / "antworten").glob("*.jsonl")) + [starter_dir() / "musterkreis" / "curated.jsonl"]
TEST_PHRASINGS = sorted((ROOT / "tests" / "data" / "curated").glob("*.jsonl"))
LANGUAGES = {"en", "uk", "ru", "tr", "ar"}
ABBREVIATIONS = re.compile(r"\b(z|B|Abs|Nr|bzw|ggf|u|a|d|h|ca|S|vgl|inkl|evtl|max|min|Std|Tel|usw|etc|Mio|Mrd|zzgl|gem|lt|i|V|s|o)\.\s")


def _items() -> list[tuple[str, int, dict]]:
    rows = []
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                rows.append((f"{path.name}:{number}", number, json.loads(line)))
    return rows


ITEMS = _items()


def _fold(text: str) -> str:
    text = text.casefold().replace("ß", "ss").replace("€", " euro ").replace("%", " prozent ")
    text = re.sub(r"(?<=\d)[.\s](?=\d{3}\b)", "", text)  # 1.200 -> 1200
    return " ".join(text.split())


@lru_cache(maxsize=None)
def _sections(law_file: str) -> dict[str, str]:
    """'§ 11b' -> the section's text (heading to the next heading), folded."""
    text = (LAW / law_file).read_text(encoding="utf-8")
    parts = re.split(r"(?m)^# ", text)
    sections = {}
    for part in parts[1:]:
        heading = part.split("\n", 1)[0]
        match = re.match(r"((?:§|Art)\s*\d+[a-z]*)", heading)
        if match:
            sections[" ".join(match.group(1).split())] = _fold(part)
    return sections


def test_every_item_has_the_fields_and_ids_are_unique() -> None:
    assert ITEMS, "no curated answers found"
    seen: dict[str, str] = {}
    for where, _, item in ITEMS:
        assert isinstance(item.get("id"), str) and item["id"], where
        assert item["id"] not in seen, f"{where}: id {item['id']} also in {seen.get(item['id'])}"
        seen[item["id"]] = where
        assert item.get("question") and item.get("answer"), where
        assert isinstance(item.get("alternatives", []), list), where
        assert item.get("sources"), f"{where}: no sources"
        if item.get("frequent"):
            assert item.get("answer_simple"), f"{where}: a frequent answer needs answer_simple"
            assert set(item.get("translations", {})) >= LANGUAGES, f"{where}: translations missing"
        for lang, tr in item.get("translations", {}).items():
            assert lang in LANGUAGES and tr.get("question") and tr.get("answer"), f"{where}: translation {lang}"


def test_bund_answers_are_short_and_readable() -> None:
    for where, _, item in ITEMS:
        if "curated.jsonl" in where:
            continue  # the sample tenant's own answers
        answer = item["answer"]
        assert "…" not in answer and "..." not in answer, f"{where}: fragment marks"
        assert not re.match(r"(Dies|Diese|Dieser|Dieses|Das gilt)\b", answer), f"{where}: dangling opening"
        sentences = [s for s in re.split(r"(?<![0-9])(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9„])", ABBREVIATIONS.sub("§ ", answer)) if s.strip()]
        assert len(sentences) <= 5, f"{where}: {len(sentences)} sentences"
        assert len(item.get("alternatives", [])) >= 3, f"{where}: fewer than 3 alternatives"


YES_NO_OPENING = re.compile(
    r"(Ja|Nein|Yes|No|Так|Ні|Да|Нет|Evet|Hayır|نعم|لا)\s*[,.:;،]"
    r"|((In der Regel|Meistens|Grundsätzlich) (ja|nein|nicht)|(Usually|As a rule),? (yes|no|not)|Und zwar)\b"
)


def test_shared_answers_open_with_the_rule_not_a_bare_yes_or_no() -> None:
    """A shared answer is matched by phrasings of both polarities ("Darf ich mein Haus behalten?",
    "Muss ich mein Haus verkaufen?"): an opening "Ja," answers one of them wrongly. The first
    sentence states the rule itself, in every language version."""
    for where, _, item in ITEMS:
        if "curated.jsonl" in where:
            continue
        texts = [item["answer"], item.get("answer_simple") or ""]
        texts += [tr["answer"] for tr in item.get("translations", {}).values()]
        for text in texts:
            assert not YES_NO_OPENING.match(text), f"{where}: opens with a bare yes/no: {text[:60]!r}"


@pytest.mark.shared("data/law/current")
def test_cited_sections_exist_and_carry_every_number() -> None:
    problems = []
    for where, _, item in ITEMS:
        if "curated.jsonl" in where:
            continue
        cited = []
        for source in item["sources"]:
            law_file, section = source.get("source"), source.get("section")
            if not law_file or not section:
                problems.append(f"{where}: source without 'source'/'section': {source}")
                continue
            if not (LAW / law_file).is_file():
                problems.append(f"{where}: unknown law file {law_file}")
                continue
            text = _sections(law_file).get(" ".join(section.split()))
            if text is None:
                problems.append(f"{where}: {section} not in {law_file}")
                continue
            cited.append(text)
        body = " ".join(cited)
        folded = _fold(item["answer"])
        # numbers with digits, except § / Absatz / Nummer references and years
        for match in re.finditer(r"(?<![§\w])(\d+(?:,\d+)?)", folded):
            number = match.group(1)
            before = folded[max(0, match.start() - 12): match.start()]
            if re.search(r"(§|abs\.|absatz|satz|nr\.|nummer|sgb|buch|artikel|art\.)\s*$", before):
                continue
            if re.fullmatch(r"(19|20)\d\d", number):
                continue
            plain = number.removesuffix(",00")
            if not re.search(rf"(?<![\d,]){re.escape(plain)}(?![\d])", body):
                problems.append(f"{where}: {number!r} not in its cited sections")
    assert not problems, "\n".join(problems[:80]) + (f"\n... {len(problems)} in all" if len(problems) > 80 else "")


@pytest.mark.shared("eval/real_questions/questions.jsonl")
@pytest.mark.slow
def test_no_phrasing_copies_a_real_question() -> None:
    real = [_fold(json.loads(line)["question"]) for line in REAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    real_words = [set(re.findall(r"\w+", q)) for q in real]
    phrasings = [(where, p) for where, _, item in ITEMS for p in [item["question"], *item.get("alternatives", [])]]
    for path in TEST_PHRASINGS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                phrasings.append((f"{path.name}:{number}", json.loads(line)["question"]))
    copies = []
    for where, phrasing in phrasings:
        folded = _fold(phrasing)
        words = set(re.findall(r"\w+", folded))
        for question, other in zip(real, real_words):
            if len(words) >= 4 and len(words & other) / len(words | other) >= 0.7:
                copies.append(f"{where}: {phrasing!r} ~ {question!r}")
                continue
            matcher = difflib.SequenceMatcher(None, folded, question, autojunk=False)
            if matcher.real_quick_ratio() >= 0.85 and matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85:
                copies.append(f"{where}: {phrasing!r} ~ {question!r}")
    assert not copies, "\n".join(copies[:40])
