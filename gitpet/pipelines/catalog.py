"""Which pipelines a store has, and which class versions their snapshots pin.

What trust and sync need of pipelines, without the history API (kept out of
``import gitpet``).
"""

from __future__ import annotations

from collections.abc import Iterator

from dulwich.objects import Commit

from gitpet.format.names import is_ownable_ref, pipeline_ref
from gitpet.git.history import first_parent_commits, peeled_commit
from gitpet.git.integrity import RawReader
from gitpet.git.refstore import RefStore
from gitpet.pipelines.snapshots import used_pin_set

__all__ = ["pinned_ids", "pipeline_names", "pipeline_tips", "snapshot_pins"]


def snapshot_pins(objects: RawReader, tip: bytes) -> Iterator[tuple[Commit, frozenset[tuple[str, str]]]]:
    """Each snapshot commit of the history of ``tip``, newest first, with the ``(class, id)`` it pins."""
    by_tree: dict[bytes, frozenset[tuple[str, str]]] = {}
    for commit in first_parent_commits(objects, tip):  # whole: their signatures are checked
        if commit.tree not in by_tree:  # a snapshot saved again reads its tree once
            by_tree[commit.tree] = used_pin_set(objects, commit.tree)
        yield commit, by_tree[commit.tree]


def pipeline_names(refs: RefStore) -> list[str]:
    """Names of the pipelines with saved snapshots, sorted."""
    prefix = pipeline_ref("")
    return sorted(
        ref[len(prefix) :].decode("utf-8") for ref in refs.names_under(prefix) if is_ownable_ref(ref)
    )


def pipeline_tips(refs: RefStore) -> Iterator[tuple[str, bytes]]:
    """``(pipeline, tip commit)`` of every pipeline in the store."""
    for pipeline in pipeline_names(refs):
        tip = refs.read(pipeline_ref(pipeline))
        if tip is not None:
            yield pipeline, tip


def pinned_ids(objects: RawReader, tip: bytes) -> set[str]:
    """Every class version any snapshot in the history of ``tip`` (a pipeline commit or tag) pins."""
    commit = peeled_commit(objects, tip)
    if commit is None:
        return set()
    return {vid for _commit, pins in snapshot_pins(objects, commit) for _name, vid in pins}
