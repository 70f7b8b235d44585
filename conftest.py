"""What every docstring example starts from (pytest's ``doctest_namespace``; see docs/api.md).

``store`` is a new empty store in a temporary directory, ``pcm`` a manager on
it and ``Model`` an empty class, fresh for each example; ``tempfile``,
``GitStore`` and ``PetClassManager`` are imported. Examples that need
something else set it up themselves.
"""

from __future__ import annotations

import doctest
import inspect
import tempfile
from types import ModuleType
from typing import Any

import pytest

from gitpet import GitStore, PetClassManager


@pytest.fixture(autouse=True)
def _example_namespace(request: pytest.FixtureRequest, doctest_namespace: dict[str, Any]) -> None:
    if type(request.node).__name__ != "DoctestItem":
        return
    store = GitStore(request.getfixturevalue("tmp_path") / "store")
    models: dict[str, Any] = {"__name__": "examples"}  # a module no one imports: stored by value
    exec("class Model:\n    pass\n", models)
    doctest_namespace.update(
        # A class an example defines is in the same module as Model: another version of it.
        __name__="examples",
        tempfile=tempfile,
        GitStore=GitStore,
        PetClassManager=PetClassManager,
        store=store,
        pcm=PetClassManager(store),
        Model=models["Model"],
    )


# A public class is re-exported with ``__module__ = "gitpet"`` (gitpet/__init__.py), so
# doctest's finder skipped it in the module that defines it, and found only its own
# docstring (not its methods') in gitpet/__init__.py: the examples of every method of
# GitStore, PetClassManager, StoredVersion ... never ran (172 of them; 7 had gone stale).
# A class counts as its defining module's when that module binds it and its methods'
# globals are that module's.
_from_module = doctest.DocTestFinder._from_module


def _from_defining_module(self: doctest.DocTestFinder, module: ModuleType | None, value: object) -> bool:
    if module is not None and inspect.isclass(value) and value.__module__ == "gitpet" != module.__name__:
        methods = [member for member in vars(value).values() if inspect.isfunction(member)]
        if vars(module).get(value.__name__) is value and any(m.__globals__ is vars(module) for m in methods):
            return True
    return bool(_from_module(self, module, value))


doctest.DocTestFinder._from_module = _from_defining_module  # type: ignore[method-assign]
