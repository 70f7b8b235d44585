"""The one way a history grows: a commit of a new tree on top of a ref, moved by compare-and-swap.

Class versions, rollbacks and pipeline snapshots are all written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from dulwich.objects import Commit, ShaFile

from gitpet.git.commits import CommitMaker
from gitpet.git.object_writer import Written
from gitpet.git.refstore import RefStore
from gitpet.git.repository import Repository

__all__ = ["HistoryWriter", "PlannedCommit"]


class PlannedCommit(NamedTuple):
    """What advancing a ref will try first: its parent, and the new commit (None: nothing to add)."""

    parent: bytes | None
    commit: Commit | None


class HistoryWriter:
    """Advances refs to new trees, never losing a racing writer's commit.

    Args:
        repository: the store's repository.
        refs: moves each ref by compare-and-swap.
        commits: makes the commits (author, signature).

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from gitpet.git.locks import LockRetry, WriterLock
        >>> from gitpet.git.object_writer import ObjectWriter
        >>> repository = Repository(Path(tempfile.mkdtemp()) / "store", fsync=False)
        >>> retry = LockRetry(WriterLock(repository.path), lock_timeout=5, stale_lock_after=10)
        >>> refs = RefStore(repository, retry, ObjectWriter(retry, fsync=False))
        >>> writer = HistoryWriter(repository, refs, CommitMaker(repository, b"A <a@b.c>", None))
        >>> from dulwich.objects import Tree
        >>> empty = Tree()
        >>> writer.advance(b"refs/heads/Empty", empty.id, "empty\\n", keep=[empty])[1]
        True
        >>> writer.advance(b"refs/heads/Empty", empty.id, "again\\n")[1]     # already the newest tree
        False
    """

    def __init__(self, repository: Repository, refs: RefStore, commits: CommitMaker) -> None:
        self._repository = repository
        self._refs = refs
        self._commits = commits

    def plan(self, ref: bytes, tree: bytes, message: str, *, when: int | None = None) -> PlannedCommit:
        """The commit that would put ``tree`` on top of ``ref`` now (None if it already holds it)."""
        parent = self._refs.read(ref)
        if parent is not None and self._repository.tree_of(parent) == tree:
            return PlannedCommit(parent, None)
        return PlannedCommit(parent, self._commits.make(tree, parent, message, when=when))

    def advance(
        self,
        ref: bytes,
        tree: bytes,
        message: str,
        *,
        planned: PlannedCommit | None = None,
        keep: Sequence[ShaFile] = (),
        written: Written | None = None,
        present: Sequence[bytes] = (),
    ) -> tuple[bytes, bool]:
        """Make ``tree`` the newest of ``ref``'s history; return the tip and whether a commit was added.

        ``planned``: the first attempt, made by :meth:`plan` (default: planned now).
        ``keep``: the new objects the tree needs besides the commit. Each swap first
        makes sure they and the commit are stored and fresh, and that the ``present``
        objects are still there, under the same writers lock, however long rebasing
        onto racing writers took.
        """
        self._commits.author_line()  # an identity git would reject fails before the store is created
        self._repository.writable()
        planned = planned or self.plan(ref, tree, message)
        parent, commit = planned.parent, planned.commit
        while True:
            if commit is None:
                assert parent is not None
                return parent, False
            moved = self._refs.compare_and_swap(
                ref, parent, commit.id, keep=(*keep, commit), written=written, present=present
            )
            if moved:
                self._repository.remember_tree(commit.id, tree)
                return commit.id, True
            # Another writer moved the ref: put ours on top of theirs.
            planned = self.plan(ref, tree, message)
            parent, commit = planned.parent, planned.commit

    def add_behind(
        self,
        ref: bytes,
        tree: bytes,
        message: str,
        restore_message: str,
        *,
        keep: Sequence[ShaFile] = (),
    ) -> tuple[bytes, bool]:
        """Put ``tree`` into ``ref``'s history without making it the newest tree.

        Two commits in one compare-and-swap: one of ``tree`` on the tip, then one of the
        tip's tree again (``restore_message``), so the newest tree stays what it was and
        no reader ever sees ``tree`` as the newest. With no history yet, ``tree`` becomes
        its first and newest tree (a history's newest commit is its newest tree).
        Returns the new tip and whether anything was added (not when ``tree`` is the newest).
        """
        self._commits.author_line()
        self._repository.writable()
        while True:
            parent = self._refs.read(ref)
            if parent is None:
                return self.advance(ref, tree, message, keep=keep)
            newest = self._repository.tree_of(parent)
            if newest == tree:
                return parent, False
            added = self._commits.make(tree, parent, message)
            restored = self._commits.make(newest, added.id, restore_message)
            if self._refs.compare_and_swap(ref, parent, restored.id, keep=(*keep, added, restored)):
                self._repository.remember_tree(restored.id, newest)
                return restored.id, True
