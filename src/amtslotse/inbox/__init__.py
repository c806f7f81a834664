"""The inbox (DESIGN, flow 3): incoming messages are read, sorted and prepared; staff decide.

Triage (this package's pure functions over text and the tenant's config)::

    from amtslotse.inbox.triage import triage

    result = triage("Ich lege Widerspruch gegen den Bescheid vom 03.11.2026 ein.")
    result.category, result.flags, result.team   # ('widerspruch', ('frist',), 'Widerspruchsstelle')

Modules: categories (keys, labels, tenant `[inbox]` config), classify (linear model),
flags (urgent-flag rules), fields (extraction), routing (team rules), checklists (documents
still needed), triage (all together). The names below are importable from the package, lazily
(intake modules of this package do not pay for scikit-learn); the function `triage` is not,
since the submodule of that name takes its place.
"""

from __future__ import annotations

_LAZY = {
    "Triage": "amtslotse.inbox.triage",
    "Triager": "amtslotse.inbox.triage",
    "inbox_config": "amtslotse.inbox.categories",
    "InboxConfig": "amtslotse.inbox.categories",
    "route_to_team": "amtslotse.inbox.routing",
    "checklist_for": "amtslotse.inbox.checklists",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'amtslotse.inbox' has no attribute {name!r}")
