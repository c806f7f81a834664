"""Analytics for the staff workspace: the numbers a Landrat or Kreistag asks for, computed
from the store's chat turns and inbox messages (pure functions: no store, no clock)::

    period = Period.last_days(30, now=datetime.now(timezone.utc))
    report = build_report(turns, inbox_items, period, Minutes(6), category_label)
    report["shares"]["answered"], report["time_saved"]["minutes"]   # (0.62, 1116)

The minutes saved per answer come from the tenant's `[analytics]` table:

    >>> Minutes.from_config({"analytics": {"minutes_per_question": 5}}).for_topic("Miete")
    5.0

Only redacted text is stored in turns, so the report holds no personal data: questions in
the "unanswered" list are the redacted questions, grouped by their wording.

Outcomes of a turn (ask/pipeline.py) count as: answered; handover (handover offered, also
when the assistant was unsure: then `unsure` counts it again on its own); refused (out of
scope or an injection attempt); urgent (an emergency: contacts shown, handover offered).
Greetings ("Hallo", "Danke") are not questions and count nowhere.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from amtslotse.errors import ConfigError
from amtslotse.models import InboxItem, Turn

MAX_DAYS = 366
DEFAULT_MINUTES_PER_QUESTION = 6.0
"""Staff minutes a question answered by the assistant saves (tenant: [analytics] minutes_per_question)."""

ANALYTICS_KEYS = frozenset({"minutes_per_question", "minutes_by_topic"})
"""The keys of a tenant's `[analytics]` table."""

UNANSWERED_LIMIT = 50
COMMENTS_LIMIT = 50
NO_TOPIC = "ohne Thema"
UNTRIAGED = "noch nicht eingeordnet"

OUTCOME_GROUPS = {
    "answered": "answered", "handover": "handover", "unsure": "handover", "refused": "refused",
    "injection": "refused", "urgent": "urgent",
}
"""Turn outcome -> the group it is counted in; outcomes not named here (greeting) are no question."""

GROUP_LABELS = {"answered": "beantwortet", "handover": "übergeben", "refused": "abgelehnt", "urgent": "Notlage"}


def _zone() -> timezone | ZoneInfo:
    # Days are the Jobcenter's days: a question at 00:30 in Germany belongs to that date.
    try:
        return ZoneInfo("Europe/Berlin")
    except ZoneInfoNotFoundError:  # a system without tz data: UTC days rather than a crash
        return timezone.utc


ZONE = _zone()


@dataclass(frozen=True)
class Period:
    """The last `days` local days up to and including `end_day`."""

    days: int
    end_day: date

    @classmethod
    def last_days(cls, days: int, now: datetime) -> Period:
        return cls(days, now.astimezone(ZONE).date())

    @property
    def first_day(self) -> date:
        return self.end_day - timedelta(days=self.days - 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), ZONE).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day + timedelta(days=1), time(), ZONE).astimezone(timezone.utc)

    def day_of(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(ZONE).date()

    def each_day(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.days)]


@dataclass(frozen=True)
class Minutes:
    """Staff minutes saved per answered question, with optional per-topic overrides."""

    per_question: float = DEFAULT_MINUTES_PER_QUESTION
    by_topic: Mapping[str, float] = field(default_factory=dict)

    def for_topic(self, topic: str) -> float:
        return float(self.by_topic.get(topic, self.per_question))

    @classmethod
    def from_config(cls, raw: Mapping) -> Minutes:
        """From a tenant's TOML: `[analytics] minutes_per_question = 6` and optionally
        `[analytics.minutes_by_topic] "Kosten der Unterkunft" = 10`. ConfigError (German) if invalid."""
        table = raw.get("analytics", {}) if isinstance(raw, Mapping) else {}
        if not isinstance(table, Mapping):
            raise ConfigError("[analytics] muss eine Tabelle sein.")
        unknown = sorted(set(table) - ANALYTICS_KEYS)
        if unknown:
            raise ConfigError(f"[analytics]: unbekannter Schlüssel „{unknown[0]}“ (erlaubt: {', '.join(sorted(ANALYTICS_KEYS))}).")
        per_question = table.get("minutes_per_question", DEFAULT_MINUTES_PER_QUESTION)
        by_topic = table.get("minutes_by_topic", {})
        if not isinstance(by_topic, Mapping):
            raise ConfigError("[analytics.minutes_by_topic] muss eine Tabelle sein.")
        for value in [per_question, *by_topic.values()]:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError("[analytics]: Minuten bitte als Zahl ab 0 angeben.")
        return cls(float(per_question), {str(k): float(v) for k, v in by_topic.items()})


def build_report(
    turns: Iterable[Turn], items: Iterable[InboxItem], period: Period, minutes: Minutes,
    category_label: Callable[[str], str],
) -> dict:
    """The whole analytics report as JSON-ready data: period, total_questions, per_day, topics,
    shares (0..1), counts, feedback, unanswered, inbox, time_saved (see the functions below)."""
    turns = [t for t in turns if period.start <= _aware(t.created_at) < period.end]
    questions = [t for t in turns if t.outcome in OUTCOME_GROUPS]
    items = [i for i in items if period.start <= _aware(i.received_at) < period.end]
    return {
        "period": {"days": period.days, "from": period.first_day.isoformat(), "to": period.end_day.isoformat()},
        "total_questions": len(questions),
        "per_day": per_day(questions, period),
        "topics": topics(questions),
        "shares": shares(questions),
        "counts": counts(questions),
        "feedback": feedback(turns),
        "unanswered": unanswered(questions),
        "inbox": inbox(items, category_label),
        "time_saved": time_saved(questions, minutes),
    }


