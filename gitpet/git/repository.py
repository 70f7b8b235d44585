"""The bare repository of a store: opened on first use, created on first write, closed together.

It also hands out the fast object reader (:class:`~gitpet.git.objread.RawObjectReader`)
and remembers which tree each commit holds: git objects never change, so
neither ever goes stale.

Reading needs only the refs and the object directory: a bare repository laid
out as git and gitpet make one is read without a dulwich ``Repo``, whose
construction imports dulwich's work-tree support (4 ms of a process that
starts only to load a class). Anything else is opened as a ``Repo``, which
refuses what it cannot read, as every write does.
"""

from __future__ import annotations

import os
import uuid
import weakref
from pathlib import Path
from typing import Any, NamedTuple

from dulwich.errors import NotGitRepository
from dulwich.object_store import DiskObjectStore
from dulwich.refs import DiskRefsContainer, RefsContainer
from dulwich.repo import Repo, UnsupportedExtension, UnsupportedVersion

from gitpet.cache import BoundedCache
from gitpet.errors import NotAGitRepositoryError, NotAStoreError
from gitpet.git.dulwich_private import turn_off_reflog
from gitpet.git.integrity import CommitFields, commit_fields, commit_tree, read_raw
from gitpet.git.objread import RawObjectReader
from gitpet.git.ownership import claim_store, mark_store

__all__ = ["Repository"]

_COMMIT_TREES = 100_000
_RECENT_COMMITS = 256


class _OpenFiles:
    """Things a repository opened (a dulwich Repo, the raw object reader), closed together."""

    def __init__(self) -> None:
        self._items: list[Any] = []

    def add(self, item: Any) -> None:
        self._items.append(item)

    def discard(self, item: Any) -> None:
        self._items = [kept for kept in self._items if kept is not item]

    def close(self) -> None:
        items, self._items = self._items, []
        for item in reversed(items):
            item.close()


class _Reading(NamedTuple):
    """What reads use: the refs and dulwich's object store."""

    refs: RefsContainer
    objects: DiskObjectStore


