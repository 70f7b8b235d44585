"""Worker processes for the concurrency, crash and gc tests ("other machines" on one store).

Run as ``python tests/workers.py COMMAND STORE ...``. Writers print one line
``pushed <version id> <value>`` after each push returned, flushed, so that a
test which kills a writer knows exactly which versions were reported pushed.
Each writer edits and re-imports a real module file between pushes, as a
developer would; bytecode caching is off so a re-import always sees the edit.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitpet import GitStore, PetClassManager, loaded_version  # noqa: E402

# The crash test shortens the stale-lock bound so that recovering a killed
# writer's lock costs it half a second rather than the default ten.
STALE_AFTER_ENV = "GITPET_TEST_STALE_AFTER"
# A count that never ends: the writer pushes until the test kills it.
FOREVER = "forever"


def manager(store: str) -> PetClassManager:
    return PetClassManager(GitStore(store, stale_lock_after=float(os.environ.get(STALE_AFTER_ENV, "10"))))


CLASS_TEMPLATE = '''
class {name}:
    """A pipeline step whose behaviour changes between versions."""

    VALUE = {value!r}

    def value(self):
        return self.VALUE
'''


def load_edited_class(workdir: Path, module: str, name: str, value: str) -> type:
    """Write ``module`` with class ``name`` returning ``value``, import it fresh, return the class.

    Each edit is a file of its own (``<workdir>/<module>-<n>/<module>.py``), imported as
    ``module``: a new version of one class, while the classes of earlier edits keep the file
    they were read from (pushing one later is not a stale module).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    edit = next(n for n in itertools.count() if not (workdir / f"{module}-{n}").exists())
    folder = workdir / f"{module}-{edit}"
    folder.mkdir()
    path = folder / f"{module}.py"
    path.write_text(CLASS_TEMPLATE.format(name=name, value=value))
    spec = importlib.util.spec_from_file_location(module, path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    spec.loader.exec_module(loaded)
    cls: type = getattr(loaded, name)
    return cls


def wait_for(go_file: str) -> None:
    if go_file != "-":
        while not Path(go_file).exists():
            time.sleep(0.001)


def push_versions(store: str, workdir: str, name: str, tag: str, count: str, go_file: str = "-") -> None:
    """Push ``count`` distinct versions of class ``name`` (values ``<tag>-<i>``).

    ``count`` "forever" pushes until the process is killed (crash tests must not
    depend on how fast a machine pushes a fixed number).
    """
    pcm = manager(store)
    if count == FOREVER:
        for i in itertools.count():
            cls = load_edited_class(Path(workdir), name.lower(), name, f"{tag}-{i}")
            print("pushed", pcm.push(cls), cls.VALUE, flush=True)  # type: ignore[attr-defined]
    classes = [load_edited_class(Path(workdir), name.lower(), name, f"{tag}-{i}") for i in range(int(count))]
    wait_for(go_file)
    for cls in classes:
        print("pushed", pcm.push(cls), cls.VALUE, flush=True)  # type: ignore[attr-defined]


def push_batches(store: str, workdir: str, tag: str, rounds: str, size: str) -> None:
    """Push ``rounds`` batches of ``size`` classes (one pack per batch); rounds "forever": until killed."""
    pcm = manager(store)
    for r in itertools.count() if rounds == FOREVER else range(int(rounds)):
        items = []
        for k in range(int(size)):
            name = f"Part{k}"
            items.append((name, load_edited_class(Path(workdir), f"part{k}", name, f"{tag}-{r}-{k}")))
        for result, (_name, cls) in zip(pcm.push_many(items), items, strict=True):
            print("pushed", result.id, cls.VALUE, flush=True)  # type: ignore[attr-defined]


def read_latest(store: str, name: str, stop_file: str) -> None:
    """Load the latest ``name`` in a loop until ``stop_file`` exists; print each new value."""
    pcm = manager(store)
    seen = None
    loads = 0
    while not Path(stop_file).exists():
        try:
            cls = pcm.pull(name)
        except KeyError:  # not pushed yet
            continue
        loads += 1
        value = cls().value()  # type: ignore[attr-defined]
        if value != seen:
            info = loaded_version(cls)
            print("read", info.version_id if info else "?", value, flush=True)
            seen = value
    print("loads", loads, flush=True)


def save_snapshots(store: str, pipeline: str, class_name: str, tag: str, count: str, go_file: str) -> None:
    """Save ``count`` distinct snapshots of ``pipeline``, each pinning the latest ``class_name``."""
    history = manager(store).store.pipeline(pipeline)
    version = history.store.resolve(class_name)
    wait_for(go_file)
    for i in range(int(count)):
        dump = {"clazz": class_name, "version_hash": version, "params": {"writer": tag, "i": i}}
        print("saved", history.save(dump, f"{tag} {i}").id, flush=True)


def load_lazily(store: str, remote: str, names: str, go_file: str) -> None:
    """Wait for ``go_file``, then load each of ``names`` (comma-separated) through a factory that
    fetches it from ``remote`` (trusted); print each value."""
    from gitpet import PetFactory

    local = GitStore(store)
    local.init()
    local.add_remote("team", remote, trusted=True)
    factory = PetFactory(PetClassManager(local, remote="team"))
    wait_for(go_file)
    for name in names.split(","):
        print("loaded", name, factory[name]().value(), flush=True)  # type: ignore[attr-defined]


def collect(store: str, prune_older_than: str, go_file: str = "-") -> None:
    """Run gc in a loop (pruning garbage older than ``prune_older_than`` s) until killed or,
    with a ``go_file`` that is a stop file, until it exists; print a line after each."""
    gitstore = GitStore(store, stale_lock_after=float(os.environ.get(STALE_AFTER_ENV, "10")))
    while go_file == "-" or not Path(go_file).exists():
        report = gitstore.gc(prune_older_than=float(prune_older_than))
        print("collected", report.pruned, flush=True)


def fetch_loop(store: str, remote: str, stop_file: str) -> None:
    """Fetch everything from ``remote`` (trusted) in a loop until ``stop_file`` exists (or killed);
    print a line after each fetch."""
    gitstore = GitStore(store, stale_lock_after=float(os.environ.get(STALE_AFTER_ENV, "10")))
    gitstore.init()
    while not Path(stop_file).exists():
        report = gitstore.fetch(remote, trusted=True)
        print("fetched", len(report.changed), flush=True)


COMMANDS = {
    "collect": collect,
    "fetch-loop": fetch_loop,
    "load-lazily": load_lazily,
    "push-versions": push_versions,
    "push-batches": push_batches,
    "read-latest": read_latest,
    "save-snapshots": save_snapshots,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
