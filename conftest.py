"""What every docstring example starts from (pytest's ``doctest_namespace``; see docs/api.md).

``store`` is a new empty store in a temporary directory, ``pcm`` a manager on
it and ``Model`` an empty class, fresh for each example; ``tempfile``,
``GitStore`` and ``PetClassManager`` are imported. Examples that need
something else set it up themselves.
"""

from __future__ import annotations

import tempfile
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
