"""Push the golden corpus into a store, and probe what its stored versions do.

Run as a script so that each step is its own process (the "other machine"
never has the corpus module on its path)::

    python tests/golden/golden.py push STORE IDS.json     # push every corpus class
    python tests/golden/golden.py probe STORE IDS.json OUT.json   # load by id, run the probes

Used by ``tests/golden/test_golden.py``, ``make compat`` and ``make golden``
(which rewrites the committed ids: only for a deliberate format change).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS_DIR = HERE / "corpus"
CORPUS_MODULE = "gitpet_golden_corpus"

# registered name -> attribute path in the corpus module
CLASSES = {
    "Plain": "Plain",
    "Record": "Record",
    "Color": "Color",
    "Inner": "Outer.Inner",
    "Outer": "Outer",
    "FactoryMade": "FactoryMade",
    "Renamed": "Renamed",
    "Annotated": "Annotated",
    "Accessors": "Accessors",
    "UsesHelpers": "UsesHelpers",
    "Derived": "Derived",
    "Cached": "Cached",
    "UsesContainer": "UsesContainer",
    "WithSets": "WithSets",
    "Typed": "Typed",
    "Slotted": "Slotted",
}
NOTEBOOK = "NotebookModel"


def _record(cls: Any) -> Any:
    r = cls("a", 1.5)
    return [r.label(), dataclasses.asdict(r), cls("b") == cls("b"), [f.name for f in dataclasses.fields(cls)]]


def _color(cls: Any) -> Any:
    return [[m.name for m in cls], cls(1).name, cls.CRIMSON is cls.RED, cls.RED.warm(), cls.GREEN.warm()]


def _slotted(cls: Any) -> Any:
    obj = cls(1, 2)
    return [obj.total(), hasattr(obj, "__dict__"), list(cls.__slots__)]


PROBES: dict[str, Callable[[Any], Any]] = {
    "Plain": lambda c: c().greet("ann"),
    "Record": _record,
    "Color": _color,
    "Inner": lambda c: [c().value(), c.__qualname__],
    "Outer": lambda c: [type(c().make()).__qualname__, c().make().value()],
    "FactoryMade": lambda c: [c(2).apply([1, 2, 3, 4, 5, 6]), c.__qualname__, c(3).get_params()],
    "Renamed": lambda c: [c().who(), c.__qualname__],
    "Annotated": lambda c: [c().predict([1.0, 2.5]), c().total([1.0], 0.5), sorted(c.predict.__annotations__)],
    "Accessors": lambda c: [c(0.25).level, c.unit(), c.make().t],
    "UsesHelpers": lambda c: c().run(2),
    "Derived": lambda c: [c().describe(), [b.__name__ for b in c.__mro__]],
    "Cached": lambda c: [c().square(7), c.square.cache_info().maxsize],
    "UsesContainer": lambda c: c().is_default(),
    "WithSets": lambda c: [sorted(c.allowed), sorted(c.frozen), c().check("a"), c().check("q"), c().check("z")],
    "Typed": lambda c: [c().first([3, 4]), c.__parameters__.__len__()],
    "Slotted": _slotted,
    NOTEBOOK: lambda c: c().predict([1, 2]),
}


def _corpus() -> Any:
    sys.path.insert(0, str(CORPUS_DIR))
    import importlib

    return importlib.import_module(CORPUS_MODULE)


def _lookup(module: Any, path: str) -> Any:
    target = module
    for part in path.split("."):
        target = getattr(target, part)
    return target


def push(store: str, out: str) -> dict[str, str]:
    """Push every corpus class (the notebook class from its own ``__main__`` process)."""
    from gitpet import PetClassManager

    corpus = _corpus()
    manager = PetClassManager(store)
    ids = {name: manager.push(_lookup(corpus, path), name=name) for name, path in CLASSES.items()}
    manager.store.close()
    result = subprocess.run(
        [sys.executable, str(CORPUS_DIR / "notebook_main.py"), str(HERE), store],
        check=True,
        capture_output=True,
        text=True,
        cwd=str(CORPUS_DIR),
    )
    ids[NOTEBOOK] = result.stdout.strip().splitlines()[-1]
    Path(out).write_text(json.dumps(ids, indent=2, sort_keys=True) + "\n")
    return ids


def main_push_notebook(cls: type) -> None:
    """Called by ``corpus/notebook_main.py`` with its ``__main__`` class."""
    from gitpet import PetClassManager

    manager = PetClassManager(sys.argv[2])
    print(manager.push(cls, name=NOTEBOOK))
    manager.store.close()


def probe(store: str, ids_file: str, out: str) -> dict[str, Any]:
    """Load every version by id (this process has no corpus module) and run its probe."""
    from gitpet import PetClassManager

    assert CORPUS_MODULE not in sys.modules and str(CORPUS_DIR) not in sys.path
    ids = json.loads(Path(ids_file).read_text())
    manager = PetClassManager(store)
    results: dict[str, Any] = {}
    for name, version in sorted(ids.items()):
        try:
            cls = manager.pull(name, version)
            results[name] = {"ok": PROBES[name](cls), "rehash": manager.get_class_hash(cls, name=name) == version}
        except Exception as err:  # noqa: BLE001 - the report names every failure
            results[name] = {"error": f"{type(err).__name__}: {err}"}
    manager.store.close()
    Path(out).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    os.environ.setdefault("GITPET_AUTHOR", "gitpet golden <golden@localhost>")
    if command == "push":
        push(*args)
    elif command == "probe":
        probe(*args)
    else:
        raise SystemExit(f"unknown command {command!r}")
