"""The fast paths of issue 6 against the real git and the slower code they replace.

Each writer here replaced a dulwich or stdlib call for speed; each test checks
that the output is what git (or the replaced code) would have made.
"""

from __future__ import annotations

import ast
import binascii
import json
import os
import random
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from dulwich.errors import ObjectFormatException
from dulwich.file import FileLocked
from dulwich.objects import Blob, Tree
from dulwich.repo import Repo
from hypothesis import example, given, settings
from hypothesis import strategies as st

import gitpet
from gitpet import GitStore, IntegrityError, PetClassManager
from gitpet.codec.source import _class_spans
from gitpet.format.meta import meta_json
from gitpet.git.integrity import TreeEntries, commit_tree, tree_entries, tree_links
from gitpet.git.objread import RawObjectReader
from gitpet.git.objwrite import _COMPRESS_SLICE, write_loose, write_pack
from gitpet.git.refs import read_ref, swap_ref
from tests.conftest import bare_repo, git

SHA_A = b"a" * 40
SHA_B = b"b" * 40

# -- meta.json ---------------------------------------------------------------

_meta_values = st.one_of(
    st.text(),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.text(), max_size=4),
)


@given(st.dictionaries(st.text(), _meta_values, max_size=8))
def test_meta_json_is_byte_for_byte_what_json_dumps_makes(meta: dict[str, object]) -> None:
    expected = (json.dumps(meta, sort_keys=True, indent=2) + "\n").encode("utf-8")
    assert meta_json(meta) == expected  # type: ignore[arg-type]


# -- class spans ---------------------------------------------------------------


