"""Editorial keywords ("Schlagwörter") per section: everyday words attached to a § at indexing.

Data, not code: the bundled `data/keywords/bund.tsv` plus, per tenant, `<tenant>.tsv` in
AMTSLOTSE_KEYWORDS_DIR. Format: `SGB II § 7b<TAB>urlaub; verreisen; ...`; the left side is a
law abbreviation and section, or the citation of a page passage.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from amtslotse.models import SHARED_TENANT


def _files(tenant: str, keywords_dir: Path | None) -> list[tuple[str, str]]:
    bundled = resources.files("amtslotse").joinpath("data", "keywords", f"{SHARED_TENANT}.tsv")
    files = [(f"{SHARED_TENANT}.tsv", bundled.read_text("utf-8"))]
    if keywords_dir is not None:
        for name in dict.fromkeys((SHARED_TENANT, tenant)):
            path = Path(keywords_dir) / f"{name}.tsv"
            if path.is_file():
                files.append((str(path), path.read_text("utf-8")))
    return files


@lru_cache(maxsize=64)
def table(tenant: str, keywords_dir: Path | None) -> dict[str, str]:
    """Normalised key ("sgb ii § 7b") -> keywords text."""
    out: dict[str, str] = {}
    for origin, text in _files(tenant, keywords_dir):
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if "\t" not in line:
                raise ValueError(f"{origin}, Zeile {number}: Tabulator zwischen Fundstelle und Schlagwörtern fehlt")
            key, words = line.split("\t", 1)
            norm = _key(key)
            out[norm] = f"{out[norm]}; {words}" if norm in out else words
    return out


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def keywords_for(tenant: str, law: str | None, section: str | None, citation: str, keywords_dir: Path | None) -> str:
    entries = table(tenant, keywords_dir)
    if law and section:
        return entries.get(_key(f"{law} {section}"), "")
    return entries.get(_key(citation), "")


def fingerprint(tenant: str, keywords_dir: Path | None) -> str:
    """Changes when the keywords change, so that ingest re-indexes affected documents."""
    digest = hashlib.sha256()
    for _, text in _files(tenant, keywords_dir):
        digest.update(text.encode())
    return digest.hexdigest()[:16]
