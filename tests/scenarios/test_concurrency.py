"""Many processes on one local store: no version lost, nothing half-written, no lock left."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gitpet import GitStore, PetClassManager, PetFactory, loaded_version
from tests.conftest import git
from tests.workers import FOREVER, STALE_AFTER_ENV, load_edited_class
from tests.writers_at_work import assert_all_load, assert_clean, finish, pushed, start, start_writers

# `make stress` raises these; the defaults keep the suite within CI's budget.
WRITERS = int(os.environ.get("GITPET_STRESS_WRITERS", "4"))
PUSHES = int(os.environ.get("GITPET_STRESS_PUSHES", "100"))
CRASH_ROUNDS = int(os.environ.get("GITPET_STRESS_CRASH_ROUNDS", "12"))


def test_writers_on_one_class_keep_every_version_and_a_reader_never_sees_half_a_version(
    store_path: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    stop = tmp_path / "stop"
    writers = start_writers(store_path, tmp_path, "Counter", WRITERS, PUSHES, go)
    reader = start("read-latest", str(store_path), "Counter", str(stop), cwd=tmp_path)
    go.touch()
    outputs = finish(writers)
    stop.touch()
    [read_lines] = finish([reader])

    reported = {vid: value for lines in outputs for vid, value in pushed(lines).items()}
    assert len(reported) == WRITERS * PUSHES  # distinct ids for distinct code
    store = GitStore(store_path)
    assert_all_load(store, "Counter", reported)
    history = store.versions("Counter")
    # Each writer's versions keep their order in the shared history.
    order = [v.id for v in reversed(history)]
    for lines in outputs:
        mine = [vid for vid in pushed(lines)]
        assert [vid for vid in order if vid in set(mine)] == mine

    reads = [line.split() for line in read_lines if line.startswith("read ")]
    assert reads, "the reader never loaded anything"
    for _, vid, value in reads:
        assert reported[vid] == value  # every load was a whole, reported version
    assert int(read_lines[-1].split()[1]) >= len(reads)
    assert_clean(store_path)


def test_writers_on_different_classes_keep_every_version(store_path: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    writers = [
        w for n in range(WRITERS) for w in start_writers(store_path, tmp_path, f"Step{n}", 1, PUSHES, go)
    ]
    go.touch()
    outputs = finish(writers)
    store = GitStore(store_path)
    assert store.names() == [f"Step{n}" for n in range(WRITERS)]
    for n, lines in enumerate(outputs):
        mine = list(pushed(lines))
        assert [v.id for v in store.versions(f"Step{n}")] == mine[::-1]
    assert_clean(store_path)


def test_two_processes_pushing_the_identical_class_make_one_version(store_path: Path, tmp_path: Path) -> None:
    rounds = 20
    for r in range(rounds):
        go = tmp_path / f"go{r}"
        # Two copies of the same module at different paths: same code, same id.
        twins = [
            start(
                "push-versions",
                str(store_path),
                str(tmp_path / f"twin{t}"),
                "Twin",
                f"round{r}",
                "1",
                str(go),
                cwd=tmp_path,
            )
            for t in range(2)
        ]
        go.touch()
        first, second = (pushed(lines) for lines in finish(twins))
        assert first == second
    history = GitStore(store_path).versions("Twin")
    assert len(history) == rounds
    assert len({v.id for v in history}) == rounds
    assert_clean(store_path)


# -- stale locks -----------------------------------------------------------------


# -- crashes ----------------------------------------------------------------------


def test_writers_killed_at_random_points_lose_nothing_they_reported(store_path: Path, tmp_path: Path) -> None:
    """SIGKILL a writer mid-push, again and again: what it reported stays, the rest is whole."""
    rng = random.Random(20261123)
    reported: dict[str, str] = {}
    for round_ in range(CRASH_ROUNDS):
        # Alternate single pushes (loose objects) and batches (one pack each).
        workdir = str(tmp_path / f"w{round_}")
        if round_ % 2:
            args = ["push-batches", str(store_path), workdir, f"k{round_}", FOREVER, "30"]
        else:
            args = ["push-versions", str(store_path), workdir, "Solo", f"k{round_}", FOREVER]
        proc = start(*args, cwd=tmp_path, env={STALE_AFTER_ENV: "0.5"})
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if first == "":  # wait until it has pushed once, then kill it at a random point
            pytest.fail(proc.stderr.read() if proc.stderr else "writer died")
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        # Read through the same buffered stream as readline(): communicate() reads the raw pipe
        # and would drop what readline() had already buffered, cutting a line in two.
        out = first + proc.stdout.read()
        proc.wait()
        assert proc.stderr is not None
        proc_stderr = proc.stderr.read()  # a writer that died on its own says why here
        proc.stderr.close()
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL, proc_stderr
        reported.update(pushed(out.splitlines()))

        store = GitStore(store_path)
        fsck = git(store_path, "fsck", "--strict", check=False)
        assert fsck.returncode == 0, fsck.stderr
        pcm = PetClassManager(store)
        for name in store.names():  # every ref is a whole, loadable version
            latest = pcm.pull(name)
            assert loaded_version(latest) is not None and latest().value()
        store.close()

    store = GitStore(store_path)
    pcm = PetClassManager(store)
    in_history = {v.id for name in store.names() for v in store.versions(name)}
    assert set(reported) <= in_history
    for vid, value in rng.sample(sorted(reported.items()), 60):
        name = "Solo" if value.count("-") == 1 else f"Part{value.rsplit('-', 1)[1]}"
        assert pcm.pull(name, vid)().value() == value
    # The next push works (and would recover any lock the last kill left behind).
    after = start("push-versions", str(store_path), str(tmp_path / "z"), "Solo", "after", "3", cwd=tmp_path)
    finish([after])
    assert store.versions("Solo", limit=1)[0].id == store.latest_id("Solo")
    # Kills inside an object write leave its lock file (nobody writes that
    # object again); gc removes such leftovers once their writer is gone.
    GitStore(store_path, stale_lock_after=0).gc()
    assert_clean(store_path)
    assert GitStore(store_path).verify().ok


def test_processes_saving_snapshots_of_one_pipeline_keep_every_snapshot(
    store_path: Path, tmp_path: Path
) -> None:
    writers, saves = int(os.environ.get("GITPET_STRESS_WRITERS", "4")), 8
    pcm = PetClassManager(store_path)
    pcm.push(load_edited_class(tmp_path / "code", "snapstep", "SnapStep", "v"))
    go = tmp_path / "go"
    procs = [
        start("save-snapshots", str(store_path), "p", "SnapStep", f"w{n}", str(saves), str(go), cwd=tmp_path)
        for n in range(writers)
    ]
    go.touch()
    saved = {line.split()[1] for lines in finish(procs) for line in lines if line.startswith("saved")}
    assert len(saved) == writers * saves
    history = [s.id for s in pcm.store.pipeline("p").snapshots()]
    assert sorted(history) == sorted(saved)
    assert pcm.store.verify().ok
    assert_clean(store_path)


def test_threads_sharing_one_store_read_while_it_pushes_and_collects(tmp_path: Path) -> None:
    """One GitStore, one object reader: readers in threads see no error while gc swaps its packs."""
    pcm = PetClassManager(tmp_path / "store")

    def make(name: str, edit: int) -> type:
        namespace: dict[str, object] = {"__name__": "threaded_module"}
        exec(compile(f"class {name}:\n    def f(self):\n        return {edit}\n", "<t>", "exec"), namespace)
        return namespace[name]  # type: ignore[return-value]

    names = [f"T{i}" for i in range(70)]
    pcm.push_many([(name, make(name, 0)) for name in names])  # one pack
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for name in names[::7]:
                try:
                    pcm.store.versions(name)  # history reads go through the reader every time
                    pcm.pull(name)
                except BaseException as err:  # noqa: BLE001 - collected and asserted below
                    errors.append(err)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for edit in range(1, 8):
            pcm.push(make("T0", edit))
            pcm.store.gc(prune_older_than=0)  # a new pack; the old one is removed and unmapped
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert errors == []
    assert len(pcm.store.versions("T0")) == 8
    assert pcm.store.verify().ok


# -- concurrent first fetches -------------------------------------------------------


def _team_remote(tmp_path: Path, classes: int) -> tuple[Path, dict[str, str]]:
    """A bare remote holding ``classes`` classes Tool0..ToolN; returns it and name -> value."""
    author = PetClassManager(tmp_path / "author")
    values = {}
    for n in range(classes):
        name = f"Tool{n}"
        author.push(load_edited_class(tmp_path / "code", "tool", name, f"value-{n}"))
        values[name] = f"value-{n}"
    remote = tmp_path / "team.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    author.store.push(str(remote))
    return remote, values


def _load_all(
    store: GitStore, own_store: bool, names: list[str], start_line: threading.Barrier, results: list[object]
) -> None:
    """Load every class through a lazily fetching factory; put the values (or the failure) in ``results``."""
    try:
        # Some threads share the store object, some open their own on the same path.
        mine = GitStore(store.path) if own_store else store
        factory = PetFactory(PetClassManager(mine, remote="team"))
        start_line.wait()
        results.extend(factory[name]().value() for name in names)  # type: ignore[attr-defined]
    except BaseException as err:  # noqa: BLE001 - every failure is the finding
        results.append(err)


def test_threads_of_one_process_fetching_lazily_at_once_all_load(tmp_path: Path) -> None:
    """A Dask worker's threads: each loads every class through the factory; the first loads fetch at once."""
    remote, values = _team_remote(tmp_path, 6)
    for round_ in range(6):
        store = GitStore(tmp_path / f"local{round_}")
        store.init()
        store.add_remote("team", str(remote), trusted=True)
        start_line = threading.Barrier(8)
        results: list[object] = []
        threads = [
            threading.Thread(target=_load_all, args=(store, n % 2 == 0, list(values), start_line, results))
            for n in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(map(str, results)) == sorted(list(values.values()) * 8)
        assert store.verify().ok and git(store.path, "fsck", "--strict", check=False).returncode == 0


def test_processes_fetching_lazily_into_one_store_at_once_all_load(tmp_path: Path) -> None:
    remote, values = _team_remote(tmp_path, 6)
    for round_ in range(3):
        local, go = tmp_path / f"local{round_}", tmp_path / f"go{round_}"
        GitStore(local).init()
        procs = [
            start("load-lazily", str(local), str(remote), ",".join(values), str(go), cwd=tmp_path)
            for _ in range(4)
        ]
        go.touch()
        outputs = finish(procs)
        for lines in outputs:
            assert sorted(lines) == sorted(f"loaded {name} {value}" for name, value in values.items())
        assert GitStore(local).verify().ok
