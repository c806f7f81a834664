"""Per category, the documents a reply typically still asks for (German, for staff and drafts).

    >>> checklist_for("unterkunft")[:2]
    ['Mietvertrag', 'aktuelle Nebenkostenabrechnung']
    >>> checklist_for("energieschulden")  # unknown category: no checklist
    []

Data: `data/inbox/checklists.toml`, one list per category key. The draft reply adds the list
as "Bitte reichen Sie noch ein: ..."; staff strike what the message already contained.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from amtslotse.categories import CATEGORIES
from amtslotse.errors import DataFileError


def checklists_file() -> Path:
    return Path(str(resources.files("amtslotse").joinpath("data", "inbox", "checklists.toml")))


@lru_cache(maxsize=1)
def _checklists() -> dict[str, tuple[str, ...]]:
    return parse_checklists(checklists_file().read_text("utf-8"), "checklists.toml")


def parse_checklists(text: str, where: str) -> dict[str, tuple[str, ...]]:
    """Category key -> documents, from the TOML text; DataFileError (German, naming `where`
    and, for a TOML syntax error, the line) if it is malformed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DataFileError(f"{where}: kein gültiges TOML ({error})") from None
    unknown = set(data) - set(CATEGORIES)
    if unknown:
        raise DataFileError(f"{where}: unbekannte Kategorie {', '.join(sorted(unknown))}")
    if not all(isinstance(v, list) and all(isinstance(d, str) for d in v) for v in data.values()):
        raise DataFileError(f"{where}: je Kategorie eine Liste von Texten erwartet")
    return {key: tuple(docs) for key, docs in data.items()}


def checklist_for(category: str) -> list[str]:
    """The documents typically still needed for a category ([] if none are listed)."""
    return list(_checklists().get(category, ()))
