"""German text analysis for the lexical index: the same steps at index and at query time.

lowercase -> tokens -> stopwords out -> compound parts (dictionary decompounding) ->
Snowball German stems (which also fold ä/ö/ü/ß and ae/oe/ue) -> 64-bit term ids.

Compounds matter in German administrative language: a citizen writes "Nebenkosten", the
law says "Betriebskosten" or "Heizkostenabrechnung". Each compound token is indexed as
itself and as its parts, so "kosten" meets "Heizkostenabrechnung". Parts are found in a
lexicon of word forms (data/lexicon/de_words.txt) by longest-prefix search with the
usual linking elements (Fugen-s, -es, -n, -en, -e, -er).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources

import Stemmer

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_FUGEN = ("", "s", "es", "n", "en", "e", "er", "ns")
_NOT_A_PART = frozenset({"schaft", "schaften", "heit", "keit", "ung", "lich"})  # suffixes, not words
_MIN_PART = 4
_MIN_COMPOUND = 8

PART_WEIGHT = 0.5
"""Weight of a compound part relative to the whole word, in documents and queries."""


def _read_word_list(name: str) -> frozenset[str]:
    text = resources.files("amtslotse").joinpath("data", "lexicon", name).read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Compared with lowercased tokens, so kept with their umlauts."""
    return _read_word_list("de_stopwords.txt")


@lru_cache(maxsize=1)
def folded_stopwords() -> frozenset[str]:
    return frozenset(w.translate(_FOLD) for w in stopwords())


@lru_cache(maxsize=1)
def lexicon() -> frozenset[str]:
    """Base words with folded umlauts (the form compounds are split in)."""
    return frozenset(w.translate(_FOLD) for w in _read_word_list("de_words.txt"))


_stemmer = Stemmer.Stemmer("german")
_stemmer.maxCacheSize = 200_000


def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def term_id(term: str) -> int:
    """Stable signed 64-bit id of an analyzed term (no vocabulary table needed)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little", signed=True)


_term_id_cached = lru_cache(maxsize=500_000)(term_id)


def tokens(text: str) -> list[str]:
    """Lowercased word tokens with stopwords removed (numbers and "7b"-style ids kept)."""
    stop = stopwords()
    text = unicodedata.normalize("NFC", text.lower())
    return [t for t in _TOKEN.findall(text) if t not in stop]


@lru_cache(maxsize=200_000)
def split_compound(word: str) -> tuple[str, ...]:
    """Parts of a compound (folded forms), or () if the word is not a known compound."""
    folded = word.translate(_FOLD)
    if len(folded) < _MIN_COMPOUND or not folded.isalpha():
        return ()
    parts = _split(folded, lexicon())
    return tuple(parts) if parts and len(parts) > 1 else ()


def _split(word: str, lex: frozenset[str]) -> list[str] | None:
    if word in lex:
        return None if word in _NOT_A_PART else [word]
    # Longest known prefix first: "nebenkostenabrechnung" -> "nebenkosten" + "abrechnung".
    for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
        head = word[:cut]
        if head in folded_stopwords():  # "wider|spruch", "unter|kunft": particles, not parts
            continue
        if head not in lex:
            # Elided final -e: "Schulbedarf" = "Schule" + "Bedarf", "Mieterhöhung" = "Miete" + ...
            if head + "e" not in lex:
                continue
            head += "e"
        rest = word[cut:]
        for fuge in _FUGEN:
            if rest.startswith(fuge) and len(rest) - len(fuge) >= _MIN_PART:
                tail = _split(rest[len(fuge):], lex)
                if tail:
                    return [head, *tail]
    return None


@lru_cache(maxsize=300_000)
def _analyze_token(token: str) -> tuple[tuple[str, float], ...]:
    out = [(stem(token), 1.0)]
    for part in split_compound(token):
        out.append((stem(part), PART_WEIGHT))
    return tuple(out)


def weighted_terms(text: str) -> Counter[str]:
    """Analyzed terms with weights: 1 per word occurrence, PART_WEIGHT per compound part."""
    counts: Counter[str] = Counter()
    for token in tokens(text):
        for term, weight in _analyze_token(token):
            counts[term] += weight
    return counts


def hashed(terms: dict[str, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for term, weight in terms.items():
        tid = _term_id_cached(term)
        out[tid] = out.get(tid, 0.0) + weight
    return out


@lru_cache(maxsize=400_000)
def _hashed_token(token: str) -> tuple[tuple[int, float], ...]:
    if token in stopwords():
        return ()
    return tuple((_term_id_cached(term), weight) for term, weight in _analyze_token(token))


def hashed_terms(text: str) -> dict[int, float]:
    """`hashed(weighted_terms(text))`, computed once per distinct word: the hot path of ingest."""
    counts = Counter(_TOKEN.findall(unicodedata.normalize("NFC", text.lower())))
    out: dict[int, float] = {}
    get = out.get
    for token, count in counts.items():
        for tid, weight in _hashed_token(token):
            out[tid] = get(tid, 0.0) + weight * count
    return out
