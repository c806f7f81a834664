"""Ingest and search end to end: validity dates, re-ingest, bad files, tenants, CLI shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from amtslotse.knowledge.ingest import embed_missing, ingest_paths
from amtslotse.search.embedders import get_embedder
from amtslotse.search.hybrid import Retriever
from amtslotse.settings import Settings
from embedding_cache import CachedEmbedder, cache_folder
from shared_data import LAW, requires_shared

BEFORE_REFORM = date(2026, 5, 1)
AFTER_REFORM = date(2026, 11, 24)

pytestmark = requires_shared("data/law/current", "data/law/pre_2026_07")


def lexical_settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", embedder="none")


def ingest_both_versions(store, settings: Settings) -> None:
    old = ingest_paths([LAW / "pre_2026_07"], store, settings, tenant="bund", valid_to=date(2026, 6, 30))
    new = ingest_paths([LAW / "current"], store, settings, tenant="bund", valid_from=date(2026, 7, 1))
    assert old.ingested == 2 and new.ingested == 12 and not old.failed and not new.failed


def test_buergergeld_question_gets_the_text_valid_on_the_day_asked(store, tmp_path):
    settings = lexical_settings(tmp_path)
    ingest_both_versions(store, settings)
    retriever = Retriever(store, None, settings)

    def section_19(day: date):
        hits = retriever.search("Was gehört zum Bürgergeld?", "bund", as_of=day, limit=3)
        assert all(h.passage.valid_on(day) for h in hits)  # never the other version
        return next(h.passage for h in hits if h.passage.citation == "§ 19 SGB II")

    before, after = section_19(BEFORE_REFORM), section_19(AFTER_REFORM)
    assert "Bürgergeld" in before.text and "Grundsicherungsgeld" not in before.text
    assert before.valid_to == date(2026, 6, 30)
    assert "Grundsicherungsgeld" in after.text
    assert after.valid_from == date(2026, 7, 1)
    # The last day of the old version and the first of the new one belong to one version each.
    assert section_19(date(2026, 6, 30)).id == before.id
    assert section_19(date(2026, 7, 1)).id == after.id


def test_reingest_skips_unchanged_and_replaces_changed(store, tmp_path):
    settings = lexical_settings(tmp_path)
    folder = tmp_path / "seiten"
    folder.mkdir()
    page = folder / "oeffnungszeiten.md"
    page.write_text("# Öffnungszeiten\n\nMontag bis Freitag von 8 bis 12 Uhr geöffnet.\n", encoding="utf-8")
    first = ingest_paths([folder], store, settings, tenant="musterkreis")
    again = ingest_paths([folder], store, settings, tenant="musterkreis")
    assert (first.ingested, again.ingested, again.unchanged) == (1, 0, 1)

    page.write_text("# Öffnungszeiten\n\nDienstags zusätzlich bis 18 Uhr (Spätsprechstunde).\n", encoding="utf-8")
    changed = ingest_paths([folder], store, settings, tenant="musterkreis")
    assert changed.ingested == 1
    retriever = Retriever(store, None, settings)
    assert retriever.search("Spätsprechstunde dienstags", "musterkreis", limit=1)
    assert not retriever.search("Montag bis Freitag 8 bis 12", "musterkreis", limit=5)
    assert [d.passages for d in store.documents("musterkreis")] == [1]


def test_bad_files_are_reported_and_the_rest_goes_on(store, tmp_path):
    settings = lexical_settings(tmp_path)
    folder = tmp_path / "gemischt"
    folder.mkdir()
    (folder / "kaputt.pdf").write_bytes(b"%PDF-1.4 das ist kein PDF")
    (folder / "leer.txt").write_text("", encoding="utf-8")
    (folder / "gut.md").write_text("# Termine\n\nTermine können telefonisch verschoben werden.\n", encoding="utf-8")
    report = ingest_paths([folder, tmp_path / "fehlt.md", tmp_path / "bild.xyz"], store, settings, tenant="bund")
    assert report.ingested == 1
    failed = {path.name: message for path, message in report.failed}
    assert set(failed) == {"kaputt.pdf", "leer.txt", "fehlt.md", "bild.xyz"}
    assert all(message and "Traceback" not in message for message in failed.values())


def test_a_tenant_never_sees_another_tenants_passages(store, tmp_path):
    settings = lexical_settings(tmp_path)
    for tenant, town in (("nordkreis", "Nordstadt"), ("suedkreis", "Südstadt")):
        page = tmp_path / tenant / "kontakt.md"
        page.parent.mkdir()
        page.write_text(f"# Kontakt\n\nDas Jobcenter {town} erreichen Sie im Rathaus {town}.\n", encoding="utf-8")
        ingest_paths([page.parent], store, settings, tenant=tenant)
    ingest_paths([LAW / "current" / "SGB_2-BJNR295500003.md"], store, settings, tenant="bund")
    retriever = Retriever(store, None, settings)

    nord = retriever.search("Jobcenter Südstadt Rathaus Kontakt", "nordkreis", limit=50)
    assert nord and {h.passage.tenant for h in nord} <= {"nordkreis", "bund"}
    assert not any("Südstadt" in h.passage.text for h in nord)
    sued = retriever.search("Jobcenter Südstadt Rathaus", "suedkreis", limit=1)
    assert "Südstadt" in sued[0].passage.text
    shared = retriever.search("Rathaus Nordstadt Südstadt", "bund", limit=50)
    assert all(h.passage.tenant == "bund" for h in shared)
    foreign = sued[0].passage.id
    assert store.get_passages("nordkreis", [foreign]) == []


@pytest.fixture(scope="module")
def use_m3():
    """use-m3, with SGB II's passage vectors cached between sessions (tests/embedding_cache.py)."""
    embedder = CachedEmbedder(get_embedder("use-m3"), cache_folder())
    yield embedder
    embedder.save()


