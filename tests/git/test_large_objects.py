"""Objects larger than gitpet writes loose go into packs, which every reader of gitpet's can read back."""

from __future__ import annotations

import os
from pathlib import Path

from gitpet import PetClassManager
from gitpet.git.object_writer import LARGEST_LOOSE_BYTES
from tests.conftest import ModuleWriter

BIG_CLASS_MB = int(os.environ.get("GITPET_STRESS_BIG_CLASS_MB", "70"))


def test_any_class_gitpet_writes_it_can_verify_pack_push_and_fetch(tmp_path: Path) -> None:
    """A class whose pickle is larger than the largest object gitpet writes loose (70 MB here,
    600 MB in `make stress`): written, verified, packed by gc, pushed, fetched and loaded."""
    import subprocess as sp

    size = BIG_CLASS_MB * 1_000_000
    assert size > LARGEST_LOOSE_BYTES
    namespace = {"__name__": "bigmod"}
    exec(f"class Big:\n    blob = bytes(range(256)) * {size // 256}\n", namespace)
    pcm = PetClassManager(tmp_path / "store")
    version = pcm.push(namespace["Big"])  # type: ignore[arg-type]
    del namespace
    assert pcm.store.verify().ok
    pcm.store.gc(prune_older_than=0)
    assert pcm.store.verify().ok
    remote = tmp_path / "team.git"
    sp.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    pcm.store.push(str(remote))
    other = PetClassManager(tmp_path / "other")
    other.store.add_remote("team", str(remote), trusted=True)
    other.store.fetch("team")
    assert other.store.verify().ok
    fsck = sp.run(
        ["git", f"--git-dir={other.store.path}", "fsck", "--strict"], capture_output=True, text=True
    )
    assert fsck.returncode == 0, fsck.stderr.decode()
    assert len(PetClassManager(tmp_path / "other").pull("Big", version).blob) == size // 256 * 256


def test_gitpet_writes_loose_only_what_dulwich_reads_back() -> None:
    from dulwich import objects

    limit = getattr(objects, "DEFAULT_LOOSE_OBJECT_SIZE_LIMIT", None)
    assert limit is None or limit > LARGEST_LOOSE_BYTES


def test_a_class_too_large_to_build_twice_is_stored_without_the_source_check(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    size = BIG_CLASS_MB * 1_000_000
    module = user_module(f"class Big:\n    blob = bytes(range(256)) * {size // 256}\n")
    [result] = PetClassManager(tmp_path / "store").push_many([("Big", module.Big)])
    assert result.created and result.source_complete is False
    assert result.source_problem == f"it pickles to more than {64 * 1024 * 1024} bytes: not built again"
