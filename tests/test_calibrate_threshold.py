"""scripts/calibrate.py picks the threshold on dev answers mixed with unseen questions (a dev
question asked with its right answer left out): a neighbour shown for a question nothing covers
counts against the threshold like a wrong dev answer."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import calibrate  # noqa: E402


def _dev(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One feature; the answer is right more often the higher it is."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, 1))
    y = (rng.uniform(0, 1, size=n) < 0.3 + 0.7 * x[:, 0]).astype(int)
    return x, y


def test_neighbours_shown_for_unseen_questions_raise_the_threshold() -> None:
    x, y = _dev()
    alone = calibrate.fit(x, y, ["similarity"], calibrate.FALLBACK["curated"])
    # Left-out questions whose neighbour still scores fairly high: all wrong.
    unseen = (np.linspace(0.5, 0.9, 40).reshape(-1, 1), np.zeros(40, dtype=int), 50)
    mixed = calibrate.fit(x, y, ["similarity"], calibrate.FALLBACK["curated"], unseen_rows=unseen)
    assert mixed["threshold"] > alone["threshold"]
    assert mixed["unseen_questions"] == 50 and mixed["unseen_share"] == calibrate.UNSEEN_SHARE
    assert mixed["precision_mixed"] >= calibrate.TARGET or not mixed["target_met"]
    assert alone["unseen_questions"] == 0 and alone["precision_mixed"] == alone["precision_dev_cv"]


def test_unseen_questions_whose_neighbour_scores_low_change_nothing() -> None:
    x, y = _dev()
    low = (np.full((10, 1), -5.0), np.zeros(10, dtype=int), 50)
    alone = calibrate.fit(x, y, ["similarity"], calibrate.FALLBACK["curated"])
    assert calibrate.fit(x, y, ["similarity"], calibrate.FALLBACK["curated"], unseen_rows=low)["threshold"] == alone["threshold"]
