"""Editorial keywords ("Schlagwörter") per section: everyday words attached to a § at indexing.

Data, not code: the bundled `data/keywords/bund.tsv` plus, per tenant, `<tenant>.tsv` in
AMTSLOTSE_KEYWORDS_DIR or `keywords.tsv` in the tenant's own folder (search/tsv_data.py). Format: `SGB II § 7b<TAB>urlaub; verreisen; ...`; the left side is a
law abbreviation and section, or the citation of a page passage.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from amtslotse.search import tsv_data


@lru_cache(maxsize=64)
def table(tenant: str, where: tsv_data.Folders) -> dict[str, str]:
    """Normalised key ("sgb ii § 7b") -> keywords text."""
    out: dict[str, str] = {}
    for origin, text in tsv_data.read_files("keywords", tenant, where):
        for key, words in tsv_data.rows(text, origin, "Fundstelle und Schlagwörtern"):
            norm = _key(key)
            out[norm] = f"{out[norm]}; {words}" if norm in out else words
    return out


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def keywords_for(tenant: str, law: str | None, section: str | None, citation: str, where: tsv_data.Folders) -> str:
    entries = table(tenant, where)
    if law and section:
        return entries.get(_key(f"{law} {section}"), "")
    return entries.get(_key(citation), "")


def fingerprint(tenant: str, where: tsv_data.Folders) -> str:
    """Changes when the keywords change, so that ingest re-indexes affected documents."""
    digest = hashlib.sha256()
    for _, text in tsv_data.read_files("keywords", tenant, where):
        digest.update(text.encode())
    return digest.hexdigest()[:16]
