"""The Ask flow (DESIGN flow 2): redact -> guard -> retrieve -> compose -> Answer.

Example (it needs a store and models, so it is not run as a doctest)::

    asker = Asker(retriever)
    answer = asker.ask("Muss ich mein Auto verkaufen?", tenant="musterkreis")
    answer.outcome, answer.mode   # e.g. ('answered', 'curated'); answer.citations: the sources

`stream()` is the one implementation; it yields the events the chat streams to the citizen
(status at once, then sources, then text chunks, then the finished `Answer`), and `ask()`
returns the last of them. Extractive by default: the reply is made of sentences of the
retrieved passages, each with its citation; nothing is invented. With an LLM configured the
generative composer writes the reply from the same passages, and the extractive reply is the
fallback when it fails or cites nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from amtslotse.ask import texts
from amtslotse.ask.calibration import Calibration, load_calibration
from amtslotse.ask.choose import CuratedIndex, CuratedMatch
from amtslotse.ask.emergency import emergency_contacts_for
from amtslotse.ask.extractive import Extract, compose_extractive
from amtslotse.ask.followup import is_followup, retrieval_question
from amtslotse.ask.generative import GenerativeComposer
from amtslotse.ask.readability import readable
from amtslotse.ask.scope import JOBCENTER, Scope, law_of, scope_of
from amtslotse.knowledge.splitter import strip_tags
from amtslotse.llm import LLMError
from amtslotse.models import SHARED_TENANT, AnswerMode, AnswerOutcome, Hit, Passage
from amtslotse.privacy.redaction import redact
from amtslotse.screening import guard
from amtslotse.search import analysis, tsv_data
from amtslotse.search.hybrid import Query, Retriever

SUGGEST_AT_LEAST = 0.2
"""A curated answer the calibration does not trust enough to show is still offered as a question
("Meinten Sie vielleicht:") when its probability reaches this (at most MAX_SUGGESTIONS of them):
the citizen picks it, and asked word for word it gets its answer."""
MAX_SUGGESTIONS = 3

SEARCH_DEPTH = 8
EXTRACT_FROM = 3
"""An extract is taken from one of the first few hits only: further down, a passage that
happens to contain the question's words is rarely the rule that answers it."""


