"""gitpet demo: push two plugin classes, change one, load both versions elsewhere.

Run with ``make demo``. Uses the default store (``$GITPET_STORE`` or ./.gitpet).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from dulwich.repo import Repo

from gitpet import Container

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
'''

# Version 2 changes one method of Scaler; Clipper is untouched.
PLUGINS_V2 = PLUGINS_V1.replace("return shift(x) * self.factor", "return shift(x) * self.factor + 100")

LOADER = textwrap.dedent("""
    import sys
    from gitpet import PetClassManager
    store, old_id = sys.argv[1], sys.argv[2]
    try:
        import demo_plugins  # noqa: F401
        raise SystemExit("the loader must not be able to import demo_plugins")
    except ImportError:
        pass
    pcm = PetClassManager(store)
    latest = pcm.pull("Scaler")
    older = pcm.pull("Scaler", old_id)
    clipper = pcm.pull("Clipper")
    print(f"  latest Scaler(3).apply(4) = {latest(3).apply(4)}")
    print(f"  old    Scaler(3).apply(4) = {older(3).apply(4)}   (version {old_id[:12]})")
    print(f"  Clipper(5).apply(9)       = {clipper(5).apply(9)}")
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
    for result in ppif.push_all():
        print(f"pushed {result.name:8} {result.id[:12]}  new commit: {result.created}")
    old_id = ppif.version_control["Scaler"]

    module_file.write_text(PLUGINS_V2)
    plugins = importlib.reload(plugins)
    ppif["Scaler"] = plugins.Scaler
    ppif["Clipper"] = plugins.Clipper
    for result in ppif.push_all():
        print(f"pushed {result.name:8} {result.id[:12]}  new commit: {result.created}")

    print("loading in a separate process that cannot import demo_plugins:")
    subprocess.run(
        [sys.executable, "-c", LOADER, str(store.path), old_id],
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
    store.close()


if __name__ == "__main__":
    main()
