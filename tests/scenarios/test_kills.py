"""SIGKILL at random moments of push_all, gc and fetch, and gc among writers and a fetcher.

Each round kills a real process (tests/workers.py) at a random point, then
checks with the real git that the store is whole, that everything reported
done is there, and that the next operation works with no manual step.
`make stress` runs more rounds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gitpet import GitStore, PetClassManager
from tests.conftest import git
from tests.workers import FOREVER, STALE_AFTER_ENV, load_edited_class
from tests.writers_at_work import assert_clean, collect_while_running, finish, pushed, start, start_writers

KILL_ROUNDS = int(os.environ.get("GITPET_STRESS_KILL_ROUNDS", "20"))


def _kill_once_pushing(proc: subprocess.Popen[str], seconds: float) -> str:
    """SIGKILL ``proc`` ``seconds`` after it reported its first push (mid-batch, whatever the
    machine's speed); return everything it printed."""
    assert proc.stdout is not None
    first = proc.stdout.readline()
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    # Read on through the same buffered stream: communicate() would skip what readline buffered.
    out = proc.stdout.read()
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.wait()
    assert proc.returncode in (-signal.SIGKILL, 0), err
    return first + out


def _kill_after(proc: subprocess.Popen[str], seconds: float) -> str:
    """SIGKILL ``proc`` after ``seconds``; return everything it printed."""
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    assert proc.returncode in (-signal.SIGKILL, 0), err
    return out


def _fsck(store: Path) -> None:
    if not store.exists():
        return  # killed before its first write (encoding comes first): there is nothing to check
    fsck = git(store, "fsck", "--strict", check=False)
    assert fsck.returncode == 0, fsck.stderr


def _every_ref_loads(store_path: Path, sample: int = 40) -> None:
    """Each class's latest is a whole version (git fsck checked every object); ``sample`` of them
    (a random choice) are also loaded and run."""
    store = GitStore(store_path)
    pcm = PetClassManager(store)
    names = store.names()
    assert all(store.latest_id(name) for name in names)
    for name in random.Random(len(names)).sample(names, min(sample, len(names))):
        assert pcm.pull(name)().value()
    store.close()


def _seed(pcm: PetClassManager, workdir: Path, tag: str, classes: int, versions: int) -> dict[str, str]:
    """Push ``versions`` versions of each of ``classes`` classes; return id -> value."""
    done = {}
    for v in range(versions):
        items = [
            (f"Seed{k}", load_edited_class(workdir, f"seed{k}", f"Seed{k}", f"{tag}-{v}-{k}"))
            for k in range(classes)
        ]
        for result, (_name, cls) in zip(pcm.push_many(items), items, strict=True):
            done[result.id] = cls.VALUE  # type: ignore[attr-defined]
    return done


def _all_load(store_path: Path, reported: dict[str, str]) -> None:
    store = GitStore(store_path)
    pcm = PetClassManager(store)
    in_history = {v.id: name for name in store.names() for v in store.versions(name)}
    assert set(reported) <= set(in_history)
    for vid, value in reported.items():
        assert pcm.pull(in_history[vid], vid)().value() == value


def test_push_all_of_500_classes_killed_at_random_points_loses_nothing_it_reported(
    store_path: Path, tmp_path: Path
) -> None:
    rng = random.Random(20261204)
    reported: dict[str, str] = {}
    for round_ in range(KILL_ROUNDS):
        proc = start(
            "push-batches",
            str(store_path),
            str(tmp_path / f"w{round_}"),
            f"k{round_}",
            FOREVER,
            "500",
            cwd=tmp_path,
            env={STALE_AFTER_ENV: "0.5"},
        )
        # Killed at any moment, often in the first batch; the first round in a later batch, so
        # that a finished batch is reported however slow the machine is.
        if round_:
            out = _kill_after(proc, rng.uniform(0.2, 1.6))
        else:
            out = _kill_once_pushing(proc, rng.uniform(0.0, 1.6))
        reported.update(pushed(out.splitlines()))
        _fsck(store_path)
        _every_ref_loads(store_path)
    assert reported, "no batch of 500 finished before its kill in any round"
    _all_load(store_path, dict(random.Random(1).sample(sorted(reported.items()), 200)))
    after = start("push-batches", str(store_path), str(tmp_path / "z"), "after", "1", "500", cwd=tmp_path)
    finish([after])
    GitStore(store_path, stale_lock_after=0).gc()
    assert_clean(store_path)
    assert GitStore(store_path).verify().ok


def test_gc_killed_at_random_points_loses_nothing(store_path: Path, tmp_path: Path) -> None:
    rng = random.Random(4)
    pcm = PetClassManager(store_path)
    reported = _seed(pcm, tmp_path / "seed", "s", 40, 3)
    for round_ in range(KILL_ROUNDS):
        reported.update(_seed(pcm, tmp_path / f"more{round_}", f"r{round_}", 5, 1))  # loose work for gc
        proc = start("collect", str(store_path), "0", cwd=tmp_path, env={STALE_AFTER_ENV: "0.5"})
        _kill_after(proc, rng.uniform(0.05, 0.6))
        _fsck(store_path)
        _every_ref_loads(store_path)
    _all_load(store_path, reported)
    GitStore(store_path, stale_lock_after=0).gc(prune_older_than=0)
    assert_clean(store_path)
    report = GitStore(store_path).verify()
    assert report.ok and report.leftovers == ()


def test_fetch_killed_at_random_points_leaves_a_whole_store_and_the_next_fetch_works(tmp_path: Path) -> None:
    rng = random.Random(7)
    remote = tmp_path / "team.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    author = PetClassManager(tmp_path / "author")
    victim = tmp_path / "victim"
    stop = tmp_path / "never"
    for round_ in range(KILL_ROUNDS):
        _seed(author, tmp_path / f"a{round_}", f"a{round_}", 30, 2)
        author.store.push(str(remote))
        proc = start(
            "fetch-loop", str(victim), str(remote), str(stop), cwd=tmp_path, env={STALE_AFTER_ENV: "0.5"}
        )
        _kill_after(proc, rng.uniform(0.05, 0.5))
        if victim.exists():
            _fsck(victim)
            _every_ref_loads(victim)
            theirs = {
                line.split()[1]: line.split()[0] for line in git(remote, "show-ref").stdout.splitlines()
            }
            ours = {
                line.split()[1]: line.split()[0]
                for line in git(victim, "show-ref", check=False).stdout.splitlines()
            }
            for ref, sha in ours.items():  # a ref that moved, moved to what the remote had
                assert (
                    git(remote, "merge-base", "--is-ancestor", sha, theirs[ref], check=False).returncode == 0
                )
    store = GitStore(victim)
    store.fetch(str(remote), trusted=True)
    assert git(victim, "show-ref").stdout == git(remote, "show-ref").stdout
    store.gc(prune_older_than=0)
    assert_clean(victim)
    assert not list((victim / "objects").glob("incoming-*"))
    assert store.verify().ok


def test_gc_while_four_processes_push_and_one_fetches_loses_nothing(store_path: Path, tmp_path: Path) -> None:
    remote = tmp_path / "team.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    author = PetClassManager(tmp_path / "author")
    fetched = _seed(author, tmp_path / "a", "a", 20, 5)
    author.store.push(str(remote))
    PetClassManager(store_path).store.init()
    go, stop = tmp_path / "go", tmp_path / "stop"
    writers = start_writers(store_path, tmp_path, "Counter", 4, 60, go)
    fetcher = start("fetch-loop", str(store_path), str(remote), str(stop), cwd=tmp_path)
    go.touch()
    collect_while_running(store_path, writers)
    outputs = finish(writers)
    stop.touch()
    [fetch_lines] = finish([fetcher])
    assert any(line.startswith("fetched") for line in fetch_lines)
    reported = {vid: value for lines in outputs for vid, value in pushed(lines).items()}
    assert len(reported) == 4 * 60
    _all_load(store_path, {**reported, **fetched})
    assert GitStore(store_path).verify().ok
    assert_clean(store_path)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"
