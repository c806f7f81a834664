"""Category classifier of the inbox: a linear model, trained on first use and cached on disk.

    model = load_model()                       # trains once (seconds), then loads from the cache
    probs = model.predict_proba(["Meine Miete wurde erhöht, anbei das Schreiben."])
    model.categories[probs[0].argmax()]        # 'unterkunft'

Features, per message after redaction (names and numbers become placeholders, so the model
learns "[IBAN]" and not a person), four blocks side by side:
- words: German stems and compound parts (`search.analysis`, as the lexical index uses them:
  "Nebenkostenabrechnung" also counts as "nebenkost" and "abrechn"), TF-IDF;
- characters: 3-5-grams within words over the folded text, TF-IDF (typos, other languages);
- meaning: the 512-dimensional multilingual `use-m3` sentence embedding, which carries the
  categories across languages the n-grams have few examples of;
- cues: per category, how many of its cue words occur (`data/inbox/cues/`, six languages;
  a tenant's own `cues/*.txt` count too when its messages are classified).
One multinomial logistic regression over all four. On the training set (5-fold
cross-validation) the blocks alone reached about 48 % (n-grams), 71 % (embedding) and 80 %
(first cue lists); together 85 %, and 90 % after the cue lists were completed from training
errors (optimistic, therefore; held-out: 92 %, see benchmarks/triage.py). Its scores are calibrated by temperature scaling
(Guo et al., 2017, "On Calibration of Modern Neural Networks"): one temperature, fitted on
cross-validated scores of the training set, so that the probability of the chosen category
matches how often it is right; it keeps the ranking. The flags get one binary logistic
regression each on the same features (rules in flags.py are OR-ed on top).

Training data: `data/inbox/train.jsonl` (lines {"id", "text", "language", "category", "flags"}).
The fitted model is cached as `<AMTSLOTSE_HOME>/models/triage-<hash>.pkl`; the hash covers the
training data, the cue lists, MODEL_VERSION, the scikit-learn version, the embedder and the
weights, so changing any of them trains anew (older cache files are deleted then). The file is written atomically (temporary file, then rename): a reader
never sees half a model, and two processes training at once both end with a whole one.
Cache files are pickles: they live in the operator's own data folder, like the database.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from amtslotse.categories import CATEGORIES, FLAGS
from amtslotse.errors import DataFileError
from amtslotse.inbox.flags import OwnFiles, PhraseMatcher, own_phrase_files, read_phrase_folder, words
from amtslotse.jsonl import read_jsonl_lines
from amtslotse.model_cache import read_model, write_model
from amtslotse.privacy.redaction import redact
from amtslotse.search.analysis import weighted_terms
from amtslotse.search.embedders import get_embedder
from amtslotse.settings import get_settings
from amtslotse.text.fold import fold

log = logging.getLogger(__name__)

MODEL_VERSION = "2"
"""Bump when features or training change: the cached models are then retrained."""

EMBEDDER = "use-m3"
EMBEDDING_WEIGHT = 2.0
"""Scale of the (unit-length) embedding beside the two TF-IDF blocks (each of unit length)."""
CUE_WEIGHT = 1.0
"""Scale of the cue counts (log(1 + count) per category). Both weights and C were chosen by
cross-validation on the training set only."""
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
    for where, item in read_jsonl_lines(path):
        text, category, flags = item.get("text"), item.get("category"), item.get("flags", [])
        if not isinstance(text, str) or not text.strip():
            raise DataFileError(f"{where}: Feld 'text' fehlt oder ist leer")
        if category not in CATEGORIES:
            raise DataFileError(f"{where}: unbekannte Kategorie {category!r}")
        if not isinstance(flags, list) or any(f not in FLAGS for f in flags):
            raise DataFileError(f"{where}: unbekannte Markierung in {flags!r}")
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
    stems: object  # TfidfVectorizer over German stems and compound parts
    chars: object  # TfidfVectorizer over characters
    regression: object  # LogisticRegression, multinomial
    temperature: float
    flag_models: dict[str, object] = field(default_factory=dict)  # flag -> LogisticRegression
    flag_thresholds: dict[str, float] = field(default_factory=dict)
    key: str = ""

    def features(self, texts: Sequence[str], prepared: list[tuple[str, str]] | None = None,
                 tenant_folder: Path | None = None):
        """The feature matrix of raw messages (`prepared`: their `prepare()` forms, if known;
        `tenant_folder`: its `cues/*.txt` count beside the bundled cue words)."""
        prepared = prepared if prepared is not None else [prepare(t) for t in texts]
        return _features(self.stems, self.chars, prepared, _dense(prepared, tenant_folder=tenant_folder))

    def predict_proba(self, texts: Sequence[str], features=None) -> np.ndarray:
        """Calibrated probabilities, shape (len(texts), len(categories))."""
        x = self.features(texts) if features is None else features
        return _softmax(_scores(self.regression, x) / self.temperature)

    def flag_proba(self, texts: Sequence[str], features=None) -> dict[str, np.ndarray]:
        x = self.features(texts) if features is None else features
        return {flag: 1.0 / (1.0 + np.exp(-_scores(m, x)[:, 0])) for flag, m in self.flag_models.items()}

    def predicted_flags(self, texts: Sequence[str], features=None) -> list[tuple[str, ...]]:
        probs = self.flag_proba(texts, features)
        return [tuple(f for f in probs if probs[f][i] >= self.flag_thresholds[f]) for i in range(len(texts))]


def _scores(regression, x) -> np.ndarray:
    """`regression.decision_function(x)` as 2-D scores, computed directly: scikit-learn's input
    validation costs more than the product itself for one message (about 1 ms)."""
    return np.asarray(x @ regression.coef_.T) + regression.intercept_


def _embedder():
    return get_embedder(EMBEDDER)


def _dense(prepared: list[tuple[str, str]], embeddings: np.ndarray | None = None,
           tenant_folder: Path | None = None) -> np.ndarray:
    """The blocks that need no fitting: the embedding and the cue counts, weighted."""
    redacted = [r for r, _ in prepared]
    if embeddings is None:
        embeddings = _embedder().embed_passages(redacted)
    return np.hstack([embeddings * EMBEDDING_WEIGHT, cue_counts(redacted, tenant_folder) * CUE_WEIGHT])


def _features(stems, chars, prepared: list[tuple[str, str]], dense: np.ndarray):
    from scipy.sparse import csr_matrix, hstack

    return hstack([
        stems.transform([r for r, _ in prepared]), chars.transform([f for _, f in prepared]), csr_matrix(dense),
    ]).tocsr()


def stem_terms(text: str) -> list[str]:
    """The word block's analyzer: German stems and compound parts of a text."""
    return list(weighted_terms(text))


