"""The one plugin manager: built-in providers and outside packages register through it alike.

`load()` registers the built-in plugin modules (`DEFAULT_PLUGINS`, by import: a checkout needs
no reinstall to find them) and then every entry point in the group "amtslotse" of the
installed packages, the same way: each is a module whose `@hookimpl` functions implement the
hooks in hookspecs.py. The registries call `load()` on first use (`search.embedders`,
`llm.registry`), so nothing outside is imported just by importing amtslotse::

    from amtslotse import plugins

    plugins.load()
    names = sorted(plugins.pm.list_name_plugin())
"""

from __future__ import annotations

import importlib
import threading

import pluggy

from amtslotse import hookspecs

GROUP = "amtslotse"  # the entry-point group outside packages declare their plugin module in
DEFAULT_PLUGINS = ("amtslotse.search.embedders", "amtslotse.llm.openai_compatible")

pm = pluggy.PluginManager(GROUP)
pm.add_hookspecs(hookspecs)

_LOCK = threading.RLock()  # re-entrant: a plugin's registration may use a registry again
_loaded = False


def load() -> None:
    """Register the built-in plugins and the entry points once per process (thread-safe)."""
    global _loaded
    with _LOCK:
        if _loaded:
            return
        _loaded = True  # set first: registering a plugin calls the registries, which call load()
        try:
            for name in DEFAULT_PLUGINS:
                if not pm.has_plugin(name):
                    pm.register(importlib.import_module(name), name=name)
            pm.load_setuptools_entrypoints(GROUP)
        except BaseException:
            _loaded = False  # a broken outside plugin: the next call tries again (and fails loudly)
            raise
