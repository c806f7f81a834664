"""The extension surface: the hooks a plugin may implement (pluggy, project name "amtslotse").

A plugin is a module (or any object) with functions marked `@hookimpl` and named like the
hooks below. The built-in providers are plugins of exactly this kind (plugins.py registers
them); an outside package makes its module known through an entry point in the group
"amtslotse"::

    # pyproject.toml of the package "amtslotse-mein-modell"
    [project.entry-points.amtslotse]
    mein_modell = "amtslotse_mein_modell"

    # amtslotse_mein_modell.py
    from amtslotse.hookspecs import hookimpl

    @hookimpl
    def register_embedders(register):
        register("mein-modell", lambda arg: MeinEmbedder(arg))

    @hookimpl
    def register_llms(register):
        register("mein-anbieter", lambda settings: MeinLLM(settings.llm_model))

Both hooks are historic: a plugin registered after the registry was first used is still
called, with the same `register`.
"""

from __future__ import annotations

from collections.abc import Callable

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("amtslotse")
hookimpl = HookimplMarker("amtslotse")


@hookspec(historic=True)
def register_embedders(register: Callable[..., None]) -> None:
    """Register embedding models: `register(name, factory, replace=False)`.

    `factory` is a `search.embedders.EmbedderFactory`: it gets the text after "name:" in
    AMTSLOTSE_EMBEDDER ("" if there is none) and returns an `Embedder`, loading the model lazily.
    """


@hookspec(historic=True)
def register_llms(register: Callable[..., None]) -> None:
    """Register LLM providers: `register(name, factory, replace=False)`.

    `factory` is an `llm.LLMFactory`: it gets the `Settings` and returns an `LLM` (the name
    is the value of AMTSLOTSE_LLM_PROVIDER); it must not connect or download anything.
    """