class _ReferenceSpans(ast.NodeVisitor):
    """The generic visitor _class_spans replaced: visits every node."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.spans: dict[str, list[tuple[int, int]]] = {}

    def _scope(self, node: ast.AST, names: list[str]) -> None:
        self.stack.extend(names)
        self.generic_visit(node)
        del self.stack[len(self.stack) - len(names) :]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scope(node, [node.name, "<locals>"])

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        self.spans.setdefault(".".join([*self.stack, node.name]), []).append(
            (first, node.end_lineno or first)
        )
        self._scope(node, [node.name])


def _stdlib_sources() -> list[Path]:
    stdlib = Path(os.__file__).parent
    return sorted(stdlib.glob("*.py"))[:120] + sorted((stdlib / "asyncio").glob("*.py"))


def test_class_spans_agree_with_a_visit_of_every_node_on_the_standard_library() -> None:
    checked = 0
    for path in _stdlib_sources():
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        reference = _ReferenceSpans()
        reference.visit(tree)
        assert _class_spans(tree) == reference.spans, path
        checked += bool(reference.spans)
    assert checked > 50


def test_class_spans_find_classes_in_every_kind_of_statement() -> None:
    source = (
        "if True:\n    class InIf: pass\nelse:\n    class InElse: pass\n"
        "try:\n    class InTry: pass\nexcept Exception:\n    class InExcept: pass\n"
        "finally:\n    class InFinally: pass\n"
        "for _ in ():\n    class InFor: pass\n"
        "with open(__file__) as f:\n    class InWith: pass\n"
        "match 1:\n    case 1:\n        class InCase: pass\n"
        "def f():\n    class Local: pass\n"
        "class Outer:\n    class Inner: pass\n"
    )
    spans = _class_spans(ast.parse(source))
    assert set(spans) == {
        "InIf",
        "InElse",
        "InTry",
        "InExcept",
        "InFinally",
        "InFor",
        "InWith",
        "InCase",
        "f.<locals>.Local",
        "Outer",
        "Outer.Inner",
    }


# -- packs and loose objects ---------------------------------------------------


@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=12, unique=True))
def test_a_written_pack_is_one_git_verifies_and_reads_back(
    tmp_path_factory: pytest.TempPathFactory, contents: list[bytes]
) -> None:
    store = bare_repo(tmp_path_factory.mktemp("pack") / "store.git")
    blobs = [Blob.from_string(data) for data in contents]
    tree = Tree()
    for i, blob in enumerate(blobs):
        tree.add(f"f{i}".encode(), 0o100644, blob.id)
    pack = write_pack(store / "objects" / "pack", [*blobs, tree])
    assert pack is not None
    git(store, "verify-pack", pack.removesuffix(".pack") + ".idx")
    listing = git(store, "ls-tree", tree.id.decode()).stdout.split("\n")
    assert len([line for line in listing if line]) == len(blobs)
    for blob in blobs:
        shown = subprocess.run(
            ["git", f"--git-dir={store}", "cat-file", "blob", blob.id.decode()],
            capture_output=True,
            check=True,
        )
        assert shown.stdout == blob.data
    assert not list((store / "objects" / "pack").glob("tmp_*"))


def test_writing_the_same_pack_twice_keeps_one(tmp_path: Path) -> None:
    store = bare_repo(tmp_path / "store.git")
    blobs = [Blob.from_string(b"one"), Blob.from_string(b"two")]
    first = write_pack(store / "objects" / "pack", blobs)
    assert write_pack(store / "objects" / "pack", blobs) == first
    assert len(list((store / "objects" / "pack").glob("*.pack"))) == 1
    assert write_pack(store / "objects" / "pack", []) is None


def test_a_loose_object_is_valid_git_and_rewriting_it_refreshes_its_mtime(tmp_path: Path) -> None:
    store = bare_repo(tmp_path / "store.git")
    blob = Blob.from_string(b"class A:\n    pass\n" * 50)
    write_loose(store / "objects", blob)
    path = store / "objects" / blob.id[:2].decode() / blob.id[2:].decode()
    assert git(store, "cat-file", "-p", blob.id.decode()).stdout == blob.data.decode()
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    write_loose(store / "objects", blob)
    assert time.time() - path.stat().st_mtime < 60
    assert oct(path.stat().st_mode & 0o777) == oct(0o444)
    git(store, "fsck", "--strict")


# -- refs ------------------------------------------------------------------------


def test_swap_ref_creates_only_what_is_absent_and_moves_only_from_the_expected_value(tmp_path: Path) -> None:
    refs = Repo.init_bare(str(tmp_path / "s.git"), mkdir=True).refs
    ref = b"refs/heads/A"
    assert swap_ref(refs, ref, None, SHA_A, fsync=False)
    assert not swap_ref(refs, ref, None, SHA_B, fsync=False)  # exists: not created over
    assert not swap_ref(refs, ref, SHA_B, SHA_B, fsync=False)  # not at SHA_B
    assert read_ref(refs, ref) == SHA_A
    assert swap_ref(refs, ref, SHA_A, SHA_B, fsync=True)
    assert read_ref(refs, ref) == SHA_B
    assert not (tmp_path / "s.git" / "refs" / "heads" / "A.lock").exists()
    assert read_ref(refs, b"refs/heads/missing") is None


def test_swap_ref_reports_a_held_lock_and_leaves_it(tmp_path: Path) -> None:
    refs = Repo.init_bare(str(tmp_path / "s.git"), mkdir=True).refs
    lock = tmp_path / "s.git" / "refs" / "heads" / "A.lock"
    lock.write_bytes(b"")
    with pytest.raises(FileLocked):
        swap_ref(refs, b"refs/heads/A", None, SHA_A, fsync=False)
    assert lock.exists()
    assert read_ref(refs, b"refs/heads/A") is None


def test_swap_ref_compares_with_a_ref_git_packed(tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    pcm = PetClassManager(store)

    class Packed:
        pass

    pcm.push(Packed)
    tip = git(store, "rev-parse", "refs/heads/Packed").stdout.strip().encode()
    git(store, "pack-refs", "--all")
    assert not (store / "refs" / "heads" / "Packed").exists()
    refs = Repo(str(store)).refs
    assert read_ref(refs, b"refs/heads/Packed") == tip
    assert not swap_ref(refs, b"refs/heads/Packed", None, SHA_A, fsync=False)
    assert swap_ref(refs, b"refs/heads/Packed", tip, SHA_A, fsync=False)
    assert git(store, "rev-parse", "refs/heads/Packed").stdout.strip() == SHA_A.decode()


def test_a_symbolic_ref_is_refused_not_overwritten(tmp_path: Path) -> None:
    store = tmp_path / "s.git"
    refs = Repo.init_bare(str(store), mkdir=True).refs
    (store / "refs" / "heads" / "Sym").write_bytes(b"ref: refs/heads/main\n")
    with pytest.raises(IntegrityError, match="symbolic"):
        swap_ref(refs, b"refs/heads/Sym", None, SHA_A, fsync=False)
    assert (store / "refs" / "heads" / "Sym").read_bytes() == b"ref: refs/heads/main\n"


# -- the store with every file synced --------------------------------------------


def test_a_store_that_syncs_every_file_writes_the_same_valid_git(tmp_path: Path) -> None:
    source = "class Synced:\n    def f(self):\n        return 1\n"
    namespace: dict[str, object] = {"__name__": "synced_module"}
    exec(compile(source, "<synced>", "exec"), namespace)
    synced = PetClassManager(GitStore(tmp_path / "synced", fsync=True))
    plain = PetClassManager(GitStore(tmp_path / "plain"))
    classes = {f"S{i}": namespace["Synced"] for i in range(70)}  # past the pack threshold
    synced.push_many(list(classes.items()))  # type: ignore[arg-type]
    plain.push_many(list(classes.items()))  # type: ignore[arg-type]
    assert synced.push(namespace["Synced"], "One") == plain.push(namespace["Synced"], "One")  # type: ignore[arg-type]
    for store in (tmp_path / "synced", tmp_path / "plain"):
        git(store, "fsck", "--strict")
    assert synced.store.latest_id("S3") == plain.store.latest_id("S3")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gitpet,sys; print(gitpet.GitStore(sys.argv[1]).names()[:2])",
            str(tmp_path / "synced"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "['One', 'S0']"
    # A fetch into a synced store syncs its pack in quarantine, and the trust list, on the same path.
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    plain.store.push(str(remote))
    fetched = GitStore(tmp_path / "synced-fetch", fsync=True)
    fetched.fetch(str(remote), trusted=True)
    git(tmp_path / "synced-fetch", "fsck", "--strict")
    assert fetched.fsync and fetched.is_trusted(plain.store.latest_id("S3") or "")


# -- import ------------------------------------------------------------------------


def test_import_gitpet_leaves_sharing_gc_and_pipelines_unloaded_until_used() -> None:
    code = (
        "import sys, gitpet\n"
        "lazy = ['dulwich.client', 'gitpet.sync.transfer', 'gitpet.maintenance.gc',"
        " 'gitpet.maintenance.verify', 'gitpet.pipelines.history']\n"
        "print([m for m in lazy if m in sys.modules])\n"
        "gitpet.GcReport, gitpet.SnapshotDiff\n"
        "print([m for m in lazy if m in sys.modules], gitpet.GcReport.__module__,"
        " 'SyncReport' in dir(gitpet))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == [
        "[]",
        "['gitpet.maintenance.gc', 'gitpet.maintenance.verify', 'gitpet.pipelines.history'] gitpet True",
    ]
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = gitpet.Nope  # type: ignore[attr-defined]


# -- the load path's reader and parsers ---------------------------------------------


def _all_objects(store: Path) -> list[bytes]:
    listing = git(store, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").stdout
    return [line.encode() for line in listing.split()]


def test_the_object_reader_reads_what_dulwich_reads_packed_loose_and_deltified(tmp_path: Path) -> None:
    store = tmp_path / "store"
    pcm = PetClassManager(store)
    for edit in range(6):  # loose objects: versions of one class that git can deltify
        namespace: dict[str, object] = {"__name__": "delta_module"}
        body = "".join(f"    def m{i}(self):\n        return {i} + {edit}\n" for i in range(40))
        exec(compile(f"class Grows:\n{body}", "<grows>", "exec"), namespace)
        pcm.push(namespace["Grows"])  # type: ignore[arg-type]
    repo = Repo(str(store))
    loose = _all_objects(store)
    reader = RawObjectReader(repo.object_store)
    assert all(reader.get_raw(sha) == repo.object_store.get_raw(sha) for sha in loose)
    reader.close()

    git(store, "gc", "--aggressive", "--prune=now")  # one pack, with deltas
    deltified = git(store, "verify-pack", "-v", *map(str, (store / "objects" / "pack").glob("*.idx"))).stdout
    assert "chain length = 1:" in deltified  # some objects are deltas now
    fresh = Repo(str(store))
    reader = RawObjectReader(fresh.object_store)
    assert all(reader.get_raw(sha) == fresh.object_store.get_raw(sha) for sha in loose)
    with pytest.raises(KeyError):
        reader.get_raw(b"0" * 40)
    reader.close()
    fresh.close()
    repo.close()


def test_the_object_reader_finds_a_pack_written_after_it_opened(tmp_path: Path) -> None:
    store = bare_repo(tmp_path / "store.git")
    repo = Repo(str(store))
    reader = RawObjectReader(repo.object_store)
    first = [Blob.from_string(b"first %d" % i) for i in range(3)]
    write_pack(store / "objects" / "pack", first)
    assert reader.get_raw(first[0].id) == (3, b"first 0")
    later = [Blob.from_string(b"later %d" % i) for i in range(3)]
    write_pack(store / "objects" / "pack", later)
    assert reader.get_raw(later[2].id) == (3, b"later 2")
    reader.close()
    repo.close()


@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=20).filter(
                lambda n: "/" not in n and "\0" not in n and n not in (".", "..", ".git")
            ),
            st.sampled_from([0o100644, 0o100755, 0o40000, 0o120000]),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda entry: entry[0],
    )
)
def test_tree_entries_parse_every_tree_dulwich_writes(entries: list[tuple[str, int]]) -> None:
    tree = Tree()
    for i, (name, mode) in enumerate(entries):
        tree.add(name.encode(), mode, Blob.from_string(str(i).encode()).id)
    parsed = tree_entries(tree.id, tree.as_raw_string())
    assert parsed == {entry.path: (entry.mode, entry.sha) for entry in tree.items()}
    with pytest.raises(IntegrityError, match="malformed tree"):
        tree_entries(tree.id, tree.as_raw_string()[:-1])


_ENTRY_NAMES = [
    b"class.pkl",
    b"meta.json",
    b"source.py",
    b"a",
    b"a.b",
    b"a-",
    b".",
    b"..",
    b".git",
    b"x/y",
    b"",
]
_ENTRY_MODES = [b"100644", b"100755", b"100664", b"100600", b"40000", b"040000", b"120000", b"160000", b"644"]


def _read_as_verify_reads_it(raw: bytes) -> TreeEntries | None:
    """The entries gitpet reads in a tree (None: refused), checked to be what dulwich's check accepts."""
    try:
        tree = Tree.from_raw_string(Tree.type_num, raw)
        tree.check()
        verified: TreeEntries | None = {entry.path: (entry.mode, entry.sha) for entry in tree.items()}
    except (ObjectFormatException, ValueError):
        verified = None
    try:
        loaded: TreeEntries | None = tree_entries(b"t" * 40, raw)
    except IntegrityError:
        loaded = None
    assert loaded == verified
    return loaded


