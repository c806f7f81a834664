"""Generative composer: the "compose" step of the Ask flow when an LLM is configured.

    composer = GenerativeComposer(llm, settings)
    generation = composer.stream(redacted_question, hits, history=turns, language="en", simple=False)
    try:
        first = next(generation)  # sends the request, waits for the first checked chunk
    except StopIteration:
        ...  # it began by repeating its rules (generation.leaked): show the refusal
    except LLMError:
        ...  # nothing was shown yet: fall back to the extractive answer
    send(first)
    for chunk in generation:  # checked text, as the model writes it
        send(chunk)
    generation.text, generation.cited, generation.grounded, generation.leaked, generation.error

The prompt (prompts.py) holds the rules, the numbered passages and the redacted question. The
model's text passes two streaming checks before a client sees it:

1. `CitationFilter`: markers such as [1], [2, 3], [1][4], [Quelle 2] or [1-3] are checked
   against the passages that were in the prompt. A number that was not given is removed (with
   the space before it); the valid ones are renumbered in the order of their first citation, so
   that [k] in `text` is `cited[k - 1]`. Only an unfinished "[..." that can still become a
   marker is held back, and trailing whitespace (the space before a marker that may vanish).
2. `LeakGuard`: the answer must not repeat the rules. A run of LEAK_WORDS words that also
   stands in the system prompt, or the prompt's canary word, stops the answer at once
   (`leaked`); the trailing words that could be the start of such a run are held back, so the
   repeated rules never reach the client. The pipeline then shows its refusal instead.

Errors: every failure before the first chunk (no usable passage, server down, time limit,
HTTP error, empty answer) is an LLMError raised by the first `next()`: nothing was shown, the
caller falls back. After that the answer ends cleanly (no half marker) with
INTERRUPTED_NOTE, and `error` holds the German message. The whole answer is
bounded by AMTSLOTSE_LLM_TIMEOUT_SECONDS: the provider enforces it, and so does this module
between chunks for providers that do not.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache

from amtslotse.ask import prompts
from amtslotse.llm import (
    LLM,
    ChatMessage,
    LLMBadResponseError,
    LLMError,
    LLMTimeoutError,
)
from amtslotse.models import Hit
from amtslotse.settings import Settings

LEAK_WORDS = 8
"""Words in a row that the answer may share with the rules before it counts as a leak. The
rules are worded so that what the model should say ("Darüber entscheiden die Mitarbeitenden")
shares fewer words in a row with them (tests/test_generative.py checks typical answers and
the starter pack's pages); an echoed prompt shares dozens."""

INTERRUPTED_NOTE = (
    "(Die Antwort wurde unterbrochen. Bitte fragen Sie noch einmal oder geben Sie Ihre Frage an "
    "die Mitarbeitenden weiter.)"
)
"""Ends an answer whose stream broke off (citizen-visible; may move to texts.py)."""


CANARY = "AL" + secrets.token_hex(5).upper()
"""A word no answer contains by chance, in the rules: if it comes back, the model is reciting
them. One per process, so that every request shares the rules' tokens in the server's prompt
cache; it is not a secret (the n-gram check does not depend on it)."""


class PromptUnavailable(LLMError):
    """Nothing to send the model: no passage could go into the prompt (none given, all flagged
    by scan_document), or the question is too long for the context. An LLMError, so that the
    caller's fallback to the extractive answer covers it."""


# --- the citation filter ----------------------------------------------------------------------

_PREFIX_WORDS = ("quelle", "quellen", "source", "sources", "nr", "nr.")
_NUMBERS = r"\d{1,3}(?:\s*(?:[,;]|[-–]|und|and|&)\s*\d{1,3})*"
_MARKER = re.compile(rf"\[\s*(?:(?:quellen?|sources?|nr\.?)\s*)?({_NUMBERS})\s*\]", re.IGNORECASE)
_PARTIAL_NUMBERS = re.compile(r"(?:[\d\s,;\-–&]|und|and)*(?:u|un|a|an)?")
_SHOWN_MARKER = re.compile(r"\[(\d+(?:, \d+)*)\]")  # the filter's own output form
_MAX_MARKER_CHARS = 40
_MAX_RANGE = 10


def _could_become_marker(after_bracket: str) -> bool:
    """Can the text after an unclosed "[" still grow into a citation marker?"""
    if len(after_bracket) > _MAX_MARKER_CHARS:
        return False
    rest = after_bracket.lstrip().casefold()
    word = re.match(r"[^\W\d_]+\.?", rest)
    if word:
        if word.end() == len(rest):  # "[Que": a prefix word still being written
            return any(w.startswith(word.group(0)) for w in _PREFIX_WORDS)
        if word.group(0) not in _PREFIX_WORDS:
            return False
        rest = rest[word.end():]
    return _PARTIAL_NUMBERS.fullmatch(rest) is not None


class CitationFilter:
    """Streaming check of citation markers against `n_passages` given passages.

        >>> f = CitationFilter(2)
        >>> f.feed("Die Miete wird übernommen [") + f.feed("2]. Nicht [7") + f.feed("].") + f.finish()
        'Die Miete wird übernommen [1]. Nicht.'
        >>> f.order, f.dropped
        ([2], 1)

    `order`: the prompt numbers of the cited passages in order of first citation (output [k]
    is prompt number order[k - 1]); `dropped`: markers or numbers removed.
    """

    def __init__(self, n_passages: int) -> None:
        self.n_passages = n_passages
        self.order: list[int] = []
        self.dropped = 0
        self._pending = ""
        self._gap = ""  # the space before a removed marker, kept if another marker follows

    def feed(self, text: str) -> str:
        """The part of the text so far that is safe to show; the rest waits for more."""
        self._pending += text
        return self._release(final=False)

    def finish(self) -> str:
        """The rest at the end of the stream; an unfinished marker is dropped."""
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        out: list[str] = []
        pending = self._pending
        if self._gap and pending:
            pending = (self._gap if pending.startswith("[") else "") + pending
            self._gap = ""
        while True:
            i = pending.find("[")
            if i < 0:
                keep = len(pending) if final else len(pending.rstrip())  # hold trailing space
                out.append(pending[:keep])
                pending = pending[keep:]
                break
            marker = _MARKER.match(pending, i)
            if marker:
                replacement = self._renumber(marker.group(1))
                before, pending = pending[:i], pending[marker.end():]
                if not replacement:  # the space before a removed marker goes too ...
                    kept = before.rstrip(" \t")
                    before, gap = kept, before[len(kept):]
                    if pending.startswith("["):  # ... unless a marker follows: "A [9][3]"
                        pending = gap + pending
                    elif not pending:
                        self._gap = gap  # decided by the next chunk
                out.append(before + replacement)
                continue
            if _could_become_marker(pending[i + 1:]):
                if final:  # the stream ended inside a marker
                    self.dropped += 1
                    out.append(pending[:i].rstrip(" \t"))
                    pending = ""
                    break
                head = pending[:i]
                kept = len(head.rstrip())
                out.append(head[:kept])
                pending = head[kept:] + pending[i:]
                break
            out.append(pending[: i + 1])  # "[NAME]", "[Anlage]": text, not a marker
            pending = pending[i + 1:]
        self._pending = pending
        return "".join(out)

    def _renumber(self, numbers: str) -> str:
        shown: list[int] = []
        for number in self._numbers(numbers):
            if not 1 <= number <= self.n_passages:
                self.dropped += 1
                continue
            if number not in self.order:
                self.order.append(number)
            position = self.order.index(number) + 1
            if position not in shown:
                shown.append(position)
        return f"[{', '.join(map(str, shown))}]" if shown else ""

    @staticmethod
    def _numbers(text: str) -> list[int]:
        """"1, 3" -> [1, 3]; "2-4" -> [2, 3, 4] (short ascending ranges only)."""
        numbers: list[int] = []
        for part in re.split(r"\s*(?:[,;&]|und|and)\s*", text, flags=re.IGNORECASE):
            bounds = [int(b) for b in re.split(r"\s*[-–]\s*", part) if b]
            if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] < _MAX_RANGE:
                numbers.extend(range(bounds[0], bounds[1] + 1))
            else:
                numbers.extend(bounds)
        return numbers


