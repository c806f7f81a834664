"""The intent model: word and character n-grams, one multinomial logistic regression.

Features, per message, after the guard's own normalization (`text.fold.normalize`: lower case,
umlauts folded, diacritics stripped; known misspellings corrected from `data/guard/typos.tsv`)
and every digit run replaced by "0" ("Antrag vom 3.5." and "vom 12.11." look alike):
- words: 1-2-grams, TF-IDF (sublinear);
- characters: 2-5-grams within words, TF-IDF (typos, inflection, six languages and scripts).
No sentence embedding: with the use-m3 embedding beside the n-grams (weight 1), the model alone
reached the same held-out figures (urgent 51/52, own case 27/30, no answerable message flagged)
and with weight 2 flagged two answerable ones, while embedding one message took about 22 ms
(2 cores under load), far above the 5 ms a chat message may cost here.

Training data: `data/screening/intents_train.jsonl`, lines {"text", "label", "language"},
written for Amtslotse (no evaluation item, no real question). The model is trained on first
use (about a second) and cached as `<AMTSLOTSE_HOME>/models/screening-<hash>.pkl`; the hash
covers the training data, the typo list, MODEL_VERSION, C and the scikit-learn version, so a
change to any of them trains anew. The cache file is written atomically; if the folder is not
writable the model lives in memory only. Scoring one message computes the TF-IDF vector
directly from the fitted vocabularies (`IntentModel.scores`): under 2 ms on a loaded machine.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from amtslotse.errors import DataFileError
from amtslotse.jsonl import read_jsonl_numbered
from amtslotse.model_cache import read_model, write_model
from amtslotse.settings import get_settings
from amtslotse.text.fold import fix_typos, normalize

log = logging.getLogger(__name__)

URGENT_KINDS = ("suicide", "violence", "homeless", "hunger", "eviction", "energy")
"""The urgent kinds (the model's labels and the guard's sections), in the guard's tie-break order."""
LABELS = ("answer", "own_case", "authority", *URGENT_KINDS)
LANGUAGES = ("de", "en", "uk", "ru", "tr", "ar")
"""Languages of the model's training data: only their messages are scored by it (the guard asks)."""

MODEL_VERSION = "1"
"""Bump when features or training change: cached models are then retrained."""
C = 10.0
"""Inverse regularisation strength (5-fold cross-validation on the training set)."""

THRESHOLDS = {"urgent": 0.6, "own_case": 0.5}
"""The model flags an intent when its probability (for `urgent`: the sum over the urgent
kinds) reaches the threshold. Chosen on out-of-fold scores of the training set combined with
the rules (urgent recall 99.8 %, own case 96 %, 3.4 % of the answerable examples flagged, most
of them hard negatives) and on the real-question dev items (none of 116 answerable ones flagged;
at 0.5 two were). The `authority` label has no threshold: the guard names the authority from
its rules and uses the label only as a competitor of the others."""


@dataclass(frozen=True)
class Scores:
    """The model's probabilities for one message (they sum to 1 over `LABELS`)."""

    probs: dict[str, float]

    @property
    def best(self) -> str:
        return max(self.probs, key=self.probs.get)

    @property
    def urgent(self) -> float:
        """The probability that the message is an emergency, of whatever kind."""
        return sum(self.probs[k] for k in URGENT_KINDS)

    @property
    def urgent_kind(self) -> str | None:
        """The most likely urgent kind, if the message is urgent above the threshold."""
        if self.urgent < THRESHOLDS["urgent"]:
            return None
        return max(URGENT_KINDS, key=lambda k: self.probs[k])

    @property
    def own_case(self) -> bool:
        """True if the message asks about the person's own case, above the threshold."""
        return self.probs["own_case"] >= THRESHOLDS["own_case"]


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    language: str


def training_file() -> Path:
    return Path(str(resources.files("amtslotse").joinpath("data", "screening", "intents_train.jsonl")))


def read_examples(path: Path, problems: list[tuple[int, str]] | None = None) -> list[Example]:
    """Labelled messages of a JSONL file, checked. A malformed line raises DataFileError
    ("<file>, Zeile N: ..."), or, with a `problems` list, is added to it as (line, German
    message) and skipped (`amtslotse check` reports every one)."""
    out = []
    for number, item in read_jsonl_numbered(path, problems):
        text, label, language = item.get("text"), item.get("label"), item.get("language")
        if not isinstance(text, str) or not text.strip():
            problem = "Feld 'text' fehlt oder ist leer"
        elif label not in LABELS:
            problem = f"unbekanntes Label {label!r} (erlaubt: {', '.join(LABELS)})"
        elif language not in LANGUAGES:
            problem = f"unbekannte Sprache {language!r} (erlaubt: {', '.join(LANGUAGES)})"
        else:
            out.append(Example(text, label, language))
            continue
        if problems is None:
            raise DataFileError(f"{Path(path).name}, Zeile {number}: {problem}")
        problems.append((number, problem))
    return out


_DIGITS = re.compile(r"\d+")


def prepare(text: str) -> str:
    """The text the n-grams see: normalized like the guard's rules, typos fixed, digits as 0."""
    return _DIGITS.sub("0", fix_typos(normalize(text)))


# ---------------------------------------------------------------- the fitted model


