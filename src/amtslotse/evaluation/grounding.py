"""Is every word of an answer accounted for? The check behind "never invents text".

An extractive or curated answer may contain only: the assistant's fixed texts (ask/texts.py),
the tenant's emergency contacts, the list of sources, pieces of the passages it rests on
(`Answer.passage_ids`; the extractive composer marks each cut with "…"), and, when unsure, the
questions of the curated answers it offers (`Answer.suggestions`, as their passages have them:
`choose.phrasings`). Whatever is left is text that came from somewhere else, for example an
instruction smuggled into the question.

Example (it needs a store and models, so it is not run as a doctest)::

    leftover(answer, store, "musterkreis")
    # -> []          # grounded
"""

from __future__ import annotations

import re

from amtslotse.ask import texts
from amtslotse.ask.choose import phrasings
from amtslotse.ask.emergency import EmergencyContact
from amtslotse.ask.extractive import ELLIPSIS
from amtslotse.ask.pipeline import Answer

MIN_PIECE_CHARS = 12
_MARKER = re.compile(r"\s*\[\d+(?:,\s*\d+)*\]")
_SOURCE_LINE = re.compile(rf"^\[\d+\] .*$|^{texts.SOURCES_NOTE}:$|^{texts.STAND}: [0-9.]+$", re.MULTILINE)


def _fixed_texts() -> list[str]:
    found: list[str] = []
    for name, value in vars(texts).items():
        if name.startswith("_"):
            continue
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(v for v in value.values() if isinstance(v, str))
    return sorted((f for f in found if len(f) >= 4), key=len, reverse=True)


def _offered_questions(answer: Answer, store, tenant: str) -> dict[str, set[str]]:
    """Each offered curated answer's id -> the ways its question is written, read from its stored
    passage (the candidates it was offered from name it)."""
    ids = {c["curated_id"]: c["passage_id"] for c in answer.curated_candidates}
    offered = [ids[s["curated_id"]] for s in answer.suggestions if s["curated_id"] in ids]
    return {p.external_id or "": {text for _, text in phrasings(p)} for p in store.get_passages(tenant, offered)}


def _norm(text: str) -> str:
    return " ".join(text.split())


def leftover(answer: Answer, store, tenant: str) -> list[str]:
    """Pieces of the answer text that are neither fixed text nor taken from its passages."""
    text = _SOURCE_LINE.sub("", answer.answer)
    for fixed in _fixed_texts():
        text = text.replace(fixed, "\n")
    for contact in answer.emergency_contacts:
        text = text.replace(EmergencyContact(**contact).line(), "\n")
    questions = _offered_questions(answer, store, tenant) if answer.suggestions else {}
    for suggestion in answer.suggestions:
        if suggestion["question"] in questions.get(suggestion["curated_id"], ()):
            text = text.replace(f"- {suggestion['question']}", "\n")
    text = _MARKER.sub("\n", text)  # each marker ends a piece of source text
    passages = store.get_passages(tenant, answer.passage_ids)
    sources = [_norm(p.text) for p in passages] + [_norm(p.meta.get("answer_simple", "")) for p in passages]
    sources += [_norm(t.get("answer", "")) for p in passages for t in (p.meta.get("translations") or {}).values()]
    pieces = [_norm(piece) for block in text.split("\n") for piece in block.split(ELLIPSIS)]
    return [
        piece for piece in pieces
        if len(piece.strip(" -()(),.")) >= MIN_PIECE_CHARS and not any(piece in source for source in sources)
    ]
