"""Captured arrays are data files of the version: ``data/<NAME>.npy``, bound by a line of captured.py.

A class that reads a module-level numpy array is source-complete: the array is a file
of the version's tree (numpy's .npy format, no pickle), ``git diff`` shows which array
changed, the line in captured.py runs as written from a checkout of the tree, and
another process without the module loads the class.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitpet import PetClassManager, VersionFiles, VersionTree
from gitpet.codec.data_files import as_data_file, data_line, read_data_file
from gitpet.format.npy import NpyFile, npy_bytes, parse_npy
from tests.conftest import REPO_ROOT, ModuleWriter, commit_on_top, git, run_python

numpy = pytest.importorskip("numpy")

MODULE = """
import numpy as np

WEIGHTS = np.arange(12, dtype=np.float64).reshape(3, 4)
ORDER = np.asfortranarray(np.ones((2, 3), dtype=np.int32))
LABELS = np.array(["cat", "dog"])


def score(x):
    return x * WEIGHTS.sum()


class Model:
    def predict(self, x):
        return score(x) + ORDER.sum() + len(LABELS)
"""

DTYPES = [
    "|b1",
    "|i1",
    "<u2",
    "<i4",
    ">i4",
    "<i8",
    "<f2",
    "<f4",
    ">f8",
    "<c16",
    "<U3",
    "|S4",
    "<M8[ns]",
    "<m8[s]",
]


@st.composite
def arrays(draw: st.DrawFn) -> object:
    dtype = numpy.dtype(draw(st.sampled_from(DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    raw = draw(
        st.binary(
            min_size=dtype.itemsize * int(numpy.prod(shape)), max_size=dtype.itemsize * int(numpy.prod(shape))
        )
    )
    array = numpy.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    layout = draw(st.sampled_from(["C", "F", "strided"]))
    if layout == "F":
        return numpy.asfortranarray(array)
    if layout == "strided" and array.ndim and array.shape[0] > 1:
        return array[::2]
    return array


@given(arrays())
def test_every_plain_array_round_trips_and_numpy_reads_the_file_without_pickle(array: object) -> None:
    data = as_data_file("A", array)
    assert not isinstance(data, str) and data is not None
    assert as_data_file("A", array) == data  # the bytes are part of the id: the same every time
    assert npy_bytes(parse_npy(data.content)) == data.content
    for again in (read_data_file(data.content), numpy.load(io.BytesIO(data.content), allow_pickle=False)):
        assert again.dtype == array.dtype and again.shape == array.shape
        assert again.tobytes() == array.tobytes()  # the same elements, read in C order from both
    built = read_data_file(data.content)
    assert built.flags.writeable
    assert (
        bool(built.flags.f_contiguous and not built.flags.c_contiguous)
        == parse_npy(data.content).fortran_order
    )


def test_arrays_that_a_npy_file_holds_only_as_a_pickle_are_reasons_not_files() -> None:
    assert "dtype object" in str(as_data_file("A", numpy.array([object()])))
    assert "subclass" in str(as_data_file("M", numpy.ma.masked_array([1, 2])))
    assert "dtype" in str(as_data_file("R", numpy.zeros(2, dtype=[("x", "<i4")])))
    assert as_data_file("L", [1, 2]) is None  # no array: other rules decide


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x93NUMPY\x02\x00", "version 1.0"),
        (npy_bytes(NpyFile("|O", False, (1,), bytes(8))), "not a plain one"),
        (npy_bytes(NpyFile("<V8", False, (1,), bytes(8))), "not a plain one"),
        (npy_bytes(NpyFile("<i8", False, (2,), bytes(8))), "holds 8 bytes"),
        (npy_bytes(NpyFile("<i8", False, (1,), bytes(8))).replace(b"'shape'", b"'shap_'"), "numpy's dict"),
        (npy_bytes(NpyFile("<i8", False, (1,), bytes(8))).replace(b"(1,)", b"f(1)"), "not a literal"),
    ],
)
def test_a_hostile_data_file_is_refused_before_numpy_sees_it(content: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        read_data_file(content)


def _push(tmp_path: Path, module_text: str, store: Path) -> dict[str, object]:
    moddir = tmp_path / "usercode"
    moddir.mkdir(exist_ok=True)
    (moddir / "arrays_model.py").write_text(module_text)
    out = run_python(
        """
        import json, sys
        import gitpet
        from arrays_model import Model
        pcm = gitpet.PetClassManager(sys.argv[1])
        version = pcm.push(Model)
        stored = pcm.store.read_version("Model", version)
        print(json.dumps({"version": version, "meta": stored.meta}))
        """,
        str(store),
        cwd=tmp_path,
        pythonpath=[str(moddir)],
    )
    return dict(json.loads(out))


def test_a_class_reading_arrays_is_source_complete_and_git_shows_which_array_changed(tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    first = _push(tmp_path, MODULE, store)
    assert first["meta"]["source_complete"] is True, first["meta"]  # type: ignore[index]
    v1 = str(first["version"])
    listing = git(store, "ls-tree", "-r", "--name-only", v1).stdout.split()
    assert listing == [
        "captured.py",
        "class.pkl",
        "data/LABELS.npy",
        "data/ORDER.npy",
        "data/WEIGHTS.npy",
        "meta.json",
        "source.py",
    ]
    captured = git(store, "show", f"{v1}:captured.py").stdout
    assert 'WEIGHTS = __import__("numpy").load("data/WEIGHTS.npy")  # <f8, shape (3, 4)' in captured
    assert git(store, "fsck", "--strict").returncode == 0

    second = _push(tmp_path, MODULE.replace("np.arange(12,", "np.arange(1, 13,"), store)
    v2 = str(second["version"])
    assert v2 != v1
    stat = git(store, "diff", "--stat", v1, v2).stdout
    assert "data/WEIGHTS.npy" in stat and "captured.py" not in stat
    shown = subprocess.run(
        [sys.executable, "-m", "gitpet", "--store", str(store), "diff", "Model", v1, v2],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert shown.returncode == 0, shown.stderr
    assert "data/WEIGHTS.npy differ" in shown.stdout and "data/ORDER.npy" not in shown.stdout


def test_captured_py_runs_as_written_from_a_checkout_of_the_version(tmp_path: Path) -> None:
    store = tmp_path / "store.git"
    version = str(_push(tmp_path, MODULE, store)["version"])
    archive = subprocess.run(
        ["git", f"--git-dir={store}", "archive", version], capture_output=True, check=True
    )
    checkout = tmp_path / "checkout"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(checkout, filter="data")
    out = run_python(
        """
        namespace = {}
        exec(open("captured.py").read(), namespace)
        exec(open("source.py").read(), namespace)
        print(namespace["Model"]().predict(1), namespace["ORDER"].flags.f_contiguous)
        """,
        cwd=checkout,
    )
    assert out.split() == [str(66.0 + 6 + 2), "True"]


def test_another_process_without_the_module_loads_the_class_and_verify_checks_its_text(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store.git"
    version = str(_push(tmp_path, MODULE, store)["version"])
    out = run_python(
        """
        import sys, gitpet
        pcm = gitpet.PetClassManager(sys.argv[1])
        Model = pcm.pull("Model", sys.argv[2])
        print(Model().predict(2))
        print(pcm.codec.check_stored(pcm.store.read_version("Model", sys.argv[2])).complete)
        """,
        str(store),
        version,
        cwd=tmp_path,
    )
    assert out.split() == [str(132.0 + 6 + 2), "True"]
    verify = subprocess.run(
        [sys.executable, "-m", "gitpet", "--store", str(store), "verify", "--sources"],
        capture_output=True,
        text=True,
        cwd=tmp_path / "usercode",
        env={"PYTHONPATH": f"{REPO_ROOT}:{tmp_path / 'usercode'}", "PATH": "/usr/bin:/bin"},
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "0 version(s) whose class.pkl is not what their text builds" in verify.stdout


def test_a_data_file_swapped_under_its_captured_line_is_not_the_reviewed_text(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    """Built with plain git: another array under the same name; and a file gitpet never writes."""
    pcm = PetClassManager(tmp_path / "store.git")
    module = user_module(MODULE)
    version = pcm.push(module.Model)
    store = tmp_path / "store.git"
    other = as_data_file("WEIGHTS", numpy.zeros((2, 2)))
    assert other is not None and not isinstance(other, str)
    (tmp_path / "other.npy").write_bytes(other.content)
    blob = git(store, "hash-object", "-w", str(tmp_path / "other.npy")).stdout.strip()
    data_tree = git(store, "ls-tree", f"{version}:data").stdout
    swapped = "".join(
        line.split(" ", 2)[0] + " blob " + blob + "\tWEIGHTS.npy\n"
        if line.endswith("\tWEIGHTS.npy")
        else line + "\n"
        for line in data_tree.splitlines()
    )
    folder = git(store, "mktree", input=swapped).stdout.strip()
    top = "".join(
        f"040000 tree {folder}\tdata\n" if line.endswith("\tdata") else line + "\n"
        for line in git(store, "ls-tree", version).stdout.splitlines()
    )
    crafted = commit_on_top(store, "Model", top)
    check = pcm.codec.check_stored(pcm.store.read_version("Model", crafted))
    assert not check.complete and "line for WEIGHTS is not the one its data file gives" in check.reason

    junk = git(store, "hash-object", "-w", "--stdin", input="not an array").stdout.strip()
    folder = git(store, "mktree", input=swapped + f"100644 blob {junk}\tnotes.txt\n").stdout.strip()
    commit_on_top(store, "Model", top.replace(top.split("\tdata\n")[0].split()[-1], folder))
    problems = [p.detail for p in PetClassManager(store).store.verify().problems]
    assert "data/ has an unexpected entry 'notes.txt'" in problems


def test_the_tree_of_a_version_with_data_has_a_data_folder() -> None:
    files = VersionFiles(b"s", b"p", b"{}", b"c", (("W.npy", b"w"),))
    tree = VersionTree.build(files)
    assert [entry.path for entry in tree.tree.items()][2] == b"data"
    assert [obj.id for obj in tree.objects][-1] == tree.tree.id
    assert data_line("W", as_data_file("W", numpy.zeros(3)).content).endswith("# <f8, shape (3,)\n")  # type: ignore[union-attr]