@dataclass
class Answer:
    answer: str
    citations: list[dict] = field(default_factory=list)
    handover: bool = False
    urgent: bool = False
    refused: bool = False
    confidence: float = 0.0
    language: str = "de"
    mode: AnswerMode = "extractive"
    stand: str = ""  # the day the knowledge was valid for ("Stand")
    urgent_kind: str | None = None
    reasons: list[str] = field(default_factory=list)  # guard reason codes, no user text
    redacted_question: str = ""  # what may be stored or logged
    emergency_contacts: list[dict] = field(default_factory=list)  # the tenant's that fit the emergency, when urgent
    urgent_advice: str | None = None  # what helps now, when urgent (the widget leads its emergency box with it)
    handover_summary: str | None = None  # proposed to the citizen when a handover is offered
    outcome: AnswerOutcome = "answered"
    passage_ids: list[int] = field(default_factory=list)  # what the text was taken or written from
    topic: str = ""  # what it was about, for analytics: the curated answer's topic, else the intent or first source
    chosen: dict | None = None  # how the answer was chosen: way (curated | extractive), curated id, phrasing, features
    german: str | None = None  # the German original when the answer is shown in another language
    candidates: list[dict] = field(default_factory=list)  # the ranked sources it was chosen from (staff search test, evaluation)
    curated_candidates: list[dict] = field(default_factory=list)  # the best-fitting curated answers, shown or not, and their probability
    suggestions: list[dict] = field(default_factory=list)  # when unsure: curated questions that may be meant ({curated_id, question})

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
    serves: Any = None  # callable tenant -> frozenset of laws it serves (TenantConfig.scope); None: a Jobcenter's
    calibration: Calibration | None = None  # None: the shipped model for the retriever's embedder

    def __post_init__(self) -> None:
        self.curated_index = CuratedIndex(self.retriever.store, self.retriever.embedder)
        if self.calibration is None:
            embedder = self.retriever.embedder
            self.calibration = load_calibration(embedder.name if embedder else "")
        self._composer = None
        if self.llm is not None:
            settings = self.retriever.settings
            self._composer = GenerativeComposer(self.llm, settings, context_tokens=settings.llm_context_tokens)

    def ask(self, question: str, tenant: str = SHARED_TENANT, as_of: date | None = None, **options) -> Answer:
        for event in self.stream(question, tenant, as_of, **options):
            pass
        return event.data

    def stream(
        self, question: str, tenant: str = SHARED_TENANT, as_of: date | None = None, *,
        history: Sequence[str] = (), first_turn: bool = True, simple: bool = False, language: str | None = None,
        already_redacted: bool = False, leave_out: Collection[str] = (),
    ) -> Iterator[Event]:
        """The answer as events. `history`: the conversation's recent questions, redacted, oldest first.
        `already_redacted`: the question is redacted text (an inbox message, redacted at intake),
        so it is not redacted a second time. `leave_out`: ids of curated answers treated as absent
        (scripts/calibrate.py asks so what is shown when a question's right answer is missing)."""
        yield Event("status", {"text": texts.SEARCHING})
        day = as_of or date.today()
        redacted = question if already_redacted else redact(question).text
        verdict = guard.check(redacted, history=history)
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
        elif outcome == "authority":
            answer.answer, answer.outcome, answer.mode = texts.AUTHORITY[verdict.authority], "authority", "fixed"
        elif not (written := analysis.weighted_terms(asked := strip_tags(redacted))):  # "Hallo", "ok", "Danke": nothing to look up
            answer.answer, answer.outcome, answer.mode = texts.GREETING, "greeting", "fixed"
        else:
            # Only redacted text goes to retrieval and to an LLM; markup is no part of a question.
            # The question is analysed once here; search, curated matching and the extract reuse it.
            scope = scope_of(asked, self.serves(tenant) if self.serves else JOBCENTER)
            followup = bool(history) and is_followup(asked, written)
            query = self.retriever.analyze(
                retrieval_question(asked, history, followup), tenant, written=None if followup else written,
            )
            hits = [
                h for h in self.retriever.search(query, tenant, day, limit=SEARCH_DEPTH, keep=scope.allows)
                if not guard.scan_document(h.passage.text)
            ]
            answer.candidates = [candidate_dict(h) for h in hits]
            prefix = f"{texts.AI_NOTICE}\n\n" if first_turn else ""
            compose = self._compose(
                answer, asked, query, followup, hits, tenant, history, simple, outcome == "handover", prefix, scope, day,
                leave_out,
            )
            for event in compose:
                sources_sent = sources_sent or event.kind == "sources"
                yield event
        if not sources_sent:
            yield Event("sources", {"citations": []})
        answer.topic = answer_topic(answer)
        if answer.outcome != "unsure":
            answer.suggestions = []
        elif answer.suggestions:
            answer.answer += f"\n\n{texts.SUGGESTIONS}\n" + "\n".join(f"- {s['question']}" for s in answer.suggestions)
        if answer.handover:
            answer.handover_summary = handover_summary(redacted, history, answer)
        if answer.language in texts.LANGUAGE_NOTES and answer.mode != "generative" and answer.german is None:
            answer.answer += f"\n\n{texts.LANGUAGE_NOTES[answer.language]}"
        if first_turn:
            answer.answer = f"{texts.AI_NOTICE}\n\n{answer.answer}"
        if answer.mode != "generative":  # generative text was streamed as it came
            yield Event("text", {"delta": answer.answer})
        yield Event("done", answer)

    def _urgent(self, answer: Answer, kind: str, tenant: str) -> None:
        answer.urgent, answer.handover, answer.urgent_kind, answer.outcome, answer.mode = True, True, kind, "urgent", "fixed"
        contacts = emergency_contacts_for(list(self.emergency_contacts(tenant)) if self.emergency_contacts else [], kind)
        answer.emergency_contacts = [vars(c) for c in contacts]
        lines = "\n".join(f"- {c.line()}" for c in contacts)
        answer.urgent_advice = texts.URGENT[kind]
        answer.answer = texts.URGENT[kind] + (f"\n\n{texts.EMERGENCY_CONTACTS}\n{lines}" if lines else "")
        answer.answer += f"\n\n{texts.URGENT_HANDOVER}"

    def _compose(
        self, answer: Answer, asked: str, question: Query, followup: bool, hits: list[Hit], tenant: str,
        history: Sequence[str], simple: bool, individual: bool, prefix: str, scope: Scope, day: date,
        leave_out: Collection[str] = (),
    ) -> Iterator[Event]:
        """`asked`: this message (redacted); `question`: what was searched (with a follow-up's
        context), analysed; `followup`: whether this message continues the previous question.

        Choose, in this order: a curated answer that fits the intent of the whole message; else one
        plain extract of the single best source; each shown only when the calibration says it is
        likely right. An individual case gets the general rule (if sure) beside a handover."""
        # A curated answer must fit this message: a message that stands alone is matched alone
        # (after "Zahlt ihr die Nebenkosten?" a new topic must not get the Nebenkosten answer
        # again); a follow-up ("und wenn ich umziehe?") is matched with the question before it.
        # Without a follow-up, `question` is `asked`: the message alone.
        previous = self._best_curated(history[-1], tenant, day, scope) if followup else None
        match = self._curated(answer, question, hits, tenant, day, scope, exclude={*leave_out, *filter(None, [previous])})
        if match is not None:
            answer.confidence = round(self.calibration.probability("curated", match.features()), 3)
            text, german = _curated_text(match, simple, answer.language)
            answer.citations = [
                c | {"passage_id": self.curated_index.law_passage(c.get("source"), c.get("section"), day)} if c.get("curated_id") else c
                for c in curated_citations(match.passage)
            ]
            answer.passage_ids = [match.passage.id]
            answer.chosen = {
                "way": "curated", "curated_id": match.passage.external_id, "phrasing": match.phrasing,
                "topic": match.passage.meta.get("topic") or "", "features": match.features(),
            }
            answer.german = german
            yield Event("sources", {"citations": answer.citations})
            if individual:
                answer.handover, answer.outcome = True, "handover"
                answer.answer = f"{texts.HANDOVER_OFFER}\n\n{texts.GENERAL_RULE_INTRO}\n{text}"
            else:
                answer.mode = "curated"
                answer.answer = _scope_note(scope, answer.citations) + text
            answer.answer += _sources_block(answer.citations, day)
            return
        extract, hit = self._extract(question, hits, tenant)
        features = extract_features(extract, hit, hits) if hit is not None else {}
        shown = hit is not None and self.calibration.shows("extractive", features)
        answer.confidence = round(self.calibration.probability("extractive", features), 3) if hit is not None else 0.0
        if hit is not None:
            answer.chosen = {"way": "extractive", "passage_id": hit.passage.id, "citation": hit.passage.citation, "features": features}
        if individual:
            # Never a decision about the person's case: the general rule (if we have it) and a handover.
            answer.handover, answer.outcome, answer.answer = True, "handover", texts.HANDOVER_OFFER
            if shown:
                answer.answer += f"\n\n{texts.GENERAL_RULE_INTRO}\n{extract.text}"
        elif self._composer is not None and hits:
            # An LLM writes from the scoped sources, law included; its citations are checked as
            # it streams. Without a usable result, the extract if the calibration trusts it.
            generated = yield from self._generate(answer, asked, hits, history, simple, prefix)
            if generated:
                return
            if not shown:
                answer.handover, answer.outcome, answer.answer = True, "unsure", texts.UNSURE
                return
            answer.answer = extract.text
        elif not shown:
            answer.handover, answer.outcome, answer.answer = True, "unsure", texts.UNSURE
            return
        else:
            answer.answer = extract.text
        if shown:
            answer.citations = [citation_dict(h) for h in extract.citations]
            answer.passage_ids = [h.passage.id for h in extract.citations]
            yield Event("sources", {"citations": answer.citations})
            if simple and not individual:
                answer.answer = f"{texts.SIMPLE_LAW_NOTE}\n\n{answer.answer}"
            if not individual:
                answer.answer = _scope_note(scope, answer.citations) + answer.answer
            answer.answer += _sources_block(answer.citations, day)

    def _best_curated(self, asked: str, tenant: str, day: date, scope: Scope) -> str | None:
        """The id of the curated answer that best fits `asked` (the question a follow-up continues)."""
        matches = self.curated_index.match(asked, self.retriever.query_vector(asked), tenant, day, keep=scope.allows)
        return matches[0].passage.external_id if matches else None

    def curated_matches(
        self, asked: Query, tenant: str, day: date, scope: Scope, hits: list[Hit] | None = None, limit: int = 6,
        exclude: Collection[str] = (),
    ) -> list[CuratedMatch]:
        """The curated answers that fit `asked` best, within the scope, with their features
        (including where the search ranked each; `hits`: the search's for `asked`, else searched
        here). `exclude`: ids of answers left out, as if they did not exist. What the chat shows,
        the gap list's "related" and the calibration's missing-answer check read."""
        if hits is None:
            hits = self.retriever.search(asked, tenant, day, limit=SEARCH_DEPTH, keep=scope.allows)
        found = [
            h.passage.external_id for h in hits
            if h.passage.meta.get("kind") == "curated" and h.passage.external_id not in exclude
        ]
        return self.curated_index.match(
            asked.text, self.retriever.query_vector(asked.text), tenant, day, limit=limit, written=asked.written,
            keep=scope.allows, exclude=exclude, found=found,
        )

    def _curated(
        self, answer: Answer, asked: Query, hits: list[Hit], tenant: str, day: date, scope: Scope,
        exclude: Collection[str] = (),
    ) -> CuratedMatch | None:
        """The curated answer that fits, if the calibration trusts the match (the best three are
        kept on the answer, so that an editor sees why one won or none did). `hits`: the search's,
        whose rank of each answer is one of the match's features. `exclude`: the answer to the
        question a follow-up continues ("und wenn ich umziehe?" asks something new), and those left out."""
        matches = self.curated_matches(asked, tenant, day, scope, hits, exclude=exclude)
        answer.curated_candidates = [
            {"curated_id": m.passage.external_id, "passage_id": m.passage.id, "question": m.passage.heading, "phrasing": m.phrasing,
             "probability": round(self.calibration.probability("curated", m.features()), 3),
             "features": {k: round(v, 3) for k, v in m.features().items()}}
            for m in matches[:3]
        ]
        answer.suggestions = [  # kept only if the answer ends unsure (Asker.stream)
            {"curated_id": m.passage.external_id, "question": _question_in(m.passage, answer.language)}
            for m, c in zip(matches, answer.curated_candidates) if c["probability"] >= SUGGEST_AT_LEAST
        ][:MAX_SUGGESTIONS]
        # A question asked word for word as an answer's phrasing gets that answer: an editor
        # added the phrasing for it (the gap list's one step), so it is live at once, whatever
        # the calibration, which learned from questions no editor had seen, says.
        exact = next((m for m in matches if m.exact), None)
        if exact is not None:
            return exact
        if matches and self.calibration.shows("curated", matches[0].features()):
            return matches[0]
        return None

    def _extract(self, question: Query, hits: list[Hit], tenant: str) -> tuple[Extract, Hit | None]:
        """A few whole sentences of ONE plain-language source (a guidance page, a tenant's own
        page or upload): the first of the top hits whose best sentences answer the question
        readably. Law is the source, not the answer: on real questions, extracts of law text were
        never complete (README, "Antworten auf echte Fragen"); an LLM may still write from it."""
        for hit in hits[:EXTRACT_FROM]:
            if hit.passage.meta.get("kind") == "curated" or hit.passage.section:
                continue  # a curated answer is shown whole or not at all; law is not shown as the answer
            extract = compose_extractive(
                question.text, [hit], query_terms=question.terms, question_terms=question.written, tenant=tenant,
                max_sentences=3, max_chars=600,
                whole_sentences=True, vocabulary_folders=tsv_data.folders(self.retriever.settings, "vocabulary"),
            )
            if extract.text and readable(extract.text):
                return extract, hit
        return Extract(""), None

    def _generate(
        self, answer: Answer, question: str, hits: list[Hit], history: Sequence[str], simple: bool, prefix: str,
    ) -> Iterator[Event]:
        """Stream an LLM answer; returns False (nothing was streamed) when the extractive answer should stand.

        What is streamed is the final answer (notice, text, sources), except when the finished
        text turns out unusable (it cites nothing, or repeats the rules): then the replacement
        comes as one more chunk and in the done event, which clients render as authoritative."""
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


