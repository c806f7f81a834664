"""Calibration: show an answer only when it is likely right.

A small logistic model per way of answering (a curated answer, or a plain sentence extract of one
source) turns features of retrieval, scope and match into the probability that the answer is
correct. It is trained on graded answers to the DEV part of the real questions
(`scripts/calibrate.py`, which also picks the threshold that keeps >= 90 % of the shown dev
answers correct) and shipped as data (data/calibration/model.json). Below the threshold the
assistant says it is unsure and offers a handover, as before.

    >>> model = Calibration({"curated": {"weights": {"similarity": 10.0}, "bias": -8.0, "threshold": 0.5}})
    >>> round(model.probability("curated", {"similarity": 0.9}), 3), model.shows("curated", {"similarity": 0.9})
    (0.731, True)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

Way = Literal["curated", "extractive"]

FALLBACK = {
    "curated": {"weights": {"similarity": 8.0, "covered": 2.0, "extra": -1.0, "margin": 4.0}, "bias": -5.0, "threshold": 0.5},
    "extractive": {"weights": {"confidence": 4.0, "plain": 1.0}, "bias": -4.0, "threshold": 0.4},
}
"""Used when no trained model ships (a fresh checkout before `scripts/calibrate.py`), and for a way
that dev has too few answers of to learn from (extracts). Raising the extract threshold to 0.6
(two wrong dev extracts at 0.42 and 0.60) also hid a tenant's freshly uploaded page that answers
its question directly (tests/test_staff_api.py, p 0.42): with so few dev extracts the rule stays."""


@dataclass
class Calibration:
    models: dict = field(default_factory=lambda: dict(FALLBACK))

    def probability(self, way: str, features: dict[str, float]) -> float:
        model = self.models.get(way) or FALLBACK[way]
        z = model["bias"] + sum(w * float(features.get(name, 0.0)) for name, w in model["weights"].items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def shows(self, way: str, features: dict[str, float]) -> bool:
        model = self.models.get(way) or FALLBACK[way]
        return self.probability(way, features) >= model["threshold"]


@lru_cache(maxsize=4)
def load_calibration(embedder: str) -> Calibration:
    """The trained model for this embedder (the features' scale depends on it), else the fallback."""
    path = resources.files("amtslotse").joinpath("data", "calibration", "model.json")
    try:
        models = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Calibration()
    return Calibration(models.get(embedder) or dict(FALLBACK))
