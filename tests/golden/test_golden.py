"""The format's regression net: committed ids and stores that every later gitpet must honour.

``tests/golden/corpus`` holds one class for each shape gitpet versions;
``tests/golden/ids`` their format-2 ids per Python minor; ``tests/golden/stores``
stores written by gitpet itself (format 1 by gitpet 0.1, format 2 by this
version) with what their versions did when they were written. ``make golden``
rewrites the format-2 data, and only a deliberate format change may do that.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gitpet
from gitpet import GitStore, PetClassManager
from gitpet.format.meta import FORMAT_VERSION
from gitpet.format.pickle_refs import pickle_globals
from gitpet.rebuild import STORED_NAMES
from tests.conftest import git

GOLDEN = Path(__file__).resolve().parent
SCRIPT = GOLDEN / "golden.py"
STORES = GOLDEN / "stores"
MINOR = f"{sys.version_info.major}.{sys.version_info.minor}"
COMMITTED_STORES = sorted(p.name for p in STORES.iterdir() if p.is_dir())


def golden(*args: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run tests/golden/golden.py in a new process, from a directory without the corpus."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GITPET_STORE")}
    full_env.update(env or {})
    subprocess.run([sys.executable, str(SCRIPT), *args], check=True, cwd=cwd, env=full_env, timeout=300)


def copy_store(name: str, dest: Path) -> Path:
    """A writable copy of a committed store (git does not keep its empty directories)."""
    shutil.copytree(STORES / name, dest)
    for empty in ("refs/tags", "objects/pack", "objects/info"):
        (dest / empty).mkdir(parents=True, exist_ok=True)
    return dest


def committed_ids(store_name: str) -> dict[str, str]:
    path = STORES / f"{store_name}.ids.json"
    if not path.exists():  # format-2 stores: the ids of their Python minor
        path = GOLDEN / "ids" / f"{store_name}.json"
    ids: dict[str, str] = json.loads(path.read_text())
    return ids


def store_minor(store_name: str) -> str:
    return store_name.rpartition("-py")[2]


def test_corpus_gives_the_committed_ids_from_another_path_and_hash_seed(tmp_path: Path) -> None:
    ids_file = GOLDEN / "ids" / f"format{FORMAT_VERSION}-py{MINOR}.json"
    if not ids_file.exists():
        pytest.skip(f"no committed golden ids for Python {MINOR}: run `make golden` on it (deliberately)")
    expected = json.loads(ids_file.read_text())
    elsewhere = tmp_path / "somewhere" / "else"
    shutil.copytree(GOLDEN / "corpus", elsewhere)
    for seed, corpus in (("0", GOLDEN / "corpus"), ("4242", elsewhere)):
        store, out = tmp_path / f"store-{seed}", tmp_path / f"ids-{seed}.json"
        golden(
            "push",
            str(store),
            str(out),
            cwd=tmp_path,
            env={"PYTHONHASHSEED": seed, "GITPET_GOLDEN_CORPUS": str(corpus)},
        )
        assert json.loads(out.read_text()) == expected, f"seed {seed}, corpus at {corpus}"


@pytest.mark.parametrize("store_name", COMMITTED_STORES)
def test_committed_store_loads_with_the_behaviour_it_was_stored_with(store_name: str, tmp_path: Path) -> None:
    if store_minor(store_name) != MINOR:
        pytest.skip(
            f"{store_name} holds Python {store_minor(store_name)} pickles; make compat loads it there"
        )
    store = copy_store(store_name, tmp_path / "store")
    ids_path = tmp_path / "ids.json"
    ids_path.write_text(json.dumps(committed_ids(store_name)))
    golden("probe", str(store), str(ids_path), str(tmp_path / "probe.json"), cwd=tmp_path)
    found = json.loads((tmp_path / "probe.json").read_text())
    assert found == json.loads((STORES / f"{store_name}.probe.json").read_text())
    assert git(store, "fsck", "--strict").returncode == 0


def test_current_format_versions_behave_as_the_corpus_and_push_again_as_nothing(tmp_path: Path) -> None:
    store_name = f"format{FORMAT_VERSION}-py{MINOR}"
    if store_name not in COMMITTED_STORES:
        pytest.skip(f"no committed format-{FORMAT_VERSION} store for Python {MINOR}")
    golden("live", str(tmp_path / "live.json"), cwd=tmp_path)
    live = json.loads((tmp_path / "live.json").read_text())
    stored = json.loads((STORES / f"{store_name}.probe.json").read_text())
    assert {name: result["behaviour"] for name, result in stored.items()} == live
    assert all(result["same_id"] is True and result["push_again"] == "nothing" for result in stored.values())


def _class_pickles(store: Path) -> dict[str, bytes]:
    """Every class.pkl in a store's history, by blob id (read with the real git)."""
    found: dict[str, bytes] = {}
    for commit in git(store, "rev-list", "--all").stdout.split():
        listing = git(store, "ls-tree", commit).stdout
        for line in listing.splitlines():
            mode_type_sha, _, path = line.partition("\t")
            if path == "class.pkl":
                sha = mode_type_sha.split()[2]
                found[sha] = subprocess.run(
                    ["git", f"--git-dir={store}", "cat-file", "blob", sha], capture_output=True, check=True
                ).stdout
    return found


