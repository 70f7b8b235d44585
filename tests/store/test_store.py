"""GitStore: lazy creation, reads by id and prefix, compare-and-swap writes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from gitpet import (
    AmbiguousVersionError,
    ClassNotFoundError,
    GitStore,
    NotAGitRepositoryError,
    StoreBusyError,
    VersionNotFoundError,
    WrongClassVersionError,
)
from gitpet.format.version_files import VersionTree
from tests.conftest import REPO_ROOT, git, run_python
from tests.writers_at_work import version


def test_default_path_env_and_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITPET_STORE", raising=False)
    assert GitStore().path == tmp_path / ".gitpet"
    monkeypatch.setenv("GITPET_STORE", str(tmp_path / "elsewhere"))
    store = GitStore()
    assert store.path == tmp_path / "elsewhere"
    assert store.names() == [] and store.latest_id("X") is None
    assert not store.path.exists()


def test_write_then_read(store_path: Path) -> None:
    store = GitStore(store_path)
    v = version("Alpha", "a1")
    [result] = store.write_versions([("Alpha", v)])
    assert result.created and result.id == v.id
    assert store.latest_id("Alpha") == v.id
    read = store.read_version("Alpha", v.id[:7])
    assert read.files == v.files and read.id == v.id
    assert store.write_versions([("Alpha", v)])[0].created is False
    assert store.names() == ["Alpha"]


def test_prefix_rules(store_path: Path) -> None:
    store = GitStore(store_path)
    made = [version("Beta", f"b{i}") for i in range(20)]
    store.write_versions([("Beta", v) for v in made])
    store.write_versions([("Gamma", version("Gamma", "g"))])
    ids = [v.id for v in made]
    assert store.resolve("Beta", ids[5][:7]) == ids[5]
    assert store.resolve("Beta", ids[5].upper()) == ids[5]
    with pytest.raises(VersionNotFoundError):
        store.resolve("Beta", "0" * 40)
    with pytest.raises(VersionNotFoundError, match="7 to 40 hexadecimal"):
        store.resolve("Beta", "abc")
    with pytest.raises(WrongClassVersionError) as excinfo:
        store.resolve("Gamma", ids[0])
    assert excinfo.value.owner == "Beta"
    with pytest.raises(ClassNotFoundError):
        store.resolve("Delta")


def test_ambiguous_prefix_is_reported(store_path: Path) -> None:
    # Birthday search for two versions whose ids share 7 hex digits (~16k tries).
    seen: dict[str, VersionTree] = {}
    for i in range(200_000):
        candidate = version("Eps", f"e{i}")
        twin = seen.setdefault(candidate.id[:7], candidate)
        if twin is not candidate:
            break
    else:
        pytest.fail("no 7-hex collision in 200k versions")
    store = GitStore(store_path)
    store.write_versions([("Eps", twin)])
    store.write_versions([("Eps", candidate)])
    with pytest.raises(AmbiguousVersionError) as excinfo:
        store.resolve("Eps", candidate.id[:7])
    assert sorted(excinfo.value.candidates) == sorted([candidate.id, twin.id])
    assert store.resolve("Eps", candidate.id[:12]) == candidate.id


def test_not_a_git_repository(tmp_path: Path) -> None:
    path = tmp_path / "plain"
    path.mkdir()
    (path / "notes.txt").write_text("hello")
    store = GitStore(path)
    with pytest.raises(NotAGitRepositoryError):
        store.names()
    with pytest.raises(NotAGitRepositoryError):
        store.write_versions([("A", version("A", "a"))])
    assert sorted(p.name for p in path.iterdir()) == ["notes.txt"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(NotAGitRepositoryError):
        GitStore(a_file).write_versions([("A", version("A", "a"))])


def test_empty_existing_directory_becomes_the_store(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.mkdir()
    store = GitStore(path)
    assert not store.exists()
    store.write_versions([("A", version("A", "a"))])
    assert git(path, "fsck", "--strict").returncode == 0


def test_writer_waits_for_a_held_ref_lock(store_path: Path) -> None:
    store = GitStore(store_path)
    store.write_versions([("Lock", version("Lock", "1"))])
    lock = store_path / "refs" / "heads" / "Lock.lock"
    lock.write_text("held")
    releaser = threading.Timer(0.3, lock.unlink)
    releaser.start()
    started = time.monotonic()
    [result] = store.write_versions([("Lock", version("Lock", "2"))])
    assert result.created and time.monotonic() - started >= 0.25
    assert store.latest_id("Lock") == version("Lock", "2").id
    assert [v.id for v in store.versions("Lock")] == [version("Lock", "2").id, version("Lock", "1").id]


def test_held_lock_times_out_with_a_clear_error(store_path: Path) -> None:
    store = GitStore(store_path, lock_timeout=0.2)
    store.write_versions([("Stuck", version("Stuck", "1"))])
    (store_path / "refs" / "heads" / "Stuck.lock").write_text("crashed writer")
    with pytest.raises(StoreBusyError, match=r"Stuck\.lock"):
        store.write_versions([("Stuck", version("Stuck", "2"))])
    assert store.latest_id("Stuck") == version("Stuck", "1").id


def test_lost_compare_and_swap_rebases_instead_of_overwriting(store_path: Path, tmp_path: Path) -> None:
    """Two processes race on one class: both versions end up in its history."""
    GitStore(store_path).write_versions([("Race", version("Race", "base"))])
    script = """
        import sys
        from gitpet import GitStore
        from tests.writers_at_work import version
        store = GitStore(sys.argv[1])
        tag = sys.argv[2]
        for i in range(40):
            store.write_versions([("Race", version("Race", f"{tag}-{i}"))])
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), str(store_path), tag],
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            cwd=tmp_path,
        )
        for tag in ("left", "right")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    history = {v.id for v in GitStore(store_path).versions("Race")}
    expected = {version("Race", f"{t}-{i}").id for t in ("left", "right") for i in range(40)}
    assert expected <= history
    assert len(GitStore(store_path).versions("Race")) == 81
    assert git(store_path, "fsck", "--strict").returncode == 0
    assert not list(store_path.rglob("*.lock"))


