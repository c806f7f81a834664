"""The starter pack: shared guidance pages (layer "bund") and the sample Landkreis
"musterkreis" (local pages and curated answers), for a first run and for tests.

Example (it needs a store and models, so it is not run as a doctest)::

    load_starter(store, settings)       # idempotent: unchanged files are skipped
    # -> {'bund': IngestReport(...), 'musterkreis': IngestReport(...)}
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from amtslotse.knowledge.ingest import IngestReport, ingest_paths
from amtslotse.models import SHARED_TENANT
from amtslotse.settings import Settings
from amtslotse.store.protocol import Store

SAMPLE_TENANT = "musterkreis"


def starter_dir() -> Path:
    return Path(str(resources.files("amtslotse").joinpath("data", "starter")))


def load_starter(store: Store, settings: Settings, tenant: str = SAMPLE_TENANT) -> dict[str, IngestReport]:
    """Ingest the starter pack; the sample Landkreis's content goes to `tenant`."""
    starter = starter_dir()
    local = starter / SAMPLE_TENANT
    layers = ((SHARED_TENANT, [starter / "bund"]), (tenant, [local / "pages", local / "curated.jsonl"]))
    return {layer: ingest_paths(paths, store, settings, tenant=layer) for layer, paths in layers}
