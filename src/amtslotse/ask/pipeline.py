"""The Ask flow (DESIGN flow 2): redact -> guard -> retrieve -> compose -> Answer.

    >>> asker = Asker(retriever)
    >>> answer = asker.ask("Muss ich mein Auto verkaufen?", tenant="musterkreis")
    >>> answer.mode, answer.citations[0]["citation"]
    ('extractive', '§ 12 Abs. 1 SGB II')

`stream()` is the one implementation; it yields the events the chat streams to the citizen
(status at once, then sources, then text chunks, then the finished `Answer`), and `ask()`
returns the last of them. Extractive by default: the reply is made of sentences of the
retrieved passages, each with its citation; nothing is invented. With an LLM configured the
generative composer writes the reply from the same passages, and the extractive reply is the
fallback when it fails or cites nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Iterator, Sequence

from amtslotse.ask import guard, texts
from amtslotse.ask.extractive import compose_extractive
from amtslotse.ask.followup import retrieval_question
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
    emergency_contacts: list[dict] = field(default_factory=list)  # the tenant's, when urgent
    handover_summary: str | None = None  # proposed to the citizen when a handover is offered
    outcome: str = "answered"  # answered | handover | unsure | urgent | refused | injection | greeting
    passage_ids: list[int] = field(default_factory=list)  # what the text was taken or written from

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: status | sources | text | done (data: the Answer)."""

    kind: str
    data: Any


def citation_dict(hit: Hit) -> dict:
    p = hit.passage
    return {
        "citation": p.citation, "source": p.source, "section": p.section, "title": p.title,
        "url": p.url, "passage_id": p.id, "valid_from": p.valid_from.isoformat() if p.valid_from else None,
    }


