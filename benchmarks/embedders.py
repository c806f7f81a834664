"""Compare embedding models side by side: load time, throughput, query latency, retrieval quality.

    python benchmarks/embedders.py                      # use-m3 and e5-small
    python benchmarks/embedders.py use-m3 sentence-transformers:/pfad/zum/modell
    python benchmarks/embedders.py --busy 1             # with one CPU kept busy meanwhile

Figures:
- load: get_embedder() plus loading the weights (cold, in this process).
- passages/s: 256 law passages (§§ of SGB II, cut at "# §" lines, truncated to 1500 chars;
  SGB II has 156 §§, so the list is repeated up to 256; the models cache nothing).
- query latency p50/p95: 50 short citizen questions, one embed_query() call each.
- retrieval on XQuAD-de: the first 300 questions against all 240 passages, dense only,
  exact dot product; recall@1, recall@5, nDCG@10 (one relevant passage per question).

--busy N keeps N CPUs busy with a spinning process meanwhile, as a second request or an
ingest would on a small server: thread pools that spin-wait degrade badly under it.
Speed figures depend on what else runs on the machine; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from amtslotse.search.embedders import cpu_budget, get_embedder  # noqa: E402

SHARED = Path(os.environ.get("AMTSLOTSE_SHARED", "/work/shared"))
LAW_FILE = SHARED / "data/law/current/SGB_2-BJNR295500003.md"
XQUAD = SHARED / "eval/xquad_de"

QUERIES = [
    "Ich bin krank und kann nicht kommen",
    "Wer zahlt meine Miete?",
    "Wie viel Bürgergeld bekomme ich?",
    "Darf ich etwas dazuverdienen?",
    "Mein Kühlschrank ist kaputt",
    "Ich habe kein Geld mehr für Essen",
    "Wie lege ich Widerspruch ein?",
    "Frist für den Widerspruch",
    "Muss ich mein Auto verkaufen?",
    "Wie viel Vermögen darf ich haben?",
    "Weiterbewilligungsantrag stellen",
    "Umzug in eine neue Wohnung",
    "Heizkosten Nachzahlung",
    "Stromschulden und Sperre",
    "Ich bin schwanger, was steht mir zu?",
    "Mehrbedarf für Alleinerziehende",
    "Kind hat Geburtstag, Klassenfahrt bezahlen",
    "Bildung und Teilhabe Antrag",
    "Sanktion weil ich einen Termin verpasst habe",
    "Leistungsminderung Pflichtverletzung",
    "Ich will eine Ausbildung machen",
    "Zuverdienst aus Minijob",
    "Unterhalt für mein Kind wird angerechnet?",
    "Wohnung zu teuer, was passiert?",
    "Erstausstattung für die Wohnung",
    "Darf ich in den Urlaub fahren?",
    "Ortsabwesenheit melden",
    "Wer gehört zur Bedarfsgemeinschaft?",
    "Mein Partner zieht bei mir ein",
    "Ich studiere, bekomme ich Bürgergeld?",
    "Rente und Bürgergeld gleichzeitig",
    "Krankenversicherung während Bürgergeld",
    "Kooperationsplan was ist das",
    "Eingliederungsvereinbarung unterschreiben",
    "Zumutbare Arbeit ablehnen",
    "Bewerbungskosten erstattet",
    "Darlehen vom Jobcenter",
    "Rückforderung Überzahlung",
    "Erbschaft erhalten",
    "Steuererstattung wird angerechnet?",
    "Kindergeld Einkommen",
    "Wohngeld oder Bürgergeld",
    "Selbstständig und aufstocken",
    "Mietkaution übernehmen",
    "Nebenkostenabrechnung einreichen",
    "Ab wann gibt es Geld?",
    "Antrag rückwirkend",
    "Ausweis verloren Termin",
    "Schulden beim Vermieter Räumungsklage",
    "Wie erreiche ich meinen Sachbearbeiter?",
]


def law_passages(n: int = 256, max_chars: int = 1500) -> list[str]:
    sections, current = [], None
    for line in LAW_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("# §"):
            if current:
                sections.append("\n".join(current))
            current = [line]
        elif current is not None:
            current.append(line)
    if current:
        sections.append("\n".join(current))
    sections = [s.strip()[:max_chars] for s in sections]
    return [sections[i % len(sections)] for i in range(n)]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def retrieval_quality(embedder, n_questions: int = 300) -> dict[str, float]:
    passages = read_jsonl(XQUAD / "passages.jsonl")
    questions = read_jsonl(XQUAD / "questions.jsonl")[:n_questions]
    ids = [p["passage_id"] for p in passages]
    matrix = embedder.embed_passages([p["text"] for p in passages])
    ranks = []
    for q in questions:
        scores = matrix @ embedder.embed_query(q["question"])
        order = np.argsort(-scores, kind="stable")
        ranks.append(int(np.flatnonzero(order == ids.index(q["passage_id"]))[0]) + 1)
    ranks = np.array(ranks)
    return {
        "recall@1": float(np.mean(ranks <= 1)),
        "recall@5": float(np.mean(ranks <= 5)),
        # one relevant passage: DCG = 1/log2(rank+1) if in the top 10, ideal DCG = 1
        "nDCG@10": float(np.mean(np.where(ranks <= 10, 1 / np.log2(ranks + 1), 0.0))),
    }


def bench(spec: str, law: list[str]) -> dict[str, float]:
    start = time.perf_counter()
    embedder = get_embedder(spec)
    if hasattr(embedder, "load"):
        embedder.load()
    load_s = time.perf_counter() - start

    embedder.embed_passages(law[:4])  # warm-up
    start = time.perf_counter()
    embedder.embed_passages(law)
    passages_per_s = len(law) / (time.perf_counter() - start)

    for q in QUERIES[:3]:
        embedder.embed_query(q)
    latencies = []
    for q in QUERIES:
        start = time.perf_counter()
        embedder.embed_query(q)
        latencies.append((time.perf_counter() - start) * 1000)

    return {
        "dim": embedder.dim,
        "load (s)": load_s,
        "passages/s": passages_per_s,
        "query p50 (ms)": float(np.percentile(latencies, 50)),
        "query p95 (ms)": float(np.percentile(latencies, 95)),
        **retrieval_quality(embedder),
    }


def _spin() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=["use-m3", "e5-small"], help="embedder specs")
    parser.add_argument("--busy", type=int, default=0, help="CPUs to keep busy meanwhile")
    args = parser.parse_args()

    law = law_passages()
    print(
        f"CPUs: {cpu_budget()}   load average: {os.getloadavg()[0]:.2f}   busy: {args.busy}   "
        f"Python {sys.version.split()[0]}   numpy {np.__version__}"
    )
    print(f"law passages: {len(law)} (mean {np.mean([len(p) for p in law]):.0f} chars)   queries: {len(QUERIES)}")
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for spinner in spinners:
        spinner.start()
    results = {}
    try:
        for spec in args.specs:
            print(f"running {spec} ...", file=sys.stderr, flush=True)
            results[spec] = bench(spec, law)
    finally:
        for spinner in spinners:
            spinner.terminate()

    rows = list(next(iter(results.values())))
    width = max(14, *(len(s) + 2 for s in results))
    print(f"{'':16}" + "".join(f"{s:>{width}}" for s in results))
    for row in rows:
        cells = []
        for r in results.values():
            value = r[row]
            cells.append(f"{value:>{width}}" if isinstance(value, int) else f"{value:>{width}.3f}")
        print(f"{row:16}" + "".join(cells))


if __name__ == "__main__":
    main()