def counts(questions: list[Turn]) -> dict:
    groups = Counter(OUTCOME_GROUPS[t.outcome] for t in questions)
    return {group: groups.get(group, 0) for group in GROUP_LABELS} | {
        "unsure": sum(1 for t in questions if t.outcome == "unsure")
    }


def shares(questions: list[Turn]) -> dict:
    """Share of each group in all questions, 0..1 (rounded to 3 places; all 0 without questions)."""
    total = len(questions)
    return {group: round(n / total, 3) if total else 0.0 for group, n in counts(questions).items()}


def per_day(questions: list[Turn], period: Period) -> list[dict]:
    days = {day: {"day": day.isoformat(), "questions": 0, **{g: 0 for g in GROUP_LABELS}, "unsure": 0} for day in period.each_day()}
    for turn in questions:
        row = days.get(period.day_of(turn.created_at))
        if row is None:
            continue
        row["questions"] += 1
        row[OUTCOME_GROUPS[turn.outcome]] += 1
        row["unsure"] += turn.outcome == "unsure"
    return list(days.values())


def topics(questions: list[Turn]) -> list[dict]:
    """Questions per topic (the title of the answer's first source), most asked first."""
    counted = Counter(t.topic or NO_TOPIC for t in questions)
    return [{"topic": topic, "count": n} for topic, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))]


def feedback(turns: list[Turn]) -> dict:
    rated = [t for t in turns if t.rating in ("up", "down")]
    comments = [
        {"rating": t.rating, "comment": t.comment, "question": t.question, "topic": t.topic or NO_TOPIC,
         "at": _aware(t.created_at).isoformat()}
        for t in sorted(rated, key=lambda t: _aware(t.created_at), reverse=True) if t.comment
    ]
    return {
        "up": sum(t.rating == "up" for t in rated), "down": sum(t.rating == "down" for t in rated),
        "comments": comments[:COMMENTS_LIMIT],
    }


def unanswered(questions: list[Turn]) -> list[dict]:
    """The knowledge gaps: questions the assistant was unsure about or handed over, grouped by
    their (redacted) wording regardless of case and spacing; most frequent, then latest first."""
    groups: dict[str, dict] = {}
    for turn in questions:
        if turn.outcome not in ("unsure", "handover") or not turn.question.strip():
            continue
        key = " ".join(turn.question.casefold().split()).rstrip("?!. ")
        at = _aware(turn.created_at)
        group = groups.setdefault(key, {"question": " ".join(turn.question.split()), "count": 0, "last": at, "outcomes": Counter()})
        group["count"] += 1
        group["outcomes"][turn.outcome] += 1
        if at >= group["last"]:
            group["last"], group["question"] = at, " ".join(turn.question.split())
    rows = sorted(groups.values(), key=lambda g: (-g["count"], -g["last"].timestamp()))[:UNANSWERED_LIMIT]
    return [
        {"question": g["question"], "count": g["count"], "last": g["last"].isoformat(), "unsure": g["outcomes"]["unsure"],
         "handover": g["outcomes"]["handover"]}
        for g in rows
    ]


def inbox(items: list[InboxItem], category_label: Callable[[str], str]) -> dict:
    """Inbox volume per category (largest first) and hours from receipt to the first response
    (`first_response_at`, set when a message is answered or forwarded)."""
    counted = Counter(i.category for i in items)
    per_category = [
        {"category": category, "label": category_label(category) if category else UNTRIAGED, "count": n}
        for category, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0] or "~"))
    ]
    hours = sorted(
        (_aware(i.first_response_at) - _aware(i.received_at)).total_seconds() / 3600
        for i in items if i.first_response_at is not None
    )
    return {
        "total": len(items),
        "per_category": per_category,
        "first_response_hours": {
            "median": _round(percentile(hours, 50)), "p90": _round(percentile(hours, 90)), "count": len(hours),
            "open": sum(1 for i in items if i.first_response_at is None),
        },
    }


def time_saved(questions: list[Turn], minutes: Minutes) -> dict:
    """Estimated staff minutes saved: each question the assistant answered itself saves the
    tenant's minutes for its topic (a handed-over question saves nothing)."""
    answered = Counter(t.topic or NO_TOPIC for t in questions if t.outcome == "answered")
    by_topic = [
        {"topic": topic, "questions": n, "minutes_each": minutes.for_topic(topic), "minutes": round(n * minutes.for_topic(topic), 1)}
        for topic, n in answered.items()
    ]
    by_topic.sort(key=lambda row: (-row["minutes"], row["topic"]))
    total = round(sum(row["minutes"] for row in by_topic), 1)
    return {
        "minutes": total, "hours": round(total / 60, 1), "questions": sum(answered.values()),
        "minutes_per_question": minutes.per_question, "by_topic": by_topic,
    }


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation between closest ranks); None for no values."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
