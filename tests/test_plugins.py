"""One plugin mechanism (hookspecs.py, plugins.py): an outside package adds an embedder and an
LLM provider through an entry point in the group "amtslotse", the settings select them by name,
and the built-ins are plugins registered through the same manager."""

from __future__ import annotations

import sys
import textwrap
import types

import pytest

from amtslotse import plugins
from amtslotse.errors import ConfigError
from amtslotse.hookspecs import hookimpl
from amtslotse.llm import ChatMessage, get_llm
from amtslotse.llm import registry as llm_registry
from amtslotse.search import embedders
from amtslotse.search.embedders import get_embedder
from amtslotse.settings import Settings

# An outside package as pip would install it: its module, and a dist-info folder whose
# entry_points.txt names that module in the group "amtslotse".
PLUGIN_MODULE = '''
from letter_embedder import LetterEmbedder  # tests/ is on the path, as an installed package would be

from amtslotse.hookspecs import hookimpl
from amtslotse.llm import LLM


class Echo(LLM):
    def __init__(self, model):
        self.name = "echo"
        self.model = model

    def stream(self, messages, *, max_tokens=None, temperature=None, timeout=None):
        yield f"[{self.model}] "
        yield messages[-1].content


@hookimpl
def register_embedders(register):
    register("buchstaben", lambda arg: LetterEmbedder(f"buchstaben:{arg}" if arg else "buchstaben"))


@hookimpl
def register_llms(register):
    register("echo", lambda settings: Echo(settings.llm_model))
'''


def settings(**values) -> Settings:
    """Settings from the arguments only (no .env file, no LLM unless asked for)."""
    values = {"llm_provider": "", "llm_base_url": "", "llm_model": "", "embedder": "none", **values}
    return Settings(_env_file=None, **values)


@pytest.fixture
def registries(monkeypatch):
    """Private copies of both registries (with the built-ins), restored after the test."""
    plugins.load()
    monkeypatch.setattr(embedders, "_FACTORIES", dict(embedders._FACTORIES))
    monkeypatch.setattr(embedders, "_CACHE", {})
    monkeypatch.setattr(llm_registry, "_FACTORIES", dict(llm_registry._FACTORIES))


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch, registries):
    """The package "amtslotse-buchstaben", installed into a folder on sys.path."""
    (tmp_path / "amtslotse_buchstaben.py").write_text(PLUGIN_MODULE, encoding="utf-8")
    info = tmp_path / "amtslotse_buchstaben-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: amtslotse-buchstaben\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[amtslotse]\nbuchstaben = amtslotse_buchstaben\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "buchstaben"
    if plugins.pm.has_plugin("buchstaben"):
        plugins.pm.unregister(name="buchstaben")
    sys.modules.pop("amtslotse_buchstaben", None)


def test_the_built_ins_are_plugins_of_the_same_manager():
    plugins.load()
    for name in plugins.DEFAULT_PLUGINS:
        assert plugins.pm.has_plugin(name), name
    assert {"use-m3", "e5-small", "sentence-transformers"} <= set(embedders.available_embedders())
    assert "openai" in llm_registry.available_llms()


def test_an_entry_point_adds_an_embedder_and_an_llm_that_the_settings_select(installed_plugin, monkeypatch):
    monkeypatch.setattr(plugins, "_loaded", False)  # load() as in a fresh process: built-ins, then entry points
    plugins.load()
    module = plugins.pm.get_plugin(installed_plugin)
    assert module is sys.modules["amtslotse_buchstaben"]
    assert [dist.project_name for plugin, dist in plugins.pm.list_plugin_distinfo() if plugin is module] == [
        "amtslotse-buchstaben"
    ]

    embedder = get_embedder(settings(embedder="buchstaben:v2").embedder)
    assert embedder is not None and embedder.name == "buchstaben:v2"
    assert embedder.embed_passages(["abc", "xyz"]).shape == (2, 26)

    llm = get_llm(settings(llm_provider="Echo", llm_model="m1"))
    assert llm is not None and llm.complete([ChatMessage("user", "Hallo")]) == "[m1] Hallo"

    with pytest.raises(ConfigError, match=r"Unbekannter LLM-Anbieter 'gibt-es-nicht'.*echo"):
        get_llm(settings(llm_provider="gibt-es-nicht"))
    with pytest.raises(ConfigError, match=r"Unbekanntes Embedding-Modell 'gibt-es-nicht'; verfügbar: buchstaben"):
        get_embedder(settings(embedder="gibt-es-nicht").embedder)


def test_a_plugin_registered_after_first_use_is_still_called(registries):
    """register() as the entry-point loader does it, after the registries are in use (historic hooks)."""
    plugin = types.ModuleType("amtslotse_spaet")
    exec(textwrap.dedent(PLUGIN_MODULE), plugin.__dict__)
    assert "buchstaben" not in embedders.available_embedders()
    plugins.pm.register(plugin, name="spaet")
    try:
        assert "buchstaben" in embedders.available_embedders() and "echo" in llm_registry.available_llms()
        assert get_llm(settings(llm_provider="echo", llm_model="m2")).complete([ChatMessage("user", "x")]) == "[m2] x"
    finally:
        plugins.pm.unregister(plugin)


def test_a_plugin_cannot_take_a_built_in_name_by_accident(registries):
    class Clash:
        @hookimpl
        def register_llms(self, register):
            register("openai", lambda settings: None)

    clash = Clash()
    with pytest.raises(ValueError, match="schon registriert"):
        plugins.pm.register(clash, name="clash")
    if plugins.pm.is_registered(clash):
        plugins.pm.unregister(clash)


def test_every_hook_is_documented_in_the_contributing_guide():
    from pathlib import Path

    from amtslotse import hookspecs

    guide = (Path(__file__).parents[1] / "docs" / "contributing.md").read_text(encoding="utf-8")
    hooks = [name for name in vars(hookspecs) if name.startswith("register_")]
    assert hooks == ["register_embedders", "register_llms"]
    assert all(f"def {hook}(register)" in guide for hook in hooks)
