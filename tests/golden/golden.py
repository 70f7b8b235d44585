"""Push the golden corpus into a store, and probe what its stored versions do.

Run as a script so that each step is its own process (the "other machine"
never has the corpus module on its path)::

    python tests/golden/golden.py push STORE OUT.json          # push every corpus class, write the ids
    python tests/golden/golden.py probe STORE IDS.json OUT.json  # load by id, run the probes, push again
    python tests/golden/golden.py live OUT.json                  # the probes on the corpus as imported
    python tests/golden/golden.py regenerate                     # make golden: this Python's ids and store

Used by ``tests/golden/test_golden.py``, ``make compat`` (``tests/golden/compat.py``)
and ``make golden``, which rewrites the committed ids and stores: only for a
deliberate format change (bump ``FORMAT_VERSION`` and say so in CHANGELOG.md).
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
# A copy elsewhere gives the same ids: tests push from one at another path.
CORPUS_DIR = Path(os.environ.get("GITPET_GOLDEN_CORPUS", HERE / "corpus"))
CORPUS_MODULE = "gitpet_golden_corpus"
IDS_DIR = HERE / "ids"
STORES_DIR = HERE / "stores"
EXPECTED_PROBES = HERE / "expected-probes.json"

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
    "TakesHelpers": "TakesHelpers",
}
NOTEBOOK = "NotebookModel"


def python_minor() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def current_format() -> int:
    """The format this gitpet writes (what ``make golden`` records)."""
    from gitpet.format.meta import FORMAT_VERSION

    return FORMAT_VERSION


def ids_file(minor: str | None = None) -> Path:
    """The committed ids of the corpus in the current format on one Python minor."""
    return IDS_DIR / f"format{current_format()}-py{minor or python_minor()}.json"


def _record(cls: Any) -> Any:
    r = cls("a", 1.5)
    fields = [f.name for f in dataclasses.fields(cls)]
    return [r.label(), dataclasses.asdict(r), cls("b") == cls("b"), fields]


def _color(cls: Any) -> Any:
    return [[m.name for m in cls], cls(1).name, cls.CRIMSON is cls.RED, cls.RED.warm(), cls.GREEN.warm()]


def _slotted(cls: Any) -> Any:
    obj = cls(1, 2)
    return [obj.total(), hasattr(obj, "__dict__"), list(cls.__slots__)]


def _annotated(cls: Any) -> Any:
    return [cls().predict([1.0, 2.5]), cls().total([1.0], 0.5), sorted(cls.predict.__annotations__)]


def _with_sets(cls: Any) -> Any:
    checks = [cls().check(x) for x in "aqz"]
    return [sorted(cls.allowed), sorted(cls.frozen), *checks]


PROBES: dict[str, Callable[[Any], Any]] = {
    "Plain": lambda c: c().greet("ann"),
    "Record": _record,
    "Color": _color,
    "Inner": lambda c: [c().value(), c.__qualname__],
    "Outer": lambda c: [type(c().make()).__qualname__, c().make().value()],
    "FactoryMade": lambda c: [c(2).apply([1, 2, 3, 4, 5, 6]), c.__qualname__, c(3).get_params()],
    "Renamed": lambda c: [c().who(), c.__qualname__],
    "Annotated": _annotated,
    "Accessors": lambda c: [c(0.25).level, c.unit(), c.make().t],
    "UsesHelpers": lambda c: c().run(2),
    "Derived": lambda c: [c().describe(), [b.__name__ for b in c.__mro__]],
    "Cached": lambda c: [c().square(7), c.square.cache_info().maxsize],
    "UsesContainer": lambda c: c().is_default(),
    "WithSets": _with_sets,
    "Typed": lambda c: [c().first([3, 4]), c.__parameters__.__len__()],
    "Slotted": _slotted,
    "TakesHelpers": lambda c: [c().run(3), c().unit(), [b.__name__ for b in c.__mro__]],
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


def _outcome(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except Exception as err:  # noqa: BLE001 - the report names every failure
        return f"{type(err).__name__}: {err}"


def probe(store: str, ids_path: str, out: str) -> dict[str, Any]:
    """Load every version by id (this process cannot import the corpus), probe it, push it again.

    For each class: ``behaviour`` (what its probe returns), ``same_id`` (the
    loaded class hashes to the id it was loaded by) and ``push_again`` (what
    pushing the loaded class writes: ``"nothing"``, or ``"new version (format N)"``:
    not its id, which every format change changes).
    """
    from gitpet import GitStore, PetClassManager

    assert CORPUS_MODULE not in sys.modules and str(CORPUS_DIR) not in sys.path
    ids = json.loads(Path(ids_path).read_text())
    manager = PetClassManager(GitStore(store))
    results: dict[str, Any] = {}
    for name, version in sorted(ids.items()):
        try:
            cls = manager.pull(name, version)
        except Exception as err:  # noqa: BLE001 - the report names every failure
            results[name] = {"load": f"{type(err).__name__}: {err}"}
            continue
        before = manager.store.versions(name)[0].commit

        def push_again(cls: type = cls, name: str = name, before: str = before) -> str:
            manager.push(cls, name=name)
            if manager.store.versions(name)[0].commit == before:
                return "nothing"
            return f"new version (format {manager.store.read_version(name).meta['format']})"

        results[name] = {
            "behaviour": _outcome(lambda cls=cls, name=name: PROBES[name](cls)),
            "same_id": _outcome(
                lambda cls=cls, name=name, v=version: manager.get_class_hash(cls, name=name) == v
            ),
            "push_again": _outcome(push_again),
        }
    manager.store.close()
    Path(out).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


def live(out: str) -> dict[str, Any]:
    """The probes on the corpus classes as imported: what every stored version must do too."""
    corpus = _corpus()
    results = {
        name: _outcome(lambda name=name, path=path: PROBES[name](_lookup(corpus, path)))
        for name, path in CLASSES.items()
    }
    notebook = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy, json; ns = runpy.run_path('notebook_main.py');"
            " print(json.dumps(ns['NotebookModel']().predict([1, 2])))",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=str(CORPUS_DIR),
    )
    results[NOTEBOOK] = json.loads(notebook.stdout)
    Path(out).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


PIPELINE_PLUGINS = """
from gitpet import BasePlugin

