"""Making the commits of a store: its author identity, and its signature when it has a key."""

from __future__ import annotations

import time
from pathlib import Path

from dulwich.objects import Commit, ObjectID

from gitpet.git.identity import configured_identity
from gitpet.git.repository import Repository

__all__ = ["CommitMaker"]


class CommitMaker:
    """Makes the commits of one store: its identity as author and committer, signed if it has a key.

    Args:
        repository: the store's repository (its git config may hold the identity).
        author: ``Name <email>`` already checked, or None to read it at the first commit
            as git does (see :mod:`gitpet.git.identity`).
        signing_key: an SSH private key that signs every commit, or None.

    Examples:
        >>> import tempfile
        >>> repository = Repository(Path(tempfile.mkdtemp()) / "store", fsync=False)
        >>> maker = CommitMaker(repository, b"Ada <ada@example.com>", None)
        >>> commit = maker.make(b"4b825dc642cb6eb9a060e54bf8d69288fbee4904", None, "empty\\n", when=0)
        >>> commit.author, commit.parents
        (b'Ada <ada@example.com>', [])
    """

    def __init__(self, repository: Repository, author: bytes | None, signing_key: Path | None) -> None:
        self._repository = repository
        self._author = author
        self._signing_key = signing_key

    def author_line(self) -> bytes:
        """The identity of the commits this store makes.

        Writers ask for it before they create or change anything: an identity
        git would reject raises InvalidNameError and leaves the store as it was.
        """
        if self._author is None:
            from dulwich.config import StackedConfig  # only writers read the identity: not at import

            repo = self._repository.open()
            config = repo.get_config_stack() if repo is not None else StackedConfig.default()
            self._author = configured_identity(config)
        return self._author

    def make(self, tree: bytes, parent: bytes | None, message: str, *, when: int | None = None) -> Commit:
        """A commit of ``tree`` on top of ``parent`` (None: a first commit), signed if there is a key."""
        commit = Commit()
        commit.tree = ObjectID(tree)
        commit.parents = [ObjectID(parent)] if parent is not None else []
        commit.author = commit.committer = self.author_line()
        commit.author_time = commit.commit_time = int(time.time()) if when is None else when
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = None
        commit.message = message.encode("utf-8")
        self.sign(commit)
        return commit

    def sign(self, commit: Commit) -> None:
        """Sign ``commit`` with the store's key, if it has one."""
        if self._signing_key is not None:
            # Signing runs ssh-keygen through a temporary file: imported only by stores that sign.
            from gitpet.git.signing import sign_commit

            sign_commit(commit, self._signing_key)
