"""Right over time: curated answers whose cited § changed in a newer law version.

When a law is ingested again with a new `--valid-from`, every curated answer that cites a §
whose text differs between the version the answer was written for and a newer one is due for
review ("Prüfung fällig"), with the § and the day the change takes effect. An answer counts as
reviewed once its own `valid_from` is on or after that day (the editor confirmed or rewrote it
for the new law). Computed from the store on request: nothing to keep in sync.

Example (it needs a store and models, so it is not run as a doctest)::

    due = curated_review_due(store, "musterkreis")
    due[0]["curated_id"], due[0]["citation"], due[0]["changed_on"]
    # -> ('vermoegen-freibetraege', '§ 12 SGB II', '2027-01-01')
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from amtslotse.knowledge.curated import CURATED_SOURCE
from amtslotse.models import SHARED_TENANT, Passage
from amtslotse.store.protocol import Store


def section_versions(passages: list[Passage]) -> dict[str, list[tuple[date | None, str]]]:
    """§ -> [(valid_from, text)] per version of one law document, oldest first."""
    versions: dict[str, dict[date | None, list[str]]] = defaultdict(lambda: defaultdict(list))
    for p in passages:
        if p.section:
            versions[p.section][p.valid_from].append(" ".join(p.text.split()))
    return {
        section: sorted(((day, "\n".join(texts)) for day, texts in by_day.items()), key=lambda v: v[0] or date.min)
        for section, by_day in versions.items()
    }


def changed_after(versions: list[tuple[date | None, str]], since: date | None) -> date | None:
    """The first day after `since` on which the § reads differently from the version in force
    on `since` (a § that is new or was dropped counts as changed)."""
    base = None
    for day, text in versions:
        if since is None or day is None or day <= since:
            base = text
        elif base is None or text != base:
            return day
    return None


def curated_review_due(store: Store, tenant: str) -> list[dict]:
    """The tenant's curated answers (the shared layer's for "bund") that cite a § changed since
    they were written, one entry per answer and §."""
    laws = {d.source for d in store.documents(SHARED_TENANT) if d.kind == "law"}
    cache: dict[str, dict] = {}
    due = []
    curated = [d.source for d in store.documents(tenant) if d.kind == "records"]
    for source in curated or [CURATED_SOURCE]:
        for p in store.document_passages(tenant, source):
            if p.meta.get("kind") != "curated":
                continue
            for cited in p.meta.get("sources") or []:
                law, section = cited.get("source"), cited.get("section")
                if law not in laws or not section:
                    continue
                if law not in cache:
                    cache[law] = section_versions(store.document_passages(SHARED_TENANT, law))
                changed = changed_after(cache[law].get(" ".join(section.split()), []), p.valid_from)
                if changed is not None:
                    due.append({
                        "curated_id": p.external_id, "question": p.heading or p.title, "source": law,
                        "section": section, "citation": cited.get("citation") or section,
                        "changed_on": changed.isoformat(), "file": source,
                    })
    return due
