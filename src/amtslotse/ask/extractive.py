"""Extractive composer: the default "compose" step of the Ask flow (no LLM).

It picks a few sentences from the retrieved passages and returns them with citation markers.
It never writes a word of its own: every sentence is the source's wording, except for three
visible, documented edits (ELLIPSIS marks each one):

- a list item is shown after the sentence start that introduces its list
  ("Nicht zu berücksichtigen sind … ein angemessenes Kraftfahrzeug …"), without its number
  and without the trailing list glue ("," / "und" / "oder" / "sowie");
- a sentence too long for the reply loses whole trailing sub-clauses after a semicolon;
- Absatz markers "(1)" and list numbers "1." at the start are dropped, whitespace is collapsed.

So each piece between ELLIPSIS marks occurs verbatim (up to whitespace) in the cited passage::

    hits = retriever.search("Muss ich mein Auto verkaufen?", "bund")
    extract = compose_extractive("Muss ich mein Auto verkaufen?", hits)
    extract.citations[0].passage.citation    # '§ 12 Abs. 1 SGB II'

An empty `text` (confidence 0) means nothing in the hits answers the question: the caller then
says it is unsure and offers a handover.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from amtslotse.models import SHARED_TENANT, Hit
from amtslotse.search import analysis, tsv_data, vocabulary

ELLIPSIS = "…"
"""Marks every place where the composer left source text out (joined as " … ")."""

MIN_SENTENCE_CHARS = 30
MAX_SENTENCE_CHARS = 400
"""Shorter sentences are mostly fragments, longer ones unreadable; both are used only when
nothing else matches."""

MAX_PER_PASSAGE = 2
RELATIVE_FLOOR = 0.4
"""A sentence is kept only if it scores at least this share of the best sentence: weak
matches after a strong one add noise, not information."""

DUPLICATE_OVERLAP = 0.7
"""Jaccard overlap of analysed terms above which a sentence counts as a near-duplicate
(the same rule in an old and a new version, in a law and a guidance page)."""


@dataclass(frozen=True)
class Extract:
    """The reply body and what it rests on.

    `text`: the selected sentences, grouped by passage in rank order (text order within one),
    each followed by its marker "[n]"; passages are separated by a blank line.
    `citations`: the hits used, marker [n] = citations[n - 1].
    `sentences`: (sentence, index into `citations`) in the order of `text`.
    `confidence`: see `confidence()`.
    """

    text: str
    citations: list[Hit] = field(default_factory=list)
    confidence: float = 0.0
    sentences: list[tuple[str, int]] = field(default_factory=list)


# --- splitting --------------------------------------------------------------------------------



def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ABBREVIATIONS = _word_set(
    """abs nr nrn art vgl bzw ggf usw etc ca evtl inkl insb einschl zzgl gem buchst lfd ff bzgl
    dr prof hr fr mo di mi do sa jan feb apr jun jul aug sep sept okt nov dez aufl bd bgbl az
    rn rz std tel str sog max min mio mrd allg anm abschn anl bspw betr ehem ggü zb dh ua uu idr
    ivm oä"""
)
_REFERENCE_WORDS = _word_set("§ §§ satz sätze absatz absätze abs nummer nummern nr nrn buchstabe artikel art kapitel anlage seite s")
# A candidate boundary: sentence punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"[.!?][\"'»«“”)\]]*\s+")
_SENTENCE_START = re.compile(r"[A-ZÄÖÜ§\"'»«„“(]")
_DOTTED_ABBREVIATION = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]?$")  # z.B. d.h. i.V.m.
_ABSATZ_MARK = re.compile(r"^\(\d{1,3}[a-z]?\)\s*")
_LIST_MARK = re.compile(r"^(?:\d{1,3}[a-z]?\.|[a-z]{1,2}\)|[-*•–])\s+")
_LIST_GLUE = re.compile(r"(?:[\s,;]+(?:und|oder|sowie|bzw\.))?[\s,;]*$")
_SPACE = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")


def _is_boundary(text: str, dot: int, after: int) -> bool:
    """Is the punctuation at `dot` a sentence end? `after` is where the next sentence would start."""
    if after >= len(text) or not _SENTENCE_START.match(text, after):
        return False
    if text[dot] != ".":
        return True
    words = text[:dot].split()
    if not words:
        return False
    word = words[-1].lstrip("(\"'„»")
    bare = word.lower().replace(".", "")
    if len(word) == 1 and word.isalpha():  # "S.", "z. B.", "d. h.", initials
        return False
    if bare in _ABBREVIATIONS or _DOTTED_ABBREVIATION.match(word + "."):
        return False
    if word.isdigit() and len(word) <= 2:
        # "1. Juli", "des 25. Lebensjahres": an ordinal, unless it is the number of a
        # reference that ends the sentence ("gilt Absatz 1 Satz 3.").
        previous = words[-2].lower().rstrip(".") if len(words) > 1 else ""
        return previous in _REFERENCE_WORDS
    return True


def split_sentences(text: str) -> list[str]:
    """Sentences of one block of running text (no list items, no table rows inside)."""
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        dot = match.start()
        if _is_boundary(text, dot, match.end()):
            sentences.append(text[start:match.end()].strip())
            start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


@dataclass(frozen=True)
class _Unit:
    """A candidate sentence: `core` is source text; `lead` the list's introducing words."""

    core: str
    lead: str = ""
    position: int = 0
    complete: bool = True  # ends as the source sentence ends (no glue or sub-clauses cut off)

    def render(self, core: str | None = None, complete: bool | None = None) -> str:
        core = self.core if core is None else core
        complete = self.complete if complete is None else complete
        out = f"{self.lead} {ELLIPSIS} {core}" if self.lead else core
        return out if complete else f"{out} {ELLIPSIS}"

    def variants(self) -> list[tuple[str, str]]:
        """(rendered, core) from the whole unit down to its first semicolon clause."""
        out = [(self.render(), self.core)]
        cut = self.core
        while (i := cut.rfind("; ")) >= MIN_SENTENCE_CHARS:
            cut = cut[:i]
            out.append((self.render(cut, complete=False), cut))
        return out


