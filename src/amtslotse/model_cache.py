"""Trained models cached on disk (the inbox triage model, the screening model): one pickle per
training-data hash in `<AMTSLOTSE_HOME>/models/`, written atomically, older versions removed.

A cache that cannot be read (damaged, foreign, of another class) or written (read-only folder)
is no error: the model is trained anew, or lives in memory only.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_model(folder / "demo-abc.pkl", {"weights": [1, 2]}, "demo")
    >>> read_model(folder / "demo-abc.pkl", dict)
    {'weights': [1, 2]}
    >>> read_model(folder / "demo-xyz.pkl", dict) is None
    True
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def read_model(path: Path, kind: type[T]) -> T | None:
    """The cached model at `path`, or None (missing, unreadable, or not a `kind`)."""
    try:
        with open(path, "rb") as f:
            model = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as error:  # noqa: BLE001 - a damaged or foreign cache file: train anew
        log.warning("Modell-Cache %s unlesbar (%s): wird neu trainiert", path.name, type(error).__name__)
        return None
    return model if isinstance(model, kind) else None


def write_model(path: Path, model: object, prefix: str) -> None:
    """Write `model` to `path` atomically and remove the other `<prefix>-*.pkl` files there
    (models of older data or code). A folder that cannot be written is logged, not raised."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{prefix}-", suffix=".tmp", dir=path.parent)
    except OSError as error:
        log.warning("Modell %s nicht auf der Platte zwischengespeichert (%s)", path.name, error)
        return
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"{prefix}-*.pkl"):
        if old != path:
            old.unlink(missing_ok=True)