@settings(max_examples=500)  # cheap, and most random trees are refused early: many are needed
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_ENTRY_MODES),
            st.one_of(
                st.sampled_from(_ENTRY_NAMES),
                st.binary(min_size=1, max_size=6).filter(lambda b: b"\0" not in b),
                st.sampled_from([b"40000 a", b"a b", b" "]),  # a mode's text, and spaces, in a name
            ),
            st.binary(min_size=20, max_size=20),
        ),
        max_size=5,
    ),
    st.booleans(),
)
def test_the_load_path_accepts_exactly_the_trees_verify_accepts(
    entries: list[tuple[bytes, bytes, bytes]], sort: bool
) -> None:
    if sort:
        entries = sorted(entries, key=lambda e: e[1] + (b"/" if e[0].lstrip(b"0") == b"40000" else b""))
    raw = b"".join(mode + b" " + name + b"\0" + sha for mode, name, sha in entries)
    loaded = _read_as_verify_reads_it(raw)
    if loaded is not None:  # a walk reads the same entries, each id binary
        links = {name: (mode, binascii.unhexlify(sha)) for name, (mode, sha) in loaded.items()}
        assert tree_links(b"t" * 40, raw) == links


@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"100644", b"100755", b"100664", b"40000", b"120000", b"160000"]),
            st.one_of(
                st.sampled_from([b"a", b"a-", b"a.b", b"a b", b"ab", b"40000 a", b".gitx", b"b"]),
                st.binary(min_size=1, max_size=4).filter(
                    lambda b: b"\0" not in b and b"/" not in b and b not in (b".", b"..", b".git")
                ),
            ),
            st.binary(min_size=20, max_size=20),
        ),
        min_size=2,
        max_size=5,
        unique_by=lambda entry: entry[1],
    ),
    st.randoms(use_true_random=False),
    st.booleans(),
)
@example([(b"100644", b"a.b", bytes(20)), (b"40000", b"a", bytes(20))], random.Random(0), True)
def test_well_formed_entries_in_any_order_read_as_verify_reads_them(
    entries: list[tuple[bytes, bytes, bytes]], order: random.Random, in_git_order: bool
) -> None:
    """Entries git would accept one by one: the tree is accepted exactly when they are in git's order.

    git orders a directory as if its name ended with "/": a directory ``a`` comes after a file ``a-``.
    """
    if in_git_order:
        entries = sorted(entries, key=lambda e: e[1] + (b"/" if e[0] == b"40000" else b""))
    else:
        order.shuffle(entries)
    raw = b"".join(mode + b" " + name + b"\0" + sha for mode, name, sha in entries)
    loaded = _read_as_verify_reads_it(raw)
    assert (loaded is not None) == (in_git_order or raw == b"".join(sorted_raw(entries)))


