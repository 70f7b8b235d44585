"""Which versions a ref update brings to the receiving side.

A push vouches, to everyone who trusts the remote, for every version it
delivers: a class ref's new commits each hold one version, a pipeline's new
snapshots each pin several. The walk stops at what the receiving side already
has, so its cost is the number of new commits (plus, for a tag, the history of
the branch the tag belongs to on the remote).
"""

from __future__ import annotations

from collections.abc import Mapping

from dulwich.objects import ObjectID

from gitpet.format.names import TAG_REF_PREFIX, class_ref, is_pipeline_ref, owner_of_ref, pipeline_ref
from gitpet.git.history import ObjectReader, first_parent_chain, peeled_commit
from gitpet.pipelines.snapshots import pin_set

__all__ = ["CarriedVersions"]

Version = tuple[str, str]


class CarriedVersions:
    """The versions each proposed ref update would deliver to a remote whose refs are ``remote_refs``.

    Examples:
        >>> version = pcm.push(Model)
        >>> from dulwich.repo import Repo
        >>> repo = Repo(str(store.path))
        >>> carried = CarriedVersions(repo.object_store, remote_refs={})
        >>> tip = store.latest_commit("Model").encode()
        >>> carried.of(b"refs/heads/Model", tip, None) == {("Model", version)}    # all of it is new there
        True
        >>> repo.close()
    """

    def __init__(self, objects: ObjectReader, remote_refs: Mapping[bytes, bytes]) -> None:
        self._objects = objects
        self._remote_refs = remote_refs
        self._remote_chains: dict[bytes, frozenset[bytes]] = {}

    def of(self, ref: bytes, new: bytes, old: bytes | None) -> set[Version]:
        """Versions in the first-parent history of ``new`` that the remote does not hold yet."""
        tip = peeled_commit(self._objects, new)
        if tip is None:
            return set()
        pipeline = is_pipeline_ref(ref)
        owner = owner_of_ref(ref.decode("utf-8", "surrogateescape"))
        branch = self._branch_of(ref, owner)
        fast_forward = old is not None and not ref.startswith(TAG_REF_PREFIX)
        found: set[Version] = set()
        for commit in first_parent_chain(self._objects, tip):
            if commit.id == old if fast_forward else self._remote_holds(branch, commit.id):
                break
            if pipeline:
                found.update(pin_set(self._objects, commit.tree))
            elif owner is not None:
                found.add((owner, commit.tree.decode("ascii")))
        return found

    @staticmethod
    def _branch_of(ref: bytes, owner: str | None) -> bytes:
        """The branch whose history holds what ``ref`` (a branch or one of its tags) names."""
        if not ref.startswith(TAG_REF_PREFIX):
            return ref
        if owner is not None:
            return class_ref(owner)
        return pipeline_ref(ref.split(b"/")[3].decode("utf-8", "surrogateescape"))

    def _remote_holds(self, branch: bytes, commit: bytes) -> bool:
        # Only a tag (or a created ref) walks past what a fast-forward stops at:
        # the remote branch's chain is read once, when first needed.
        if branch not in self._remote_chains:
            chain: frozenset[bytes] = frozenset()
            theirs = self._remote_refs.get(branch)
            tip = (
                peeled_commit(self._objects, theirs)
                if theirs is not None and ObjectID(theirs) in self._objects
                else None
            )
            if tip is not None:
                chain = frozenset(c.id for c in first_parent_chain(self._objects, tip))
            self._remote_chains[branch] = chain
        return commit in self._remote_chains[branch]