@dataclass
class IntentModel:
    """Vectorizers and the regression; `key` names the data and code it was trained from."""

    words: object  # TfidfVectorizer, word 1-2-grams
    chars: object  # TfidfVectorizer, char_wb 2-5-grams
    regression: object  # LogisticRegression, multinomial over LABELS
    key: str = ""

    def features(self, texts: Sequence[str]):
        """The feature matrix (scikit-learn's way; used for training and checks)."""
        from scipy.sparse import hstack

        prepared = [prepare(t) for t in texts]
        return hstack([self.words.transform(prepared), self.chars.transform(prepared)]).tocsr()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, shape (len(texts), len(LABELS)), columns in the order of LABELS."""
        scores = np.asarray(self.features(texts) @ self.regression.coef_.T) + self.regression.intercept_
        return self._probabilities(scores)

    def scores(self, text: str) -> Scores:
        """The scores of one message, computed directly from the fitted vocabularies: the same
        numbers as `predict_proba`, without scikit-learn's input checks, which cost ten times
        more than the arithmetic for one short message."""
        columns, values = self._vector(prepare(text))
        weights, intercept = self._fast()[2:]
        scores = (values @ weights[columns] if columns else np.zeros(len(intercept))) + intercept
        row = self._probabilities(scores[None, :])[0]
        return Scores({label: float(p) for label, p in zip(LABELS, row)})

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        probs = e / e.sum(axis=1, keepdims=True)
        out = np.zeros((len(scores), len(LABELS)))
        out[:, [LABELS.index(c) for c in self.regression.classes_]] = probs
        return out

    def _fast(self):
        """(analyzers, (vocabulary, idf, offset) per block, coefficients as (features, classes), intercepts)."""
        fast = self.__dict__.get("_fast_parts")
        if fast is None:
            blocks, offset = [], 0
            for vectorizer in (self.words, self.chars):
                blocks.append((vectorizer.vocabulary_, vectorizer.idf_, offset))
                offset += len(vectorizer.idf_)
            analyzers = (self.words.build_analyzer(), self.chars.build_analyzer())
            fast = (analyzers, blocks, np.ascontiguousarray(self.regression.coef_.T), self.regression.intercept_)
            self.__dict__["_fast_parts"] = fast
        return fast

    def _vector(self, prepared: str) -> tuple[list[int], np.ndarray]:
        """Column indices and TF-IDF values (sublinear tf, each block of unit length)."""
        analyzers, blocks = self._fast()[:2]
        columns: list[int] = []
        parts = []
        for analyze, (vocabulary, idf, offset) in zip(analyzers, blocks):
            counts: dict[int, int] = {}
            for term in analyze(prepared):
                j = vocabulary.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            index = np.fromiter(counts, dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[index]
            parts.append(values / np.linalg.norm(values))
            columns.extend((index + offset).tolist())
        return columns, (np.concatenate(parts) if parts else np.zeros(0))

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_fast_parts", None)  # rebuilt on first use
        return state


def _vectorizers():
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(analyzer="word", token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2), sublinear_tf=True,
                            lowercase=False)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=False, min_df=2,
                            max_features=40000)
    return words, chars


def train(examples: Sequence[Example], key: str = "", c: float = C) -> IntentModel:
    """Fit the model on labelled messages (about a second for a thousand)."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    prepared = [prepare(e.text) for e in examples]
    with threadpool_limits(1):
        words, chars = _vectorizers()
        x = hstack([words.fit_transform(prepared), chars.fit_transform(prepared)]).tocsr()
        regression = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
        regression.fit(x, [e.label for e in examples])
    return IntentModel(words, chars, regression, key)


def out_of_fold(examples: Sequence[Example], folds: int = 5, c: float = C) -> np.ndarray:
    """Probabilities of every example from a model that did not see it (stratified folds)."""
    from sklearn.model_selection import StratifiedKFold

    labels = [e.label for e in examples]
    out = np.zeros((len(examples), len(LABELS)))
    for train_rows, test_rows in StratifiedKFold(folds, shuffle=True, random_state=0).split(labels, labels):
        model = train([examples[i] for i in train_rows], c=c)
        out[test_rows] = model.predict_proba([examples[i].text for i in test_rows])
    return out


# ---------------------------------------------------------------- cache

_LOCK = threading.Lock()
_LOADED: dict[str, IntentModel] = {}  # by cache file (or model key without one)
_DEFAULT: list[IntentModel] = []  # the model of the shipped training data, once loaded


def model_key(path: Path) -> str:
    import sklearn

    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(resources.files("amtslotse").joinpath("data", "guard", "typos.tsv").read_bytes())
    digest.update(f"|{MODEL_VERSION}|{C}|{sklearn.__version__}".encode())
    return digest.hexdigest()[:20]


def _cache_folder(home: Path | None) -> Path | None:
    if home is not None:
        return Path(home) / "models"
    try:
        return get_settings().home / "models"
    except Exception as error:  # noqa: BLE001 - no usable settings: keep the model in memory only
        log.warning("Screening model not cached on disk (%s)", type(error).__name__)
        return None


def load_model(train_path: Path | None = None, home: Path | None = None) -> IntentModel:
    """The model of a training file: from memory, from the disk cache, or trained now."""
    path = Path(train_path) if train_path else training_file()
    key = model_key(path)
    folder = _cache_folder(home)
    cached = folder / f"screening-{key}.pkl" if folder else None
    memo = str(cached) if cached else key
    with _LOCK:
        if memo in _LOADED:
            return _LOADED[memo]
        model = read_model(cached, IntentModel) if cached else None
        if model is None:
            log.info("Training the screening model (%s)", path.name)
            model = train(read_examples(path), key=key)
            if cached:
                write_model(cached, model, "screening")
        _LOADED[memo] = model
        return model


def default_model() -> IntentModel:
    """The model of the shipped training data, loaded once per process (the guard's)."""
    if not _DEFAULT:
        model = load_model()
        with _LOCK:
            if not _DEFAULT:
                _DEFAULT.append(model)
    return _DEFAULT[0]


def scores(text: str) -> Scores:
    """The default model's scores for one message."""
    return default_model().scores(text)


