"""The one rule for naming a version of a history: a class's versions and a pipeline's snapshots alike.

A spec is resolved against one history (a ref whose first-parent chain holds
trees) and always yields one tree of that history:

- ``None``: the tree of the newest commit;
- ``~N``: the tree N commits back along first parents;
- a tag: the tree the tag names (through annotated tags and a commit);
- 7 to 40 hex characters: the prefix of a tree id, or of a commit id whose
  tree is meant (as ``git log`` shows it).

Every tree a spec finds must belong to the history (:attr:`History.owner`
says to whom a tree belongs); a prefix must name exactly one such tree. What
differs between classes and pipelines is only who owns a tree and which
errors say so (:class:`SpecErrors`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, NoReturn

from dulwich.object_store import DiskObjectStore

from gitpet.format.names import FULL_ID, missing_tag_detail, parse_version_spec
from gitpet.git.history import first_parent_chain, peeled_commit
from gitpet.git.integrity import commit_tree, find_raw
from gitpet.git.refstore import RefStore
from gitpet.git.repository import Repository
from gitpet.store.tags import Tags

__all__ = ["History", "Resolved", "SpecErrors", "SpecResolver"]


class SpecErrors(NamedTuple):
    """The errors a history raises; each raises, never returns.

    ``missing(spec, detail)``: nothing found; ``ambiguous(spec, tree ids)``: a prefix
    names several trees of the history; ``other_owner(spec, owner)``: the one tree found
    belongs to another history; ``empty(detail)``: the history does not exist.
    """

    missing: Callable[[str, str], NoReturn]
    ambiguous: Callable[[str, list[str]], NoReturn]
    other_owner: Callable[[str, str], NoReturn]
    empty: Callable[[], NoReturn]


class History(NamedTuple):
    """One history a spec is resolved against.

    Args:
        name: the class or pipeline name (in messages).
        ref: the ref whose first-parent chain is the history.
        tag_ref: the ref of one of its tags.
        owner: the name of the history a tree belongs to, or None when it is
            no tree of this kind at all.
        unit: "version" or "snapshot" (in messages).
        errors: how each failure is raised.
    """

    name: str
    ref: bytes
    tag_ref: Callable[[str], bytes]
    owner: Callable[[bytes], str | None]
    unit: str
    errors: SpecErrors


class Resolved(NamedTuple):
    """The tree a spec names, and the commit when the spec named one (newest, ``~N``, a tag)."""

    tree: bytes
    commit: bytes | None = None


class SpecResolver:
    """Resolves specs against the histories of one repository.

    Args:
        repository: where the objects are.
        refs: where the histories' refs are.
        tags: reads what a tag names (a bad one names nothing).
    """

    def __init__(self, repository: Repository, refs: RefStore, tags: Tags) -> None:
        self._repository = repository
        self._refs = refs
        self._tags = tags

    def resolve(self, history: History, spec: str | None) -> Resolved:
        """The tree ``spec`` names in ``history`` (see the module docstring for the rule)."""
        errors = history.errors
        if spec is None:
            tip = self._refs.read(history.ref)
            if tip is None:
                errors.empty()
            return Resolved(self._repository.tree_of(tip), tip)
        parsed = parse_version_spec(history.name, spec)
        objects = self._repository.object_store()
        if objects is None:
            errors.missing(spec, f"store {self._repository.path} is empty: was it pushed, and fetched here?")
        if parsed.back is not None:
            return self._back(history, spec, parsed.back)
        if parsed.tag is not None:
            return self._tagged(history, spec, parsed.tag)
        assert parsed.prefix is not None
        return self._by_prefix(history, spec, parsed.prefix, objects)

    def _back(self, history: History, spec: str, back: int) -> Resolved:
        tip = self._refs.read(history.ref)
        if tip is None:
            history.errors.empty()
        steps = 0
        for steps, commit in enumerate(first_parent_chain(self._repository.objects(), tip)):
            if steps == back:
                return Resolved(commit.tree, commit.id)
        history.errors.missing(spec, f"{history.name} has only {steps + 1} {history.unit}(s)")

    def _tagged(self, history: History, spec: str, tag: str) -> Resolved:
        ref = history.tag_ref(tag)
        sha = self._refs.read(ref)
        tree = self._tags.target(ref, sha) if sha is not None else None
        if sha is None or tree is None:
            history.errors.missing(spec, missing_tag_detail(history.name, tag))
        self._owned(history, spec, {tree: history.owner(tree)})
        # target() peeled it already: peeling again cannot fail.
        return Resolved(tree, peeled_commit(self._repository.objects(), sha))

    def _by_prefix(self, history: History, spec: str, prefix: str, objects: DiskObjectStore) -> Resolved:
        wanted = prefix.encode("ascii")
        if len(prefix) == FULL_ID and history.owner(wanted) == history.name:
            return Resolved(wanted)  # a version id of the history: the usual spec, read once
        # A full id is looked up as it is: listing by prefix would scan the whole loose fan-out directory.
        named = [wanted] if len(prefix) == FULL_ID else sorted(set(objects.iter_prefix(wanted)))
        owners: dict[bytes, str | None] = {}
        for sha in named:
            owner = history.owner(sha)
            if owner is not None:  # a tree of this kind: the usual case, read once
                owners[sha] = owner
                continue
            found = find_raw(self._repository.objects(), sha)
            if found is not None and found[0] == b"commit":
                tree = commit_tree(sha, found[1])
                owners[tree] = history.owner(tree)
        return Resolved(self._owned(history, spec, owners))

    def _owned(self, history: History, spec: str, owners: dict[bytes, str | None]) -> bytes:
        """The one tree that belongs to ``history`` (tree -> its owner), else the right error."""
        owned = [tree for tree, owner in owners.items() if owner == history.name]
        others = [owner for owner in owners.values() if owner is not None and owner != history.name]
        if len(owned) == 1:
            return owned[0]
        if len(owned) > 1:
            history.errors.ambiguous(spec, [tree.decode("ascii") for tree in owned])
        if len(others) == 1:
            history.errors.other_owner(spec, others[0])
        history.errors.missing(spec, "")
