"""What a push or fetch sends: git's answer to "what does the other side lack", and packs git reads.

Histories are built with dulwich objects in a real bare repository, and every
answer is held against the real git: ``git rev-list --objects <wants> --not
<haves>`` for the walk, ``git index-pack`` and ``git cat-file`` for the packs.
"""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import hypothesis.strategies as st
import pytest
from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.objects import Blob, Commit, Tree
from dulwich.pack import write_pack_data
from dulwich.repo import Repo
from hypothesis import given

from gitpet.errors import IntegrityError
from gitpet.git.objread import RawObjectReader
from gitpet.git.outgoing import objects_to_send, pack_records
from tests.conftest import bare_repo, git

# A history: for each commit, its parents (earlier commits), its files (name -> content index),
# and a clock offset (how wrong the committer's clock was).
_Commit = tuple[list[int], dict[str, int], int]


@st.composite
def histories(draw: st.DrawFn, *, skewed: bool) -> list[_Commit]:
    count = draw(st.integers(1, 14))
    commits: list[_Commit] = []
    for index in range(count):
        parents = draw(st.lists(st.integers(0, index - 1), max_size=2, unique=True)) if index else []
        files = draw(st.dictionaries(st.sampled_from(["a", "b", "c", "d/e", "d/f"]), st.integers(0, 5)))
        skew = draw(st.integers(-5, 5)) if skewed else 0
        commits.append((parents, files, skew))
    return commits


def _tree(repo: Repo, files: dict[str, int]) -> bytes:
    top, sub = Tree(), Tree()
    for name, content in files.items():
        blob = Blob.from_string(f"content {content}\n".encode())
        repo.object_store.add_object(blob)
        if name.startswith("d/"):
            sub.add(name[2:].encode(), 0o100644, blob.id)
        else:
            top.add(name.encode(), 0o100644, blob.id)
    if sub.items():
        repo.object_store.add_object(sub)
        top.add(b"d", 0o040000, sub.id)
    repo.object_store.add_object(top)
    return bytes(top.id)


def _build(path: Path, history: list[_Commit]) -> list[bytes]:
    repo = Repo(str(bare_repo(path)))
    ids: list[bytes] = []
    for index, (parents, files, skew) in enumerate(history):
        commit = Commit()
        commit.tree = _tree(repo, files)
        commit.parents = [ids[parent] for parent in parents]
        commit.author = commit.committer = b"T <t@example.org>"
        commit.author_time = commit.commit_time = 1_700_000_000 + 10 * index + skew
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = f"commit {index}\n".encode()
        repo.object_store.add_object(commit)
        ids.append(bytes(commit.id))
    repo.close()
    return ids


def _git_answer(path: Path, wants: list[bytes], haves: list[bytes]) -> set[bytes]:
    args = [w.decode() for w in wants] + ["--not"] + [h.decode() for h in haves]
    listed = git(path, "rev-list", "--objects", *args).stdout.split("\n")
    return {line.split(" ")[0].encode() for line in listed if line}


def _reachable(path: Path, wants: list[bytes]) -> set[bytes]:
    return _git_answer(path, wants, [])


def _walk_drawn(
    path: Path, history: list[_Commit], data: st.DataObject
) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """Build ``history`` at ``path``, draw wants and haves among its commits, walk: (wants, haves, sent)."""
    ids = _build(path, history)
    wants = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
    haves = data.draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    reader = RawObjectReader(Repo(str(path)).object_store)
    return wants, haves, objects_to_send(reader, wants, haves)