# --- the leak guard ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=64)
def _runs(rules: str, words: int) -> frozenset[tuple[str, ...]]:
    """Every run of 1..`words` words of the rules (case-folded): what may grow into a leak."""
    sequence = [w.casefold() for w in _WORD.findall(rules)]
    return frozenset(tuple(sequence[i:i + k]) for k in range(1, words + 1) for i in range(len(sequence) - k + 1))


class LeakGuard:
    """Streaming check that an answer does not repeat `rules` (the system prompt).

        >>> guard = LeakGuard("Regel eins: antworte nur aus den Quellen und nie anders.", "kanarie42", words=4)
        >>> guard.feed("Ich antworte nur aus ") + guard.feed("den Quellen.")
        'Ich '
        >>> guard.leaked
        True

    Leak: LEAK_WORDS words in a row (case-folded, punctuation ignored) that stand in a row in
    `rules`, or the `canary` word anywhere. Held back: the trailing words that stand in a row
    in `rules` (fewer than LEAK_WORDS) and an unfinished last word, so that a leak is caught
    before any word of it is released. Any later leak must start inside the held-back words
    (else a longer run of rules words would end the released text), so only they are checked.
    """

    def __init__(self, rules: str, canary: str, *, words: int = LEAK_WORDS) -> None:
        self._n = words
        self._runs = _runs(rules, words)
        self._canary = canary.casefold()
        self._buffer = ""
        self.leaked = False

    def feed(self, text: str) -> str:
        if self.leaked:
            return ""
        self._buffer += text
        return self._release(final=False)

    def finish(self) -> str:
        return "" if self.leaked else self._release(final=True)

    def _release(self, final: bool) -> str:
        buffer = self._buffer
        matches = list(_WORD.finditer(buffer))
        partial = matches[-1] if matches and matches[-1].end() == len(buffer) and not final else None
        complete = matches[:-1] if partial else matches
        words = [m.group(0).casefold() for m in complete]
        n = self._n
        if any(self._canary in w for w in words) or any(
            tuple(words[i:i + n]) in self._runs for i in range(len(words) - n + 1)
        ):
            self.leaked, self._buffer = True, ""
            return ""
        hold = partial.start() if partial else len(buffer)
        if not final:
            for k in range(min(n - 1, len(words)), 0, -1):
                if tuple(words[-k:]) in self._runs:
                    hold = complete[-k].start()
                    break
        self._buffer = buffer[hold:]
        return buffer[:hold]


