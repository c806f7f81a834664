"""The Ask flow (DESIGN flow 2): redact -> guard -> retrieve -> compose -> Answer.

    >>> asker = Asker(retriever)
    >>> answer = asker.ask("Muss ich mein Auto verkaufen?", tenant="musterkreis")
    >>> answer.mode, answer.citations[0]["citation"]
    ('extractive', '§ 12 Abs. 1 SGB II')

Extractive by default: the reply is made of sentences of the retrieved passages, each with
its citation; nothing is invented. Conversations, curated answers, the LLM mode and HTTP come
on top of this function.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from amtslotse.ask import guard, texts
from amtslotse.ask.extractive import compose_extractive
from amtslotse.models import SHARED_TENANT, Hit
from amtslotse.privacy.redaction import redact
from amtslotse.search import analysis
from amtslotse.search.hybrid import Retriever

UNSURE_BELOW = 0.35
"""Extractive confidence below which the assistant says it is unsure instead of answering."""

GENERAL_RULE_ABOVE = 0.6
"""Beside a handover, the general rule is shown only when retrieval is this sure of it: an
individual-case question ("Wo ist mein Geld?") rarely names the rule it depends on."""

CURATED_ABOVE = 0.6
"""A curated answer wins when it is among the top hits and its question or one of its other
phrasings covers this share of the (weighted) words of the citizen's question."""

SEARCH_DEPTH = 8


@dataclass
class Answer:
    answer: str
    citations: list[dict] = field(default_factory=list)
    handover: bool = False
    urgent: bool = False
    refused: bool = False
    confidence: float = 0.0
    language: str = "de"
    mode: str = "extractive"
    stand: str = ""  # the day the knowledge was valid for ("Stand")
    urgent_kind: str | None = None
    reasons: list[str] = field(default_factory=list)  # guard reason codes, no user text
    redacted_question: str = ""  # what may be stored or logged

    def to_dict(self) -> dict:
        return asdict(self)


def citation_dict(hit: Hit) -> dict:
    p = hit.passage
    return {
        "citation": p.citation, "source": p.source, "section": p.section, "title": p.title,
        "url": p.url, "passage_id": p.id, "valid_from": p.valid_from.isoformat() if p.valid_from else None,
    }


@dataclass
class Asker:
    retriever: Retriever

    def ask(self, question: str, tenant: str = SHARED_TENANT, as_of: date | None = None,
            first_turn: bool = True) -> Answer:
        day = as_of or date.today()
        redacted = redact(question).text
        verdict = guard.check(question)
        answer = Answer(
            answer="", language=verdict.language, stand=day.isoformat(),
            reasons=list(verdict.reasons), redacted_question=redacted,
        )
        outcome = verdict.outcome
        if outcome == "injection":
            answer.answer, answer.refused = texts.REFUSE_INJECTION, True
        elif outcome == "refuse":
            answer.answer, answer.refused = texts.REFUSE_OUT_OF_SCOPE, True
        elif outcome == "urgent":
            answer.urgent, answer.handover, answer.urgent_kind = True, True, verdict.urgent
            answer.answer = f"{texts.URGENT[verdict.urgent]}\n\n{texts.URGENT_HANDOVER}"
        elif not analysis.weighted_terms(redacted):  # "Hallo", "ok", "Danke": nothing to look up
            answer.answer = texts.GREETING
        else:
            # Only the redacted text goes to retrieval (and, later, to an LLM).
            self._compose(answer, redacted, tenant, day, individual=outcome == "handover")
        if verdict.language in texts.LANGUAGE_NOTES:
            answer.answer += f"\n\n{texts.LANGUAGE_NOTES[verdict.language]}"
        if first_turn:
            answer.answer = f"{texts.AI_NOTICE}\n\n{answer.answer}"
        return answer

    def _compose(self, answer: Answer, question: str, tenant: str, day: date, individual: bool) -> None:
        hits = self.retriever.search(question, tenant, day, limit=SEARCH_DEPTH)
        curated, match = curated_match(question, hits)
        if curated is not None and not individual:
            answer.mode, answer.confidence = "curated", round(match, 3)
            answer.citations = curated_citations(curated)
            answer.answer = curated.passage.text + "\n\n" + texts.SOURCES_NOTE + ":\n" + "\n".join(
                f"[{n}] {c['citation']}" for n, c in enumerate(answer.citations, start=1)
            )
            return
        extract = compose_extractive(
            question, hits, query_terms=self.retriever.query_terms(question, tenant), tenant=tenant,
            vocabulary_dir=self.retriever.settings.vocabulary_dir,
        )
        confident = extract.text and extract.confidence >= UNSURE_BELOW
        answer.confidence = round(extract.confidence, 3)
        if individual:
            # Never a decision about the person's case: the general rule (if we have it) and a handover.
            answer.handover = True
            answer.answer = texts.HANDOVER_OFFER
            confident = confident and extract.confidence >= GENERAL_RULE_ABOVE
            if confident:
                answer.answer += f"\n\n{texts.GENERAL_RULE_INTRO}\n{extract.text}"
        elif not confident:
            answer.handover = True
            answer.answer = texts.UNSURE
            return
        else:
            answer.answer = extract.text
        if confident:
            answer.citations = [citation_dict(h) for h in extract.citations]
            answer.answer += "\n\n" + texts.SOURCES_NOTE + ":\n" + "\n".join(
                f"[{n}] {c['citation']}" for n, c in enumerate(answer.citations, start=1)
            )


def curated_match(question: str, hits: list[Hit], top: int = 3) -> tuple[Hit | None, float]:
    """The best curated answer among the top hits whose phrasings cover the question."""
    asked = analysis.weighted_terms(question)
    total = sum(asked.values())
    best: tuple[Hit | None, float] = (None, 0.0)
    for hit in hits[:top]:
        if hit.passage.meta.get("kind") != "curated" or not total:
            continue
        for phrasing in [hit.passage.heading or "", *hit.passage.keywords.split(";")]:
            known = analysis.weighted_terms(phrasing)
            coverage = sum(w for term, w in asked.items() if term in known) / total
            if coverage >= CURATED_ABOVE and coverage > best[1]:
                best = (hit, coverage)
    return best


def curated_citations(hit: Hit) -> list[dict]:
    return [
        {
            "citation": source.get("citation", ""), "source": source.get("source"), "section": source.get("section"),
            "title": source.get("title") or source.get("citation", ""), "url": source.get("url"),
            "passage_id": None, "curated_id": hit.passage.external_id,
        }
        for source in hit.passage.meta.get("sources", [])
    ] or [citation_dict(hit)]
