"""The two-column data files that tenants can extend (vocabulary, keywords).

A bundled `data/<kind>/bund.tsv`, plus, in an optional folder for the installation
(AMTSLOTSE_VOCABULARY_DIR, AMTSLOTSE_KEYWORDS_DIR), `bund.tsv` (for all tenants) and
`<tenant>.tsv`, plus `<kind>.tsv` in the tenant's own folder (`<tenants dir>/<tenant>/`, beside
its TOML file, where its other lists live too). Lines are `left<TAB>right`; `#` starts a
comment; blank lines are skipped.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import NamedTuple

from amtslotse.errors import data_lines
from amtslotse.models import SHARED_TENANT
from amtslotse.settings import Settings


class Folders(NamedTuple):
    """Where the extra files of one kind are looked for (hashable: a cache key)."""

    installation: Path | None = None  # bund.tsv and <tenant>.tsv (AMTSLOTSE_VOCABULARY_DIR ...)
    tenants: Path | None = None  # <tenant>/<kind>.tsv below it (Settings.tenants_root)


BUNDLED_ONLY = Folders()
"""No extra files: the bundled one alone."""


def folders(settings: Settings, kind: str) -> Folders:
    """The folders of `kind` ("vocabulary" or "keywords") that `settings` name."""
    installation = {"vocabulary": settings.vocabulary_dir, "keywords": settings.keywords_dir}[kind]
    return Folders(installation, settings.tenants_root)


def read_files(kind: str, tenant: str, where: Folders) -> list[tuple[str, str]]:
    """(origin, text) of the bundled file and the tenant's extra files, in that order."""
    bundled = resources.files("amtslotse").joinpath("data", kind, f"{SHARED_TENANT}.tsv")
    files = [(f"{kind}/{SHARED_TENANT}.tsv", bundled.read_text("utf-8"))]
    paths = [Path(where.installation) / f"{name}.tsv" for name in dict.fromkeys((SHARED_TENANT, tenant))] if where.installation else []
    if where.tenants is not None and tenant != SHARED_TENANT:
        paths.append(Path(where.tenants) / tenant / f"{kind}.tsv")
    for path in paths:
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