def answer_topic(answer: Answer) -> str:
    """The analytics topic: a curated answer's topic, else the intent (emergency, own case, another
    authority), else the title of the first source."""
    if answer.chosen and answer.chosen.get("topic") and answer.mode == "curated":
        return texts.topic_label(answer.chosen["topic"])
    if answer.outcome in texts.OUTCOME_TOPICS:
        return texts.OUTCOME_TOPICS[answer.outcome]
    if answer.chosen and answer.chosen.get("topic"):
        return texts.topic_label(answer.chosen["topic"])
    return (answer.citations[0].get("title") or answer.citations[0]["citation"]) if answer.citations else ""


def candidate_dict(hit: Hit) -> dict:
    p = hit.passage
    return citation_dict(hit) | {
        "score": round(hit.score, 4), "kind": p.meta.get("kind") or ("law" if p.section else "page"),
        "curated_id": p.external_id if p.meta.get("kind") == "curated" else None,
        "sources": p.meta.get("sources") if p.meta.get("kind") == "curated" else None,
    }


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


def curated_citations(passage: Passage) -> list[dict]:
    """The sources a curated answer rests on (the law text opens in the source dialog through
    `curated_id` and the section), else the answer itself."""
    return [
        {
            "citation": source.get("citation", ""), "source": source.get("source"), "section": source.get("section"),
            "title": source.get("title") or source.get("citation", ""), "url": source.get("url"),
            "passage_id": None, "curated_id": passage.external_id,
        }
        for source in passage.meta.get("sources", [])
    ] or [citation_dict(Hit(passage, 1.0))]


