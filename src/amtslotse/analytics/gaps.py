"""From gap to answer: the questions citizens asked that got no answer (or a thumbs-down), and
a proposed curated answer for one of them, for the editor to edit, check and approve.

    >>> from datetime import date, datetime, timezone
    >>> from amtslotse.models import Turn
    >>> at = datetime(2026, 9, 1, 9, 30, tzinfo=timezone.utc)
    >>> turns = [Turn("Gibt es Geld für eine Brille?", "", "unsure", "fixed", 0.2, "de", at),
    ...          Turn("gibt es  Geld für eine BRILLE", "", "answered", "extractive", 0.8, "de", at, rating="down"),
    ...          Turn("Wie hoch ist der Regelbedarf?", "", "answered", "curated", 0.9, "de", at)]
    >>> [(g["question"], g["count"], g["outcomes"]) for g in gaps(turns)]
    [('gibt es Geld für eine BRILLE', 2, {'unsure': 1, 'down': 1})]

`gaps` is a pure function over stored turns (redacted text only: the Ask flow redacts before a
turn is stored); `open_questions` reads them from the store. `propose_answer` drafts the item
the curated-answer editor opens: the citizen's wording as a phrasing, a proposed text and the
sources it rests on. Nothing goes live until an editor saves it (POST /api/v1/staff/curated,
audited there); then the chat answers the question with it at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timezone

from amtslotse.analytics.report import Period
from amtslotse.ask.extractive import compose_extractive
from amtslotse.ask.generative import GenerativeComposer
from amtslotse.ask.pipeline import EXTRACT_FROM
from amtslotse.ask.readability import readable
from amtslotse.ask.scope import JOBCENTER, scope_of
from amtslotse.errors import InputError
from amtslotse.knowledge.curated import curated_answers
from amtslotse.llm import LLMError
from amtslotse.models import Hit, Turn
from amtslotse.privacy.redaction import redact
from amtslotse.screening import guard
from amtslotse.search import tsv_data
from amtslotse.text.fold import plain_words

DEFAULT_DAYS = 30
GAPS_LIMIT = 100
SEARCH_LIMIT = 8
RELATED_LIMIT = 3
RELATED_PROBABILITY = 0.5
"""A curated answer less likely than this to answer the question is not worth naming."""
PROPOSAL_SENTENCES = 4
MAX_QUESTION = 500  # as the curated-answer editor accepts it (web/staff_knowledge.CuratedIn)

RATED_OUTCOMES = frozenset({"answered", "unsure", "handover"})
"""Outcomes whose thumbs-down shows a knowledge gap: the ones a curated answer changes. An
emergency, a refusal, an injection attempt or a question for another authority is decided by
the guard before any knowledge is looked at; a curated answer would not change it."""

_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def gaps(turns: Iterable[Turn], *, answered: Iterable[str] = (), limit: int = GAPS_LIMIT) -> list[dict]:
    """The open questions among `turns`: those the assistant was unsure about (no answer shown)
    or whose answer got a thumbs-down, grouped by `plain_words` (text/fold.py), most frequent first (then the
    latest). Each: question (the wording asked most often, among equals the latest; redacted as
    stored, spaces tidied), count, last_asked (ISO time), outcomes {unsure, down} (a turn may
    count in both). `answered`: wordings already
    covered by a curated answer (its question and phrasings): those groups are left out."""
    covered = {plain_words(a) for a in answered}
    groups: dict[str, dict] = {}
    for turn in turns:
        unsure = turn.outcome == "unsure"
        down = turn.rating == "down" and turn.outcome in RATED_OUTCOMES
        wording = " ".join(turn.question.split())
        key = plain_words(wording)
        if not (unsure or down) or not key or key in covered:
            continue
        at = _aware(turn.created_at)
        group = groups.setdefault(key, {"wordings": {}, "count": 0, "last": at, "unsure": 0, "down": 0})
        group["count"] += 1
        group["unsure"] += unsure
        group["down"] += down
        group["last"] = max(group["last"], at)
        seen = group["wordings"].get(wording, (0, at))
        group["wordings"][wording] = (seen[0] + 1, max(seen[1], at))
    rows = sorted(groups.values(), key=lambda g: (-g["count"], -g["last"].timestamp(), _example(g)))[:limit]
    return [
        {"question": _example(g), "count": g["count"], "last_asked": g["last"].isoformat(),
         "outcomes": {"unsure": g["unsure"], "down": g["down"]}}
        for g in rows
    ]


def _example(group: dict) -> str:
    """The group's wording asked most often; among equals the latest."""
    return max(group["wordings"].items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))[0]


def open_questions(store, tenant: str, days: int = DEFAULT_DAYS, now: datetime | None = None) -> list[dict]:
    """`gaps` of the tenant's last `days` days (local days, as in the analytics), without the
    questions the tenant's curated answers now cover."""
    period = Period.last_days(days, now or datetime.now(timezone.utc))
    turns = store.turns_between(tenant, period.start, period.end)
    covered = [text for item in curated_answers(store, tenant) for text in [item["question"], *item["alternatives"]]]
    rows = gaps(turns, answered=covered)
    for row in rows:  # stored redacted; redacted again in case the rules have learnt more since
        row["question"] = " ".join(redact(row["question"]).text.split())
    return rows