def test_a_directory_sorts_as_if_its_name_ended_with_a_slash() -> None:
    directory, file = b"40000 a\0" + bytes(20), b"100644 a.b\0" + bytes(20)  # "a.b" < "a/", "a" < "a.b"
    assert tree_entries(b"t" * 40, file + directory) == {
        b"a.b": (0o100644, b"0" * 40),
        b"a": (0o40000, b"0" * 40),
    }
    with pytest.raises(IntegrityError, match="not sorted"):
        tree_entries(b"t" * 40, directory + file)


def sorted_raw(entries: list[tuple[bytes, bytes, bytes]]) -> list[bytes]:
    """The entries' bytes in git's order."""
    ordered = sorted(entries, key=lambda e: e[1] + (b"/" if e[0] == b"40000" else b""))
    return [mode + b" " + name + b"\0" + sha for mode, name, sha in ordered]


def test_commit_tree_reads_the_tree_of_a_git_commit_and_refuses_anything_else(tmp_path: Path) -> None:
    store = tmp_path / "store"
    pcm = PetClassManager(store)

    class Committed:
        pass

    version = pcm.push(Committed)
    commit = git(store, "rev-parse", "refs/heads/Committed").stdout.strip().encode()
    raw = subprocess.run(
        ["git", f"--git-dir={store}", "cat-file", "commit", commit.decode()], capture_output=True, check=True
    ).stdout
    assert commit_tree(commit, raw) == version.encode()
    for damaged in (raw[1:], b"parent " + raw[5:], raw[:44] + b"z" + raw[45:]):
        with pytest.raises(IntegrityError, match="malformed commit"):
            commit_tree(commit, damaged)


