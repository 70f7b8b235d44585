"""gc: one pack, old garbage pruned, nothing reachable lost, also while others write and read."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from dulwich.objects import Blob

from gitpet import GitStore, IntegrityError, PetClassManager
from gitpet._cli import main as cli
from tests.conftest import git, store_snapshot
from tests.test_concurrency import assert_all_load, assert_clean, finish, pushed, start, start_writers
from tests.workers import load_edited_class


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
    objects = store._writable_repo().object_store
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
    collections = 0
    while any(w.poll() is None for w in writers) or collections < 3:
        GitStore(store_path).gc(prune_older_than=0.5)
        collections += 1
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