def test_hybrid_search_with_the_bundled_embedder(store, tmp_path, use_m3):
    settings = Settings(home=tmp_path / "home", embedder="use-m3")
    ingest_paths([LAW / "current" / "SGB_2-BJNR295500003.md"], store, settings, tenant="bund")
    embedder = use_m3
    assert embed_missing(store, embedder, 64) > 100
    assert embed_missing(store, embedder, 64) == 0  # cached by text hash
    hits = Retriever(store, embedder, settings).search("Muss ich mein Auto verkaufen?", "bund", limit=5)
    assert "§ 12" in [h.passage.section for h in hits]
    assert any(h.dense_rank is not None for h in hits) and any(h.lexical_rank is not None for h in hits)


# --- the command line, run as a user would --------------------------------------------------


def cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = os.environ | {"AMTSLOTSE_HOME": str(home), "AMTSLOTSE_EMBEDDER": "none"}
    return subprocess.run(
        [sys.executable, "-c", "from amtslotse.cli import run; run()", *args],
        capture_output=True, text=True, env=env, input=stdin, timeout=300,
    )


@pytest.fixture(scope="module")
def law_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    done = cli(home, "ingest", str(LAW / "pre_2026_07"), "--valid-to", "2026-06-30")
    assert done.returncode == 0, done.stderr
    done = cli(home, "ingest", str(LAW / "current"), "--valid-from", "2026-07-01", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ingested"] == 12 and summary["failed"] == 0 and summary["passages"] > 1000
    assert "12/12" in done.stderr  # the progress bar with its count
    return home


@pytest.mark.slow  # CLI subprocesses
def test_cli_search_json_shape_and_as_of(law_home):
    hits = {}
    for day in ("2026-05-01", "24.11.2026"):
        done = cli(law_home, "search", "Was gehört zum Bürgergeld?", "--as-of", day, "--json", "--limit", "3")
        assert done.returncode == 0, done.stderr
        hits[day] = json.loads(done.stdout)["hits"]
    for hit in hits["2026-05-01"] + hits["24.11.2026"]:
        assert {"passage_id", "external_id", "source", "title", "section", "citation", "url", "score", "text"} <= set(hit)
    old = next(h for h in hits["2026-05-01"] if h["section"] == "§ 19")
    new = next(h for h in hits["24.11.2026"] if h["section"] == "§ 19")
    assert old["valid_to"] == "2026-06-30" and "Grundsicherungsgeld" not in old["text"]
    assert new["valid_from"] == "2026-07-01" and "Grundsicherungsgeld" in new["text"]


@pytest.mark.slow  # CLI subprocesses
def test_cli_batch_search(law_home, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "a", "question": "Zahlt ihr die Nebenkosten?"}\n\n{"id": "b", "question": "bin krank, was schicken?"}\n',
        encoding="utf-8",
    )
    done = cli(law_home, "search", "--queries", str(queries), "--json", "--limit", "5")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert ("SGB_2-BJNR295500003.md", "§ 22") in [(h["source"], h["section"]) for h in lines[0]["hits"]]
    assert ("SGB_2-BJNR295500003.md", "§ 56") in [(h["source"], h["section"]) for h in lines[1]["hits"]]


@pytest.mark.slow  # CLI subprocesses
def test_cli_errors_are_one_line_in_german(law_home, tmp_path):
    bad_day = cli(law_home, "search", "Miete", "--as-of", "2026-13-01")
    assert bad_day.returncode == 2 and "kein Datum" in bad_day.stderr and "Traceback" not in bad_day.stderr
    broken = tmp_path / "kaputt.jsonl"
    broken.write_text('{"id": "1", "question": "ok"}\n{kaputt\n', encoding="utf-8")
    bad_file = cli(law_home, "search", "--queries", str(broken), "--json")
    assert bad_file.returncode == 2 and "Zeile 2" in bad_file.stderr and "Traceback" not in bad_file.stderr
    only_bad = tmp_path / "nur.xyz"
    only_bad.write_text("x", encoding="utf-8")
    failed = cli(law_home, "ingest", str(only_bad))
    assert failed.returncode == 1 and "nur.xyz" in failed.stderr and "Traceback" not in failed.stderr


