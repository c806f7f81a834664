"""The two-column data files that tenants can extend (vocabulary, keywords).

A bundled `data/<kind>/bund.tsv` plus, in an optional folder, `bund.tsv` (for all tenants)
and `<tenant>.tsv`. Lines are `left<TAB>right`; `#` starts a comment; blank lines are skipped.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from amtslotse.errors import data_lines
from amtslotse.models import SHARED_TENANT


def read_files(kind: str, tenant: str, folder: Path | None) -> list[tuple[str, str]]:
    """(origin, text) of the bundled file and the tenant's extra files, in that order."""
    bundled = resources.files("amtslotse").joinpath("data", kind, f"{SHARED_TENANT}.tsv")
    files = [(f"{kind}/{SHARED_TENANT}.tsv", bundled.read_text("utf-8"))]
    if folder is not None:
        for name in dict.fromkeys((SHARED_TENANT, tenant)):
            path = Path(folder) / f"{name}.tsv"
            if path.is_file():
                files.append((str(path), path.read_text("utf-8")))
    return files


def rows(
    text: str, origin: str, columns: str, problems: list[tuple[int, str]] | None = None,
) -> list[tuple[str, str]]:
    """(left, right) per data line (read by `errors.data_lines`): a line without a tab is a
    DataFileError naming file and line, or, with a `problems` list, added to it and skipped."""

    def row(raw: str) -> tuple[str, str]:
        line = raw.strip()
        if "\t" not in line:
            raise ValueError(f"Tabulator zwischen {columns} fehlt")
        left, right = line.split("\t", 1)
        return left, right

    return data_lines(text, origin, row, problems)
