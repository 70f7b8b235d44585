"""Damaged stores: verify() says exactly what is wrong, and loading never returns a wrong class."""

from __future__ import annotations

import os
import subprocess
import zlib
from pathlib import Path

import pytest

from gitpet import GitStore, IntegrityError, PetClassManager
from gitpet.cli.main import main as cli
from tests.conftest import ModuleWriter, commit_on_top, git

STEP = """
class {name}:
    FACTOR = {factor}

    def apply(self, x):
        return x * self.FACTOR
"""


@pytest.fixture
def damaged(store_path: Path, user_module: ModuleWriter) -> dict[str, str]:
    """A store with Loose (two versions, loose objects) and 25 Packed* classes (one pack)."""
    pcm = PetClassManager(store_path)
    ids = {"Loose~1": pcm.push(user_module(STEP.format(name="Loose", factor=2)).Loose)}
    ids["Loose"] = pcm.push(user_module(STEP.format(name="Loose", factor=3)).Loose)
    packed = [
        (f"Packed{i}", getattr(user_module(STEP.format(name=f"Packed{i}", factor=i)), f"Packed{i}"))
        for i in range(25)
    ]
    for result in pcm.push_many(packed):
        ids[result.name] = result.id
    pcm.store.close()
    assert len(list((store_path / "objects" / "pack").glob("*.pack"))) == 1
    return ids


def loose_path(store_path: Path, sha: str) -> Path:
    path = store_path / "objects" / sha[:2] / sha[2:]
    assert path.exists(), f"{sha} is not loose"
    os.chmod(path, 0o644)
    return path


def tree_entry(store_path: Path, version_id: str, filename: str) -> str:
    return git(store_path, "rev-parse", f"{version_id}:{filename}").stdout.strip()


def fresh(store_path: Path) -> tuple[GitStore, PetClassManager]:
    store = GitStore(store_path)
    return store, PetClassManager(store)


