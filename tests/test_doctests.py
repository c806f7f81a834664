"""Every `>>>` example in a docstring of src/amtslotse runs and is true (one test per module).

An example that cannot run on its own (it needs a store, a server, a model) is no example:
write it as a plain code block after `::`, without `>>>`. The modules in NOT_YET have examples
that still fail; their owners fix them and shrink the list (an entry whose module passes now
fails this test, so the list cannot go stale).
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import amtslotse

PACKAGE = Path(amtslotse.__file__).resolve().parent

NOT_YET: dict[str, str] = {
    # module: the failing example (its owner turns it into a runnable one or a `::` block)
}
"""Modules whose examples fail today, with the reason (see the report of issue 10)."""


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if ">>>" in path.read_text("utf-8"):
            names.append(".".join(parts))
    return names


MODULES = _modules()
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    tests = [t for t in doctest.DocTestFinder(exclude_empty=True).find(module, name) if t.examples]
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    failures: list[str] = []
    for test in tests:
        test.globs = dict(vars(module))  # each docstring sees the module's names, as with --doctest-modules
        result = runner.run(test, out=failures.append, clear_globs=True)
        if result.failed:
            failures.append(f"-> {result.failed} of {result.attempted} examples of {test.name} failed\n")
    if name in NOT_YET:
        if failures:
            pytest.skip(f"listed in NOT_YET ({NOT_YET[name]}): its owner fixes the examples")
        pytest.fail(f"{name} passes now: remove it from NOT_YET in tests/test_doctests.py", pytrace=False)
    assert not failures, "".join(failures)


def test_not_yet_names_only_modules_with_examples() -> None:
    assert set(NOT_YET) <= set(MODULES), sorted(set(NOT_YET) - set(MODULES))