def _allowed(name: str) -> bool:
    top = name.partition(".")[0]
    if name in STORED_NAMES:
        return True
    if top == "gitpet":
        module, _, attr = name.rpartition(".")
        return module == "gitpet" and attr in gitpet.__all__
    return top != "cloudpickle" and top in sys.stdlib_module_names


def test_stored_pickles_name_only_the_frozen_table(tmp_path: Path) -> None:
    pickles = {}
    for store_name in COMMITTED_STORES:
        pickles.update(_class_pickles(copy_store(store_name, tmp_path / store_name)))
    assert len(pickles) >= 2 * 17
    named = {name for data in pickles.values() for name in pickle_globals(data)}
    outside = sorted(name for name in named if not _allowed(name))
    assert outside == [], "stored pickles name objects outside gitpet.rebuild.STORED_NAMES"
    # The rule is not vacuous: the golden pickles do use the table, in both formats.
    assert {"gitpet.rebuild.class_skeleton", "cloudpickle.cloudpickle._make_function"} <= named
    assert not _allowed("gitpet.codec.pickler.DeterministicPickler") and not _allowed("cloudpickle.dumps")


def test_every_stored_name_stays_importable() -> None:
    for name in sorted(STORED_NAMES):
        module_name, _, attr = name.rpartition(".")
        obj = importlib.import_module(module_name)
        assert getattr(obj, attr) is not None, name


def test_a_format_1_version_pushed_again_becomes_the_current_format_and_verify_reads_both(
    tmp_path: Path,
) -> None:
    store = copy_store("format1-py3.11", tmp_path / "store")
    if MINOR != "3.11":
        pytest.skip("the format-1 store holds Python 3.11 pickles")
    ids = committed_ids("format1-py3.11")
    manager = PetClassManager(GitStore(store))
    cls = manager.pull("Plain", ids["Plain"])
    new_id = manager.push(cls, name="Plain")
    assert new_id != ids["Plain"]
    meta = json.loads(git(store, "show", "Plain:meta.json").stdout)
    assert meta["format"] == FORMAT_VERSION and "cloudpickle" not in meta
    assert manager.pull("Plain", ids["Plain"]) is cls  # the format-1 version still loads, by its id
    report = manager.store.verify()
    manager.store.close()
    assert report.ok, report.summary()
    assert git(store, "fsck", "--strict").returncode == 0


def test_oldest_cloudpickle_gives_the_same_ids_and_cross_loads(tmp_path: Path) -> None:
    """`make compat`'s quick part: cloudpickle 3.1.0 in a cached venv against this environment's."""
    proc = subprocess.run(
        [sys.executable, str(GOLDEN / "compat.py"), "--quick"], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    committed = json.loads((GOLDEN / "ids" / f"format{FORMAT_VERSION}-py{MINOR}.json").read_text())
    every_class = f"cross-load of {len(committed)} classes"
    assert "cloudpickle 3.1.0" in proc.stdout and every_class in proc.stdout
    assert "0 failed" in proc.stdout.splitlines()[-1]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_declared_ranges_are_what_make_compat_proves() -> None:
    import tomllib

    sys.path.insert(0, str(GOLDEN))
    try:
        compat = importlib.import_module("compat")
    finally:
        sys.path.remove(str(GOLDEN))
    project = tomllib.loads((GOLDEN.parent.parent / "pyproject.toml").read_text())["project"]
    deps = dict(dep.split(">=", 1) for dep in project["dependencies"])
    assert deps["cloudpickle"] == f"{compat.CLOUDPICKLE[0]},<3.2"
    assert deps["dulwich"] == f"{compat.DULWICH_ENDS[0]},<1.3"
    minors = [c.rpartition(" :: ")[2] for c in project["classifiers"] if c.startswith("Programming Language")]
    assert tuple(minors) == compat.PYTHON_MINORS
    assert project["requires-python"] == f">={minors[0]},<3.14"