def _question_in(passage: Passage, language: str) -> str:
    """A curated answer's question in `language` where it is translated, else in German."""
    translated = (passage.meta.get("translations") or {}).get(language) or {}
    return translated.get("question") or passage.heading or passage.title


def _curated_text(match: CuratedMatch, simple: bool, language: str) -> tuple[str, str | None]:
    """(text shown, the German original when the text is a translation)."""
    passage = match.passage
    german = (simple and passage.meta.get("answer_simple")) or passage.text
    translated = (passage.meta.get("translations") or {}).get(language)
    if language != "de" and translated and not simple:
        return translated["answer"], german
    return german, None


def _scope_note(scope: Scope, citations: list[dict]) -> str:
    """A line that says which benefit the answer explains: when it is not the tenant's own (the
    question named it), or when the question's word may mean either ("Arbeitslosengeld",
    "Grundsicherung" without saying which)."""
    laws = [law_of(c.get("source")) for c in citations if c.get("source")]
    main = laws[0] if laws else ""
    note = texts.SCOPE_NOTES.get(main) if main in scope.extra or scope.ambiguous else None
    return f"{note}\n\n" if note else ""


EXTRACTIVE_FEATURES = ("confidence", "plain", "rank", "relative")
"""What the calibration knows about an extract (extract_features): the only names its weights
may use (data/calibration/model.json, checked by `amtslotse check`)."""


def extract_features(extract: Extract, hit: Hit, hits: list[Hit]) -> dict[str, float]:
    """What the calibration knows about an extract (EXTRACTIVE_FEATURES, in that order): its
    coverage of the question, whether it is plain language (a page) rather than law, the
    source's rank and relative score."""
    top = hits[0].score if hits and hits[0].score > 0 else 1.0
    values = (
        extract.confidence,
        0.0 if hit.passage.section else 1.0,
        float(hits.index(hit)) if hit in hits else 9.0,
        hit.score / top,
    )
    return dict(zip(EXTRACTIVE_FEATURES, values, strict=True))
