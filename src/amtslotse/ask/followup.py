"""Follow-up questions: "und wenn ich umziehe?" only makes sense with the turn before it.

A question that is short or opens like a continuation is searched together with the
conversation's previous question; a question that stands on its own is searched alone, so
a change of topic is not dragged back to the old one.

    >>> retrieval_question("und wenn ich umziehe?", ["Zahlt ihr die Nebenkosten?"])
    'und wenn ich umziehe? Zahlt ihr die Nebenkosten?'
    >>> retrieval_question("Wie beantrage ich Bildung und Teilhabe für mein Kind?", ["Zahlt ihr die Nebenkosten?"])
    'Wie beantrage ich Bildung und Teilhabe für mein Kind?'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from amtslotse.search import analysis

_CONTINUATION = re.compile(
    r"^\s*(und|aber|auch|oder|dann|also|was ist mit|wie ist es mit|wie sieht es mit|gilt das|ist das|"
    r"muss ich das|und was|and|but|what about|and if|also)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(das|dies|dafür|dazu|davon|darauf|auch|too|that)\s*\??\s*$", re.IGNORECASE)
SHORT = 1
"""A question with at most this many content words ("Und Heizung?") is read as a follow-up."""


def is_followup(question: str, written: Mapping[str, float] | None = None) -> bool:
    """`written`: the question's analysed words, if the caller has them (analysis.weighted_terms)."""
    return (
        bool(_CONTINUATION.match(question) or _PRONOUN.search(question))
        or len(analysis.weighted_terms(question) if written is None else written) <= SHORT
    )


def retrieval_question(question: str, history: Sequence[str], followup: bool | None = None) -> str:
    """The text to search for: the question, plus the previous one when it is a follow-up
    (`followup`: whether it is one, if the caller knows already)."""
    if followup is None:
        followup = bool(history) and is_followup(question)
    if not followup:
        return question
    return f"{question} {history[-1]}"
