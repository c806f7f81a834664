"""`../shared`: test-only data beside the checkout (current and old law texts, evaluation sets).

Outside users need not have it. A test that reads it says so with the `shared` marker, naming
the paths it needs (relative to the folder), or asks for the `shared_dir` fixture::

    from shared_data import SHARED, requires_shared

    @requires_shared("data/law/current/SGB_2-BJNR295500003.md")
    def test_sgb2(): ...

When a named path is missing the test is skipped with the reason; with CI=true it fails
instead (tests/conftest.py), so that CI, which has ../shared, never loses a test silently.
AMTSLOTSE_SHARED_DIR points elsewhere (e.g. to try the tests without it:
`AMTSLOTSE_SHARED_DIR=/nonexistent make test-fast`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("AMTSLOTSE_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
LAW = SHARED / "data" / "law"
EVAL = SHARED / "eval"


def requires_shared(*paths: str) -> pytest.MarkDecorator:
    """The `shared` marker: the test reads these paths under ../shared (none: the folder)."""
    return pytest.mark.shared(*paths)


def missing_shared(paths: tuple[str, ...]) -> list[str]:
    """The paths (relative to ../shared) that are not there."""
    return [p for p in (paths or (".",)) if not (SHARED / p).exists()]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
