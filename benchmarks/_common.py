"""Shared helpers of the benchmarks: paths to ../shared, timing, a bm25s baseline."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from amtslotse.services import Services

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LAW_CURRENT = SHARED / "data" / "law" / "current"
EVAL = SHARED / "eval"
CACHED_HOME = Path(__file__).resolve().parent / ".home"
"""A home kept between runs (current social law + the starter pack): unchanged files are skipped
and vectors are cached, so a benchmark over it starts in seconds, not after embedding the law."""


def require_shared() -> None:
    if not SHARED.is_dir():
        raise SystemExit(f"../shared not found at {SHARED}: the benchmarks read their data from there")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


class Bm25sBaseline:
    """bm25s with PyStemmer's German stemmer: the peer every lexical figure is compared to."""

    def __init__(self, texts: list[str]) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("german")
        tokens = bm25s.tokenize(texts, stopwords="de", stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25()
        self.retriever.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[int]:
        tokens = self._bm25s.tokenize([query], stopwords="de", stemmer=self.stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, self.retriever.scores["num_docs"])
        docs, _ = self.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [int(d) for d in docs[0]]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def add_llm_options(parser) -> None:
    """--base-url, --model, --api-key: the LLM server a benchmark talks to (see llm_endpoint)."""
    parser.add_argument("--base-url", help="an OpenAI-compatible server; default: start SmolLM2 locally")
    parser.add_argument("--model", default="")
    parser.add_argument("--api-key", default=os.environ.get("AMTSLOTSE_LLM_API_KEY", ""))


@contextmanager
def llm_endpoint(args, log_path: Path, extra_args: tuple[str, ...] = ()):
    """(base_url, api_key, local server or None): --base-url as given, or SmolLM2 started as
    the tests start it (tests/llm_server.py; needs `pip install -e .[test]`)."""
    if args.base_url:
        yield args.base_url, args.api_key, None
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from llm_server import running_llama_server

    with running_llama_server(log_path, extra_args=extra_args) as local:
        yield local.base_url, local.api_key, local


@contextmanager
def starter_services(with_law: bool = True, home: Path | None = None) -> Iterator["Services"]:
    """Services over a home with the starter pack (and the current social law): a temporary one,
    or `home`, kept between runs (unchanged files are skipped, vectors are cached)."""
    from amtslotse.knowledge.ingest import embed_missing, ingest_paths
    from amtslotse.knowledge.starter import load_starter
    from amtslotse.services import Services
    from amtslotse.settings import Settings

    if home is not None:
        home.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=home or Path(tmp), tenants_dir=None)
        with Services.open(settings) as services:
            if with_law:
                ingest_paths([LAW_CURRENT], services.store, settings, tenant="bund")
            load_starter(services.store, settings)
            if services.embedder:
                embed_missing(services.store, services.embedder, settings.embed_batch_size)
            yield services


@contextmanager
def serving(services: "Services") -> Iterator[str]:
    """The real app over `services` on a free loopback port, started as the tests start it
    (tests/app_server.running); yields its base URL. uvicorn trusts X-Forwarded-For from
    127.0.0.1 (its default), so a benchmark can speak as other clients."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from app_server import running

    with running(services) as url:
        yield url
