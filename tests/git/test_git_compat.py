"""What gitpet writes is ordinary git: checked with the real git binary."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitpet import PetClassManager
from tests.conftest import ModuleWriter, git

V1 = """
class Smoother:
    window = 3

    def apply(self, xs):
        return [sum(xs[max(0, i - self.window):i + 1]) for i in range(len(xs))]
"""
V2 = V1.replace("window = 3", "window = 5")


def _two_versions(pcm: PetClassManager, user_module: ModuleWriter) -> tuple[str, str]:
    return pcm.push(user_module(V1).Smoother), pcm.push(user_module(V2).Smoother)


def test_fsck_log_show_diff(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    v1, v2 = _two_versions(pcm, user_module)
    store = pcm.store.path
    fsck = git(store, "fsck", "--strict", "--no-dangling")
    assert fsck.returncode == 0, fsck.stderr
    assert "error" not in fsck.stderr.lower()
    log = git(store, "log", "--format=%T %s", "Smoother").stdout.splitlines()
    assert log == [f"{v2} Smoother: version {v2}", f"{v1} Smoother: version {v1}"]
    shown = git(store, "show", "Smoother:source.py").stdout
    assert shown == V2.lstrip("\n")
    diff = git(store, "diff", "Smoother~1", "Smoother").stdout
    assert "-    window = 3" in diff and "+    window = 5" in diff
    assert git(store, "rev-parse", "Smoother^{tree}").stdout.strip() == v2
    assert git(store, "cat-file", "-t", v1).stdout.strip() == "tree"
    entries = git(store, "ls-tree", "--name-only", v1).stdout.split()
    assert entries == ["captured.py", "class.pkl", "meta.json", "source.py"]


def test_clone_and_checkout_an_old_version(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    v1, _ = _two_versions(pcm, user_module)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(pcm.store.path), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "origin/Smoother~1"], check=True)
    assert (clone / "source.py").read_text() == V1.lstrip("\n")
    tree = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "HEAD^{tree}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert tree == v1


def test_store_is_bare_and_created_lazily(store_path: Path, user_module: ModuleWriter) -> None:
    pcm = PetClassManager(store_path)
    pcm.get_class_hash(user_module(V1).Smoother)
    assert not store_path.exists()  # hashing writes nothing
    pcm.push(user_module(V1).Smoother)
    assert git(store_path, "rev-parse", "--is-bare-repository").stdout.strip() == "true"
