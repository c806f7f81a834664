"""Vectors in the background: the server embeds new passages while it serves.

A staff upload is searchable lexically the moment it is stored; dense search joins as the
worker stores the passages' vectors, a batch at a time, so a long upload never holds up the
request that brought it. The worker also embeds what a `amtslotse ingest --no-embed` left.

Example (it needs a store and models, so it is not run as a doctest)::

    worker = VectorWorker(store, embedder, batch_size=32)
    stop = worker.start()      # in the server's lifespan
    worker.request()           # after an upload: embed now rather than at the next round
    stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from amtslotse.knowledge.ingest import embed_missing
from amtslotse.search.embedders import Embedder
from amtslotse.store.protocol import Store

log = logging.getLogger("amtslotse.vectors")

ROUND_SECONDS = 300.0
"""Between rounds without a request: picks up what another process (the CLI) stored."""


class VectorWorker:
    def __init__(self, store: Store, embedder: Embedder, batch_size: int) -> None:
        self.store, self.embedder, self.batch_size = store, embedder, batch_size
        self._wake = threading.Event()  # a request, or stop
        self._stop = threading.Event()

    def request(self) -> None:
        self._wake.set()

    def run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                done = embed_missing(self.store, self.embedder, self.batch_size)
                if done:
                    log.info("%d neue Vektoren (%s)", done, self.embedder.name)
            except Exception:  # retried at the next round; searching goes on lexically
                log.exception("Vektoren konnten nicht berechnet werden")
            self._wake.wait(ROUND_SECONDS)

    def start(self) -> Callable[[], None]:
        threading.Thread(target=self.run, daemon=True, name="amtslotse-vectors").start()

        def stop() -> None:
            self._stop.set()
            self._wake.set()

        return stop
