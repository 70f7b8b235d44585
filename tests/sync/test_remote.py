"""Sharing through git remotes: a bare repo path, file://, a real git daemon, real smart HTTP.

Every test here talks to a remote that real git created and real git serves;
the checks on the remote side are made with the real git binary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitpet import (
    BaseFactory,
    ClassNotFoundError,
    GitStore,
    PetClassManager,
    PetFactory,
    RemoteError,
    RemoteRejectedError,
)
from tests.conftest import ModuleWriter, git, run_python, store_snapshot
from tests.servers import free_port, git_daemon, git_http_backend, http_backend_path

TRANSPORTS = ["path", "file", "git-daemon", "http-backend"]
# Versions each racing pusher sends (`make stress` sends more).
RACING_PUSHES = int(os.environ.get("GITPET_STRESS_REMOTE_PUSHES", "12"))


@dataclass
class Remote:
    """One bare repository on a server: how gitpet reaches it, and where it is on disk."""

    url: str
    path: Path


@pytest.fixture(scope="module")
def served_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served")


@pytest.fixture(scope="module")
def daemon_url(served_root: Path) -> Iterator[str]:
    if subprocess.run(["git", "daemon", "-h"], capture_output=True).returncode == 127:
        pytest.skip("this git has no 'git daemon'")
    with git_daemon(served_root) as url:
        yield url


@pytest.fixture(scope="module")
def http_url(served_root: Path) -> Iterator[str]:
    if http_backend_path() is None:
        pytest.skip("this git has no git-http-backend")
    with git_http_backend(served_root) as url:
        yield url


@pytest.fixture
def new_remote(served_root: Path, request: pytest.FixtureRequest) -> Callable[[str], Remote]:
    """Make a fresh bare repository with real git and return how to reach it by ``transport``."""

    def make(transport: str) -> Remote:
        name = f"r-{uuid.uuid4().hex[:8]}.git"
        path = served_root / name
        subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
        if transport == "path":
            return Remote(str(path), path)
        if transport == "file":
            return Remote(path.as_uri(), path)
        if transport == "git-daemon":
            return Remote(f"{request.getfixturevalue('daemon_url')}/{name}", path)
        return Remote(f"{request.getfixturevalue('http_url')}/{name}", path)

    return make


def _tool(user_module: ModuleWriter, value: int, module: str | None = None) -> type:
    cls: type = user_module(
        f"class Tool:\n    value = {value}\n\n    def get(self):\n        return self.value\n", module
    ).Tool
    return cls


def _shared_start(
    tmp_path: Path, remote: Remote, user_module: ModuleWriter, *values: int
) -> tuple[PetClassManager, PetClassManager, list[str]]:
    """Alice pushes versions of Tool with ``values`` to the remote; Bob fetches them."""
    alice = PetClassManager(tmp_path / "alice")
    bob = PetClassManager(tmp_path / "bob")
    pushed = [alice.push(_tool(user_module, value)) for value in values]
    alice.store.push(remote.url)
    bob.store.fetch(remote.url)
    return alice, bob, pushed


def _remote_log(remote: Path, name: str) -> list[str]:
    """Version ids (trees) of ``name`` on the remote, newest first, read by real git."""
    return git(remote, "log", "--first-parent", "--format=%T", name).stdout.split()


def _fsck(remote: Path) -> None:
    fsck = git(remote, "fsck", "--strict", "--no-dangling", check=False)
    assert fsck.returncode == 0, fsck.stderr
    assert "error" not in fsck.stderr.lower() and "missing" not in fsck.stderr.lower()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_push_then_fetch_into_an_empty_store(
    transport: str, tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote(transport)
    alice = PetClassManager(tmp_path / "alice")
    v1 = alice.push(_tool(user_module, 1))
    v2 = alice.push(_tool(user_module, 2))
    alice.store.tag("Tool", "v1.0", v1)
    report = alice.store.push(remote.url)
    assert {u.ref: u.status for u in report.updates} == {
        "refs/heads/Tool": "created",
        "refs/tags/Tool/v1.0": "created",
    }
    assert _remote_log(remote.path, "Tool") == [v2, v1]
    _fsck(remote.path)

    bob = PetClassManager(tmp_path / "bob")
    fetched = bob.store.fetch(remote.url, trusted=True)
    assert fetched.status_of("refs/heads/Tool") == "created"
    assert [v.id for v in bob.versions("Tool")] == [v2, v1]
    assert bob.pull("Tool", "v1.0")().get() == 1
    assert bob.pull("Tool")().get() == 2
    again = alice.store.push(remote.url)
    assert [u.status for u in again.updates] == ["up-to-date", "up-to-date"] and not again.changed


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_two_people_push_new_versions_of_one_class(
    transport: str, tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote(transport)
    alice, bob, (base,) = _shared_start(tmp_path, remote, user_module, 0)
    ours = alice.push(_tool(user_module, 1))
    theirs_first = bob.push(_tool(user_module, 2))
    theirs_second = bob.push(_tool(user_module, 3))
    alice.store.push(remote.url)
    report = bob.store.push(remote.url)  # the remote moved: bob's versions go on top of alice's
    assert report.status_of("refs/heads/Tool") == "rebased"
    history = _remote_log(remote.path, "Tool")
    assert history == [theirs_second, theirs_first, ours, base]
    ancestor = git(
        remote.path,
        "merge-base",
        "--is-ancestor",
        alice.store.latest_commit("Tool") or "",
        "Tool",
        check=False,
    )
    assert ancestor.returncode == 0
    _fsck(remote.path)
    # bob's store now has everything too, and alice gets it by fetching (a fast-forward).
    assert [v.id for v in bob.versions("Tool")] == history
    assert alice.store.fetch(remote.url).status_of("refs/heads/Tool") == "fast-forward"
    assert [v.id for v in alice.versions("Tool")] == history


def test_fetch_keeps_local_versions_the_remote_lacks(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote("path")
    alice, bob, (base,) = _shared_start(tmp_path, remote, user_module, 0)
    remote_new = alice.push(_tool(user_module, 1))
    alice.store.push(remote.url)
    local_new = bob.push(_tool(user_module, 2))
    same_as_remote = bob.push(_tool(user_module, 1))  # bob also made alice's version by himself

    report = bob.store.fetch(remote.url)
    assert report.status_of("refs/heads/Tool") == "rebased"
    # Never a silent reset: remote history, then bob's versions on top; the one
    # equal to what it would sit on adds nothing.
    assert [v.id for v in bob.versions("Tool")] == [same_as_remote, local_new, remote_new, base]
    assert bob.store.fetch(remote.url).status_of("refs/heads/Tool") == "ahead"
    assert _remote_log(remote.path, "Tool") == [remote_new, base]  # fetch never writes the remote


def test_tags_never_move_silently(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote("path")
    alice, bob, (v1, v2) = _shared_start(tmp_path, remote, user_module, 1, 2)
    alice.store.tag("Tool", "champion", v1)
    alice.store.push(remote.url)
    bob.store.tag("Tool", "champion", v2)
    before = store_snapshot(remote.path)
    with pytest.raises(RemoteRejectedError) as rejected:
        bob.store.push(remote.url)
    assert rejected.value.rejected[0][0] == "refs/tags/Tool/champion"
    assert "force_tags" in str(rejected.value)
    assert store_snapshot(remote.path) == before
    with pytest.raises(RemoteRejectedError):
        bob.store.fetch(remote.url)
    assert bob.store.tags("Tool") == {"champion": v2}
    assert bob.store.fetch(remote.url, force_tags=True).status_of("refs/tags/Tool/champion") == "forced"
    assert bob.store.tags("Tool") == {"champion": v1}
    bob.store.tag("Tool", "champion", v2, force=True)
    assert bob.store.push(remote.url, force_tags=True).status_of("refs/tags/Tool/champion") == "forced"
    assert git(remote.path, "rev-parse", "Tool/champion^{tree}").stdout.strip() == v2


def test_push_and_fetch_by_name_move_only_those_classes(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote("path")
    alice = PetClassManager(tmp_path / "alice")
    module = user_module("class Keep:\n    pass\n\nclass Skip:\n    pass\n")
    alice.push(module.Keep)
    alice.push(module.Skip)
    alice.store.tag("Keep", "v1")
    alice.store.tag("Skip", "v1")
    report = alice.store.push(remote.url, ["Keep"])
    assert sorted(u.ref for u in report.updates) == ["refs/heads/Keep", "refs/tags/Keep/v1"]
    assert git(remote.path, "for-each-ref", "--format=%(refname)").stdout.split() == [
        "refs/heads/Keep",
        "refs/tags/Keep/v1",
    ]
    with pytest.raises(ClassNotFoundError):
        alice.store.push(remote.url, ["Missing"])
    alice.store.push(remote.url)
    bob = PetClassManager(tmp_path / "bob")
    bob.store.fetch(remote.url, "Skip")
    assert bob.store.names() == ["Skip"]


def test_pipeline_refs_travel_with_a_full_push(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote("path")
    alice = PetClassManager(tmp_path / "alice")
    alice.push(_tool(user_module, 1))
    store = alice.store.path
    commit = git(store, "commit-tree", "-m", "snapshot", "Tool^{tree}").stdout.strip()
    git(store, "update-ref", "refs/heads/pipelines/daily", commit)
    git(store, "update-ref", "refs/heads/not/gitpet", commit)  # outside gitpet's layout
    alice.store.push(remote.url)
    refs = git(remote.path, "for-each-ref", "--format=%(refname)").stdout.split()
    assert refs == ["refs/heads/Tool", "refs/heads/pipelines/daily"]
    assert alice.store.names() == ["Tool"]


def test_a_named_remote_is_plain_git_config(tmp_path: Path, new_remote: Callable[[str], Remote]) -> None:
    remote = new_remote("path")
    store = GitStore(tmp_path / "alice")
    store.add_remote("origin", remote.url)
    store.add_remote("origin", remote.url)  # the same again is fine
    assert store.remotes() == {"origin": remote.url}
    assert git(store.path, "remote", "-v").stdout.split()[:2] == ["origin", remote.url]
    with pytest.raises(ValueError, match="already configured"):
        store.add_remote("origin", str(tmp_path / "elsewhere"))
    store.add_remote("mirror", "../relative/path")
    assert store.remotes()["mirror"] == str((Path.cwd().parent / "relative" / "path").resolve())
    store.remove_remote("mirror")
    assert list(store.remotes()) == ["origin"]
    with pytest.raises(RemoteError, match="no remote of that name"):
        store.fetch("upstream")


@pytest.mark.parametrize(
    "url", ["git://127.0.0.1:{port}/x.git", "http://127.0.0.1:{port}/x.git", "{tmp}/none"]
)
def test_unreachable_remote_changes_nothing(
    url: str, tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    location = url.format(port=free_port(), tmp=tmp_path)
    empty = GitStore(tmp_path / "empty")
    with pytest.raises(RemoteError):
        empty.fetch(location)
    assert not empty.path.exists()  # an unreachable remote leaves no empty store behind
    pcm.push(_tool(user_module, 1))
    before = store_snapshot(pcm.store.path)
    for sync in (pcm.store.push, pcm.store.fetch):
        with pytest.raises(RemoteError) as err:
            sync(location)
        assert isinstance(err.value, ConnectionError) and location.split("/")[2] in str(err.value)
    assert store_snapshot(pcm.store.path) == before


def test_real_git_clone_shows_what_gitpet_pushed(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote("git-daemon")
    alice = PetClassManager(tmp_path / "alice")
    v1 = alice.push(_tool(user_module, 1))
    v2 = alice.push(_tool(user_module, 2))
    alice.store.push(remote.url)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", remote.url, str(clone)], check=True, capture_output=True)
    log = subprocess.run(
        ["git", "-C", str(clone), "log", "--format=%T", "origin/Tool"], capture_output=True, text=True
    ).stdout.split()
    assert log == [v2, v1]
    diff = subprocess.run(
        ["git", "-C", str(clone), "diff", "origin/Tool~1", "origin/Tool", "--", "source.py"],
        capture_output=True,
        text=True,
    ).stdout
    assert "-    value = 1" in diff and "+    value = 2" in diff
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "origin/Tool~1"], check=True)
    assert "value = 1" in (clone / "source.py").read_text()


def _race(tmp_path: Path, script: str, per_worker: list[list[str]], timeout: float) -> list[str]:
    """Start one process per argument list running ``script`` (its argv ends with a ready file
    and a go file), let them all get ready, start them at once; return each one's stdout."""
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if k != "GITPET_STORE"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    ready = [tmp_path / f"ready{i}" for i in range(len(per_worker))]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args, str(ready[i]), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i, args in enumerate(per_worker)
    ]
    deadline = time.monotonic() + 60
    while not all(path.exists() for path in ready) and time.monotonic() < deadline:
        if any(worker.poll() is not None for worker in workers):
            break  # a worker died: its error is reported below
        time.sleep(0.005)
    go.touch()  # every one is ready: now they race
    outputs = [worker.communicate(timeout=timeout) for worker in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    return [out for out, _err in outputs]


_CONCURRENT_PUSHER = """
import sys, time
from pathlib import Path
from gitpet import PetClassManager
store, remote, value, ready, go = sys.argv[1:6]
pcm = PetClassManager(store)
pcm.store.fetch(remote)
namespace = {"__name__": "toolmod"}
exec(f"class Tool:\\n    value = {value}\\n", namespace)
version = pcm.push(namespace["Tool"])
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.001)
report = pcm.store.push(remote)
print(version, report.status_of("refs/heads/Tool"))
"""


@pytest.mark.parametrize("transport", ["path", "git-daemon", "http-backend"])
def test_concurrent_pushes_from_two_processes_lose_nothing(
    transport: str, tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote(transport)
    seed = PetClassManager(tmp_path / "seed")
    base = seed.push(_tool(user_module, 0, "toolmod"))  # the module the pushers define Tool in
    seed.store.push(remote.url)
    outputs = _race(
        tmp_path,
        _CONCURRENT_PUSHER,
        [[str(tmp_path / f"w{i}"), remote.url, str(10 + i)] for i in range(2)],
        120,
    )
    pushed = {out.split()[0] for out in outputs}
    statuses = sorted(out.split()[1] for out in outputs)
    history = _remote_log(remote.path, "Tool")
    assert pushed <= set(history) and len(pushed) == 2 and history[-1] == base
    assert len(history) == 3
    # Both started from the base: exactly one was first, the other had to take its version.
    assert statuses == ["fast-forward", "rebased"]
    _fsck(remote.path)


_PERSISTENT_PUSHER = """
import sys, time
from pathlib import Path
from gitpet import PetClassManager
store, remote, worker, count, ready, go = sys.argv[1:7]
pcm = PetClassManager(store)
pcm.store.fetch(remote)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.001)
for n in range(int(count)):
    namespace = {"__name__": "toolmod"}
    exec(f"class Tool:\\n    value = {worker}{n:03d}\\n", namespace)
    version = pcm.push(namespace["Tool"])
    report = pcm.store.push(remote)
    print(version, report.attempts, report.status_of("refs/heads/Tool"), flush=True)
"""


@pytest.mark.parametrize("transport", ["path", "git-daemon"])
def test_pushers_that_keep_racing_each_other_all_land(
    transport: str, tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    """Three processes each push RACING_PUSHES versions of one class to one remote as fast as they can:
    every push succeeds (reconciling as often as it takes), and every version is on the remote."""
    remote = new_remote(transport)
    seed = PetClassManager(tmp_path / "seed")
    base = seed.push(_tool(user_module, 0, "toolmod"))  # the module the pushers define Tool in
    seed.store.push(remote.url)
    per_worker = [[str(tmp_path / f"w{i}"), remote.url, str(i + 1), str(RACING_PUSHES)] for i in range(3)]
    outputs = _race(tmp_path, _PERSISTENT_PUSHER, per_worker, 300)
    rows = [line.split() for out in outputs for line in out.splitlines()]
    assert len(rows) == 3 * RACING_PUSHES
    history = _remote_log(remote.path, "Tool")
    assert {version for version, _attempts, _status in rows} <= set(history)
    assert len(history) == 3 * RACING_PUSHES + 1 and history[-1] == base
    # They did race: some pushes had to take the others' versions and send again.
    assert any(int(attempts) > 1 for _version, attempts, _status in rows)
    assert {status for _v, _a, status in rows} <= {"fast-forward", "rebased"}
    _fsck(remote.path)


def test_a_server_that_keeps_refusing_a_push_is_not_waited_on(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    """A refusal that is not a race (a hook says no, the remote did not move) is reported
    after the second try, not retried for the whole budget."""
    remote = new_remote("git-daemon")
    hook = remote.path / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    alice = PetClassManager(tmp_path / "alice")
    alice.push(_tool(user_module, 1))
    started = time.monotonic()
    with pytest.raises(RemoteRejectedError) as caught:
        alice.store.push(remote.url, retry_for=120)
    assert time.monotonic() - started < 60  # not the budget (120 s): it stopped at the second refusal
    report = caught.value.report
    assert report is not None and report.attempts == 2
    assert report.status_of("refs/heads/Tool") == "rejected"
    assert "2 attempts" in str(report) and "the server refused it" in str(report)
    assert git(remote.path, "for-each-ref").stdout == ""


def test_push_rejects_a_negative_retry_budget(tmp_path: Path, user_module: ModuleWriter) -> None:
    alice = PetClassManager(tmp_path / "alice")
    alice.push(_tool(user_module, 1))
    with pytest.raises(ValueError, match="retry_for"):
        alice.store.push(str(tmp_path / "nowhere.git"), retry_for=-1)


def test_the_push_retry_default_is_documented_once() -> None:
    import inspect

    from gitpet.sync.remote import DEFAULT_RETRY_FOR

    assert inspect.signature(GitStore.push).parameters["retry_for"].default == DEFAULT_RETRY_FOR


_LAZY_LOADER = """
import sys
from gitpet import Container, GitStore
store, remote, old, = sys.argv[1:4]
GitStore(store).add_remote("team", remote, trusted=True)  # loading runs its code: we trust it
Container.configure(store=store, remote="team")
latest = Container.ppif["Tool"]
print(latest().get())
print(Container.ppif.get_version("Tool", old)().get())
print(Container.ppif.get_version("Tool", "stable")().get())
print(sorted(Container.store.names()))
"""


def test_another_process_loads_lazily_from_the_daemon(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote("git-daemon")
    alice = PetClassManager(tmp_path / "alice")
    v1 = alice.push(_tool(user_module, 1))
    alice.push(_tool(user_module, 2))
    alice.store.tag("Tool", "stable", v1)
    alice.store.push(remote.url)
    empty = tmp_path / "machine-b"
    out = run_python(_LAZY_LOADER, str(empty), remote.url, v1[:10], cwd=tmp_path).split("\n")
    assert out[:4] == ["2", "1", "1", "['Tool']"]
    # A version pushed after the first lazy load is fetched when asked for by id
    # (given by URL, the remote is the trusted one configured with that URL).
    v3 = alice.push(_tool(user_module, 3))
    alice.store.push(remote.url)
    loader = PetFactory(PetClassManager(empty, remote=remote.url))
    assert loader.get_version("Tool", v3)().get() == 3


def test_lazy_lookups_and_the_fallback(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote("path")
    fallback = BaseFactory()
    fallback["Framework"] = dict
    factory = PetFactory(PetClassManager(tmp_path / "local", remote=remote.url), fallback)
    assert factory["Framework"] is dict  # looked for on the remote first, then the fallback
    assert not (tmp_path / "local").exists()  # a lookup that found nothing creates no store
    with pytest.raises(ClassNotFoundError, match="remote"):
        factory["Nowhere"]
    assert factory.get("Nowhere") is None
    # An unreachable remote is an error, except for names the fallback has.
    offline = PetFactory(PetClassManager(tmp_path / "local2", remote=str(tmp_path / "gone")), fallback)
    assert offline["Framework"] is dict
    with pytest.raises(RemoteError):
        offline["Tool"]


def test_without_a_remote_nothing_touches_the_network(tmp_path: Path, pcm: PetClassManager) -> None:
    # A configured remote on the store is only used when asked for.
    pcm.store.add_remote("origin", f"git://127.0.0.1:{free_port()}/x.git")
    with pytest.raises(ClassNotFoundError):
        pcm.pull("Tool")
    with pytest.raises(RemoteError):
        PetClassManager(pcm.store, remote="origin").pull("Tool")


@pytest.mark.parametrize("transport", ["git-daemon", "http-backend"])
def test_a_ref_the_server_refuses_is_reported_not_ignored(
    transport: str, tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    remote = new_remote(transport)
    hook = remote.path / "hooks" / "update"
    hook.write_text('#!/bin/sh\ncase "$1" in refs/heads/Frozen) echo "Frozen is frozen" >&2; exit 1;; esac\n')
    hook.chmod(0o755)
    alice = PetClassManager(tmp_path / "alice")
    alice.push(_tool(user_module, 1))
    alice.push(user_module("class Frozen:\n    pass\n").Frozen)
    local_before = store_snapshot(alice.store.path)
    with pytest.raises(RemoteRejectedError) as err:
        alice.store.push(remote.url)
    ((ref, why),) = err.value.rejected
    assert ref == "refs/heads/Frozen" and "server refused" in why
    report = err.value.report
    assert report.status_of("refs/heads/Tool") == "created"  # the rest was pushed
    assert git(remote.path, "for-each-ref", "--format=%(refname)").stdout.split() == ["refs/heads/Tool"]
    assert store_snapshot(alice.store.path)[0] == local_before[0]  # local refs untouched


def _newest_pack_objects(store: Path) -> set[str]:
    """The ids in the pack that arrived last in ``store``."""
    newest = max((store / "objects" / "pack").glob("*.idx"), key=lambda idx: idx.stat().st_mtime_ns)
    with open(newest, "rb") as index:
        listed = subprocess.run(
            ["git", "show-index"], stdin=index, capture_output=True, text=True, check=True
        )
    return {line.split()[1] for line in listed.stdout.splitlines()}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_push_or_fetch_onto_a_long_history_sends_only_the_new_version(
    transport: str, tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    """Exactly what git itself would send (rev-list of the new commits, not of the history)."""
    remote = new_remote(transport)
    git(remote.path, "config", "receive.unpackLimit", "1")  # keep what a push brings as one pack
    alice, bob, _pushed = _shared_start(tmp_path, remote, user_module, *range(40))
    before = git(remote.path, "rev-parse", "Tool").stdout.strip()
    alice.push(_tool(user_module, 1000))
    alice.store.push(remote.url)
    after = git(remote.path, "rev-parse", "Tool").stdout.strip()
    new = set(git(remote.path, "rev-list", "--objects", after, "--not", before).stdout.split()) - {
        "source.py"
    }
    new = {sha for sha in new if len(sha) == 40}
    assert 3 <= len(new) <= 6
    assert _newest_pack_objects(remote.path) == new
    listed = git(bob.store.path, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").stdout
    bob_had = set(listed.split())
    bob.store.fetch(remote.url)
    # A thin pack's deltas name bases Bob has; those are copied in to make the pack whole.
    received = _newest_pack_objects(bob.store.path)
    assert new <= received and received - new <= bob_had
    assert git(bob.store.path, "rev-parse", "Tool").stdout.strip() == after
    _fsck(remote.path)
    _fsck(bob.store.path)


def test_a_push_to_a_path_that_would_leave_a_history_incomplete_changes_nothing(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    """The remote lost the tree of its newest version; the new commit reuses that tree, so the
    push would send only the commit. The remote receives as a fetch receives: it checks that
    what each ref would name is whole, refuses, and keeps no object and no ref of the push."""
    remote = new_remote("path")
    git(remote.path, "config", "transfer.unpackLimit", "100000")  # what git receives stays loose
    alice = PetClassManager(tmp_path / "alice")
    alice.push(_tool(user_module, 1))
    subprocess.run(
        ["git", f"--git-dir={alice.store.path}", "push", "-q", str(remote.path), "refs/heads/Tool"],
        check=True,
    )
    tip = git(remote.path, "rev-parse", "Tool").stdout.strip()
    tree = git(remote.path, "rev-parse", "Tool^{tree}").stdout.strip()
    (remote.path / "objects" / tree[:2] / tree[2:]).unlink()
    again = git(alice.store.path, "commit-tree", tree, "-p", tip, "-m", "Tool: the same version again").stdout
    git(alice.store.path, "update-ref", "refs/heads/Tool", again.strip())
    before = store_snapshot(remote.path)
    with pytest.raises(RemoteError, match="incomplete"):
        alice.store.push(remote.url)
    assert store_snapshot(remote.path) == before
    assert not list((remote.path / "objects").glob("incoming-*"))


def test_a_push_to_a_path_adds_one_pack_and_leaves_no_quarantine(
    tmp_path: Path, new_remote: Callable[[str], Remote], user_module: ModuleWriter
) -> None:
    """What a push over a path brings is one pack git reads whole, and its index is git's."""
    remote = new_remote("path")
    alice, _bob, _pushed = _shared_start(tmp_path, remote, user_module, 1, 2)
    packs_before = set((remote.path / "objects" / "pack").glob("*.pack"))
    alice.push(_tool(user_module, 3))
    alice.store.push(remote.url)
    [added] = set((remote.path / "objects" / "pack").glob("*.pack")) - packs_before
    ours = added.with_suffix(".idx").read_bytes()
    theirs = tmp_path / "theirs.idx"
    subprocess.run(["git", "index-pack", "-o", str(theirs), str(added)], check=True, capture_output=True)
    assert ours == theirs.read_bytes()
    assert not list((remote.path / "objects").glob("incoming-*"))
    _fsck(remote.path)