class Repository:
    """The bare repository at ``path``, opened lazily and kept open (loose reads cost a file open each).

    Args:
        path: where the bare repository lives (created by :meth:`writable`).
        fsync: sync every loose object dulwich writes.

    Examples:
        >>> import tempfile
        >>> repository = Repository(Path(tempfile.mkdtemp()) / "store", fsync=False)
        >>> repository.exists(), repository.open() is None
        (False, True)
        >>> repository.writable().bare, repository.exists()
        (True, True)
        >>> repository.close()
    """

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self._path = path
        self._fsync = fsync
        self._repo: Repo | None = None
        self._claimed = False  # checked that gitpet may write here (see gitpet.git.ownership)
        self._reader: RawObjectReader | None = None
        self._reading: _Reading | None = None
        # Closed by close(), when the repository is collected, and at interpreter exit:
        # before module teardown, where dulwich's __del__ fails noisily.
        self._open_files = _OpenFiles()
        weakref.finalize(self, self._open_files.close)
        self._commit_trees: BoundedCache[bytes, bytes] = BoundedCache(_COMMIT_TREES)
        # The content of the last commits tree_of read: a load asks next what its commit records.
        self._recent_commits: BoundedCache[bytes, bytes] = BoundedCache(_RECENT_COMMITS)

    @property
    def path(self) -> Path:
        """Where the repository lives."""
        return self._path

    @property
    def fsync(self) -> bool:
        """Whether every file written here is synced before it is used."""
        return self._fsync

    def exists(self) -> bool:
        """Whether the repository has been created (nothing is created here)."""
        return self.refs() is not None

    def refs(self) -> RefsContainer | None:
        """The refs, to read; None while the repository has not been created."""
        reading = self._read_parts()
        return reading.refs if reading is not None else None

    def open(self) -> Repo | None:
        """The repository, or None while it has not been created."""
        return self._opened(create=False)

    def writable(self) -> Repo:
        """The repository, created if needed, once it is known to be gitpet's to write into."""
        repo = self._opened(create=True)
        assert repo is not None  # created or raised
        if not self._claimed:
            claim_store(repo, self._path)
            self._claimed = True
        return repo

    def object_store(self) -> DiskObjectStore | None:
        """dulwich's store of the objects, to read; None while the repository has not been created."""
        reading = self._read_parts()
        return reading.objects if reading is not None else None

    def _read_parts(self) -> _Reading | None:
        """The refs and objects reads use: built directly for a plain bare layout, else the Repo's."""
        if self._reading is None:
            if self._repo is None and self._plain_bare():
                objects = DiskObjectStore(os.path.join(self._path, "objects"))
                self._open_files.add(objects)
                self._reading = _Reading(DiskRefsContainer(os.fspath(self._path)), objects)
            else:
                repo = self.open()
                if repo is None:
                    return None
                self._reading = _Reading(repo.refs, repo.object_store)
        return self._reading

    def objects(self) -> RawObjectReader:
        """The fast reader of the open repository's objects (see :mod:`gitpet.git.objread`)."""
        if self._reader is None:
            store = self.object_store()
            assert store is not None, "objects() of a repository that does not exist"
            self._reader = RawObjectReader(store)
            self._open_files.add(self._reader)
        return self._reader

    def tree_of(self, commit: bytes) -> bytes:
        """The tree commit ``commit`` holds, its object checked."""
        tree = self._commit_trees.get(commit)
        if tree is None:
            raw = read_raw(self.objects(), commit, b"commit", "commit")
            tree = commit_tree(commit, raw)
            self._commit_trees[commit] = tree
            self._recent_commits[commit] = raw
        return tree

    def commit(self, sha: bytes) -> CommitFields:
        """What a history needs of commit ``sha`` (see :func:`~gitpet.git.integrity.commit_fields`).

        Its object is checked when read; one :meth:`tree_of` just read is not read again.
        """
        raw = self._recent_commits.get(sha)
        if raw is None:
            raw = read_raw(self.objects(), sha, b"commit", "commit")
        return commit_fields(sha, raw)

    def remember_tree(self, commit: bytes, tree: bytes) -> None:
        """Record that ``commit`` (just written here) holds ``tree``."""
        self._commit_trees[commit] = tree

    def drop_reader(self) -> None:
        """Forget the object reader, unmapping its packs (after gc removed some)."""
        if self._reader is not None:
            self._open_files.discard(self._reader)
            self._reader.close()
            self._reader = None

    def close(self) -> None:
        """Close everything opened; the repository reopens itself on next use."""
        self._repo = None
        self._reader = None
        self._reading = None
        self._open_files.close()

    def _plain_bare(self) -> bool:
        """Whether the path holds a bare repository dulwich would open as it is, to be read directly.

        Its config is looked at as text: a format version above 0 (extensions, such as
        another hash) or anything unreadable sends the caller to a ``Repo``, which decides.
        """
        path = self._path
        try:
            config = (path / "config").read_bytes().lower()
        except OSError:
            return False
        return (
            b"repositoryformatversion = 0" in config
            and b"[extensions" not in config
            and (path / "objects").is_dir()
            and (path / "refs").is_dir()
            and not (path / ".git").exists()
        )

    def _opened(self, *, create: bool) -> Repo | None:
        if self._repo is not None:
            return self._repo
        try:
            return self._open_path(create=create)
        except OSError as err:
            raise NotAGitRepositoryError(str(self._path), f"cannot be used: {err.strerror or err}") from err

    def _open_path(self, *, create: bool) -> Repo | None:
        path = self._path
        if not path.exists():
            if not create:
                return None
            _init_bare(path)
        elif not path.is_dir():
            raise NotAGitRepositoryError(str(path), "it is a file")
        elif create and not any(path.iterdir()):
            _init_bare(path)
        try:
            repo = Repo(str(path))
        except NotGitRepository as err:
            if not any(path.iterdir()) and not create:
                return None
            raise NotAGitRepositoryError(str(path), "no git repository found") from err
        except UnsupportedExtension as err:
            # Made by a git using a newer format (another hash, another ref store): gitpet
            # would misread it.
            raise NotAStoreError(
                str(path), f"it needs git's extension {err.extension!r}, which gitpet cannot read"
            ) from err
        except UnsupportedVersion as err:
            raise NotAStoreError(
                str(path), f"its repositoryformatversion is {err.version}, which gitpet cannot read"
            ) from err
        if not repo.bare:
            repo.close()
            raise NotAStoreError(
                str(path),
                "it is a git repository with a work tree (a project's own repository?); gitpet "
                "keeps classes in a bare repository of its own: use another path, e.g. ./.gitpet",
            )
        turn_off_reflog(repo)
        repo.object_store.fsync_object_files = self._fsync
        self._repo = repo
        self._open_files.add(repo)
        return repo


def _init_bare(path: Path) -> None:
    # Build the repository beside its final place and rename it in, so a
    # concurrent opener never sees half a repository.
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.parent / f".{path.name}.init-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    created = Repo.init_bare(str(staging), mkdir=True)
    mark_store(created)
    created.close()
    try:
        os.rename(staging, path)
    except OSError:
        # Someone else created it first (or it is a non-empty directory, which opening reports).
        import shutil  # imported here: it brings bz2 and lzma, which nothing else opening a store needs

        shutil.rmtree(staging, ignore_errors=True)