# --- the proposal -----------------------------------------------------------------------------


def propose_answer(services, tenant: str, question: str) -> dict:
    """A curated-answer item ready for the editor (not stored):

        {question, alternatives: [the citizen's redacted wording], answer, sources: [{citation,
         source, section, url}], topic, way: "generative" | "extractive" | "none",
         source_texts: [{citation, text}] (the sources' wording, to check the text against),
         related: [{id, question, topic, probability}]}

    The text: with an LLM configured, the generative composer's answer from the retrieved
    sources (if it cites one); else a few whole sentences of the single best source. Searched
    like the Ask flow: redacted, within the tenant's scope, curated answers never used as a
    source. The curated answers the chat's matcher finds closest are listed as `related`
    (perhaps the wording is better added to one of them as a phrasing), and the topic of the
    closest is proposed. `answer` is "" when no source has a fitting sentence."""
    wording = " ".join(redact(question).text.split()).replace(";", ",")  # ";" separates stored phrasings
    if not wording:
        raise InputError("Bitte eine Frage angeben.")
    asker = services.asker
    retriever = asker.retriever
    scope = scope_of(wording, asker.serves(tenant) if asker.serves else JOBCENTER)

    sources = [  # a curated answer is no source of another one (and would crowd the sources out)
        h for h in retriever.search(wording, tenant, limit=SEARCH_LIMIT,
                                    keep=lambda p: scope.allows(p) and p.meta.get("kind") != "curated")
        if not guard.scan_document(h.passage.text)
    ]
    related = _related(asker, wording, tenant, scope)
    text, used, way = "", [], "none"
    if asker.llm is not None and sources and guard.check(wording).outcome != "injection":
        text, used = _generated(services, wording, sources)
        way = "generative" if text else way
    if not text:
        text, used = _extracted(retriever, wording, sources, tenant)
        way = "extractive" if text else way
    return {
        "question": _tidy(wording), "alternatives": [wording], "answer": text,
        "sources": [_source(h) for h in used],
        "source_texts": [{"citation": h.passage.citation, "text": h.passage.text} for h in used],
        "topic": next((r["topic"] for r in related if r["topic"]), None),
        "way": way,
        "related": related,
    }


def _related(asker, question: str, tenant: str, scope) -> list[dict]:
    """The curated answers that come closest, as the chat matches them, from a calibrated
    probability of RELATED_PROBABILITY on: {id, question, topic, probability}."""
    found = []
    for match in asker.curated_matches(asker.retriever.analyze(question, tenant), tenant, date.today(), scope, limit=5):
        probability = asker.calibration.probability("curated", match.features())
        if probability >= RELATED_PROBABILITY:
            p = match.passage
            found.append({"id": p.external_id, "question": p.heading or p.title, "topic": p.meta.get("topic"),
                          "probability": round(probability, 3)})
    return found[:RELATED_LIMIT]


def _extracted(retriever, question: str, hits: list[Hit], tenant: str) -> tuple[str, list[Hit]]:
    """Whole sentences of ONE source, as the Ask flow picks it: among the first few hits the
    first whose best sentences read well, else the first with any (further down, a passage that
    happens to hold the question's words is rarely the rule that answers it); without the "[1]"
    markers (a curated answer lists its sources apart)."""
    terms = retriever.query_terms(question, tenant)
    fallback: tuple[str, list[Hit]] = ("", [])
    for hit in hits[:EXTRACT_FROM]:
        extract = compose_extractive(
            question, [hit], max_sentences=PROPOSAL_SENTENCES, whole_sentences=True, query_terms=terms,
            tenant=tenant, vocabulary_folders=tsv_data.folders(retriever.settings, "vocabulary"),
        )
        text = _MARKER.sub("", extract.text).strip()
        if not text:
            continue
        if readable(extract.text):
            return text, [hit]
        fallback = fallback if fallback[0] else (text, [hit])
    return fallback


def _generated(services, question: str, hits: list[Hit]) -> tuple[str, list[Hit]]:
    """The LLM's answer from `hits` with the passages it cites; ("", []) when it fails, cites
    nothing, breaks off or begins to repeat its rules (then the extract is proposed)."""
    settings = services.settings
    try:
        composer = GenerativeComposer(services.asker.llm, settings, context_tokens=settings.llm_context_tokens)
        generation = composer.compose(question, hits)
    except (LLMError, ValueError):
        return "", []
    if generation.leaked or generation.error or not generation.grounded:
        return "", []
    return _MARKER.sub("", generation.text).strip(), list(generation.cited)


def _source(hit: Hit) -> dict:
    p = hit.passage
    return {"citation": p.citation, "source": p.source, "section": p.section, "url": p.url}


def _tidy(wording: str) -> str:
    """The citizen's wording as the answer's main question: capital first letter, a question mark."""
    text = wording[:1].upper() + wording[1:]
    if len(text) > MAX_QUESTION:
        text = text[: MAX_QUESTION - 1].rsplit(" ", 1)[0] + "…"
    elif not text.endswith(("?", "…")):
        text = text.rstrip(".!, ") + "?"
    return text


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
