"""gc: one pack, old garbage pruned, nothing reachable lost, also while others write and read."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from dulwich.objects import Blob
from dulwich.repo import Repo

from gitpet import GitStore, IntegrityError, PetClassManager
from gitpet.cli.main import main as cli
from gitpet.maintenance import gc as _gc
from tests.conftest import git, run_python, store_snapshot
from tests.workers import load_edited_class
from tests.writers_at_work import (
    assert_all_load,
    assert_clean,
    collect_while_running,
    finish,
    pushed,
    start,
    start_writers,
)


def _fill(store_path: Path, workdir: Path) -> dict[str, tuple[str, str]]:
    """30 single pushes of Solo (loose objects) and two batches of 20 classes (two packs)."""
    pcm = PetClassManager(store_path)
    ids: dict[str, tuple[str, str]] = {}
    for i in range(30):
        cls = load_edited_class(workdir, "solo_gc", "Solo", f"solo-{i}")
        ids[pcm.push(cls)] = ("Solo", f"solo-{i}")
    for batch in range(2):
        items = [
            (f"Part{k}", load_edited_class(workdir, f"part{k}_gc", f"Part{k}", f"part-{batch}-{k}"))
            for k in range(20)
        ]
        for result, (name, cls) in zip(pcm.push_many(items), items, strict=True):
            ids[result.id] = (name, cls.VALUE)  # type: ignore[attr-defined]
    pcm.store.close()
    return ids


def _count(store_path: Path) -> dict[str, int]:
    lines = git(store_path, "count-objects", "-v").stdout.splitlines()
    return {
        key: int(value) for key, value in (line.split(": ") for line in lines) if key in ("count", "packs")
    }


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _commit_holding(store_path: Path, blob: str) -> str:
    """With the real git: a commit whose tree holds ``blob``."""
    tree = git(store_path, "mktree", input=f"100644 blob {blob}\tkept\n").stdout.strip()
    return git(store_path, "commit-tree", tree, "-m", "kept by another ref").stdout.strip()


def _exists(store_path: Path, sha: bytes) -> bool:
    return git(store_path, "cat-file", "-e", sha.decode(), check=False).returncode == 0


def test_gc_packs_everything_into_one_pack_and_keeps_every_version(store_path: Path, tmp_path: Path) -> None:
    ids = _fill(store_path, tmp_path / "code")
    assert _count(store_path)["packs"] == 2 and _count(store_path)["count"] > 100

    reachable_by_git = len(git(store_path, "rev-list", "--objects", "--all").stdout.splitlines())
    report = GitStore(store_path).gc(prune_older_than=0)
    assert _count(store_path) == {"count": 0, "packs": 1}
    assert report.loose_packed > 100 and report.packs_removed == 2 and report.pruned == 0
    assert report.reachable == reachable_by_git
    assert report.after.disk_bytes < report.before.disk_bytes / 3
    assert not [p for p in (store_path / "objects").iterdir() if len(p.name) == 2]  # fan-out dirs emptied
    assert_clean(store_path)
    store = GitStore(store_path)
    assert store.verify().ok
    pcm = PetClassManager(store)
    for vid, (name, value) in ids.items():
        assert pcm.pull(name, vid)().value() == value


def test_gc_keeps_what_any_ref_reaches_and_prunes_only_old_garbage(store_path: Path, tmp_path: Path) -> None:
    ids = _fill(store_path, tmp_path / "code")
    store = GitStore(store_path)
    objects = Repo(str(store_path)).object_store
    reached, old, young = (Blob.from_string(f"{n}\n".encode()) for n in ("reached", "old", "young"))
    for blob in (reached, old, young):
        objects.add_object(blob)
    for blob in (reached, old):
        _age(store_path / "objects" / blob.id.decode()[:2] / blob.id.decode()[2:], 7200)
    git(store_path, "update-ref", "refs/notes/kept", _commit_holding(store_path, reached.id.decode()))
    leftover_lock = store_path / "refs" / "heads" / "Solo.lock"
    leftover_lock.write_text("crashed")
    leftover_pack = store_path / "objects" / "pack" / "tmp_pack_crashed"
    leftover_pack.write_bytes(b"PACK")
    for path in (leftover_lock, leftover_pack):
        _age(path, 7200)
    store.close()

    report = GitStore(store_path, stale_lock_after=60).gc(prune_older_than=3600)
    assert (report.pruned, report.kept_young) == (1, 1)
    assert sorted(report.leftovers_removed) == ["objects/pack/tmp_pack_crashed", "refs/heads/Solo.lock"]
    assert [_exists(store_path, b.id) for b in (reached, old, young)] == [True, False, True]
    assert_clean(store_path)
    store = GitStore(store_path)
    assert store.verify().ok
    assert {v.id for name in store.names() for v in store.versions(name)} == set(ids)


def test_gc_refuses_a_damaged_store_and_changes_nothing(store_path: Path, tmp_path: Path) -> None:
    _fill(store_path, tmp_path / "code")
    (store_path / "refs" / "heads" / "Ghost").write_text("1234567890abcdef1234567890abcdef12345678\n")
    before = store_snapshot(store_path)
    with pytest.raises(IntegrityError, match="missing"):
        GitStore(store_path).gc(prune_older_than=0)
    assert store_snapshot(store_path) == before


def test_gc_while_writers_push_and_a_reader_loads_loses_nothing(store_path: Path, tmp_path: Path) -> None:
    """Aggressive pruning (0.5 s) in a loop while two writers race on one class and a reader loads it."""
    go, stop = tmp_path / "go", tmp_path / "stop"
    writers = start_writers(store_path, tmp_path, "Counter", 2, 150, go)
    reader = start("read-latest", str(store_path), "Counter", str(stop), cwd=tmp_path)
    go.touch()
    collect_while_running(store_path, writers)
    outputs = finish(writers)
    stop.touch()
    [read_lines] = finish([reader])

    reported = {vid: value for lines in outputs for vid, value in pushed(lines).items()}
    store = GitStore(store_path)
    assert_all_load(store, "Counter", reported)
    for line in read_lines:
        if line.startswith("read "):
            _, vid, value = line.split()
            assert reported[vid] == value
    assert store.verify().ok
    assert_clean(store_path)


def test_gc_from_the_command_line(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(store_path, tmp_path / "code")
    assert cli(["--store", str(store_path), "gc", "--json", "--prune-older-than", "0"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["packs_removed"] == 2 and report["after"]["disk_bytes"] < report["before"]["disk_bytes"]
    assert cli(["--store", str(store_path), "gc"]) == 0
    assert "removed 0 loose copies and 0 old pack(s)" in capsys.readouterr().out  # nothing left to do
    with pytest.raises(SystemExit) as exit_info:
        cli(["--store", str(store_path), "gc", "--prune-older-than", "-1"])
    assert exit_info.value.code == 2


_GROWING = """
class Growing:
    '''A class edited once per version: {edit}.'''

    def step(self, x):
        total = 0
        for i in range(10):
            total += x * i
        return total + {edit}

    def other(self):
        return "{edit}" * 3