@pytest.mark.slow  # CLI subprocesses
def test_cli_eval_retrieval_prints_metrics_last(tmp_path):
    passages = tmp_path / "passages.jsonl"
    questions = tmp_path / "questions.jsonl"
    topics = {
        "p1": ("Mietkaution", "Die Mietkaution kann als Darlehen übernommen werden."),
        "p2": ("Klassenfahrt", "Die Kosten mehrtägiger Klassenfahrten werden übernommen."),
        "p3": ("Krankmeldung", "Eine Arbeitsunfähigkeit ist unverzüglich anzuzeigen."),
    }
    passages.write_text(
        "".join(json.dumps({"passage_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in topics.items()), "utf-8"
    )
    questions.write_text(
        json.dumps({"id": "q1", "question": "Wer zahlt die Klassenfahrt?", "passage_id": "p2"}) + "\n"
        + json.dumps({"id": "q2", "question": "Kaution für die Wohnung", "passage_id": "p1"}) + "\n",
        "utf-8",
    )
    done = cli(tmp_path / "home", "eval", "retrieval", "--passages", str(passages), "--questions", str(questions))
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"} <= set(metrics)
    assert metrics["recall@1"] == 1.0 and metrics["questions"] == 2


def test_parallel_ingest_stores_exactly_what_serial_ingest_stores(tmp_path):
    """The worker pool (used for 64+ files) must not change a byte of what is stored."""
    from amtslotse.store.sqlite import SqliteStore

    folder = tmp_path / "seiten"
    folder.mkdir()
    for number in range(70):
        (folder / f"seite-{number:02d}.md").write_text(
            f"# Seite {number}\n\n## Abschnitt\n\nMiete, Heizkosten und Nebenkostenabrechnung Nummer {number}.\n",
            encoding="utf-8",
        )
    (folder / "kaputt.pdf").write_bytes(b"kein pdf")
    settings = lexical_settings(tmp_path)
    rows = {}
    for workers in (0, 2):
        store = SqliteStore(tmp_path / f"w{workers}.db")
        order: list[str] = []
        report = ingest_paths([folder], store, settings, tenant="bund", workers=workers,
                              on_file=lambda p, order=order: order.append(p.name))
        assert (report.ingested, len(report.failed)) == (70, 1)
        rows[workers] = (
            order,
            store._read("SELECT source, citation, text, keywords, text_hash, term_ids, term_freqs FROM passages ORDER BY id"),
        )
        store.close()
    assert rows[0] == rows[2]


@pytest.mark.slow  # six CLI subprocesses
def test_cli_never_shows_another_tenants_passages(tmp_path):
    """Every public way in: search (single and batch), documents, eval never cross tenants."""
    home = tmp_path / "home"
    for tenant, town in (("nordkreis", "Nordstadt"), ("suedkreis", "Südstadt")):
        folder = tmp_path / tenant
        folder.mkdir()
        (folder / "kontakt.md").write_text(f"# Kontakt\n\nSprechzeiten im Rathaus {town}.\n", encoding="utf-8")
        assert cli(home, "ingest", str(folder), "--tenant", tenant).returncode == 0
    single = cli(home, "search", "Sprechzeiten Rathaus Südstadt", "--tenant", "nordkreis", "--json", "--limit", "50")
    texts = [h["text"] for h in json.loads(single.stdout)["hits"]]
    assert single.returncode == 0 and texts == ["Sprechzeiten im Rathaus Nordstadt."]
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "1", "question": "Rathaus Südstadt"}\n', encoding="utf-8")
    batch = cli(home, "search", "--queries", str(queries), "--tenant", "nordkreis", "--json")
    assert batch.returncode == 0
    assert all("Südstadt" not in h["text"] for h in json.loads(batch.stdout)["hits"])
    shared = cli(home, "search", "Rathaus Sprechzeiten", "--json", "--limit", "50")
    assert json.loads(shared.stdout)["hits"] == []  # the shared layer sees no tenant's pages
    listing = cli(home, "documents", "--tenant", "nordkreis", "--json")
    assert [d["source"] for d in json.loads(listing.stdout)] == ["kontakt.md"]
    assert "Südstadt" not in listing.stdout


def test_lexical_search_works_before_vectors_and_dense_joins_when_ready(store, tmp_path, use_m3):
    settings = Settings(home=tmp_path / "home", embedder="use-m3")
    ingest_paths([LAW / "current" / "SGB_2-BJNR295500003.md"], store, settings, tenant="bund")
    embedder = use_m3
    retriever = Retriever(store, embedder, settings)
    before = retriever.search("Darf ich in den Urlaub fahren?", "bund", limit=5)
    assert before and all(h.dense_rank is None for h in before)  # no vectors yet: lexical only
    assert "§ 7b" in [h.passage.section for h in before]
    embed_missing(store, embedder, 64)
    after = retriever.search("Darf ich in den Urlaub fahren?", "bund", limit=5)
    assert any(h.dense_rank is not None for h in after)