def test_the_object_reader_lets_go_of_packs_gc_removed(tmp_path: Path) -> None:
    store = tmp_path / "store"
    pcm = PetClassManager(store)
    namespace: dict[str, object] = {"__name__": "gc_module"}
    exec(compile("class Kept:\n    def f(self):\n        return 7\n", "<kept>", "exec"), namespace)
    pcm.push_many([(f"K{i}", namespace["Kept"]) for i in range(70)])  # type: ignore[misc]
    pcm.push(namespace["Kept"], "Loose")  # type: ignore[arg-type]
    pcm.store.gc(prune_older_than=0)
    repo = Repo(str(store))
    reader = RawObjectReader(repo.object_store)
    tip = pcm.store.latest_id("K1")
    assert tip is not None and reader.get_raw(tip.encode())[0] == 2
    mapped_before = set(reader._packs)
    pcm.push(namespace["Kept"], "Later")  # type: ignore[arg-type]
    pcm.store.gc(prune_older_than=0)  # one new pack; the old one is deleted
    assert reader.get_raw(tip.encode())[0] == 2  # still read (from the old mapping)
    with pytest.raises(KeyError):
        reader.get_raw(b"1" * 40)  # a miss goes to dulwich, which refreshes the packs
    assert not mapped_before & set(reader._packs)
    assert set(reader._packs) == {str(p) for p in (store / "objects" / "pack").glob("*.pack")}
    reader.close()
    repo.close()


@pytest.mark.parametrize("extra", [-1, 0, 1, 6 * 1024 * 1024 + 17])
def test_big_objects_are_compressed_in_slices_to_the_same_bytes_git_reads(tmp_path: Path, extra: int) -> None:
    # Slicing keeps Ctrl-C prompt; the bytes on disk must be those of one zlib.compress call.
    half = (_COMPRESS_SLICE + extra) // 2
    blob = Blob.from_string(os.urandom(half) + bytes(_COMPRESS_SLICE + extra - half))
    store = bare_repo(tmp_path / "store.git")
    write_loose(store / "objects", blob)
    loose = store / "objects" / blob.id[:2].decode() / blob.id[2:].decode()
    header = b"blob %d\0" % len(blob.data)
    assert loose.read_bytes() == zlib.compress(header + blob.data)
    assert git(store, "cat-file", "-s", blob.id.decode()).stdout.strip() == str(len(blob.data))
    git(store, "fsck", "--strict")
