"""Category classifier of the inbox: a linear model, trained on first use and cached on disk.

    model = load_model()                       # trains once (seconds), then loads from the cache
    probs = model.predict_proba(["Meine Miete wurde erhöht, anbei das Schreiben."])
    model.categories[probs[0].argmax()]        # 'unterkunft'

Features, per message after redaction (names and numbers become placeholders, so the model
learns "[IBAN]" and not a person): word 1-2-grams and character 2-5-grams over the folded text
(TF-IDF, sublinear), and the 512-dimensional multilingual `use-m3` sentence embedding, which
carries the meaning across languages the n-grams have few examples of. One multinomial
logistic regression over all three. Its scores are calibrated by temperature scaling
(Guo et al., 2017, "On Calibration of Modern Neural Networks"): one temperature, fitted on
cross-validated scores of the training set, so that the probability of the chosen category
matches how often it is right; it keeps the ranking. The flags get one binary logistic
regression each on the same features (rules in flags.py are OR-ed on top).

Training data: `data/inbox/train.jsonl` (lines {"id", "text", "language", "category", "flags"}).
The fitted model is cached as `<AMTSLOTSE_HOME>/models/triage-<hash>.pkl`; the hash covers the
training data, MODEL_VERSION, the scikit-learn version and the embedder, so changing any of
them trains anew. The file is written atomically (temporary file, then rename): a reader
never sees half a model, and two processes training at once both end with a whole one.
Cache files are pickles: they live in the operator's own data folder, like the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from amtslotse.inbox.categories import CATEGORIES, FLAGS
from amtslotse.inbox.flags import fold
from amtslotse.privacy.redaction import redact

log = logging.getLogger(__name__)

MODEL_VERSION = "1"
"""Bump when features or training change: the cached models are then retrained."""

EMBEDDER = "use-m3"
EMBEDDING_WEIGHT = 2.0
"""Scale of the (unit-length) embedding beside the two TF-IDF blocks (each of unit length):
chosen by cross-validation on the training set only."""
C = 10.0
"""Inverse regularisation strength of the logistic regressions (cross-validated on train)."""
FOLDS = 5


@dataclass(frozen=True)
class Example:
    """One labelled training message."""

    text: str
    category: str
    flags: tuple[str, ...] = ()


def training_file() -> Path:
    return Path(str(resources.files("amtslotse").joinpath("data", "inbox", "train.jsonl")))


def read_examples(path: Path) -> list[Example]:
    """Labelled messages of a JSONL file, checked (German error naming file and line)."""
    out = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{Path(path).name}, Zeile {number}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: kein gültiges JSON ({error.msg})") from None
            text, category, flags = item.get("text"), item.get("category"), item.get("flags", [])
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{where}: Feld 'text' fehlt oder ist leer")
            if category not in CATEGORIES:
                raise ValueError(f"{where}: unbekannte Kategorie {category!r}")
            if not isinstance(flags, list) or any(f not in FLAGS for f in flags):
                raise ValueError(f"{where}: unbekannte Markierung in {flags!r}")
            out.append(Example(text, category, tuple(flags)))
    return out


def prepare(text: str) -> tuple[str, str]:
    """(redacted text for the embedder, folded redacted text for the n-grams)."""
    redacted = redact(text).text
    return redacted, fold(redacted)


# ---------------------------------------------------------------- the fitted model


@dataclass
class LinearModel:
    """The fitted classifier: vectorizers, regressions and the calibration temperature."""

    categories: list[str]
    words: object  # TfidfVectorizer over words
    chars: object  # TfidfVectorizer over characters
    regression: object  # LogisticRegression, multinomial
    temperature: float
    flag_models: dict[str, object] = field(default_factory=dict)  # flag -> LogisticRegression
    flag_thresholds: dict[str, float] = field(default_factory=dict)
    key: str = ""

    def features(self, texts: Sequence[str], embeddings: np.ndarray | None = None):
        return _features(self.words, self.chars, [prepare(t) for t in texts], embeddings)

    def predict_proba(self, texts: Sequence[str], features=None) -> np.ndarray:
        """Calibrated probabilities, shape (len(texts), len(categories))."""
        x = self.features(texts) if features is None else features
        return _softmax(self.regression.decision_function(x) / self.temperature)

    def flag_proba(self, texts: Sequence[str], features=None) -> dict[str, np.ndarray]:
        x = self.features(texts) if features is None else features
        return {flag: m.predict_proba(x)[:, 1] for flag, m in self.flag_models.items()}

    def predicted_flags(self, texts: Sequence[str], features=None) -> list[tuple[str, ...]]:
        probs = self.flag_proba(texts, features)
        return [tuple(f for f in probs if probs[f][i] >= self.flag_thresholds[f]) for i in range(len(texts))]


def _embedder():
    from amtslotse.search.embedders import get_embedder

    return get_embedder(EMBEDDER)


def _features(words, chars, prepared: list[tuple[str, str]], embeddings: np.ndarray | None = None):
    from scipy.sparse import csr_matrix, hstack

    folded = [f for _, f in prepared]
    if embeddings is None:
        embeddings = _embedder().embed_passages([r for r, _ in prepared])
    return hstack([words.transform(folded), chars.transform(folded), csr_matrix(embeddings * EMBEDDING_WEIGHT)]).tocsr()


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def _vectorizers():
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b", lowercase=False)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=False, min_df=2)
    return words, chars


def _regression(balanced: bool = False):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000, class_weight="balanced" if balanced else None)


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(scores / T)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        p = _softmax(scores / np.exp(log_t))
        return float(-np.log(np.maximum(p[rows, labels], 1e-12)).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def train(examples: Sequence[Example], key: str = "") -> LinearModel:
    """Fit the classifier (and its calibration) on labelled messages; a few seconds."""
    from sklearn.model_selection import StratifiedKFold

    categories = [c for c in CATEGORIES if any(e.category == c for e in examples)]
    if len(categories) < 2:
        raise ValueError("Zum Trainieren braucht es Beispiele aus mindestens zwei Kategorien.")
    index = {c: i for i, c in enumerate(categories)}
    y = np.array([index[e.category] for e in examples])
    prepared = [prepare(e.text) for e in examples]
    embeddings = _embedder().embed_passages([r for r, _ in prepared])

    def fitted_block(train_rows):
        words, chars = _vectorizers()
        folded = [prepared[i][1] for i in train_rows]
        words.fit(folded)
        chars.fit(folded)
        return words, chars

    # Out-of-fold scores for the temperature (vectorizers refitted per fold: no leakage).
    folds = min(FOLDS, int(np.bincount(y).min()))
    scores = np.zeros((len(examples), len(categories)))
    flag_scores = {f: np.zeros(len(examples)) for f in FLAGS}
    flag_y = {f: np.array([f in e.flags for e in examples]) for f in FLAGS}
    if folds >= 2:
        for train_rows, test_rows in StratifiedKFold(folds, shuffle=True, random_state=0).split(prepared, y):
            words, chars = fitted_block(train_rows)
            x_train = _features(words, chars, [prepared[i] for i in train_rows], embeddings[train_rows])
            x_test = _features(words, chars, [prepared[i] for i in test_rows], embeddings[test_rows])
            regression = _regression().fit(x_train, y[train_rows])
            fold_scores = np.full((len(test_rows), len(categories)), -1e9)
            fold_scores[:, regression.classes_] = regression.decision_function(x_test)
            scores[test_rows] = fold_scores
            for f in FLAGS:
                if 0 < flag_y[f][train_rows].sum() < len(train_rows):
                    flag_scores[f][test_rows] = _regression(True).fit(x_train, flag_y[f][train_rows]).predict_proba(x_test)[:, 1]
        temperature = fit_temperature(scores, y)
    else:
        temperature = 1.0
    words, chars = fitted_block(np.arange(len(examples)))
    x = _features(words, chars, prepared, embeddings)
    model = LinearModel(categories, words, chars, _regression().fit(x, y), temperature, key=key)
    for f in FLAGS:
        if 0 < flag_y[f].sum() < len(examples):
            model.flag_models[f] = _regression(True).fit(x, flag_y[f])
            model.flag_thresholds[f] = _flag_threshold(flag_scores[f], flag_y[f]) if folds >= 2 else 0.5
    return model


def _flag_threshold(scores: np.ndarray, truth: np.ndarray, recall: float = 0.9) -> float:
    """The highest threshold (at most 0.5) that keeps `recall` of the flag out of fold: the
    model is the safety net below the rules, so it leans to flagging."""
    positives = np.sort(scores[truth])
    if not len(positives):
        return 0.5
    cut = positives[int(np.floor((1 - recall) * len(positives)))]
    return float(min(0.5, max(cut, 0.05)))


# ---------------------------------------------------------------- cache on disk

_LOCK = threading.Lock()
_LOADED: dict[str, LinearModel] = {}


def model_key(path: Path) -> str:
    import sklearn

    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(f"|{MODEL_VERSION}|{sklearn.__version__}|{EMBEDDER}|{EMBEDDING_WEIGHT}|{C}".encode())
    return digest.hexdigest()[:20]


def load_model(train_path: Path | None = None, home: Path | None = None) -> LinearModel:
    """The model for a training file: from memory, from the disk cache, or trained now."""
    path = Path(train_path) if train_path else training_file()
    if not path.is_file():
        raise FileNotFoundError(f"Trainingsdaten für die Posteingangs-Sortierung fehlen: {path}")
    key = model_key(path)
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        if home is None:
            from amtslotse.settings import get_settings

            home = get_settings().home
        folder = Path(home) / "models"
        cached = folder / f"triage-{key}.pkl"
        model = _read(cached)
        if model is None:
            log.info("Trainiere das Sortiermodell des Posteingangs (%s)", path.name)
            model = train(read_examples(path), key=key)
            _write(cached, model)
        _LOADED[key] = model
        return model


def _read(path: Path) -> LinearModel | None:
    try:
        with open(path, "rb") as f:
            model = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as error:  # noqa: BLE001 - a damaged or foreign cache file: train anew
        log.warning("Sortiermodell %s unlesbar (%s): wird neu trainiert", path.name, type(error).__name__)
        return None
    return model if isinstance(model, LinearModel) else None


def _write(path: Path, model: LinearModel) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".triage-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in path.parent.glob("triage-*.pkl"):  # models of older data or code
        if old != path:
            old.unlink(missing_ok=True)