def test_large_batch_is_one_pack(store_path: Path) -> None:
    store = GitStore(store_path)
    batch = [(f"C{i}", version(f"C{i}", f"body{i}")) for i in range(100)]
    results = store.write_versions(batch)
    assert all(r.created for r in results)
    packs = list((store_path / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 1
    loose = [p for p in (store_path / "objects").glob("??/*")]
    assert loose == []
    assert git(store_path, "fsck", "--strict").returncode == 0
    assert GitStore(store_path).read_version("C42").files.source == b"body42"


def test_run_python_helper_is_isolated(tmp_path: Path) -> None:
    assert run_python("import os; print(os.environ.get('GITPET_STORE'))", cwd=tmp_path).strip() == "None"


def test_requirements_are_the_same_whatever_names_the_version(store_path: Path) -> None:
    store = GitStore(store_path)
    older, newer = version("Alpha", "a1"), version("Alpha", "a2")
    store.write_versions([("Alpha", older)])
    store.write_versions([("Alpha", newer)])
    store.write_versions([("Beta", version("Beta", "b1"))])
    # The history rewritten with plain git so that each commit records a package.
    first = git(
        store_path,
        "commit-tree",
        older.id,
        "-m",
        f"Alpha: version {older.id}\n\nRequires-Dist: old-dist 1.0 (import old)",
    ).stdout.strip()
    second = git(
        store_path,
        "commit-tree",
        newer.id,
        "-p",
        first,
        "-m",
        f"Alpha: version {newer.id}\n\nRequires-Dist: new-dist 2.0 (import new)",
    ).stdout.strip()
    git(store_path, "update-ref", "refs/heads/Alpha", second)
    store = GitStore(store_path)  # nothing remembered of the history before

    def distributions(spec: str | None) -> list[str]:
        return [requirement.distribution for requirement in store.requirements("Alpha", spec)]

    for spec in (None, newer.id, newer.id[:7], newer.id.upper(), second):
        assert distributions(spec) == ["new-dist"], spec
    for spec in (older.id, older.id[:9], "~1", first):
        assert distributions(spec) == ["old-dist"], spec
    with pytest.raises(VersionNotFoundError):
        store.requirements("Alpha", "f" * 40)
    with pytest.raises(WrongClassVersionError):
        store.requirements("Alpha", store.latest_id("Beta"))
    with pytest.raises(ClassNotFoundError):
        store.requirements("Gamma", newer.id)