# --- the composer -----------------------------------------------------------------------------


class GenerativeComposer:
    """Answers from the retrieved passages with an LLM, streamed and checked.

        composer = GenerativeComposer(get_llm(settings), settings, context_tokens=8192)
        generation = composer.stream("Zahlt das Jobcenter die Nebenkosten?", hits)
        print("".join(generation), [h.passage.citation for h in generation.cited])

    `context_tokens`: the model's context window (default: small enough for any server);
    `max_tokens`: the answer's limit (default AMTSLOTSE_LLM_MAX_TOKENS); the prompt gets the
    rest. Cheap to build, stateless, thread-safe. Raises ValueError (German) when the window
    cannot hold the rules, a short question and one passage besides the answer.
    """

    def __init__(
        self,
        llm: LLM,
        settings: Settings,
        *,
        context_tokens: int = prompts.DEFAULT_CONTEXT_TOKENS,
        max_tokens: int | None = None,
        max_passages: int = prompts.MAX_PASSAGES,
        passage_chars: int = prompts.PASSAGE_CHARS,
    ) -> None:
        self.llm = llm
        self.max_tokens = settings.llm_max_tokens if max_tokens is None else max_tokens
        self.temperature = settings.llm_temperature
        self.timeout = settings.llm_timeout_seconds
        self.budget_tokens = context_tokens - self.max_tokens - prompts.SAFETY_TOKENS
        self.max_passages = max_passages
        self.passage_chars = passage_chars
        self.canary = CANARY
        try:
            prompts.build_prompt("?", [], canary=self.canary, budget_tokens=self.budget_tokens)
        except prompts.PromptTooLarge as error:
            raise ValueError(str(error)) from None

    def prompt(
        self, question: str, hits: Sequence[Hit], *, history: Sequence[ChatMessage | str] = (),
        language: str = "de", simple: bool = False, individual: bool = False,
    ) -> prompts.Prompt:
        """The prompt `stream()` sends (for tests, size logs and audits). Raises PromptTooLarge."""
        return prompts.build_prompt(
            question, hits, canary=self.canary, history=history, language=language, simple=simple,
            individual=individual, budget_tokens=self.budget_tokens, max_passages=self.max_passages,
            passage_chars=self.passage_chars,
        )

    def stream(
        self, question: str, hits: Sequence[Hit], *, history: Sequence[ChatMessage | str] = (),
        language: str = "de", simple: bool = False, individual: bool = False,
    ) -> Generation:
        """The answer, to be iterated. Nothing is sent before the first `next()`.

        `question` and `history` must be redacted (they are redacted again as a safety net).
        `individual`: the guard found a question about the person's own case; the model is told
        to explain only the general rule. Every failure before the first chunk is raised by the
        first `next()` as an LLMError: PromptUnavailable (no usable passage, question too long),
        LLMTimeoutError, LLMUnreachableError, LLMBadResponseError (also for an empty answer).
        """
        try:
            prompt = self.prompt(
                question, hits, history=history, language=language, simple=simple, individual=individual
            )
        except prompts.PromptTooLarge as error:
            return Generation(None, self, PromptUnavailable(str(error)))
        if not prompt.passages:
            return Generation(prompt, self, PromptUnavailable(
                "Keine der gefundenen Quellen kann für eine formulierte Antwort verwendet werden."
            ))
        return Generation(prompt, self)

    def compose(self, question: str, hits: Sequence[Hit], **options) -> Generation:
        """`stream()` read to its end, for callers that do not stream (CLI, batch). Raises
        LLMError when nothing could be generated."""
        return self.stream(question, hits, **options).finish()