@given(history=histories(skewed=False), data=st.data())
def test_the_walk_sends_exactly_what_git_rev_list_names(
    tmp_path_factory: pytest.TempPathFactory, history: list[_Commit], data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("walk") / "repo.git"
    wants, haves, sent = _walk_drawn(path, history, data)
    assert len(sent) == len(set(sent))  # each object once
    assert set(sent) == _git_answer(path, wants, haves)


@given(history=histories(skewed=True), data=st.data())
def test_with_wrong_clocks_the_walk_may_send_more_but_never_leaves_out_what_the_other_side_lacks(
    tmp_path_factory: pytest.TempPathFactory, history: list[_Commit], data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("skew") / "repo.git"
    wants, haves, sent = _walk_drawn(path, history, data)
    assert _git_answer(path, wants, haves) <= set(sent) <= _reachable(path, wants)


def test_haves_the_sender_never_saw_are_left_out_and_a_want_may_be_an_annotated_tag(tmp_path: Path) -> None:
    path = tmp_path / "repo.git"
    [first, second] = _build(path, [([], {"a": 1}, 0), ([0], {"a": 2}, 0)])
    tag = git(
        path, "mktag", input=f"object {second.decode()}\ntype commit\ntag v2\ntagger T <t@e> 1 +0000\n\nv2\n"
    )
    tag_id = tag.stdout.strip().encode()
    reader = RawObjectReader(Repo(str(path)).object_store)
    sent = objects_to_send(reader, [tag_id], [first, b"f" * 40])
    assert set(sent) == _git_answer(path, [tag_id], [first]) | {tag_id}


def _pack_and_read_back(tmp_path: Path, source: Path, ids: list[bytes], *, whole: bool) -> Path:
    """Write ``ids`` from ``source`` as one pack with pack_records; index it with the real git.

    ``whole``: the ids are a whole history (git then checks every link too).
    """
    reader = RawObjectReader(Repo(str(source)).object_store)
    tmp_path.mkdir()
    pack = tmp_path / "sent.pack"
    with open(pack, "wb") as handle:
        write_pack_data(handle.write, pack_records(reader, ids), DEFAULT_OBJECT_FORMAT, num_records=len(ids))
    target = bare_repo(tmp_path / "target.git")
    subprocess.run(
        ["git", f"--git-dir={target}", "index-pack", *(["--strict"] if whole else []), "--stdin"],
        stdin=open(pack, "rb"),  # noqa: SIM115
        capture_output=True,
        check=True,
    )
    return target


def test_a_pack_of_packed_objects_reuses_their_compressed_bytes_and_keeps_deltas_git_can_read(
    tmp_path: Path,
) -> None:
    # Versions of a file that differ a little: git gc stores most as deltas on each other.
    source = bare_repo(tmp_path / "source.git")
    history = [([index - 1] if index else [], {"a": 0, "b": index}, 0) for index in range(6)]
    repo = Repo(str(source))
    ids: list[bytes] = []
    for index, (parents, _files, _skew) in enumerate(history):
        blob = Blob.from_string(
            b"".join(b"line %d of a long file\n" % n for n in range(400)) + b"%d\n" % index
        )
        tree = Tree()
        tree.add(b"file", 0o100644, blob.id)
        commit = Commit()
        commit.tree, commit.parents = tree.id, [ids[p] for p in parents]
        commit.author = commit.committer = b"T <t@example.org>"
        commit.author_time = commit.commit_time = 1_700_000_000 + index
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"m\n"
        for obj in (blob, tree, commit):
            repo.object_store.add_object(obj)
        ids.append(bytes(commit.id))
    repo.close()
    git(source, "update-ref", "refs/heads/main", ids[-1].decode())
    git(source, "gc", "-q", "--aggressive")
    everything = sorted(_reachable(source, [ids[-1]]))
    reader = RawObjectReader(Repo(str(source)).object_store)
    entries = {sha: reader.packed_entry(sha) for sha in everything}
    assert any(entry is not None and entry.base is not None for entry in entries.values())
    for sha, entry in entries.items():
        assert entry is not None
        inflated = zlib.decompress(entry.compressed)
        assert len(inflated) == entry.size
        if entry.base is None:
            kind = git(source, "cat-file", "-t", sha.decode()).stdout.strip()
            assert kind in ("commit", "tree", "blob", "tag")

    # All of it, and a part whose deltas' bases are not sent (sent whole instead).
    for part in (everything, everything[::2]):
        target = _pack_and_read_back(tmp_path / f"part{len(part)}", source, part, whole=part is everything)
        for sha in part:
            ours = git(target, "cat-file", "-p", sha.decode(), check=False)
            assert ours.returncode == 0, sha
        assert (
            git(target, "cat-file", "--batch-check", input="\n".join(s.decode() for s in part)).stdout.count(
                "missing"
            )
            == 0
        )


def test_packed_entry_finds_the_end_of_a_stream_followed_by_more_pack(tmp_path: Path) -> None:
    """zlib keeps what follows a finished stream as unconsumed input: the end must still be found."""
    source = bare_repo(tmp_path / "source.git")
    blobs = [bytes(range(256)) * (5 * 1024 * 1024 // 256), b"small\n" * 10, bytes(17 * 1024 * 1024)]
    shas: list[bytes] = []
    for data in blobs:
        proc = subprocess.run(
            ["git", f"--git-dir={source}", "hash-object", "-w", "--stdin"],
            input=data,
            capture_output=True,
            check=True,
        )
        shas.append(proc.stdout.strip())
    subprocess.run(
        ["git", f"--git-dir={source}", "pack-objects", "-q", str(source / "objects" / "pack" / "pack")],
        input=b"\n".join(shas) + b"\n",
        capture_output=True,
        check=True,
    )
    for sha in shas:  # only the pack holds them now
        (source / "objects" / sha[:2].decode() / sha[2:].decode()).unlink()
    reader = RawObjectReader(Repo(str(source)).object_store)
    for sha, data in zip(shas, blobs, strict=True):
        entry = reader.packed_entry(sha)
        assert entry is not None and entry.base is None and entry.size == len(data)
        assert zlib.decompress(entry.compressed) == data


def test_whole_packs_are_copied_as_they_are_and_one_removed_meanwhile_is_an_error(tmp_path: Path) -> None:
    repo = bare_repo(tmp_path / "r.git")
    for number in range(3):
        blob = git(repo, "hash-object", "-w", "--stdin", input=f"file {number}\n").stdout.strip()
        tree = git(repo, "mktree", input=f"100644 blob {blob}\tf\n").stdout.strip()
        parent = ["-p", "refs/heads/main"] if number else []
        commit = git(repo, "commit-tree", tree, *parent, "-m", f"v{number}").stdout.strip()
        git(repo, "update-ref", "refs/heads/main", commit)
    git(repo, "gc", "-q", "--prune=now")
    [pack] = (repo / "objects" / "pack").glob("*.pack")
    extra = git(repo, "hash-object", "-w", "--stdin", input="loose, not in the pack\n").stdout.strip()
    listed = git(repo, "rev-list", "--objects", "--all").stdout.split()
    ids = [line.encode() for line in listed if len(line) == 40] + [extra.encode()]
    with Repo(str(repo)) as opened:
        reader = RawObjectReader(opened.object_store)
        reused = reader.whole_packs_among(ids)
        assert reused.count == len(ids) - 1 and reused.rest == [extra.encode()]
        assert b"".join(reused.entries()) == pack.read_bytes()[12:-20]
        assert reader.whole_packs_among(ids[:-2]).count == 0  # a pack holding more is not copied
        pending = reader.whole_packs_among(ids)
        reader.close()  # as a refresh does when gc removed the pack
        with pytest.raises(IntegrityError, match="removed while it was being sent"):
            list(pending.entries())
