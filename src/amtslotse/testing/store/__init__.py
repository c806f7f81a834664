"""The store conformance suite: the contract of `amtslotse.store.protocol` as tests that any
store runs, so that a third store can prove it behaves like SQLite and PostgreSQL. It imports
pytest at the top (only tests import it; pytest is a test extra, not a runtime dependency).

A store's test module subclasses `StoreConformance` (or some of its parts) and provides the
`store_factory` fixture: a callable that opens a new store object on one fresh, empty database
at each call (as another process would), all of them closed after the test::

    import pytest
    from amtslotse.testing.store import StoreConformance

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store_factory(self, tmp_path):
            opened = []
            def open_store():
                opened.append(MyStore(tmp_path / "db"))
                return opened[-1]
            yield open_store
            for store in opened:
                store.close()

tests/test_store_conformance.py runs it against SQLite and PostgreSQL. The parts, by concern:
`DocumentTests`, `VectorTests`, `TenantIsolationTests` (documents.py), `LexicalSearchTests`,
`DenseSearchTests`, `FreshnessTests` (search.py); corpus.py holds the texts, the helpers that
store and query them (`add`, `lexical_ids`, `dense_ids`, ...) and `StoreFixtures`.
"""

from amtslotse.testing.store.corpus import StoreFixtures
from amtslotse.testing.store.documents import DocumentTests, TenantIsolationTests, VectorTests
from amtslotse.testing.store.search import DenseSearchTests, FreshnessTests, LexicalSearchTests

__all__ = [
    "DenseSearchTests", "DocumentTests", "FreshnessTests", "LexicalSearchTests", "StoreConformance",
    "StoreFixtures", "TenantIsolationTests", "VectorTests",
]


class StoreConformance(
    DocumentTests, VectorTests, TenantIsolationTests, LexicalSearchTests, DenseSearchTests, FreshnessTests,
):
    """Every part of the suite; a store's test class subclasses it and provides `store_factory`."""
