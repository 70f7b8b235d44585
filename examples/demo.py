"""gitpet demo: push plugin classes, change one, share them, load both versions elsewhere,
and rebuild a saved pipeline exactly as it was.

Run with ``make demo``. Uses the default store (``$GITPET_STORE`` or ./.gitpet),
and a temporary bare repository as the team's shared remote.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from dulwich.repo import Repo

from gitpet import Container, GitStore

PLUGINS_V1 = '''
from gitpet import BasePlugin

OFFSET = 1


def shift(x):
    return x + OFFSET


class Scaler(BasePlugin):
    """Multiplies its input."""

    def __init__(self, factor=2):
        super().__init__(factor=factor)
        self.factor = factor

    def apply(self, x):
        return shift(x) * self.factor


class Clipper(BasePlugin):
    def __init__(self, limit=10):
        super().__init__(limit=limit)
        self.limit = limit

    def apply(self, x):
        return min(x, self.limit)


class Chain(BasePlugin):
    """A pipeline: applies its steps in order."""

    def __init__(self, steps=()):
        super().__init__(steps=steps)
        self.steps = list(steps)

    def apply(self, x):
        for step in self.steps:
            x = step.apply(x)
        return x
'''

# Version 2 changes one method of Scaler; Clipper is untouched.
PLUGINS_V2 = PLUGINS_V1.replace("return shift(x) * self.factor", "return shift(x) * self.factor + 100")

LOADER = textwrap.dedent("""
    import sys
    from gitpet import Container, GitStore
    store, remote, old_id, first_snapshot = sys.argv[1:5]
    try:
        import demo_plugins  # noqa: F401
        raise SystemExit("the loader must not be able to import demo_plugins")
    except ImportError:
        pass
    # An empty store on "another machine": classes are fetched from the remote when
    # asked for. Loading runs code, so only a remote marked trusted loads without ceremony.
    from gitpet import PetClassManager, UntrustedVersionError
    try:
        PetClassManager(store + "-untrusted", remote=remote).pull("Scaler")
    except UntrustedVersionError as err:
        print(f"  from a remote not marked trusted: refused ({type(err).__name__})")
    machine_b = GitStore(store)
    machine_b.add_remote("team", remote, trusted=True)
    Container.configure(store=machine_b, remote="team")
    latest = Container.ppif["Scaler"]
    older = Container.ppif.get_version("Scaler", old_id)
    first = Container.ppif.get_version("Scaler", "v1")
    clipper = Container.ppif["Clipper"]
    assert first is older
    print(f"  latest Scaler(3).apply(4) = {latest(3).apply(4)}")
    print(f"  old    Scaler(3).apply(4) = {older(3).apply(4)}   (version {old_id[:12]}, tag v1)")
    print(f"  Clipper(5).apply(9)       = {clipper(5).apply(9)}")
    print(f"  fetched into {store}: {Container.store.names()}")
    # A saved pipeline rebuilds with exactly the versions it was saved with.
    saved_then = Container.load_pipeline("scale-clip", first_snapshot)
    saved_now = Container.load_pipeline("scale-clip")
    print(f"  pipeline scale-clip@{first_snapshot[:12]}.apply(4) = {saved_then.apply(4)}")
    print(f"  pipeline scale-clip (newest).apply(4)      = {saved_now.apply(4)}")
""")


def main() -> None:
    store = Container.store
    print(f"store: {store.path}")
    workdir = Path(tempfile.mkdtemp(prefix="gitpet-demo-"))
    module_file = workdir / "demo_plugins.py"
    module_file.write_text(PLUGINS_V1)
    sys.path.insert(0, str(workdir))
    plugins = importlib.import_module("demo_plugins")

    ppif = Container.ppif
    ppif["Scaler"] = plugins.Scaler
    ppif["Clipper"] = plugins.Clipper
    ppif["Chain"] = plugins.Chain
    for result in ppif.push_all():
        print(f"pushed {result.name:8} {result.id[:12]}  new commit: {result.created}")
    old_id = ppif.version_control["Scaler"]
    pipeline = plugins.Chain([plugins.Scaler(3), plugins.Clipper(200)])
    first_snapshot = Container.save_pipeline("scale-clip", pipeline, "first model")
    print(f"saved pipeline scale-clip: snapshot {first_snapshot[:12]}")

    module_file.write_text(PLUGINS_V2)
    plugins = importlib.reload(plugins)
    ppif["Scaler"] = plugins.Scaler
    ppif["Clipper"] = plugins.Clipper
    ppif["Chain"] = plugins.Chain
    for result in ppif.push_all():
        print(f"pushed {result.name:8} {result.id[:12]}  new commit: {result.created}")
    status = store.pipeline("scale-clip").status()
    for pin in status.classes:
        print(f"  scale-clip pins {pin.name:8} {pin.pinned[0][:12]}  a newer version exists: {pin.newer}")
    pipeline = plugins.Chain([plugins.Scaler(3), plugins.Clipper(200)])
    second_snapshot = Container.save_pipeline("scale-clip", pipeline, "Scaler adds 100")
    changes = store.pipeline("scale-clip").diff(first_snapshot, second_snapshot).changes
    print(f"saved pipeline scale-clip: snapshot {second_snapshot[:12]}, changed: {[c.name for c in changes]}")

    store.tag("Scaler", "v1", old_id)

    team = GitStore(workdir / "team.git")  # stands for any git server: a path, git://, http(s)://, ssh://
    team.init()
    print(f"sharing through {team.path}:")
    print(textwrap.indent(str(store.push(str(team.path))), "  "))

    print("loading in a separate process that cannot import demo_plugins, from an empty store:")
    subprocess.run(
        [sys.executable, "-c", LOADER, str(workdir / "machine-b"), str(team.path), old_id, first_snapshot],
        check=True,
        cwd=tempfile.gettempdir(),
    )

    print("git log Scaler (read through dulwich):")
    with Repo(str(store.path)) as repo:
        for entry in repo.get_walker(include=[repo.refs[b"refs/heads/Scaler"]], max_entries=5):
            commit = entry.commit
            print(f"  commit {commit.id.decode()}")
            print(f"  Author: {commit.author.decode()}")
            print(f"      {commit.message.decode().strip()}")
    print(f"\ntry: git --git-dir={store.path} log --oneline Scaler")
    print(f"     git --git-dir={store.path} diff Scaler~1 Scaler -- source.py")
    print(f"     gitpet --store {store.path} log Scaler")
    print(f"     gitpet --store {store.path} pipeline diff scale-clip {first_snapshot[:12]}")
    print(f"     git --git-dir={store.path} diff pipelines/scale-clip~1 pipelines/scale-clip --stat")
    store.close()


if __name__ == "__main__":
    main()