OFFSET = 10


def shifted(x, k):
    return x * k + OFFSET


class Scale(BasePlugin):
    def __init__(self, k=2):
        super().__init__(k=k)
        self.k = k

    def apply(self, x):
        return shifted(x, self.k)


class Chain(BasePlugin):
    def __init__(self, steps=()):
        super().__init__(steps=steps)
        self.steps = list(steps)

    def apply(self, x):
        for step in self.steps:
            x = step.apply(x)
        return x
"""


def pipeline_push(store: str, workdir: str) -> None:
    """Push two plugins and save a pipeline of them (``golden_plugins`` is written in ``workdir``)."""
    from gitpet import PetContainer

    Path(workdir, "golden_plugins.py").write_text(PIPELINE_PLUGINS)
    sys.path.insert(0, workdir)
    import golden_plugins  # type: ignore[import-not-found]

    container = PetContainer(store=store)
    container.ppif["Scale"] = golden_plugins.Scale
    container.ppif["Chain"] = golden_plugins.Chain
    container.ppif.push_all()
    pipeline = golden_plugins.Chain([golden_plugins.Scale(3), golden_plugins.Scale(2)])
    container.save_pipeline("golden", pipeline)
    print(json.dumps(pipeline.apply(1)))


def pipeline_load(store: str) -> None:
    """Rebuild the saved pipeline (this process has no ``golden_plugins``) and apply it."""
    from gitpet import PetContainer

    pipeline = PetContainer(store=store).load_pipeline("golden")
    print(json.dumps(pipeline.apply(1)))


def store_dir(minor: str | None = None) -> Path:
    """The committed store of the current format on one Python minor."""
    return STORES_DIR / f"format{current_format()}-py{minor or python_minor()}"


def probe_file(store: Path) -> Path:
    """The committed probe results of a committed store."""
    return store.parent / f"{store.name}.probe.json"


def regenerate() -> None:
    """Rewrite this Python minor's committed ids, store and probe results (a deliberate format change)."""
    import shutil

    store = store_dir()
    shutil.rmtree(store, ignore_errors=True)
    IDS_DIR.mkdir(exist_ok=True)
    for step in (
        ["push", str(store), str(ids_file())],
        ["probe", str(store), str(ids_file()), str(probe_file(store))],
    ):
        subprocess.run([sys.executable, __file__, *step], check=True)
    # Probing pushed nothing new, but keep the committed store minimal anyway.
    for empty in ("branches", "hooks", "info"):
        shutil.rmtree(store / empty, ignore_errors=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    os.environ.setdefault("GITPET_AUTHOR", "gitpet golden <golden@localhost>")
    commands: dict[str, Callable[..., Any]] = {
        "push": push,
        "probe": probe,
        "live": live,
        "regenerate": regenerate,
        "pipeline-push": pipeline_push,
        "pipeline-load": pipeline_load,
    }
    if command not in commands:
        raise SystemExit(f"unknown command {command!r}")
    commands[command](*args)
