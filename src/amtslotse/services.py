"""The running parts of one Amtslotse process, built once from the settings::

    with Services.open(get_settings()) as services:
        services.asker.ask("Zahlt ihr die Nebenkosten?", "musterkreis")

The HTTP app and the CLI use the same object, so a command and an endpoint answer alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from amtslotse.ask.conversation import Chat
from amtslotse.ask.pipeline import Asker
from amtslotse.llm import get_llm
from amtslotse.search.embedders import Embedder, get_embedder, one_blas_thread
from amtslotse.search.hybrid import Retriever
from amtslotse.settings import Settings
from amtslotse.store import open_store
from amtslotse.store.protocol import Store
from amtslotse.tenants import TenantConfig, load_tenant_config


@dataclass
class Services:
    settings: Settings
    store: Store
    embedder: Embedder | None
    retriever: Retriever
    asker: Asker
    chat: Chat

    @classmethod
    def open(cls, settings: Settings) -> "Services":
        one_blas_thread()  # what a process that answers questions needs (see there)
        store = open_store(settings)
        try:
            embedder = get_embedder(settings.embedder)
            retriever = Retriever(store, embedder, settings)
            contacts = partial(_emergency_contacts, settings=settings)
            serves = partial(_scope, settings=settings)
            asker = Asker(retriever, llm=get_llm(settings), emergency_contacts=contacts, serves=serves)
        except BaseException:
            store.close()
            raise
        return cls(settings, store, embedder, retriever, asker, Chat(store, asker, settings))

    def tenant(self, tenant: str) -> TenantConfig:
        return load_tenant_config(tenant, self.settings)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Services":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _emergency_contacts(tenant: str, settings: Settings):
    return load_tenant_config(tenant, settings).emergency_contacts


def _scope(tenant: str, settings: Settings) -> frozenset[str]:
    return load_tenant_config(tenant, settings).scope