@lru_cache(maxsize=32)
def _cues(own: OwnFiles = ()) -> PhraseMatcher[tuple[str, str]]:
    return PhraseMatcher((p, (category, p)) for p, (category, _) in read_phrase_folder("cues", CATEGORIES, own))


def cue_counts(texts: Sequence[str], tenant_folder: Path | None = None) -> np.ndarray:
    """log(1 + number of distinct cues found) per built-in category, shape (len(texts), 13).
    A tenant's own `cues/*.txt` (in `tenant_folder`) count like the bundled cue words: the
    model is trained on the bundled ones, so a tenant's cue adds the weight it learned for
    its category's cues (no retraining per tenant)."""
    column = {c: i for i, c in enumerate(CATEGORIES)}
    out = np.zeros((len(texts), len(CATEGORIES)), dtype=np.float32)
    cues = _cues(own_phrase_files(tenant_folder, "cues"))
    for row, text in enumerate(texts):
        for category, _ in cues.labels(words(text)):
            out[row, column[category]] += 1
    return np.log1p(out)


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def _vectorizers():
    from sklearn.feature_extraction.text import TfidfVectorizer

    stems = TfidfVectorizer(analyzer=stem_terms, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=False,
                            min_df=2, max_features=20000)
    return stems, chars


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


def train(examples: Sequence[Example], key: str = "", calibrate: bool = True) -> LinearModel:
    """Fit the classifier (and its calibration) on labelled messages; a few seconds.
    calibrate=False skips the cross-validation (temperature 1, flag thresholds 0.5): one fit
    instead of six, for large data sets where only the ranking matters (benchmarks)."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread: these matrices are small, and OpenBLAS threads spinning against other
    # work on the machine made a fit four times slower (2 cores, measured).
    with threadpool_limits(1):
        return _train(examples, key, calibrate)


def _train(examples: Sequence[Example], key: str, calibrate: bool) -> LinearModel:
    from sklearn.model_selection import StratifiedKFold

    present = {e.category for e in examples}
    # The built-in keys in their order; other labels (another data set, e.g. a benchmark's
    # intents) after them, sorted.
    categories = [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))
    if len(categories) < 2:
        raise ValueError("Zum Trainieren braucht es Beispiele aus mindestens zwei Kategorien.")
    index = {c: i for i, c in enumerate(categories)}
    y = np.array([index[e.category] for e in examples])
    flag_y = {f: np.array([f in e.flags for e in examples]) for f in FLAGS}
    prepared = [prepare(e.text) for e in examples]
    dense = _dense(prepared)

    def fit(rows):
        """Vectorizers, category and flag regressions fitted on `rows`."""
        stems, chars = _vectorizers()
        stems.fit([prepared[i][0] for i in rows])
        chars.fit([prepared[i][1] for i in rows])
        x = _features(stems, chars, [prepared[i] for i in rows], dense[rows])
        flags = {f: _regression(True).fit(x, flag_y[f][rows]) for f in FLAGS if 0 < flag_y[f][rows].sum() < len(rows)}
        return stems, chars, _regression().fit(x, y[rows]), flags

    # Out-of-fold scores (everything refitted per fold: no leakage) calibrate the temperature
    # and set the flag thresholds.
    folds = min(FOLDS, int(np.bincount(y).min())) if calibrate else 0
    scores = np.zeros((len(examples), len(categories)))
    flag_scores = {f: np.zeros(len(examples)) for f in FLAGS}
    if folds >= 2:
        for train_rows, test_rows in StratifiedKFold(folds, shuffle=True, random_state=0).split(prepared, y):
            stems, chars, regression, flag_models = fit(train_rows)
            x_test = _features(stems, chars, [prepared[i] for i in test_rows], dense[test_rows])
            fold_scores = np.full((len(test_rows), len(categories)), -1e9)  # a class absent in the fold
            fold_scores[:, regression.classes_] = regression.decision_function(x_test)
            scores[test_rows] = fold_scores
            for f, m in flag_models.items():
                flag_scores[f][test_rows] = m.predict_proba(x_test)[:, 1]
    stems, chars, regression, flag_models = fit(np.arange(len(examples)))
    return LinearModel(
        categories, stems, chars, regression,
        temperature=fit_temperature(scores, y) if folds >= 2 else 1.0,
        flag_models=flag_models,
        flag_thresholds={f: _flag_threshold(flag_scores[f], flag_y[f]) if folds >= 2 else 0.5 for f in flag_models},
        key=key,
    )


def _flag_threshold(scores: np.ndarray, truth: np.ndarray, recall: float = 0.85) -> float:
    """The highest threshold (at most 0.5) that keeps `recall` of the flag out of fold: the
    model is the safety net below the rules, so it leans to flagging."""
    positives = np.sort(scores[truth])
    if not len(positives):
        return 0.5
    cut = positives[int(np.floor((1 - recall) * len(positives)))]
    return float(min(0.5, max(cut, 0.05)))


# ---------------------------------------------------------------- cache on disk

_LOCK = threading.Lock()
_LOADED: dict[Path, LinearModel] = {}  # by cache file: one per training data, code and home


def model_key(path: Path) -> str:
    import sklearn

    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(f"|{MODEL_VERSION}|{sklearn.__version__}|{EMBEDDER}|{EMBEDDING_WEIGHT}|{CUE_WEIGHT}|{C}".encode())
    folder = resources.files("amtslotse").joinpath("data", "inbox", "cues")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):  # cue lists are features
        if entry.name.endswith(".txt"):
            digest.update(entry.name.encode() + entry.read_bytes())
    return digest.hexdigest()[:20]


def _cache_file(key: str, home: Path | None) -> Path:
    if home is None:
        home = get_settings().home
    return Path(home) / "models" / f"triage-{key}.pkl"


def model_is_ready(train_path: Path | None = None, home: Path | None = None) -> bool:
    """True if `load_model` will not need to train (the model is in memory or on disk)."""
    cached = _cache_file(model_key(Path(train_path) if train_path else training_file()), home)
    return cached in _LOADED or cached.is_file()


def load_model(train_path: Path | None = None, home: Path | None = None) -> LinearModel:
    """The model for a training file: from memory, from the disk cache, or trained now."""
    path = Path(train_path) if train_path else training_file()
    if not path.is_file():
        raise FileNotFoundError(f"Trainingsdaten für die Posteingangs-Sortierung fehlen: {path}")
    key = model_key(path)
    cached = _cache_file(key, home)
    with _LOCK:
        if cached in _LOADED:
            return _LOADED[cached]
        model = read_model(cached, LinearModel)
        if model is None:
            log.info("Trainiere das Sortiermodell des Posteingangs (%s)", path.name)
            model = train(read_examples(path), key=key)
            write_model(cached, model, "triage")
        _LOADED[cached] = model
        return model


