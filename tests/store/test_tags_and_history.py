"""Tags, ``~N``, rollback, and the replay rule that keeps every version of both sides."""

from __future__ import annotations

from pathlib import Path

import pytest
from dulwich.object_store import MemoryObjectStore
from dulwich.objects import Blob, Commit, Tree
from hypothesis import given
from hypothesis import strategies as st

from gitpet import (
    BaseFactory,
    InvalidNameError,
    PetClassManager,
    PetFactory,
    TagExistsError,
    VersionNotFoundError,
)
from gitpet.git.history import first_parent_chain, is_ancestor, replay
from tests.conftest import ModuleWriter, git, store_snapshot


def _versions(pcm: PetClassManager, user_module: ModuleWriter, count: int) -> list[str]:
    return [pcm.push(user_module(f"class Knob:\n    level = {i}\n").Knob) for i in range(count)]


def test_tags_name_versions_wherever_an_id_is_accepted(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    v0, v1, v2 = _versions(pcm, user_module, 3)
    assert pcm.store.tag("Knob", "v1.0.0", v0[:9]) == v0
    assert pcm.store.tag("Knob", "champion") == v2  # default: the latest
    assert pcm.store.tags("Knob") == {"champion": v2, "v1.0.0": v0}
    assert pcm.pull("Knob", "v1.0.0").level == 0  # type: ignore[attr-defined]
    factory = PetFactory(pcm, BaseFactory())
    assert factory.get_version("Knob", "champion").level == 2  # type: ignore[attr-defined]
    assert pcm.store.resolve("Knob", "~1") == v1
    assert pcm.store.resolve("Knob", "~2") == v0 and pcm.store.resolve("Knob", "~0") == v2
    # Plain git reads the same tag.
    assert git(pcm.store.path, "rev-parse", "Knob/v1.0.0^{tree}").stdout.strip() == v0
    assert git(pcm.store.path, "show", "Knob/v1.0.0:source.py").stdout == "class Knob:\n    level = 0\n"


def test_moving_a_tag_needs_force(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    v0, v1 = _versions(pcm, user_module, 2)
    pcm.store.tag("Knob", "stable", v0)
    before = store_snapshot(pcm.store.path)
    assert pcm.store.tag("Knob", "stable", v0) == v0  # the same again changes nothing
    assert store_snapshot(pcm.store.path) == before
    with pytest.raises(TagExistsError, match="force=True") as err:
        pcm.store.tag("Knob", "stable", v1)
    assert err.value.current == v0
    assert store_snapshot(pcm.store.path) == before
    assert pcm.store.tag("Knob", "stable", v1, force=True) == v1
    assert pcm.store.resolve("Knob", "stable") == v1


@pytest.mark.parametrize("bad", ["deadbeef", "1234567", "a/b", "with space", "x@y", "-lead", "v1.lock", ""])
def test_bad_tag_names_are_refused_before_writing(
    bad: str, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    _versions(pcm, user_module, 1)
    before = store_snapshot(pcm.store.path)
    with pytest.raises(InvalidNameError, match="tag name"):
        pcm.store.tag("Knob", bad)
    assert store_snapshot(pcm.store.path) == before


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("~3", "only 3 version"),
        ("nosuchtag", "no tag 'nosuchtag'"),
        ("~x", "whole number"),
        ("a b", "not a version"),
    ],
)
def test_unknown_specs_say_why(
    spec: str, message: str, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    _versions(pcm, user_module, 3)
    with pytest.raises(VersionNotFoundError, match=message):
        pcm.store.resolve("Knob", spec)


def test_a_tag_of_another_class_is_not_this_classes(
    pcm: PetClassManager, user_module: ModuleWriter, tmp_path: Path
) -> None:
    (v0,) = _versions(pcm, user_module, 1)
    pcm.push(user_module("class Other:\n    pass\n").Other)
    # Forge, with plain git, a tag in Other's namespace that points at a Knob version.
    git(pcm.store.path, "update-ref", "refs/tags/Other/wrong", "Knob")
    with pytest.raises(VersionNotFoundError, match="belongs to class 'Knob'"):
        pcm.store.resolve("Other", "wrong")
    assert pcm.store.resolve("Knob", v0[:7]) == v0


def test_rollback_is_a_new_commit_and_history_keeps_all(
    pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    v0, v1, v2 = _versions(pcm, user_module, 3)
    result = pcm.rollback("Knob", "~2")
    assert result.created and result.id == v0
    history = [v.id for v in pcm.versions("Knob")]
    assert history == [v0, v2, v1, v0]
    assert "rollback to version " + v0 in pcm.versions("Knob")[0].message
    assert not pcm.rollback("Knob", v0).created  # already the latest
    assert git(pcm.store.path, "rev-parse", "Knob^{tree}").stdout.strip() == v0
    factory = PetFactory(pcm, BaseFactory())
    restored = factory.rollback("Knob", v2)
    assert restored.level == 2 and factory["Knob"] is restored  # type: ignore[attr-defined]
    assert factory.version_control["Knob"] == v2


def test_factory_tags_the_registered_version(pcm: PetClassManager, user_module: ModuleWriter) -> None:
    factory = PetFactory(pcm, BaseFactory())
    factory["Knob"] = user_module("class Knob:\n    level = 7\n").Knob
    with pytest.raises(VersionNotFoundError, match="push_all"):
        factory.tag("Knob", "v1")
    factory.push_all()
    assert factory.tag("Knob", "v1") == factory.version_control["Knob"]


# -- the replay rule, for all histories ------------------------------------------


def _commit(objects: MemoryObjectStore, content: int, parent: bytes | None, when: int) -> bytes:
    blob = Blob.from_string(str(content).encode())
    tree = Tree()
    tree.add(b"source.py", 0o100644, blob.id)
    commit = Commit()
    commit.tree = tree.id
    commit.parents = [parent] if parent else []
    commit.author = commit.committer = b"t <t@t>"
    commit.author_time = commit.commit_time = when
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"v\n"
    for obj in (blob, tree, commit):
        objects.add_object(obj)
    return commit.id


def _chain(objects: MemoryObjectStore, contents: list[int], parent: bytes | None, start: int) -> bytes | None:
    for offset, content in enumerate(contents):
        parent = _commit(objects, content, parent, start + offset)
    return parent


def _trees(objects: MemoryObjectStore, tip: bytes) -> list[bytes]:
    return [commit.tree for commit in first_parent_chain(objects, tip)]


versions = st.lists(st.integers(0, 4), max_size=5)


@given(base=st.lists(st.integers(0, 4), min_size=1, max_size=3), ours=versions, theirs=versions)
def test_replay_keeps_every_version_of_both_sides(
    base: list[int], ours: list[int], theirs: list[int]
) -> None:
    objects = MemoryObjectStore()
    root = _chain(objects, base, None, 0)
    assert root is not None
    our_tip = _chain(objects, ours, root, 100) or root
    their_tip = _chain(objects, theirs, root, 200) or root
    new_tip, created = replay(objects, our_tip, their_tip, b"me <me@x>", 300)
    for commit in created:
        objects.add_object(commit)
    result = _trees(objects, new_tip)
    # Theirs is kept whole, underneath: the remote loses nothing.
    assert is_ancestor(objects, their_tip, new_tip)
    assert result[len(result) - len(_trees(objects, their_tip)) :] == _trees(objects, their_tip)
    # Every one of our versions is in the result; with something new of ours, our latest is the latest.
    assert set(_trees(objects, our_tip)) <= set(result)
    if not is_ancestor(objects, our_tip, their_tip):
        assert result[0] == objects[our_tip].tree
    # A replayed version never repeats the one it sits on (nothing to add), and keeps its author.
    for commit in created:
        assert commit.tree != objects[commit.parents[0]].tree
        assert commit.author == b"t <t@t>" and commit.committer == b"me <me@x>"
    # If theirs already contains all of ours, nothing is replayed.
    if is_ancestor(objects, our_tip, their_tip):
        assert created == [] and new_tip == their_tip