"""


def _history(
    pcm: PetClassManager, user_module: Callable[..., ModuleType], name: str, edits: range
) -> list[str]:
    ids = []
    for edit in edits:
        module = user_module(_GROWING.format(edit=edit), name=f"growing_{name.lower()}")
        ids.append(pcm.push(module.Growing, name))
    return ids


def _delta_lines(store_path: Path) -> dict[str, int]:
    """object id -> delta depth (0: stored whole), from the real git's verify-pack."""
    (index,) = (store_path / "objects" / "pack").glob("*.idx")
    depths = {}
    for line in git(store_path, "verify-pack", "-v", str(index)).stdout.splitlines():
        fields = line.split()
        if len(fields) >= 5 and len(fields[0]) == 40:
            depths[fields[0]] = int(fields[5]) if len(fields) >= 7 else 0
    return depths


def test_gc_stores_older_versions_as_deltas_and_every_version_still_loads(
    store_path: Path, user_module: Callable[..., ModuleType], tmp_path: Path
) -> None:
    pcm = PetClassManager(store_path)
    ids = _history(pcm, user_module, "Growing", range(40))
    before = {version: pcm.store.read_version("Growing", version).files for version in ids}
    size_before = sum(p.stat().st_size for p in (store_path / "objects").rglob("*") if p.is_file())
    pcm.store.gc(prune_older_than=0)
    size_after = sum(p.stat().st_size for p in (store_path / "objects").rglob("*") if p.is_file())
    assert size_after < size_before * 0.75  # small classes: trees and commits are much of it

    git(store_path, "fsck", "--strict")
    depths = _delta_lines(store_path)
    assert max(depths.values()) == 10  # chains stop at the depth limit
    latest = git(store_path, "ls-tree", "refs/heads/Growing").stdout.split()
    latest_blobs = [latest[i + 2] for i in range(0, len(latest), 4)]
    assert all(depths[blob] == 0 for blob in latest_blobs)  # the latest loads with no delta to apply

    fresh = PetClassManager(GitStore(store_path))
    assert all(fresh.store.read_version("Growing", version).files == before[version] for version in ids)
    out = run_python(
        "import sys, gitpet\n"
        "pcm = gitpet.PetClassManager(sys.argv[1])\n"
        "print(pcm.pull('Growing', sys.argv[2])().step(1), pcm.pull('Growing')().step(1))\n",
        str(store_path),
        ids[0],
        cwd=tmp_path,
    )
    assert out.split() == ["45", "84"]
    assert fresh.store.verify().ok