class Generation:
    """One answer being generated. Iterate it (once) for the checked text chunks. The first
    `next()` sends the request and waits for the first checked chunk; it raises LLMError if
    there is none (nothing was shown: fall back), or stops at once if the model began by
    repeating its rules (`leaked`). Later failures end the text cleanly and set `error`.

    - `hits`: the passages in the prompt, [n] = hits[n - 1] before renumbering (the sources
      the answer may cite; a subset of the retrieved hits);
    - `text`: the chunks handed out, joined; markers renumbered so that [k] is `cited[k - 1]`;
    - `cited`: the passages the text cites, in order of first citation (a subset of `hits`);
    - `grounded`: at least one valid citation;
    - `leaked`: the model began to repeat its rules; it was stopped before that part reached
      the text (show a refusal instead);
    - `error`: German message when the stream broke off after the first chunk (`text` then
      ends with INTERRUPTED_NOTE), else None;
    - `dropped_markers`: citation markers (or numbers in them) removed as invalid.
    """

    def __init__(self, prompt: prompts.Prompt | None, composer: GenerativeComposer,
                 unavailable: LLMError | None = None) -> None:
        self.prompt = prompt
        self.hits: list[Hit] = list(prompt.passages) if prompt else []
        self.text = ""
        self.cited: list[Hit] = []
        self.grounded = False
        self.leaked = False
        self.error: str | None = None
        self.finished = False
        self._composer = composer
        self._unavailable = unavailable
        self._chunks: Iterator[str] | None = None  # the LLM's stream, opened by the first next()
        self._citations = CitationFilter(len(self.hits))
        self._leak = LeakGuard(prompt.rules if prompt else "", composer.canary)
        self._deadline = 0.0
        self._ready: list[str] = []  # checked chunks not yet handed out
        self._started = False  # a non-blank chunk was checked (leading blanks are dropped)
        self._opened = False  # the first next() sends the request

    @property
    def dropped_markers(self) -> int:
        return self._citations.dropped

    def __iter__(self) -> Generation:
        return self

    def __next__(self) -> str:
        if not self._opened:
            self._opened = True
            try:
                self._first_chunk()
            except BaseException:
                self.close()
                raise
        while not self._ready:
            if self.finished:
                raise StopIteration
            self._advance(first=False)
        chunk = self._ready.pop(0)
        self.text += chunk
        return chunk

    def finish(self) -> Generation:
        """Read it to the end (the rest, if reading began) and return self."""
        for _ in self:
            pass
        return self

    def close(self) -> None:
        """Stop generating (ends the LLM request); the result is what was handed out."""
        self._ready.clear()
        self.finished = True
        self._settle()  # again: chunks checked but not handed out are no longer part of it
        if self._chunks is not None and hasattr(self._chunks, "close"):
            self._chunks.close()

    def __enter__(self) -> Generation:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------------

    def _first_chunk(self) -> None:
        """Send the request and advance to the first checked chunk (or the end)."""
        if self._unavailable is not None:
            raise self._unavailable
        composer = self._composer
        self._deadline = time.monotonic() + composer.timeout
        self._chunks = iter(composer.llm.stream(
            self.prompt.messages, max_tokens=composer.max_tokens, temperature=composer.temperature,
            timeout=composer.timeout,
        ))
        while not self._ready and not self.finished:
            self._advance(first=True)
        if self.finished and not self._ready and not self.leaked:
            raise LLMBadResponseError("Das Sprachmodell hat eine leere Antwort geliefert.")

    def _advance(self, first: bool) -> None:
        try:
            if time.monotonic() > self._deadline:  # for providers that do not enforce it themselves
                raise LLMTimeoutError(
                    f"Das Sprachmodell hat nicht innerhalb von {self._composer.timeout:g} s geantwortet "
                    "(Zeitlimit: AMTSLOTSE_LLM_TIMEOUT_SECONDS)."
                )
            chunk = next(self._chunks)
        except StopIteration:
            self._push(self._leak.feed(self._citations.finish()) + self._leak.finish(), last=True)
            return self._end()
        except LLMError as error:
            if first:
                raise
            self.error = str(error)
            self._push(self._leak.feed(self._citations.finish()) + self._leak.finish(), last=True)
            if not self.leaked:
                self._ready.append(("\n\n" if self._started else "") + INTERRUPTED_NOTE)
            return self._end()
        self._push(self._leak.feed(self._citations.feed(chunk)), last=False)
        if self.leaked:
            self._end()

    def _push(self, text: str, last: bool) -> None:
        if self._leak.leaked:
            self.leaked = True
            self._ready.clear()  # safe text, but the caller replaces the whole answer anyway
            return
        if not self._started:
            text = text.lstrip()
            self._started = bool(text)
        if last:
            text = text.rstrip()
        if text:
            self._ready.append(text)

    def _end(self) -> None:
        self.finished = True
        self._settle()
        if hasattr(self._chunks, "close"):
            self._chunks.close()

    def _settle(self) -> None:
        # What the caller sees is a prefix of the filter's output, whose markers are numbered
        # 1, 2, ... in order of first citation: the highest one shown says how many are cited.
        shown = self.text + "".join(self._ready)
        highest = max((int(n) for group in _SHOWN_MARKER.findall(shown) for n in group.split(", ")), default=0)
        self.cited = [self.hits[number - 1] for number in self._citations.order[:highest]]
        self.grounded = bool(self.cited)