def _blocks(text: str) -> list[tuple[str, str]]:
    """(kind, text) blocks: "text", "item" (list item) or "skip" (table row, heading, debris)."""
    blocks: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            blocks.append(("", []))
            continue
        if line.startswith(("|", "#")) or line.count("|") >= 2:
            blocks.append(("skip", [line]))
        elif _LIST_MARK.match(line):
            blocks.append(("item", [line]))
        elif blocks and blocks[-1][0] in ("text", "item") and blocks[-1][1]:
            blocks[-1][1].append(line)  # a wrapped line continues its block
        else:
            blocks.append(("text", [line]))
    out = []
    for kind, lines in blocks:
        if not lines:
            continue
        joined = _SPACE.sub(" ", " ".join(lines))
        if kind != "skip" and len(_LETTER.findall(joined)) < max(8, len(joined) // 2):
            kind = "skip"  # list debris: numbers, punctuation, link rubble
        out.append((kind, joined))
    return out


@lru_cache(maxsize=4096)
def _units(text: str) -> tuple[_Unit, ...]:
    units: list[_Unit] = []
    lead = ""  # the sentence start that introduces the current list ("Nicht zu berücksichtigen sind")
    pending = ""  # an unfinished last sentence of a text block: a lead if a list follows

    def add(core: str, lead: str = "", complete: bool = True) -> None:
        # A sentence ending in ":" with no list after it announces a table or an image.
        if core and not (core.endswith(":") and not lead):
            units.append(_Unit(core, lead, len(units), complete))

    for kind, block in _blocks(text):
        if kind == "skip":
            continue
        if kind == "item":
            if pending:
                lead, pending = _LIST_GLUE.sub("", pending).rstrip(" ,;:"), ""
            core = _LIST_MARK.sub("", block, count=1)
            trimmed = _LIST_GLUE.sub("", core)
            complete = trimmed[-1:] in ".!?:"
            add(trimmed if complete else trimmed.rstrip(" ,;"), lead, complete)
            continue
        add(pending)  # an unfinished sentence that no list continues: kept as the source has it
        sentences = split_sentences(_ABSATZ_MARK.sub("", block, count=1))
        lead = ""
        pending = sentences.pop() if sentences and sentences[-1][-1:] not in ".!?\"“”»)" else ""
        for sentence in sentences:
            add(sentence)
    add(pending)
    return tuple(units)


# --- scoring ----------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _terms(text: str) -> frozenset[str]:
    return frozenset(analysis.weighted_terms(text))


@dataclass
class _Candidate:
    unit: _Unit
    hit_index: int
    terms: frozenset[str]  # of the whole unit (lead included): what it says
    own_terms: frozenset[str]  # of the core only: for near-duplicate checks
    score: float = 0.0


def _question_terms(
    question: str, query_terms: Mapping[str, float] | None, tenant: str, vocabulary_folders: tsv_data.Folders,
    question_terms: Mapping[str, float] | None = None,
) -> tuple[Counter[str], Counter[str]]:
    """(all weighted query terms, the question's own terms): as Retriever.analyze."""
    own = Counter(question_terms) if question_terms is not None else analysis.weighted_terms(question)
    if query_terms is not None:
        return Counter(query_terms), own
    terms = Counter(own)
    for term, weight in vocabulary.expand(set(own), tenant, vocabulary_folders).items():
        terms[term] += weight
    return terms, own


def _hit_weight(hit: Hit, rank: int, top_score: float) -> float:
    """Prefer top hits: half from the relative retrieval score, divided by a gentle rank decay."""
    relative = hit.score / top_score if top_score > 0 else 1.0
    return (0.5 + 0.5 * max(0.0, min(1.0, relative))) / (1.0 + 0.3 * rank)


def confidence(question_terms: Mapping[str, float], own_terms: Mapping[str, float],
               covered: set[str], cited: Sequence[Hit], top_score: float) -> float:
    """confidence = coverage × support, in [0, 1].

    coverage = min(1, Σ w(t) over query terms t found in the selected sentences
                      / Σ w(t) over the question's own terms),
    where w are the query weights (1 per word, 0.5 per compound part, 0.4 per vocabulary
    expansion: "Auto" is partly covered by "Kraftfahrzeug").
    support = 0.5 + 0.5 × mean(score / top score) over the cited hits: the fused scores are
    normalised per query, so only their ratio to the best hit means anything.
    """
    own_weight = sum(own_terms.values())
    if own_weight <= 0 or not cited:
        return 0.0
    coverage = min(1.0, sum(question_terms[t] for t in covered) / own_weight)
    ratios = [max(0.0, min(1.0, h.score / top_score)) if top_score > 0 else 1.0 for h in cited]
    support = 0.5 + 0.5 * sum(ratios) / len(ratios)
    return round(coverage * support, 4)


def compose_extractive(
    question: str,
    hits: Sequence[Hit],
    *,
    max_sentences: int = 4,
    max_chars: int = 900,
    query_terms: Mapping[str, float] | None = None,
    question_terms: Mapping[str, float] | None = None,
    tenant: str = SHARED_TENANT,
    vocabulary_folders: tsv_data.Folders = tsv_data.BUNDLED_ONLY,
    whole_sentences: bool = False,
) -> Extract:
    """Pick up to `max_sentences` sentences (at most `max_chars` in all) that answer `question`.

    `whole_sentences`: only complete sentences as the source has them (no list item after its
    lead, no sentence cut at a semicolon): what the Ask flow shows a citizen, without "…".

    `query_terms` and `question_terms` (the question's own analysed words) may be given
    precomputed (Retriever.analyze: `terms`, `written`); otherwise they are built the same way
    from `tenant`'s vocabulary.
    Sentence score = Σ over query terms t in the sentence of w(t) × idf(t) × hit weight,
    idf computed over the candidate sentences of these hits (a word in every sentence, like
    "Leistungen", tells little), hit weight from `_hit_weight`.
    """
    if not hits:
        return Extract("")
    q_terms, own = _question_terms(question, query_terms, tenant, vocabulary_folders, question_terms)
    q_terms = Counter({t: w for t, w in q_terms.items() if w > 0})
    if not q_terms:
        return Extract("")
    top_score = max(h.score for h in hits)

    candidates: list[_Candidate] = []
    for index, hit in enumerate(hits):
        for unit in _units(hit.passage.text):
            if whole_sentences and (unit.lead or not unit.complete):
                continue
            candidates.append(_Candidate(unit, index, _terms(unit.render()), _terms(unit.core)))
    if not candidates:
        return Extract("")
    df = Counter(t for c in candidates for t in c.terms & q_terms.keys())
    n = len(candidates)
    weights = [_hit_weight(h, r, top_score) for r, h in enumerate(hits)]
    for c in candidates:
        matched = c.terms & q_terms.keys()
        c.score = sum(q_terms[t] * (1.0 + math.log(n / df[t])) for t in matched) * weights[c.hit_index]
        c.score *= 1.0 - 0.01 * min(c.unit.position, 20)  # ties: earlier sentences state the rule
    scored = [c for c in candidates if c.score > 0]
    if not scored:
        return Extract("")

    def fits(text: str) -> bool:
        return MIN_SENTENCE_CHARS <= len(text) <= MAX_SENTENCE_CHARS

    preferred = [c for c in scored if any(fits(v) for v, _ in c.unit.variants())]
    pool = sorted(preferred or scored, key=lambda c: -c.score)
    best = pool[0].score

    chosen: list[tuple[_Candidate, str]] = []
    per_passage: Counter[int] = Counter()
    used_chars = 0
    for c in pool:
        if len(chosen) >= max_sentences or c.score < RELATIVE_FLOOR * best:
            break
        if per_passage[c.hit_index] >= MAX_PER_PASSAGE or _near_duplicate(c, [x for x, _ in chosen]):
            continue
        text = _fitting_variant(c, q_terms, max_chars - used_chars, strict=bool(preferred), whole=whole_sentences)
        if text is None:
            continue
        chosen.append((c, text))
        per_passage[c.hit_index] += 1
        used_chars += len(text) + 5  # " [n]" and a separator
    if not chosen:
        return Extract("")

    chosen.sort(key=lambda item: (item[0].hit_index, item[0].unit.position))
    citations: list[Hit] = []
    marker: dict[int, int] = {}
    sentences: list[tuple[str, int]] = []
    paragraphs: list[list[str]] = []
    for c, text in chosen:
        if c.hit_index not in marker:
            marker[c.hit_index] = len(citations)
            citations.append(hits[c.hit_index])
            paragraphs.append([])
        sentences.append((text, marker[c.hit_index]))
        paragraphs[-1].append(f"{text} [{marker[c.hit_index] + 1}]")
    covered = set().union(*(_terms(text) for text, _ in sentences)) & q_terms.keys()
    return Extract(
        text="\n\n".join(" ".join(p) for p in paragraphs),
        citations=citations,
        confidence=confidence(q_terms, own, covered, citations, top_score),
        sentences=sentences,
    )


def _near_duplicate(candidate: _Candidate, chosen: list[_Candidate]) -> bool:
    for other in chosen:
        union = candidate.own_terms | other.own_terms
        if union and len(candidate.own_terms & other.own_terms) / len(union) > DUPLICATE_OVERLAP:
            return True
    return False


def _fitting_variant(c: _Candidate, q_terms: Mapping[str, float], budget: int, strict: bool, whole: bool = False) -> str | None:
    """The longest rendering of the unit that fits the sentence limits and the remaining
    budget and still contains a query term; None if there is none. `whole`: the whole unit only."""
    for text, _core in c.unit.variants()[:1] if whole else c.unit.variants():
        if len(text) > budget or (strict and not MIN_SENTENCE_CHARS <= len(text) <= MAX_SENTENCE_CHARS):
            continue
        if _terms(text) & q_terms.keys():
            return text
    return None
