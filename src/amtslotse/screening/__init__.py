"""Screening model: a trained intent classifier that works beside the guard's rules.

The guard (`amtslotse.screening.guard`) decides with rules first; this model is its safety net for
the wordings the rules do not list. It scores one citizen message for nine intents:

- `answer`: a general question (also in the first person, also about a past or general
  emergency: "Übernimmt das Jobcenter alte Stromschulden?");
- `own_case`: the status, amount or decision of the person's own case (handover);
- `authority`: a question for another authority (Familienkasse, Pflegekasse, ...);
- the urgent kinds `hunger`, `eviction`, `energy`, `homeless`, `violence`, `suicide`.

    >>> s = scores("Warum ist mein Geld diesen Monat nicht gekommen?")
    >>> s.best
    'own_case'
    >>> scores("Wir haben seit zwei Tagen nichts gegessen").urgent_kind
    'hunger'
    >>> scores("Wie viel darf ich mit einem Minijob dazuverdienen?").best
    'answer'

The guard flags a message when its rules OR the model say so, the model above a threshold per
intent (`THRESHOLDS`, tuned on the training set's out-of-fold scores and the real-question dev
items): recall first for emergencies and own-case questions, and at most 5 % of answerable
questions flagged. See `model.py` for the features, the training data and the cache.
"""

from amtslotse.screening.model import LABELS, THRESHOLDS, URGENT_KINDS, IntentModel, Scores, load_model, scores

__all__ = ["LABELS", "THRESHOLDS", "URGENT_KINDS", "IntentModel", "Scores", "load_model", "scores"]