def test_an_intact_store_verifies_clean(
    store_path: Path, damaged: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    report = GitStore(store_path).verify()
    assert report.ok and report.problems == ()
    assert (report.refs, report.versions, report.commits, report.packs) == (26, 27, 27, 1)
    # Per version: a commit, a tree and three blobs of its own, and its captured.py, a blob
    # these classes share (each captures nothing from its module); Loose's two versions share
    # their meta.json too (one module, one class).
    captured = {
        line.split()[2]
        for commit in git(store_path, "rev-list", "--all").stdout.split()
        for line in git(store_path, "ls-tree", commit).stdout.splitlines()
        if line.endswith("\tcaptured.py")
    }
    metas = {tree_entry(store_path, damaged[name], "meta.json") for name in ("Loose", "Loose~1")}
    assert len(captured) == 1 and len(metas) == 1
    assert report.objects == 27 * 5 + len(captured) - 1
    assert cli(["--store", str(store_path), "verify"]) == 0
    assert "no problems" in capsys.readouterr().out


def test_a_flipped_byte_in_a_loose_object_is_reported_and_refused(
    store_path: Path, damaged: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    blob = tree_entry(store_path, damaged["Loose"], "class.pkl")
    path = loose_path(store_path, blob)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    store, pcm = fresh(store_path)
    [problem] = store.verify().problems
    assert (problem.ref, problem.object) == ("refs/heads/Loose", blob)
    assert (
        f"class.pkl of version {damaged['Loose'][:12]}" in problem.detail
        and "cannot be read" in problem.detail
    )
    with pytest.raises(IntegrityError, match=r"class\.pkl"):
        pcm.pull("Loose")
    assert pcm.pull("Loose", damaged["Loose~1"])().apply(1) == 2  # the other version is intact
    assert cli(["--store", str(store_path), "verify"]) == 1
    assert f"problem: refs/heads/Loose: {blob[:12]}: class.pkl" in capsys.readouterr().out
    assert git(store_path, "fsck", check=False).returncode != 0  # git agrees


def test_a_version_tree_swapped_for_another_class_never_loads_as_the_asked_class(
    store_path: Path, damaged: dict[str, str]
) -> None:
    """A loose tree whose file now holds another valid version: hash check, not trust in the file name."""
    cat_file = ["git", f"--git-dir={store_path}", "cat-file", "tree", damaged["Packed3"]]
    other = subprocess.run(cat_file, capture_output=True, check=True).stdout
    loose_path(store_path, damaged["Loose"]).write_bytes(zlib.compress(b"tree %d\0" % len(other) + other))

    store, pcm = fresh(store_path)
    problems = store.verify().problems
    assert any(p.object == damaged["Loose"] and "does not match its id" in p.detail for p in problems)
    for version in (None, damaged["Loose"], damaged["Loose"][:10]):
        with pytest.raises(IntegrityError, match="does not match its id"):
            pcm.pull("Loose", version)


def test_a_truncated_pack_is_reported_and_its_versions_refused(
    store_path: Path, damaged: dict[str, str]
) -> None:
    [pack] = (store_path / "objects" / "pack").glob("*.pack")
    os.chmod(pack, 0o644)
    with open(pack, "r+b") as handle:
        handle.truncate(pack.stat().st_size // 2)

    store, pcm = fresh(store_path)
    report = store.verify()
    assert any(p.ref == f"objects/pack/{pack.name}" and "damaged" in p.detail for p in report.problems)
    damaged_refs = {p.ref for p in report.problems}
    assert "refs/heads/Packed24" in damaged_refs and "refs/heads/Loose" not in damaged_refs
    with pytest.raises(IntegrityError):
        pcm.pull("Packed24")
    assert pcm.pull("Loose")().apply(1) == 3


def test_a_ref_pointing_at_a_missing_object_is_reported(
    store_path: Path, damaged: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    ghost = "1234567890abcdef1234567890abcdef12345678"
    (store_path / "refs" / "heads" / "Ghost").write_text(ghost + "\n")

    store, pcm = fresh(store_path)
    [problem] = store.verify().problems
    assert (problem.ref, problem.object, problem.detail) == (
        "refs/heads/Ghost",
        ghost,
        "ref target is missing",
    )
    with pytest.raises(IntegrityError, match=r"refs/heads/Ghost -> 1234567890ab.*missing"):
        pcm.pull("Ghost")
    assert cli(["--store", str(store_path), "log", "Ghost"]) == 1
    assert "commit is missing" in capsys.readouterr().err


def test_a_version_without_meta_json_is_reported_and_refused(
    store_path: Path, damaged: dict[str, str]
) -> None:
    listing = git(store_path, "ls-tree", damaged["Loose"]).stdout
    kept = "".join(line + "\n" for line in listing.splitlines() if not line.endswith("\tmeta.json"))
    broken = commit_on_top(store_path, "Loose", kept)

    store, pcm = fresh(store_path)
    [problem] = store.verify().problems
    assert (problem.ref, problem.object, problem.detail) == (
        "refs/heads/Loose",
        broken,
        "version has no meta.json",
    )
    for version in (None, broken, "~0"):
        with pytest.raises(IntegrityError, match=r"no meta\.json"):
            pcm.pull("Loose", version)
    assert pcm.pull("Loose", "~1")().apply(1) == 3


def test_another_class_version_in_a_history_is_reported_and_not_loaded_as_this_class(
    store_path: Path, damaged: dict[str, str]
) -> None:
    listing = git(store_path, "ls-tree", damaged["Packed3"]).stdout
    commit_on_top(store_path, "Loose", listing)

    store, pcm = fresh(store_path)
    [problem] = store.verify().problems
    assert problem.object == damaged["Packed3"] and "names class 'Packed3'" in problem.detail
    with pytest.raises(IntegrityError, match="names class 'Packed3'"):
        pcm.pull("Loose")


def test_leftover_lock_files_are_listed_but_are_not_damage(store_path: Path, damaged: dict[str, str]) -> None:
    (store_path / "refs" / "heads" / "Loose.lock").write_text("x")
    report = GitStore(store_path).verify()
    assert report.ok and report.leftovers == ("refs/heads/Loose.lock",)
