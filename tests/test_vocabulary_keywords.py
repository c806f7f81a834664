"""Tenant data files: vocabulary (query expansion) and keywords (index-time enrichment)."""

from __future__ import annotations

import pytest

from amtslotse.knowledge.ingest import ingest_paths
from amtslotse.search import keywords, tsv_data, vocabulary
from amtslotse.search.hybrid import Retriever
from amtslotse.settings import Settings


def test_bundled_vocabulary_maps_everyday_words_to_legal_terms(tmp_path):
    retriever = Retriever(None, None, Settings(home=tmp_path))
    assert "kraftfahrzeug" in retriever.query_terms("Muss ich mein Auto verkaufen?", "bund")
    assert "arbeitsunfah" in retriever.query_terms("bin krank, was schicken?", "bund")


def test_a_tenant_vocabulary_applies_to_that_tenant_only(tmp_path):
    folder = tmp_path / "vokabular"
    folder.mkdir()
    (folder / "nordkreis.tsv").write_text("# Mundart\nkarre\tKraftfahrzeug\n", encoding="utf-8")
    retriever = Retriever(None, None, Settings(home=tmp_path, vocabulary_dir=folder))
    assert "kraftfahrzeug" in retriever.query_terms("Meine Karre", "nordkreis")
    assert "kraftfahrzeug" not in retriever.query_terms("Meine Karre", "suedkreis")


def test_a_tenants_own_folder_extends_the_vocabulary_for_it_alone(tmp_path):
    """`<tenants dir>/<tenant>/vocabulary.tsv`, beside the tenant's other lists."""
    own = tmp_path / "tenants" / "nordkreis"
    own.mkdir(parents=True)
    (own / "vocabulary.tsv").write_text("kutsche\tKraftfahrzeug\n", encoding="utf-8")
    retriever = Retriever(None, None, Settings(home=tmp_path))
    assert "kraftfahrzeug" in retriever.query_terms("Meine Kutsche", "nordkreis")
    assert "kraftfahrzeug" not in retriever.query_terms("Meine Kutsche", "suedkreis")


def test_a_line_without_tab_names_file_and_line(tmp_path):
    folder = tmp_path / "vokabular"
    folder.mkdir()
    (folder / "nordkreis.tsv").write_text("karre\tKraftfahrzeug\nkaputte zeile\n", encoding="utf-8")
    vocabulary.entries_for.cache_clear()
    with pytest.raises(ValueError, match="nordkreis.tsv, Zeile 2"):
        vocabulary.entries_for("nordkreis", tsv_data.Folders(folder))


def test_tenant_keywords_attach_to_their_page_passages(store, tmp_path):
    pages = tmp_path / "seiten"
    pages.mkdir()
    (pages / "kontakt.md").write_text(
        "# Kontakt\n\nDas Servicecenter ist montags bis freitags von 8 bis 16 Uhr besetzt.\n", encoding="utf-8"
    )
    folder = tmp_path / "schlagwoerter"
    folder.mkdir()
    (folder / "nordkreis.tsv").write_text("Kontakt\thotline; anrufen; telefonnummer\n", encoding="utf-8")
    settings = Settings(home=tmp_path, embedder="none", keywords_dir=folder)
    keywords.table.cache_clear()
    report = ingest_paths([pages], store, settings, tenant="nordkreis")
    assert report.ingested == 1
    hits = Retriever(store, None, settings).search("Wie ist die Telefonnummer der Hotline?", "nordkreis", limit=1)
    assert hits and hits[0].passage.keywords == "hotline; anrufen; telefonnummer"


def test_a_tenants_own_folder_extends_the_keywords(store, tmp_path):
    pages = tmp_path / "seiten"
    pages.mkdir()
    (pages / "kontakt.md").write_text("# Kontakt\n\nDas Servicecenter ist montags bis freitags besetzt.\n", encoding="utf-8")
    own = tmp_path / "mandanten" / "nordkreis"
    own.mkdir(parents=True)
    (own / "keywords.tsv").write_text("Kontakt\tdurchwahl; rufnummer\n", encoding="utf-8")
    settings = Settings(home=tmp_path, embedder="none", tenants_dir=tmp_path / "mandanten")
    keywords.table.cache_clear()
    assert ingest_paths([pages], store, settings, tenant="nordkreis").ingested == 1
    hits = Retriever(store, None, settings).search("Durchwahl", "nordkreis", limit=1)
    assert hits and hits[0].passage.keywords == "durchwahl; rufnummer"
