"""Per category, the documents a reply typically still asks for (German, for staff and drafts).

    >>> checklist_for("unterkunft")[:2]
    ['Mietvertrag', 'aktuelle Nebenkostenabrechnung']
    >>> checklist_for("energieschulden")  # unknown category: no checklist
    []

Data: `data/inbox/checklists.toml`, one list per category key; a tenant's own
`checklists.toml` (same format, in its folder) adds documents, also for its own categories.
The draft reply adds the list as "Bitte reichen Sie noch ein: ..."; staff strike what the
message already contained.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from amtslotse.categories import CATEGORIES, InboxConfig
from amtslotse.errors import DataFileError

CHECKLISTS = "checklists.toml"
"""The file name, bundled (data/inbox/) and in a tenant's own folder."""


def checklists_file() -> Path:
    return Path(str(resources.files("amtslotse").joinpath("data", "inbox", CHECKLISTS)))


@lru_cache(maxsize=1)
def _checklists() -> dict[str, tuple[str, ...]]:
    return parse_checklists(checklists_file().read_text("utf-8"), CHECKLISTS)


@lru_cache(maxsize=32)
def _own_checklists(path: Path, _stamp: int, known: frozenset[str]) -> dict[str, tuple[str, ...]]:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(f"{path}: nicht lesbar ({error})") from None
    return parse_checklists(text, str(path), known)


def parse_checklists(
    text: str, where: str, known: Iterable[str] = CATEGORIES, problems: list[tuple[int | None, str]] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Category key -> documents, from the TOML text; `known`: the category keys it may name
    (a tenant's file also its own categories). A problem raises DataFileError (German, naming
    `where` and the line), or, with a `problems` list, is added to it as (line, message) and
    the entry skipped (`amtslotse check` reports every one)."""

    def problem(line: int | None, message: str) -> None:
        if problems is None:
            raise DataFileError(f"{where}, Zeile {line}: {message}" if line else f"{where}: {message}")
        problems.append((line, message))

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"\(at line (\d+), column \d+\)", str(error))
        problem(int(at.group(1)) if at else None, f"kein gültiges TOML ({error})")
        return {}
    known, found = frozenset(known), {}
    for key, documents in data.items():
        if key not in known:
            problem(_line_of(text, key), f"unbekannte Kategorie {key}")
        elif not (isinstance(documents, list) and all(isinstance(d, str) for d in documents)):
            problem(_line_of(text, key), "je Kategorie eine Liste von Texten erwartet")
        else:
            found[key] = tuple(documents)
    return found


def _line_of(text: str, key: str) -> int | None:
    """The line of a top-level key (`key = [` or `[key]`): tomllib gives no positions."""
    pattern = re.compile(rf"^\s*(\[\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
    return next((n for n, line in enumerate(text.splitlines(), start=1) if pattern.match(line)), None)


def checklist_for(category: str, config: InboxConfig | None = None) -> list[str]:
    """The documents typically still needed for a category ([] if none are listed): the
    bundled list, then what the tenant's own `checklists.toml` (in `config.folder`) adds."""
    documents = list(_checklists().get(category, ()))
    if config is not None and config.folder is not None and (own := Path(config.folder) / CHECKLISTS).is_file():
        extra = _own_checklists(own, own.stat().st_mtime_ns, frozenset(config.labels))
        documents += [d for d in extra.get(category, ()) if d not in documents]
    return documents
