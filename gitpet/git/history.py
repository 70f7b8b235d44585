"""Walking and reconciling version histories (pure functions over an object store).

A class's history is the first-parent chain of its ref; every commit's tree
is one version. When two stores added different versions on top of the same
history, the versions one side lacks are replayed, oldest first, on top of the
other side's latest: versions are snapshots, so this never conflicts, and the
result contains every version of both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dulwich.object_store import BaseObjectStore
from dulwich.objects import Commit, ObjectID, ShaFile, Tag, Tree

from gitpet.errors import IntegrityError
from gitpet.format.bounds import MAX_TAG_CHAIN
from gitpet.git.integrity import CommitFields, RawReader, commit_fields, find_object, read_object, read_raw

__all__ = [
    "ObjectReader",
    "commits_missing_from",
    "first_parent_chain",
    "first_parent_commits",
    "is_ancestor",
    "peeled_commit",
    "peeled_tree",
    "read_commit",
    "replay",
]


ObjectReader = BaseObjectStore


def read_commit(objects: RawReader, sha: bytes) -> Commit:
    """The commit ``sha``, checked to be whole and what its id says (else :class:`IntegrityError`)."""
    obj = read_object(objects, sha, "commit")
    if not isinstance(obj, Commit):
        raise IntegrityError(sha.decode("ascii"), f"expected a commit, found a {obj.type_name.decode()}")
    return obj


def first_parent_chain(objects: RawReader, tip: bytes) -> Iterator[CommitFields]:
    """The commits of a history, newest first, following first parents.

    Each is hashed again, and read for what a history needs (see
    :func:`~gitpet.git.integrity.commit_fields`); :func:`first_parent_commits`
    parses and checks each whole.
    """
    sha: bytes | None = tip
    while sha is not None:
        commit = commit_fields(sha, read_raw(objects, sha, b"commit", "commit"))
        yield commit
        sha = commit.parents[0] if commit.parents else None


def first_parent_commits(objects: RawReader, tip: bytes) -> Iterator[Commit]:
    """Like :func:`first_parent_chain`, each commit parsed and checked whole (to copy or verify it)."""
    sha: bytes | None = tip
    while sha is not None:
        commit = read_commit(objects, sha)
        yield commit
        sha = commit.parents[0] if commit.parents else None


def _ancestry(objects: ObjectReader, tip: bytes) -> Iterator[bytes]:
    """``tip`` and every commit reachable from it (any parent), each once."""
    seen = {tip}
    pending = [tip]
    yield tip
    while pending:
        sha = pending.pop()
        for parent in commit_fields(sha, read_raw(objects, sha, b"commit", "commit")).parents:
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
                yield parent


def is_ancestor(objects: ObjectReader, ancestor: bytes, tip: bytes) -> bool:
    """Whether ``ancestor`` is ``tip`` or reachable from it (any parent)."""
    if ancestor == tip:
        return True
    if ObjectID(ancestor) not in objects or ObjectID(tip) not in objects:
        # Histories held here are complete: one we lack is not ours to walk,
        # and one that lacks the ancestor cannot contain it.
        return False
    return any(sha == ancestor for sha in _ancestry(objects, tip))


def commits_missing_from(objects: ObjectReader, ours: bytes, theirs: bytes) -> list[Commit]:
    """Our first-parent commits that ``theirs`` does not contain, oldest first."""
    known = set(_ancestry(objects, theirs))
    missing = []
    for commit in first_parent_commits(objects, ours):
        if commit.id in known:
            break
        missing.append(commit)
    missing.reverse()
    return missing


def replay(
    objects: ObjectReader,
    ours: bytes,
    theirs: bytes,
    committer: bytes,
    when: int,
    sign: Callable[[Commit], None] | None = None,
) -> tuple[bytes, list[Commit]]:
    """Put our versions that ``theirs`` lacks on top of ``theirs``.

    Each replayed commit keeps its tree, author, author date and message; a
    version equal to the one it would sit on is skipped (nothing to add).
    Returns the new tip and the new commits (to be written before any ref moves).
    ``sign`` signs each new commit before the next one names it as parent.
    """
    tip = theirs
    tip_tree = read_commit(objects, theirs).tree
    created: list[Commit] = []
    for original in commits_missing_from(objects, ours, theirs):
        if original.tree == tip_tree:
            continue
        commit = Commit()
        commit.tree = original.tree
        commit.parents = [ObjectID(tip)]
        commit.author = original.author
        commit.author_time = original.author_time
        commit.author_timezone = original.author_timezone
        commit.committer = committer
        commit.commit_time = when
        commit.commit_timezone = 0
        commit.encoding = original.encoding
        commit.message = original.message
        if sign is not None:
            sign(commit)
        created.append(commit)
        tip, tip_tree = commit.id, commit.tree
    return tip, created


def _peel(objects: RawReader, sha: bytes) -> ShaFile | None:
    """The object a ref's target names once annotated tags are followed; None if missing."""
    for _depth in range(MAX_TAG_CHAIN):
        obj = find_object(objects, sha)
        if not isinstance(obj, Tag):
            return obj
        sha = obj.object[1]
    raise IntegrityError(sha.decode("ascii"), "tag chain is too deep")


def peeled_commit(objects: RawReader, sha: bytes) -> bytes | None:
    """The commit a ref's target names, through annotated tags; None if it names no commit."""
    obj = _peel(objects, sha)
    return obj.id if isinstance(obj, Commit) else None


def peeled_tree(objects: RawReader, sha: bytes) -> bytes | None:
    """The version (tree) a ref's target names: through annotated tags and commits."""
    obj = _peel(objects, sha)
    if isinstance(obj, Commit):
        tree: bytes = obj.tree
        return tree
    return obj.id if isinstance(obj, Tree) else None