def test_gc_deltas_never_form_a_cycle_between_classes_sharing_files(
    store_path: Path, user_module: Callable[..., ModuleType]
) -> None:
    pcm = PetClassManager(store_path)
    forward = _history(pcm, user_module, "Forward", range(5))
    backward = _history(pcm, user_module, "Backward", range(4, -1, -1))  # the same files, newest first
    pcm.store.gc(prune_older_than=0)
    git(store_path, "fsck", "--strict")
    fresh = PetClassManager(GitStore(store_path))
    assert [fresh.pull("Forward", v)().step(1) for v in forward] == [45, 46, 47, 48, 49]
    assert [fresh.pull("Backward", v)().step(1) for v in backward] == [49, 48, 47, 46, 45]


@pytest.mark.parametrize(
    ("damaged", "problem"),
    [
        (".pack", "does not give back what was packed"),
        (".idx", "its index does not say where its objects are"),
    ],
)
def test_gc_that_cannot_read_its_new_pack_back_removes_it_and_deletes_nothing(
    store_path: Path,
    user_module: Callable[..., ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    damaged: str,
    problem: str,
) -> None:
    pcm = PetClassManager(store_path)
    _history(pcm, user_module, "Growing", range(5))
    snapshot = store_snapshot(store_path)
    real_write_pack = _gc.write_pack_of

    def corrupting_write_pack(*args: object, **kwargs: object) -> str | None:
        path = real_write_pack(*args, **kwargs)  # type: ignore[arg-type]
        assert path is not None
        file = Path(path.removesuffix(".pack") + damaged)
        data = bytearray(file.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle of the file
        os.chmod(file, 0o644)
        file.write_bytes(bytes(data))
        return path

    monkeypatch.setattr(_gc, "write_pack_of", corrupting_write_pack)
    with pytest.raises(IntegrityError, match=f"new pack.*{problem}"):
        pcm.store.gc(prune_older_than=0)
    assert store_snapshot(store_path) == snapshot  # the bad pack is gone; every loose object is there
    git(store_path, "fsck", "--strict")


def test_gc_of_a_store_as_the_last_gc_left_it_reads_nothing_but_still_removes_leftovers(
    store_path: Path, user_module: Callable[..., ModuleType]
) -> None:
    """Same refs, one pack (gc's), nothing loose: nothing is read; a ref deleted makes gc repack."""
    pcm = PetClassManager(store_path)
    _history(pcm, user_module, "Growing", range(6))
    _history(pcm, user_module, "Other", range(2))
    first = pcm.store.gc(prune_older_than=0)
    (pack,) = (store_path / "objects" / "pack").glob("*.pack")
    # Still removed: what a killed writer left.
    leftover = store_path / "objects" / "pack" / "tmp_pack_left"
    leftover.write_bytes(b"half a pack")
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    second = pcm.store.gc(prune_older_than=60)
    assert not second.repacked and second.reachable == first.reachable
    assert second.leftovers_removed == ("objects/pack/tmp_pack_left",) and not leftover.exists()
    assert list((store_path / "objects" / "pack").glob("*.pack")) == [pack]
    git(store_path, "update-ref", "-d", "refs/heads/Other")
    third = pcm.store.gc(prune_older_than=0)
    assert third.repacked and third.reachable < first.reachable
    git(store_path, "fsck", "--strict")
    assert pcm.store.verify().ok


def test_gc_keeps_the_pack_it_wrote_while_nothing_changed_and_repacks_a_fetched_one(
    store_path: Path, user_module: Callable[..., ModuleType], tmp_path: Path
) -> None:
    pcm = PetClassManager(store_path)
    _history(pcm, user_module, "Growing", range(12))
    # Everything arrives in one fetched pack, as sent: gc did not write it, so gc packs it (finding deltas).
    mine_path = tmp_path / "mine"
    mine = GitStore(mine_path)
    mine.fetch(str(store_path))
    assert _count(mine_path) == {"count": 0, "packs": 1}
    assert max(_delta_lines(mine_path).values()) == 0
    first = mine.gc(prune_older_than=0)
    assert first.repacked and first.summary().startswith("packed ")
    assert max(_delta_lines(mine_path).values()) > 0
    (packed,) = (mine_path / "objects" / "pack").glob("*.pack")
    # Run again with nothing new: the same pack is kept as it is, nothing is rewritten.
    second = mine.gc(prune_older_than=0)
    assert not second.repacked and second.reachable == first.reachable
    assert second.summary().startswith(f"already packed: {first.reachable} reachable objects")
    assert list((mine_path / "objects" / "pack").glob("*.pack")) == [packed]
    git(mine_path, "fsck", "--strict")
    assert mine.verify().ok
    # A new version (loose) makes the next gc pack again, the new version included.
    pcm.push(user_module(_GROWING.format(edit=99), name="growing_growing").Growing, "Growing")
    mine.fetch(str(store_path))
    third = mine.gc(prune_older_than=0)
    assert third.repacked and third.reachable > second.reachable
    assert _count(mine_path) == {"count": 0, "packs": 1}
    latest = pcm.store.latest_id("Growing")
    assert mine.latest_id("Growing") == latest
    assert mine.read_version("Growing", latest).files == pcm.store.read_version("Growing", latest).files
    assert not mine.gc(prune_older_than=0).repacked


def test_versions_pushed_after_gc_counted_stay_and_load_and_unreachable_old_garbage_goes(
    store_path: Path, user_module: Callable[..., ModuleType]
) -> None:
    """Pushed between gc's writing its pack and its pruning: loose, not in the pack, kept."""
    from gitpet.git.locks import LockRetry, WriterLock
    from gitpet.progress import Progress

    pcm = PetClassManager(store_path)
    before = _history(pcm, user_module, "Growing", range(3))
    garbage = Blob.from_string(b"nobody names me\n")
    Repo(str(store_path)).object_store.add_object(garbage)
    _age(store_path / "objects" / garbage.id.decode()[:2] / garbage.id.decode()[2:], 7200)
    pushed: list[str] = []

    class PushingBeforePruning(Progress):
        def stage(self, title: str, total: int | None = None, *, unit: str = "objects") -> None:
            if title == "pruning":
                pushed.extend(_history(PetClassManager(store_path), user_module, "Growing", range(3, 5)))
                for loose in (store_path / "objects").glob("??/*"):
                    _age(loose, 7200)  # old: only being reachable keeps them now

    retry = LockRetry(WriterLock(store_path), lock_timeout=10.0, stale_lock_after=60.0)
    report = _gc.collect_garbage(Repo(str(store_path)), retry, 3600.0, PushingBeforePruning())
    assert len(pushed) == 2
    after_push = len(git(store_path, "rev-list", "--objects", "--all").stdout.splitlines())
    assert report.reachable == after_push  # what the pack holds and what was reached since
    assert report.pruned == 1 and not _exists(store_path, garbage.id)
    assert _count(store_path)["packs"] == 1 and _count(store_path)["count"] > 0  # the new pushes, loose
    git(store_path, "fsck", "--strict")
    fresh = PetClassManager(GitStore(store_path))
    assert [fresh.pull("Growing", version)().step(1) for version in before + pushed] == [45, 46, 47, 48, 49]


def test_gc_packs_a_branch_that_names_a_blob_or_a_tree_whole(
    store_path: Path, user_module: Callable[..., ModuleType]
) -> None:
    """Refs made with plain git under refs/heads/ need not name commits: no history, still kept."""
    pcm = PetClassManager(store_path)
    versions = _history(pcm, user_module, "Growing", range(3))
    blob = git(store_path, "hash-object", "-w", "--stdin", input="a note\n").stdout.strip()
    tree = git(store_path, "mktree", input=f"100644 blob {blob}\tnote\n").stdout.strip()
    # git's update-ref refuses a branch naming a non-commit: the ref files are written as is.
    (store_path / "refs" / "heads" / "ANote").write_text(blob + "\n")
    (store_path / "refs" / "heads" / "ATree").write_text(tree + "\n")
    report = pcm.store.gc(prune_older_than=0)
    assert report.reachable == len(git(store_path, "rev-list", "--objects", "--all").stdout.splitlines())
    assert _count(store_path) == {"count": 0, "packs": 1}
    (index,) = (store_path / "objects" / "pack").glob("*.idx")
    git(store_path, "verify-pack", str(index))  # (git fsck itself refuses a branch naming no commit)
    assert git(store_path, "cat-file", "-p", blob).stdout == "a note\n"
    assert git(store_path, "ls-tree", tree).stdout == f"100644 blob {blob}\tnote\n"
    fresh = PetClassManager(GitStore(store_path))
    assert [fresh.pull("Growing", version)().step(1) for version in versions] == [45, 46, 47]
