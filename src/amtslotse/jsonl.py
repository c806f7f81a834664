"""Reading the files users hand to commands: UTF-8 text, and JSON Lines (question sets, message
sets, training data: one object per line, blank lines skipped). Every problem is a German
DataFileError (a UserError) that names the file (and the line)::

    for where, item in read_jsonl_lines(Path("fragen.jsonl")):
        question = field(item, "question", where)  # DataFileError "<file>, Zeile N: Feld 'question' fehlt"
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from amtslotse.errors import DataFileError


def read_text(path: Path) -> str:
    """The whole file as text."""
    path = Path(path)
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise DataFileError(f"Datei nicht gefunden: {path}") from None
    except UnicodeDecodeError:
        raise DataFileError(f"{path.name}: kein UTF-8-Text") from None
    except OSError as error:
        raise DataFileError(f"{path.name}: nicht lesbar ({error.strerror})") from None


def read_jsonl_lines(path: Path) -> Iterator[tuple[str, dict]]:
    """("<file>, Zeile N", object) for every non-blank line."""
    path = Path(path)
    for number, item in read_jsonl_numbered(path):
        yield f"{path.name}, Zeile {number}", item


def read_jsonl_numbered(path: Path, problems: list[tuple[int, str]] | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line. A line that is no JSON object raises
    DataFileError ("<file>, Zeile N: ..."), or, with a `problems` list, is added to it as
    (line, German message) and skipped (`amtslotse check` reports every one)."""
    path = Path(path)
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            problem = None if isinstance(item, dict) else "kein JSON-Objekt"
        except json.JSONDecodeError as error:
            problem = f"kein gültiges JSON ({error.msg})"
        if problem is None:
            yield number, item
        elif problems is None:
            raise DataFileError(f"{path.name}, Zeile {number}: {problem}")
        else:
            problems.append((number, problem))


def read_jsonl(path: Path) -> Iterator[dict]:
    """The objects of a JSON Lines file, in order."""
    for _where, item in read_jsonl_lines(path):
        yield item


def field(item: object, name: str, where: str):
    """`item[name]`, or a DataFileError at `where` when the item is no object or lacks the field."""
    if not isinstance(item, dict) or name not in item:
        raise DataFileError(f"{where}: Feld '{name}' fehlt")
    return item[name]
