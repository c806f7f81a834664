"""Language detection for citizen messages (ISO 639-1), for the guard and the inbox.

    >>> detect_language("Wo ist mein Geld?"), detect_language("Where is my money?")
    ('de', 'en')

py3langid's model ships inside the wheel, so nothing is downloaded at run time; it is
restricted to the languages Jobcenter clients write in, with a German prior for short messages
and cue words per language (data/guard/language_words.txt).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from amtslotse.text.fold import normalize, unspace

# Latin-script languages Jobcenter clients write in (Cyrillic, Arabic and Greek are told apart
# by their letters first). Restricting py3langid to them keeps German apart from Dutch, Danish
# or Afrikaans, which short German messages are otherwise often taken for.
_LATIN_LANGS = ("de", "en", "tr", "pl", "ro", "it", "es", "fr", "pt", "sq", "hr", "vi", "hu", "cs", "sk", "lt", "lv")
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z-]*\]")


@lru_cache(maxsize=1)
def _model():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=4)
def _identifier(languages: tuple[str, ...] = _LATIN_LANGS):
    """py3langid restricted to `languages` (a copy of the loaded model, which is read once)."""
    import copy

    identifier = copy.copy(_model())
    identifier.set_languages([code for code in languages if code in _model().labels])
    return identifier


@lru_cache(maxsize=1)
def _word_languages() -> dict[str, tuple[str, ...]]:
    """word -> the languages whose cue list holds it."""
    index: dict[str, list[str]] = {}
    for code, words in _cue_words().items():
        for word in words:
            index.setdefault(word, []).append(code)
    return {word: tuple(codes) for word, codes in index.items()}


@lru_cache(maxsize=1)
def _cue_words() -> dict[str, frozenset[str]]:
    """Frequent words per language (data/guard/language_words.txt: `de: ich du nicht ...`)."""
    text = resources.files("amtslotse").joinpath("data", "guard", "language_words.txt").read_text("utf-8")
    words: dict[str, set[str]] = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            code, rest = line.split(":", 1)
            words.setdefault(code.strip(), set()).update(normalize(rest).split())
    return {code: frozenset(ws) for code, ws in words.items()}


_SCRIPT_LETTERS = {"latin": re.compile("[A-Za-z\u00c0-\u024f]"), "cyrillic": re.compile("[\u0400-\u04ff]"),
                   "arabic": re.compile("[\u0620-\u064a\u066e-\u06d3\ufb50-\ufefc]"), "greek": re.compile("[\u0370-\u03ff]")}


def _script_language(text: str) -> str | None:
    """Non-Latin scripts decide by letters alone, which is exact where the model is weakest."""
    counts = {script: len(letters.findall(text)) for script, letters in _SCRIPT_LETTERS.items()}
    script = max(counts, key=counts.get)
    if counts[script] == 0 or script == "latin":
        return None
    if script == "greek":
        return "el"
    lower = text.lower()
    if script == "arabic":
        return "fa" if re.search("[پچژگی]", lower) and not re.search("[ةىأإ]", lower) else "ar"
    if re.search("[іїєґ]", lower):
        return "uk"
    if re.search("[ыэъё]", lower):
        return "ru"
    if re.search("[ђјљњћџ]", lower):
        return "sr"
    words = re.findall(r"\w+", normalize(text))
    votes = {code: sum(w in _cue_words().get(code, ()) for w in words) for code in ("uk", "ru", "bg")}
    best = max(votes, key=votes.get)
    if votes[best] and list(votes.values()).count(votes[best]) == 1:
        return best
    return _identifier(("uk", "ru", "bg")).classify(text)[0]


def detect_language(text: str, history: Sequence[str] = ()) -> str:
    """ISO 639-1 code of a message. Short or ambiguous Latin-script messages are German unless
    their words clearly say otherwise (or the conversation so far was in another language)."""
    clean = unspace(_PLACEHOLDER.sub(" ", text))
    script = _script_language(clean)
    if script:
        return script
    words = re.findall(r"\w+", normalize(clean))
    if not words:
        return detect_language(history[-1]) if history else "de"
    votes = dict.fromkeys(_LATIN_LANGS, 0)
    index = _word_languages()
    for word in words:
        for code in index.get(word, ()):
            if code in votes:
                votes[code] += 1
    if re.search("[ğı]", clean.lower()):
        votes["tr"] += 2  # letters only Turkish uses (a Turkish name in German text gets outvoted)
    best_vote = max(votes, key=lambda c: (votes[c], c == "de"))
    if len(words) <= 3:
        if votes[best_vote] > votes["de"]:
            return best_vote
        if history and votes["de"] == 0:
            return detect_language(history[-1])
        return "de"
    ranked = sorted(votes.values(), reverse=True)
    if ranked[0] >= 3 and ranked[0] >= 2 * ranked[1]:
        return best_vote  # the frequent words are clear: no need for the model
    code, prob = _identifier().classify(clean[:200])  # the start is enough and keeps it fast
    if code == "de":
        return "de"
    if votes["de"] > votes[code] and votes["de"] >= votes[best_vote]:
        return "de"  # informal or misspelled German the model reads as another language
    if prob >= 0.8 or votes[code] > 0:
        return code
    return best_vote if votes[best_vote] > votes["de"] else "de"
