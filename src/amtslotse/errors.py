"""Errors a user can fix, with a German message that says what to do; and the two conflicts
the store detects (a request that collides with stored data: the HTTP layer answers 409).

    >>> try:
    ...     raise DataFileError("routing.tsv, Zeile 3: unbekannte Kategorie wohnen")
    ... except UserError as error:
    ...     print(f"Fehler: {error}")
    Fehler: routing.tsv, Zeile 3: unbekannte Kategorie wohnen

Raise a `UserError` (or a subclass) when the cause lies in what the user gave: a file, a
setting, an option, a tenant configuration. The CLI prints its message as one line (exit
code 2) and the web layer may show it; every other exception is a bug (the CLI says "Interner
Fehler", exit code 70; `amtslotse --debug ...` shows its traceback). Do not catch `ValueError`
or `OSError` broadly to turn them into user errors: wrap the one call whose failure is the
user's (a file they named, a setting they set) where it happens, and raise a `UserError` there.

The subclasses also derive from `ValueError`, so that callers written before this module
(`except ValueError`) keep working while they move to `except UserError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class UserError(Exception):
    """An error the user can fix; its message is German, one line, and names what to fix."""


class DataFileError(UserError, ValueError):
    """A data file (word list, rules, JSONL, TOML, TSV) is missing, unreadable or malformed;
    the message names the file and, where there is one, the line."""


def data_lines(
    text: str, where: str, parse: Callable[[str], T], problems: list[tuple[int, str]] | None = None,
) -> list[T]:
    """`parse(line)` for every data line of a text file (not blank, not a `#` comment). Where
    `parse` raises ValueError (its German message), that is a DataFileError "<where>, Zeile N:
    ...", or, with a `problems` list, (line, message) is added to it and the line skipped (so
    `amtslotse check` reports every bad line)."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            found.append(parse(raw))
        except ValueError as error:
            if problems is None:
                raise DataFileError(f"{where}, Zeile {number}: {error}") from None
            problems.append((number, str(error)))
    return found


class ConfigError(UserError, ValueError):
    """A setting or a tenant configuration is invalid."""


class InputError(UserError, ValueError):
    """An argument or request value is invalid (an empty message, an unknown state)."""


class StoreError(UserError):
    """A store operation failed in a way the user can act on (a database that cannot be
    opened or reached, a missing extension, vectors that do not fit): message in German."""


class ConversationConflict(Exception):
    """The conversation id is taken by another tenant (the HTTP layer answers 409)."""


class IdempotencyConflict(Exception):
    """An API message came again with the idempotency key of an earlier one but other content
    (the HTTP layer answers 409); `reference` is the earlier message's."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference
