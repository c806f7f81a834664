"""The registry of LLM providers, and where the configured one is built.

Providers are plugins (hookspecs.py, plugins.py): a plugin's `register_llms` hook calls
`register_llm()`. The built-in "openai" is the plugin `llm/openai_compatible.py`, loaded exactly
as an outside package's module is; either is selected by name::

    from amtslotse.llm import get_llm
    from amtslotse.settings import Settings

    llm = get_llm(Settings(llm_provider="mein-anbieter"))

Which provider `get_llm()` builds: AMTSLOTSE_LLM_PROVIDER if set; otherwise "openai" when
AMTSLOTSE_LLM_BASE_URL is set, else "none" (no LLM: answers stay extractive).

Built-ins:
- "none": no LLM; `get_llm()` returns None.
- "openai": any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp's server,
  llama-cpp-python's server, hosted services) at AMTSLOTSE_LLM_BASE_URL. A local llama.cpp
  model runs through this provider too: start `llama-server` or `python -m llama_cpp.server`
  beside Amtslotse and point the base URL at it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from amtslotse import plugins
from amtslotse.errors import ConfigError
from amtslotse.llm.protocol import LLM
from amtslotse.settings import Settings, get_settings

LLMFactory = Callable[["Settings"], LLM]
"""Builds a provider from the settings (it reads the llm_* fields it needs). It should be
cheap and must not download anything; connect lazily, on the first request."""

_FACTORIES: dict[str, LLMFactory] = {}  # filled by the plugins' register_llms hooks
_LOCK = threading.Lock()
_NONE = "none"


def register_llm(name: str, factory: LLMFactory, *, replace: bool = False) -> None:
    """Make `factory` available as provider `name` (the value of AMTSLOTSE_LLM_PROVIDER): the
    `register` that plugins get in their `register_llms` hook."""
    plugins.load()  # the built-ins first, so that a duplicate name is always refused
    key = name.strip().lower()
    if not key or key == _NONE or any(c.isspace() for c in key):
        raise ValueError(f"Ungültiger Name für einen LLM-Anbieter: {name!r}")
    with _LOCK:
        if key in _FACTORIES and not replace:
            raise ValueError(f"LLM-Anbieter {key!r} ist schon registriert (replace=True zum Ersetzen).")
        _FACTORIES[key] = factory


def available_llms() -> list[str]:
    """Names of the registered providers, sorted ("none" is always available too)."""
    plugins.load()
    with _LOCK:
        return sorted(_FACTORIES)


def provider_name(settings: Settings) -> str:
    """The provider `get_llm()` uses for these settings ("none" for no LLM)."""
    chosen = settings.llm_provider.strip().lower()
    if chosen:
        return chosen
    return "openai" if settings.llm_base_url.strip() else _NONE


def get_llm(settings: Settings | None = None) -> LLM | None:
    """The configured LLM, or None when none is configured.

    Builds a new provider object on every call: call it once (e.g. at app start) and keep
    the object; providers are thread-safe. Unknown provider names raise ConfigError (a ValueError).
    """
    if settings is None:
        settings = get_settings()
    name = provider_name(settings)
    if name == _NONE:
        return None
    plugins.load()
    with _LOCK:
        factory = _FACTORIES.get(name)
        known = ", ".join(sorted(_FACTORIES) + [_NONE])
    if factory is None:
        raise ConfigError(f"Unbekannter LLM-Anbieter {name!r} (AMTSLOTSE_LLM_PROVIDER); verfügbar: {known}.")
    llm = factory(settings)
    if not _looks_like_llm(llm):
        raise TypeError(f"Factory für den LLM-Anbieter {name!r} lieferte kein LLM-Objekt: {llm!r}")
    return llm


def _looks_like_llm(obj: object) -> bool:
    return isinstance(getattr(obj, "name", None), str) and all(
        callable(getattr(obj, method, None)) for method in ("stream", "complete")
    )


# Every plugin's register_llms hook gets `register_llm`, also plugins registered later.
plugins.pm.hook.register_llms.call_historic(kwargs={"register": register_llm})