@dataclass
class Asker:
    retriever: Retriever
    llm: Any = None  # an amtslotse.llm.LLM, or None: extractive answers only
    emergency_contacts: Any = None  # callable tenant -> list[EmergencyContact]; None: the fixed texts only

    def __post_init__(self) -> None:
        self._composer = None
        if self.llm is not None:
            from amtslotse.ask.generative import GenerativeComposer

            settings = self.retriever.settings
            self._composer = GenerativeComposer(self.llm, settings, context_tokens=settings.llm_context_tokens)

    def ask(self, question: str, tenant: str = SHARED_TENANT, as_of: date | None = None, **options) -> Answer:
        for event in self.stream(question, tenant, as_of, **options):
            pass
        return event.data

    def stream(
        self, question: str, tenant: str = SHARED_TENANT, as_of: date | None = None, *,
        history: Sequence[str] = (), first_turn: bool = True, simple: bool = False, language: str | None = None,
    ) -> Iterator[Event]:
        """The answer as events. `history`: the conversation's recent questions, redacted, oldest first."""
        yield Event("status", {"text": texts.SEARCHING})
        day = as_of or date.today()
        redacted = redact(question).text
        verdict = guard.check(question)
        answer = Answer(
            answer="", language=language or verdict.language, stand=day.isoformat(),
            reasons=list(verdict.reasons), redacted_question=redacted,
        )
        simple = simple or verdict.simple_language
        outcome = verdict.outcome
        sources_sent = False
        if outcome == "injection":
            answer.answer, answer.refused, answer.outcome, answer.mode = texts.REFUSE_INJECTION, True, "injection", "fixed"
        elif outcome == "refuse":
            answer.answer, answer.refused, answer.outcome, answer.mode = texts.REFUSE_OUT_OF_SCOPE, True, "refused", "fixed"
        elif outcome == "urgent":
            self._urgent(answer, verdict.urgent, tenant)
        elif not analysis.weighted_terms(redacted):  # "Hallo", "ok", "Danke": nothing to look up
            answer.answer, answer.outcome, answer.mode = texts.GREETING, "greeting", "fixed"
        else:
            # Only redacted text goes to retrieval and to an LLM.
            query = retrieval_question(redacted, history)
            hits = [h for h in self.retriever.search(query, tenant, day, limit=SEARCH_DEPTH) if not guard.scan_document(h.passage.text)]
            prefix = f"{texts.AI_NOTICE}\n\n" if first_turn else ""
            compose = self._compose(answer, redacted, query, hits, tenant, history, simple, outcome == "handover", prefix)
            for event in compose:
                sources_sent = sources_sent or event.kind == "sources"
                yield event
        if not sources_sent:
            yield Event("sources", {"citations": []})
        if answer.handover:
            answer.handover_summary = handover_summary(redacted, history, answer)
        if answer.language in texts.LANGUAGE_NOTES and answer.mode != "generative":
            answer.answer += f"\n\n{texts.LANGUAGE_NOTES[answer.language]}"
        if first_turn:
            answer.answer = f"{texts.AI_NOTICE}\n\n{answer.answer}"
        if answer.mode != "generative":  # generative text was streamed as it came
            yield Event("text", {"delta": answer.answer})
        yield Event("done", answer)

    def _urgent(self, answer: Answer, kind: str, tenant: str) -> None:
        answer.urgent, answer.handover, answer.urgent_kind, answer.outcome, answer.mode = True, True, kind, "urgent", "fixed"
        contacts = list(self.emergency_contacts(tenant)) if self.emergency_contacts else []
        answer.emergency_contacts = [vars(c) for c in contacts]
        lines = "\n".join(f"- {c.line()}" for c in contacts)
        answer.answer = texts.URGENT[kind] + (f"\n\n{texts.EMERGENCY_CONTACTS}\n{lines}" if lines else "")
        answer.answer += f"\n\n{texts.URGENT_HANDOVER}"

    def _compose(
        self, answer: Answer, asked: str, question: str, hits: list[Hit], tenant: str, history: Sequence[str],
        simple: bool, individual: bool, prefix: str,
    ) -> Iterator[Event]:
        """`asked`: this message (redacted); `question`: what was searched (with a follow-up's context)."""
        # A curated answer must fit this message itself: after "Zahlt ihr die Nebenkosten?",
        # "und wenn ich umziehe?" must not get the Nebenkosten answer again.
        curated, match = curated_match(asked, hits)
        if curated is not None and not individual:
            answer.mode, answer.confidence = "curated", round(match, 3)
            answer.citations = curated_citations(curated)
            yield Event("sources", {"citations": answer.citations})
            text = (simple and curated.passage.meta.get("answer_simple")) or curated.passage.text
            answer.passage_ids = [curated.passage.id]
            answer.answer = text + _sources_block(answer.citations, date.fromisoformat(answer.stand))
            return
        extract = compose_extractive(
            question, hits, query_terms=self.retriever.query_terms(question, tenant), tenant=tenant,
            vocabulary_dir=self.retriever.settings.vocabulary_dir,
        )
        confident = bool(extract.text) and extract.confidence >= UNSURE_BELOW
        answer.confidence = round(extract.confidence, 3)
        if individual:
            # Never a decision about the person's case: the general rule (if we have it) and a handover.
            answer.handover, answer.outcome, answer.answer = True, "handover", texts.HANDOVER_OFFER
            confident = confident and extract.confidence >= GENERAL_RULE_ABOVE
            if confident:
                answer.answer += f"\n\n{texts.GENERAL_RULE_INTRO}\n{extract.text}"
        elif not confident:
            answer.handover, answer.outcome, answer.answer = True, "unsure", texts.UNSURE
            return
        elif self._composer is not None:
            generated = yield from self._generate(answer, asked, hits, history, simple, prefix)
            if generated:
                return
            answer.answer = extract.text
        else:
            answer.answer = extract.text
        if confident:
            answer.citations = [citation_dict(h) for h in extract.citations]
            answer.passage_ids = [h.passage.id for h in extract.citations]
            yield Event("sources", {"citations": answer.citations})
            if simple and not individual:
                answer.answer = f"{texts.SIMPLE_LAW_NOTE}\n\n{answer.answer}"
            answer.answer += _sources_block(answer.citations, date.fromisoformat(answer.stand))

    def _generate(
        self, answer: Answer, question: str, hits: list[Hit], history: Sequence[str], simple: bool, prefix: str,
    ) -> Iterator[Event]:
        """Stream an LLM answer; returns False (nothing was streamed) when the extractive answer should stand.

        What is streamed is the final answer (notice, text, sources), except when the finished
        text turns out unusable (it cites nothing, or repeats the rules): then the replacement
        comes as one more chunk and in the done event, which clients render as authoritative."""
        from amtslotse.llm import LLMError

        generation = self._composer.stream(question, hits, history=history, language=answer.language, simple=simple)
        try:
            first = next(generation)
        except StopIteration:  # nothing to show; when it began by reciting its rules, refuse
            if generation.leaked:
                answer.answer, answer.refused, answer.outcome, answer.mode = texts.REFUSE_INJECTION, True, "injection", "fixed"
            return generation.leaked
        except LLMError:
            return False  # the server failed before saying anything: extractive fallback
        yield Event("sources", {"citations": [citation_dict(h) for h in generation.hits]})
        answer.mode = "generative"
        yield Event("text", {"delta": prefix + first})
        for chunk in generation:
            yield Event("text", {"delta": chunk})
        if generation.leaked:
            answer.answer, answer.refused, answer.outcome, answer.mode = texts.REFUSE_INJECTION, True, "injection", "fixed"
        elif not generation.grounded:  # no source, no factual claim
            answer.answer, answer.handover, answer.outcome, answer.mode = texts.UNSURE, True, "unsure", "fixed"
        else:
            answer.citations = [citation_dict(h) for h in generation.cited]
            answer.passage_ids = [h.passage.id for h in generation.cited]
            sources = _sources_block(answer.citations, date.fromisoformat(answer.stand))
            yield Event("text", {"delta": sources})
            answer.answer = generation.text + sources
        return True


def _sources_block(citations: list[dict], day: date) -> str:
    """ "Quellen:" with one line per citation, then the day the knowledge was valid for ("Stand")."""
    if not citations:
        return ""
    lines = [f"[{n}] {c['citation']}" for n, c in enumerate(citations, start=1)]
    return f"\n\n{texts.SOURCES_NOTE}:\n" + "\n".join(lines) + f"\n{texts.STAND}: {day:%d.%m.%Y}"


def handover_summary(question: str, history: Sequence[str], answer: Answer) -> str:
    """What the citizen is asked to agree to send: their (redacted) questions and the topic,
    in plain German. They see it, may edit it and add a contact way before it is sent."""
    asked = [q for q in [*history, question] if q.strip()][-3:]
    lines = [texts.SUMMARY_INTRO] + [f"- {q.strip()}" for q in asked]
    if answer.citations:
        lines.append(f"{texts.SUMMARY_TOPIC}: {answer.citations[0].get('title') or answer.citations[0]['citation']}")
    if answer.urgent:
        lines.append(texts.SUMMARY_URGENT)
    return "\n".join(lines)


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
