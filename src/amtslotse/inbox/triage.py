"""Triage of one incoming message: category, flags, fields, team, priority, confidence.

    >>> t = triage("Hallo, ich habe ab 1.12. eine neue Stelle, anbei der Arbeitsvertrag.")
    >>> t.category, t.team, t.priority
    ('veraenderung', 'Leistungsabteilung', 0)
    >>> sorted(triage("Morgen wird mir der Strom abgestellt, bitte helfen!").to_dict())
    ['alternatives', 'bescheid_date', 'category', 'category_label', 'confidence', 'deadline', 'fields', 'flags', 'language', 'method', 'priority', 'priority_label', 'reasons', 'team']

The inbox flow's classify-extract-route steps (DESIGN, flow 3), as pure functions of the text,
the tenant's config and the message date:
1. fields (fields.py): ids, names, dates and their roles, amounts, IBANs;
2. category: the linear model (classify.py), or the LLM when one is configured (it sees the
   redacted text only, and any failure or unusable answer falls back to the model); a
   hidden category gives way to the next best visible one; a tenant category whose keywords
   occur wins over the built-ins;
3. flags: the rules (flags.py) OR the model's flag classifiers: urgent flags are not missed
   because one of them was unsure;
4. team (routing.py) and priority: notlage 2 > frist 1 > normal 0. Sort a queue by priority
   descending, then by age (oldest first); the store does the age part.

`today` is the date the message came in (None when unknown, e.g. an undated evaluation text);
it decides whether a date is still ahead (see flags.rule_flags).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from amtslotse.categories import (
    CATEGORIES,
    DESCRIPTIONS,
    FALLBACK,
    InboxConfig,
    inbox_config,
)
from amtslotse.errors import InputError
from amtslotse.inbox.classify import LinearModel, load_model, prepare
from amtslotse.inbox.fields import Field, bescheid_date, deadline, extract_fields
from amtslotse.inbox.flags import FRIST, NOTLAGE, PhraseMatcher, rule_flags, words
from amtslotse.inbox.routing import route_to_team
from amtslotse.llm import ChatMessage, LLMError, get_llm
from amtslotse.settings import get_settings
from amtslotse.text.fold import fold

log = logging.getLogger(__name__)

PRIORITIES = {NOTLAGE: 2, FRIST: 1}
NORMAL = 0
PRIORITY_LABELS = {2: "Notlage", 1: "Frist", 0: "normal"}
KEYWORD_CONFIDENCE = 0.9
"""Confidence reported for a tenant category found by its keywords: a rule, not a probability;
below 1 because a keyword can occur in passing."""
LLM_TEXT_CHARS = 1500
"""Of a message, this many characters go to the LLM (a category needs the beginning)."""


@dataclass(frozen=True)
class Triage:
    """The triage of one message. `to_dict()` is what staff, the store and the CLI see."""

    category: str
    category_label: str
    flags: tuple[str, ...]
    fields: tuple[Field, ...]
    team: str
    priority: int
    confidence: float
    method: str  # "modell", "llm" or "stichwort" (a tenant category by its keywords)
    language: str
    deadline: date | None = None
    bescheid_date: date | None = None
    reasons: tuple[str, ...] = ()  # codes for the audit log, e.g. "notlage:guard.energy"; no text
    alternatives: tuple[tuple[str, float], ...] = ()  # next best visible categories
    words: tuple[str, ...] = field(default=(), repr=False, compare=False)  # folded, redacted: for routing

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS[self.priority]

    def to_dict(self, clear: bool = True) -> dict:
        """As JSON. clear=False shows personal fields as placeholders ("[IBAN]")."""
        return {
            "category": self.category,
            "category_label": self.category_label,
            "flags": list(self.flags),
            "fields": [f.to_dict(clear) for f in self.fields],
            "team": self.team,
            "priority": self.priority,
            "priority_label": self.priority_label,
            "confidence": round(self.confidence, 4),
            "method": self.method,
            "language": self.language,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "bescheid_date": self.bescheid_date.isoformat() if self.bescheid_date else None,
            "reasons": list(self.reasons),
            "alternatives": [{"category": c, "probability": round(p, 4)} for c, p in self.alternatives],
        }


def priority_of(flags: Sequence[str]) -> int:
    return max((PRIORITIES.get(f, NORMAL) for f in flags), default=NORMAL)


class Triager:
    """Triage with a loaded model and, optionally, an LLM; thread-safe, reuse one.

        triager = Triager(llm=get_llm(settings))     # llm=None: the linear model only
        result = triager.triage(text, tenant_config, today=date(2026, 11, 24))
    """

    def __init__(self, llm=None, model: LinearModel | None = None) -> None:
        self.llm = llm
        self._model = model

    @property
    def model(self) -> LinearModel:
        if self._model is None:
            self._model = load_model()
        return self._model

    def triage(self, text: str, tenant_config: Mapping | InboxConfig | None = None, *,
               today: date | None = None) -> Triage:
        return self.triage_many([text], tenant_config, today=today)[0]

    def triage_many(self, texts: Sequence[str], tenant_config: Mapping | InboxConfig | None = None, *,
                    today: date | None = None) -> list[Triage]:
        """Triage several messages at once (one embedding batch: faster than one by one)."""
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise InputError("Die Nachricht ist leer.")
        config = inbox_config(tenant_config)
        model = self.model
        prepared = [prepare(t) for t in texts]  # redacted once, for the model, rules and LLM
        x = model.features(texts, prepared, tenant_folder=config.folder)
        probs = model.predict_proba(texts, x)
        model_flags = model.predicted_flags(texts, x)
        out = []
        for i, text in enumerate(texts):
            ranked = [(model.categories[j], float(probs[i, j])) for j in probs[i].argsort()[::-1]]
            ranked = [(c, p) for c, p in ranked if config.visible(c)] or [(FALLBACK, 0.0)]
            redacted = prepared[i][0]
            folded_words = words(redacted)
            category, confidence, method, reasons = self._category(redacted, folded_words, ranked, config)
            fields = extract_fields(text, today)
            dates = [f for f in fields if f.kind in ("datum", "geburtsdatum")]
            rules = rule_flags(text, today, dates, config.folder)
            reasons += list(rules.reasons) + [f"{f}:modell" for f in model_flags[i]]
            flags = tuple(f for f in (NOTLAGE, FRIST) if f in rules.flags or f in model_flags[i])
            result = Triage(
                category=category, category_label=config.label(category), flags=flags, fields=tuple(fields),
                team="", priority=priority_of(flags), confidence=confidence, method=method,
                language=rules.language, deadline=deadline(dates, today), bescheid_date=bescheid_date(dates),
                reasons=tuple(reasons), alternatives=tuple((c, p) for c, p in ranked if c != category)[:3],
                words=tuple(folded_words),
            )
            out.append(_with_team(result, route_to_team(result, config)))
        return out

    def _category(self, redacted: str, folded_words: list[str], ranked: list[tuple[str, float]],
                  config: InboxConfig) -> tuple[str, float, str, list[str]]:
        extra = _extra_category(folded_words, config)
        if extra:
            return extra, KEYWORD_CONFIDENCE, "stichwort", [f"kategorie:stichwort.{extra}"]
        probability = dict(ranked)
        if self.llm is not None:
            chosen = llm_category(self.llm, redacted, config)
            if chosen is not None:
                return chosen, probability.get(chosen, 0.0), "llm", ["kategorie:llm"]
            reasons = ["kategorie:llm-ersatz"]
        else:
            reasons = []
        category, confidence = ranked[0]
        return category, confidence, "modell", reasons + ["kategorie:modell"]


def _with_team(result: Triage, team: str) -> Triage:
    from dataclasses import replace

    return replace(result, team=team)


def _extra_category(folded_words: list[str], config: InboxConfig) -> str | None:
    """The visible tenant category with the most keyword hits, if any."""
    best, hits = None, 0
    for extra in config.extra_categories:
        if config.visible(extra.key):
            n = len(_keywords(extra.keywords).labels(folded_words))
            if n > hits:
                best, hits = extra.key, n
    return best


@lru_cache(maxsize=256)
def _keywords(keywords: tuple[str, ...]) -> PhraseMatcher[str]:
    return PhraseMatcher((k, k) for k in keywords)


# ---------------------------------------------------------------- the LLM path


def llm_messages(redacted: str, config: InboxConfig) -> list:
    """The prompt: the visible categories with a line each, then the redacted message."""
    lines = []
    for key in config.keys:
        extra = next((e for e in config.extra_categories if e.key == key), None)
        hint = ", ".join(extra.keywords) if extra else DESCRIPTIONS.get(key, "")
        lines.append(f"- {key}: {config.label(key)} ({hint})")
    system = (
        "Du sortierst Nachrichten, die Bürgerinnen und Bürger an ein Jobcenter schreiben. "
        "Wähle genau eine Kategorie aus dieser Liste und antworte nur mit ihrem Schlüssel "
        "(dem Wort vor dem Doppelpunkt), ohne weitere Worte:\n" + "\n".join(lines)
    )
    return [ChatMessage("system", system), ChatMessage("user", f"Nachricht:\n{redacted[:LLM_TEXT_CHARS]}\n\nKategorie:")]


def llm_category(llm, redacted: str, config: InboxConfig) -> str | None:
    """The category an LLM chooses for a (redacted!) message, or None if it fails or its
    answer names no visible category."""
    try:
        answer = llm.complete(llm_messages(redacted, config), max_tokens=12, temperature=0.0)
    except LLMError as error:
        log.warning("LLM-Sortierung fehlgeschlagen, nutze das lineare Modell: %s", error)
        return None
    return parse_category(answer, config)


def parse_category(answer: str, config: InboxConfig) -> str | None:
    """The first visible category key (or label) named in an answer, else None.

        >>> parse_category("Kategorie: Rückforderung.", inbox_config(None))
        'rueckforderung'
    """
    folded = fold(answer).replace("-", "_")
    best: tuple[int, str] | None = None
    for key in config.keys:
        for name in {fold(key), fold(config.label(key)), fold(CATEGORIES.get(key, key))}:
            position = folded.find(name)
            if position >= 0 and (best is None or position < best[0]):
                best = (position, key)
    return best[1] if best else None


# ---------------------------------------------------------------- module-level convenience


@lru_cache(maxsize=1)
def default_triager() -> Triager:
    """A Triager with the LLM of the settings (None when none is configured)."""
    return Triager(llm=get_llm(get_settings()))


def triage(text: str, tenant_config: Mapping | InboxConfig | None = None, *, today: date | None = None) -> Triage:
    """Triage one message with the default Triager (see `Triager.triage`)."""
    return default_triager().triage(text, tenant_config, today=today)
