"""GitStore: versions of classes in a bare git repository, written through dulwich.

Layout (DESIGN.md §1): ``refs/heads/<name>`` is the latest version of class
``<name>``; its first-parent history is the class's version history; each
commit's tree is one version (``source.py``, ``class.pkl``, ``meta.json``) and
the tree id is the version id.

Writes put every object on disk before a ref moves, and move refs only by
compare-and-swap, retrying with backoff while another writer holds the lock.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dulwich.config import ConfigFile, StackedConfig
from dulwich.errors import NotGitRepository
from dulwich.file import FileLocked
from dulwich.objects import Commit, ObjectID, ShaFile
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitpet.arguments import check_bool, check_limit, check_path, check_seconds, check_text
from gitpet.config import StoreConfig, default_store_path
from gitpet.errors import (
    AmbiguousVersionError,
    ClassNotFoundError,
    IntegrityError,
    InvalidArgumentError,
    InvalidNameError,
    NotAGitRepositoryError,
    NotAStoreError,
    RemoteError,
    StoreBusyError,
    TagExistsError,
    VersionNotFoundError,
    WrongClassVersionError,
)
from gitpet.format.bounds import META_JSON_MAX_BYTES, load_stored_json
from gitpet.format.names import (
    CLASS_REF_PREFIX,
    FULL_ID,
    check_class_name,
    check_remote_name,
    check_tag_name,
    class_ref,
    is_ownable_ref,
    is_pipeline_ref,
    missing_tag_detail,
    parse_version_spec,
    pipeline_ref,
    tag_prefix,
    tag_ref,
)
from gitpet.format.version_files import CLASS_PICKLE, META, SOURCE, VersionFiles, VersionTree
from gitpet.git.dulwich_private import loose_object_path, refresh_packs, turn_off_reflog
from gitpet.git.history import first_parent_chain, peeled_commit, peeled_tree
from gitpet.git.identity import configured_identity
from gitpet.git.integrity import TreeEntries, commit_tree, find_raw, read_raw, tree_entries
from gitpet.git.locks import FetchLock, WriterLock, log, remove_if_stale
from gitpet.git.objread import RawObjectReader
from gitpet.git.objwrite import write_loose, write_pack
from gitpet.git.ownership import claim_store, mark_store
from gitpet.git.refs import read_ref, swap_ref
from gitpet.git.writefaults import writes_store
from gitpet.records import PushResult, VersionInfo
from gitpet.trust.trustlist import TrustList

if TYPE_CHECKING:
    # Imported where used: sharing, gc, verify, pipelines and signing are not
    # on the path of loading a class, and importing them (dulwich's network
    # client above all) was a third of ``import gitpet``.
    from gitpet.maintenance.gc import GcReport
    from gitpet.maintenance.verify import VerifyReport
    from gitpet.pipelines.history import PipelineHistory
    from gitpet.sync.remote import SyncReport

__all__ = ["GitStore", "PushResult", "StoredVersion", "VersionInfo", "default_store_path"]

# Below this many new objects, loose files are cheaper than a pack and do not
# multiply the packs every later read must search (measured: 0.33 ms/version
# loose, 1.3 ms/version as one pack each, 0.2 ms/version in one big pack).
_PACK_THRESHOLD = 64
# An object larger than this is written into a pack, never loose: dulwich refuses to read
# a loose object over 512 MiB (git's core.bigFileThreshold), so gc, verify and push could
# not read back a large class gitpet had written.
LARGEST_LOOSE_BYTES = 64 * 1024 * 1024
_VERSION_ENTRIES = frozenset({SOURCE, CLASS_PICKLE, META})
_TRUSTED_KEY = b"gitpettrusted"
_VERSION_CACHE_BYTES = 64 * 1024 * 1024


_K = TypeVar("_K")
_V = TypeVar("_V")


class _OpenFiles:
    """Things a store opened (a dulwich Repo, the raw object reader), closed together."""

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


class _BoundedCache(dict[_K, _V]):
    """A dict that forgets its oldest entries past ``limit`` units (immutable values only).

    ``size`` gives each value's units (default 1: ``limit`` counts entries).
    """

    def __init__(self, limit: int, size: Callable[[_V], int] | None = None) -> None:
        super().__init__()
        self._limit = limit
        self._size = size
        self._used = 0
        self._lock = threading.Lock()  # threads sharing a store insert concurrently

    def __setitem__(self, key: _K, value: _V) -> None:
        with self._lock:
            old = self.get(key)
            if old is not None:
                self._used -= self._units(old)
            super().__setitem__(key, value)
            self._used += self._units(value)
            while self._used > self._limit and len(self) > 1:
                oldest = next(iter(self))
                self._used -= self._units(self.pop(oldest))

    def _units(self, value: _V) -> int:
        return 1 if self._size is None else self._size(value)


def _check_items(items: object) -> None:
    """``write_versions``'s argument: a sequence of ``(class name, VersionTree)``."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InvalidArgumentError("items", items, "must be a sequence of (name, VersionTree) pairs")
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], VersionTree)):
            raise InvalidArgumentError("item", item, "must be a (name, VersionTree) pair")


@dataclass(frozen=True)
class StoredVersion:
    """A version read from the store: its id, its files and its parsed meta.

    Examples:
        >>> version = pcm.push(Model)
        >>> stored = store.read_version("Model")
        >>> stored.id == version, stored.meta["name"], stored.files.pickle[:1]
        (True, 'Model', b'\x80')
    """

    name: str
    id: str
    files: VersionFiles
    meta: dict[str, Any]


@dataclass(frozen=True)
class _VersionHead:
    """A version tree's entries (name -> (mode, blob id)) and its meta.json, read once while resolving."""

    entries: TreeEntries
    meta_blob: bytes
    meta: dict[str, Any]


class GitStore:
    """A bare git repository holding class versions; created on first write.

    Args:
        path: where the bare repository lives; default ``$GITPET_STORE``,
            else ``./.gitpet``.
        author: ``"Name <email>"`` for the commits (checked as git checks it:
            InvalidNameError otherwise); default ``$GITPET_AUTHOR``, else
            ``$GIT_AUTHOR_NAME``/``$GIT_AUTHOR_EMAIL``, else ``user.name``/
            ``user.email`` from the store's, your global or the system git
            config, else ``gitpet <gitpet@localhost>``.
        lock_timeout: seconds to keep retrying a ref another writer holds.
        stale_lock_after: a lock file older than this whose writer is gone
            (no gitpet process is inside a write step) is removed; see
            :mod:`gitpet.git.locks` and docs/reliability.md.
        signing_key: an SSH private key that signs every commit gitpet makes
            here; default ``$GITPET_SIGNING_KEY``, else unsigned.
        fsync: also sync every loose object and ref file before it counts as
            written (git's ``core.fsync=all``). By default, as in git, packs
            are synced and loose objects and refs are not: a killed process
            loses nothing either way; a power cut may lose the newest pushes
            (see docs/reliability.md).

    Examples:
        >>> import tempfile
        >>> store = GitStore(tempfile.mkdtemp() + "/store")
        >>> store.exists()
        False
        >>> store.names()
        []
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        author: str | None = None,
        lock_timeout: float = 30.0,
        stale_lock_after: float = 10.0,
        signing_key: str | os.PathLike[str] | None = None,
        fsync: bool = False,
    ) -> None:
        self._config = StoreConfig.from_arguments(
            path,
            author=author,
            lock_timeout=lock_timeout,
            stale_lock_after=stale_lock_after,
            signing_key=signing_key,
            fsync=fsync,
        )
        self._path = self._config.path
        # The environment's and git config's identity is read at the first write, as git does.
        self._author: bytes | None = self._config.author
        self._lock_timeout = self._config.lock_timeout
        self._fsync = self._config.fsync
        self._stale_lock_after = self._config.stale_lock_after
        self._writers = WriterLock(self._path)
        self._fetching = FetchLock(self._path)
        self._trusted = TrustList(self._path, fsync=self._fsync)
        self._signing_key = self._config.signing_key
        self._signers: dict[tuple[bytes, Path], str | None] = {}
        self._repo_handle: Repo | None = None
        self._claimed = False  # checked that gitpet may write here (see _ownership)
        self._reader: RawObjectReader | None = None
        # What this store has open, closed by close(), when the store is collected, and at
        # interpreter exit: before module teardown, where dulwich's __del__ fails noisily.
        self._open_files = _OpenFiles()
        weakref.finalize(self, self._open_files.close)
        # Git objects never change, so these caches never go stale.
        self._commit_trees: _BoundedCache[bytes, bytes] = _BoundedCache(100_000)
        # By bytes, not entries: a count of 512 made every pull in a loop over
        # 1000 classes a miss (274 us instead of 20 us per pull).
        self._version_cache: _BoundedCache[bytes, StoredVersion] = _BoundedCache(
            _VERSION_CACHE_BYTES, _stored_size
        )

    def __repr__(self) -> str:
        return f"GitStore({str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    # -- opening -----------------------------------------------------------

    @property
    def config(self) -> StoreConfig:
        """How this store works, fixed when it was made (:class:`StoreConfig`).

        Examples:
            >>> store.config.path == store.path, store.config.fsync
            (True, False)
        """
        return self._config

    @property
    def fsync(self) -> bool:
        """Whether every file this store writes is synced before it is used (``GitStore(fsync=True)``)."""
        return self._fsync

    def exists(self) -> bool:
        """Whether the repository has been created (nothing is created here).

        Examples:
            >>> store.exists()
            False
            >>> store.init(), store.exists()
            (True, True)
        """
        return self._open(create=False) is not None

    def _open(self, *, create: bool) -> Repo | None:
        if self._repo_handle is not None:
            return self._repo_handle
        try:
            return self._open_path(create=create)
        except OSError as err:
            raise NotAGitRepositoryError(str(self._path), f"cannot be used: {err.strerror or err}") from err

    def _open_path(self, *, create: bool) -> Repo | None:
        path = self._path
        if not path.exists():
            if not create:
                return None
            self._init_bare(path)
        elif not path.is_dir():
            raise NotAGitRepositoryError(str(path), "it is a file")
        elif create and not any(path.iterdir()):
            self._init_bare(path)
        try:
            repo = Repo(str(path))
        except NotGitRepository as err:
            if not any(path.iterdir()) and not create:
                return None
            raise NotAGitRepositoryError(str(path), "no git repository found") from err
        if not repo.bare:
            repo.close()
            raise NotAStoreError(
                str(path),
                "it is a git repository with a work tree (a project's own repository?); gitpet "
                "keeps classes in a bare repository of its own: use another path, e.g. ./.gitpet",
            )
        turn_off_reflog(repo)
        repo.object_store.fsync_object_files = self._fsync
        self._repo_handle = repo
        self._open_files.add(repo)
        return repo

    @staticmethod
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
            # Someone else created it first (or it is a non-empty directory,
            # which opening will report).
            shutil.rmtree(staging, ignore_errors=True)

    def _repo(self) -> Repo | None:
        return self._open(create=False)

    def _writable_repo(self) -> Repo:
        repo = self._open(create=True)
        assert repo is not None  # _open(create=True) creates or raises
        if not self._claimed:
            claim_store(repo, self._path)
            self._claimed = True
        return repo

    def close(self) -> None:
        """Release open files; the store reopens itself on next use.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.close()
            >>> store.names()          # reopens itself
            ['Model']
        """
        self._repo_handle = None
        self._reader = None
        self._open_files.close()
        self._writers.close()

    # -- reading -----------------------------------------------------------

    def names(self) -> list[str]:
        """Names of the classes in the store, sorted.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.names()
            ['Model']
        """
        repo = self._repo()
        if repo is None:
            return []
        # A ref gitpet could not have written (an odd name left by plain git) is not a class.
        keys = (bytes(key) for key in repo.refs.keys(base=Ref(CLASS_REF_PREFIX)))
        return sorted(
            key.decode("utf-8") for key in keys if b"/" not in key and is_ownable_ref(CLASS_REF_PREFIX + key)
        )

    def pipelines(self) -> list[str]:
        """Names of the pipelines with saved snapshots, sorted.

        Examples:
            >>> version = pcm.push(Model)
            >>> _ = store.pipeline("train").save({"clazz": "Model", "version_hash": version, "params": {}})
            >>> store.pipelines()
            ['train']
        """
        repo = self._repo()
        if repo is None:
            return []
        prefix = pipeline_ref("")
        refs = (prefix + bytes(key) for key in repo.refs.keys(base=Ref(prefix)))
        return sorted(ref[len(prefix) :].decode("utf-8") for ref in refs if is_ownable_ref(ref))

    def pipeline(self, name: str) -> PipelineHistory:
        """The snapshots of pipeline ``name`` (:class:`PipelineHistory`); nothing is read yet.

        Examples:
            >>> version = pcm.push(Model)
            >>> history = store.pipeline("train")
            >>> history.exists()
            False
        """
        from gitpet.pipelines.history import PipelineHistory

        return PipelineHistory(self, name)

    def has_version(self, name: str, version_id: str) -> bool:
        """Whether the store holds version ``version_id`` (full id) of class ``name``.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.has_version("Model", version), store.has_version("Model", "0" * 40)
            (True, False)
        """
        check_class_name(name)
        if not isinstance(version_id, str) or len(version_id) != FULL_ID:
            return False
        try:
            self._resolve(name, version_id)
        except VersionNotFoundError:
            return False
        return True

    def latest_commit(self, name: str) -> str | None:
        """The commit sha ``refs/heads/<name>`` points at, or None.

        Examples:
            >>> version = pcm.push(Model)
            >>> commit = store.latest_commit("Model")
            >>> len(commit), commit != version      # the commit that holds the version, not the version
            (40, True)
        """
        check_class_name(name)
        repo = self._repo()
        if repo is None:
            return None
        sha = self._read_ref(repo, class_ref(name))
        return sha.decode("ascii") if sha else None

    def latest_id(self, name: str) -> str | None:
        """The version id of the latest version of ``name``, or None.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.latest_id("Model") == version, store.latest_id("Other")
            (True, None)
        """
        commit = self.latest_commit(name)
        repo = self._repo()
        if commit is None or repo is None:
            return None
        try:
            return self._tree_of(repo, commit.encode("ascii")).decode("ascii")
        except IntegrityError as err:
            raise IntegrityError(f"refs/heads/{name} -> {commit}", err.detail) from err

    def resolve(self, name: str, version: str | None = None) -> str:
        """The full version id that ``version`` names; ``None`` means the latest.

        ``version`` is a version id, a unique prefix of 7+ hex characters, a
        tag of ``name``, or ``~N`` (N versions before the latest). The version
        must belong to ``name``.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.resolve("Model", version[:7]) == version == store.resolve("Model")
            True
        """
        return self._resolve(name, version)[0].decode("ascii")

    def _resolve(self, name: str, version: str | None) -> tuple[bytes, _VersionHead | None]:
        """The version id, and its tree and meta if resolving had to read them."""
        check_class_name(name)
        if version is None:
            latest = self.latest_id(name)
            if latest is None:
                raise ClassNotFoundError(name, f"store {self._path}")
            return latest.encode("ascii"), None
        spec = parse_version_spec(name, version)
        repo = self._repo()
        if repo is None:
            raise VersionNotFoundError(name, version, f"store {self._path} is empty")
        if spec.back is not None:
            return self._version_back(repo, name, version, spec.back), None
        if spec.tag is not None:
            target = self._tag_target(repo, name, spec.tag)
            if target is None:
                raise VersionNotFoundError(name, version, missing_tag_detail(name, spec.tag))
            return self._owned_version(repo, name, version, [target])
        assert spec.prefix is not None
        if len(spec.prefix) == FULL_ID:
            candidates = [spec.prefix.encode("ascii")]
        else:
            candidates = sorted(set(repo.object_store.iter_prefix(spec.prefix.encode("ascii"))))
        return self._owned_version(repo, name, version, candidates)

    def _version_back(self, repo: Repo, name: str, version: str, back: int) -> bytes:
        tip = self._read_ref(repo, class_ref(name))
        if tip is None:
            raise ClassNotFoundError(name, f"store {self._path}")
        for steps, commit in enumerate(first_parent_chain(repo.object_store, tip)):
            if steps == back:
                tree: bytes = commit.tree
                return tree
        raise VersionNotFoundError(name, version, f"{name} has only {steps + 1} version(s)")

    def _owned_version(
        self, repo: Repo, name: str, version: str, candidates: list[bytes]
    ) -> tuple[bytes, _VersionHead | None]:
        """The one candidate tree that is a version of ``name``, else the right error."""
        owned: list[tuple[bytes, _VersionHead | None]] = []
        others: list[str] = []
        for sha in candidates:
            cached = self._version_cache.get(sha)
            head = None if cached is not None else self._read_head(repo, sha)
            meta = cached.meta if cached is not None else head.meta if head is not None else {}
            owner = meta.get("name")
            if owner == name:
                owned.append((sha, head))
            elif isinstance(owner, str):
                others.append(owner)
        if len(owned) == 1:
            return owned[0]
        if len(owned) > 1:
            raise AmbiguousVersionError(name, version, [sha.decode("ascii") for sha, _ in owned])
        if len(others) == 1:
            raise WrongClassVersionError(name, version, others[0])
        raise VersionNotFoundError(name, version)

    def read_version(self, name: str, version: str | None = None) -> StoredVersion:
        """Read one version of ``name``: latest, or an exact id / unique prefix.

        Examples:
            >>> version = pcm.push(Model)
            >>> stored = store.read_version("Model")
            >>> stored.id == version, stored.meta["qualname"], sorted(stored.files.__dict__)
            (True, 'Model', ['meta', 'pickle', 'source'])
        """
        version_id, head = self._resolve(name, version)
        cached = self._version_cache.get(version_id)
        if cached is not None:
            # An entry answers only for the name it was read as: another class's ref may
            # point at the same tree, and the codec must see that name to refuse it.
            return cached if cached.name == name else replace(cached, name=name)
        repo = self._repo()
        assert repo is not None  # _resolve() found the version in it
        if head is None:
            head = self._read_head(repo, version_id)
            if head is None:
                raise IntegrityError(version_id.decode("ascii"), "latest commit's tree is not a version")
        files = VersionFiles(
            source=self._entry(repo, version_id, head.entries, SOURCE),
            pickle=self._entry(repo, version_id, head.entries, CLASS_PICKLE),
            meta=head.meta_blob,
        )
        stored = StoredVersion(name=name, id=version_id.decode("ascii"), files=files, meta=head.meta)
        self._version_cache[version_id] = stored
        return stored

    def versions(self, name: str, limit: int | None = None) -> list[VersionInfo]:
        """History of ``name``, newest first (first-parent chain of its ref).

        ``limit`` keeps only the newest ``limit`` entries (and reads no further).

        Examples:
            >>> version = pcm.push(Model)
            >>> [info.id == version for info in store.versions("Model")]
            [True]
        """
        limit = check_limit(limit)
        check_class_name(name)
        repo = self._repo()
        tip = self._read_ref(repo, class_ref(name)) if repo is not None else None
        if repo is None or tip is None:
            raise ClassNotFoundError(name, f"store {self._path}")
        history: list[VersionInfo] = []
        for commit in first_parent_chain(self._objects(repo), tip):
            if limit is not None and len(history) >= limit:
                break
            history.append(VersionInfo.of(commit))
        return history

    def _read_ref(self, repo: Repo, ref: bytes) -> bytes | None:
        return read_ref(repo.refs, ref)

    def _tree_of(self, repo: Repo, commit_sha: bytes) -> bytes:
        tree = self._commit_trees.get(commit_sha)
        if tree is None:
            tree = commit_tree(commit_sha, read_raw(self._objects(repo), commit_sha, b"commit", "commit"))
            self._commit_trees[commit_sha] = tree
        return tree

    def _objects(self, repo: Repo) -> RawObjectReader:
        """The fast reader of ``repo``'s objects (see :mod:`gitpet.git.objread`)."""
        if self._reader is None:
            self._reader = RawObjectReader(repo.object_store)
            self._open_files.add(self._reader)
        return self._reader

    def _drop_reader(self) -> None:
        if self._reader is not None:
            self._open_files.discard(self._reader)
            self._reader.close()
            self._reader = None

    def _read_head(self, repo: Repo, sha: bytes) -> _VersionHead | None:
        """The tree and parsed meta of a version; None if ``sha`` is no version at all.

        A tree with some but not all of a version's files is a damaged
        version: :class:`IntegrityError`, like any object that fails its checks.
        """
        found = find_raw(self._objects(repo), sha)
        if found is None or found[0] != b"tree":
            return None
        entries = tree_entries(sha, found[1])
        if not _VERSION_ENTRIES & entries.keys():
            return None
        meta_blob = self._entry(repo, sha, entries, META)
        meta = load_stored_json(meta_blob, "meta.json", sha.decode("ascii"), META_JSON_MAX_BYTES)
        if not isinstance(meta, dict):
            raise IntegrityError(sha.decode("ascii"), "meta.json is not an object")
        return _VersionHead(entries, meta_blob, meta)

    def _entry(self, repo: Repo, tree_sha: bytes, entries: TreeEntries, entry: bytes) -> bytes:
        where = tree_sha.decode("ascii")
        name = entry.decode()
        try:
            _mode, blob_sha = entries[entry]
        except KeyError as err:
            raise IntegrityError(where, f"version has no {name}") from err
        try:
            return read_raw(self._objects(repo), blob_sha, b"blob", f"{name} blob")
        except IntegrityError as err:
            raise IntegrityError(where, f"{name}: {err.detail}") from err

    # -- integrity -----------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Check every object gitpet's refs reach, every version's files and meta, and every pack.

        Nothing is unpickled. Returns a :class:`VerifyReport`; its
        ``problems`` say exactly what is wrong and where (empty when ``ok``).

        Examples:
            >>> version = pcm.push(Model)
            >>> report = store.verify()
            >>> report.ok, report.versions
            (True, 1)
        """
        from gitpet.maintenance.verify import VerifyReport, verify_repository

        repo = self._repo()
        if repo is None:
            return VerifyReport()
        return verify_repository(repo, self._path)

    @writes_store("path")
    def gc(self, prune_older_than: float = 3600.0) -> GcReport:
        """Pack every reachable object into one pack (older versions as deltas) and prune old garbage.

        Safe while other processes write (see :mod:`gitpet.maintenance.gc`): nothing
        any ref reaches is removed, and unreachable objects, old packs and
        temporary files go only once older than ``prune_older_than`` seconds
        (a writer's objects are unreachable until its ref moves). Lock files
        whose writer is gone are removed too. Refs are never packed.

        Examples:
            >>> version = pcm.push(Model)
            >>> report = store.gc()
            >>> report.reachable, store.verify().ok
            (5, True)
        """
        prune_older_than = check_seconds(prune_older_than, "prune_older_than")
        from gitpet.maintenance.gc import GcReport, StoreSize, collect_garbage

        if prune_older_than < 0:
            raise ValueError(f"prune_older_than must be >= 0, not {prune_older_than!r}")
        if self._repo() is None:
            empty = StoreSize(0, 0, 0)
            return GcReport(empty, empty, 0, 0, 0, 0, 0, ())
        report = collect_garbage(self, prune_older_than, self._lock_timeout)
        self._drop_reader()  # unmap the packs gc removed
        return report

    # -- trust ---------------------------------------------------------------

    def is_trusted(self, version_id: str) -> bool:
        """Whether this machine vouches for ``version_id`` (see :mod:`gitpet.trust.trustlist`).

        Examples:
            >>> version = pcm.push(Model)
            >>> store.is_trusted(version)      # pushed from here: vouched for
            True
        """
        check_text(version_id, "version id")
        return version_id in self._trusted

    def wait_for_fetches(self) -> None:
        """Return once no earlier fetch into this store (any thread or process) is still running.

        What it brings, and the trust it records, are then in place.

        Fetches into one store run one at a time; a fetch records the trust of
        what it brought before any ref moves, but its objects are in the store
        a moment earlier.

        Examples:
            >>> store.wait_for_fetches()     # nobody is fetching: returns at once
        """
        self._fetching.wait()

    @writes_store("path")
    def trust(self, name: str, version: str | None = None) -> list[str]:
        """Vouch for a version of ``name`` after review, or (``version=None``) its whole history.

        Returns the ids now trusted. Nothing is unpickled.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.trust("Model") == [version]
            True
        """
        whole_history = version is None
        ids = [v.id for v in self.versions(name)] if whole_history else [self.resolve(name, version)]
        self._trusted.add(ids)
        return ids

    def signed_by(self, name: str, version: str, allowed_signers: str | os.PathLike[str]) -> str | None:
        """The principal whose valid SSH signature vouches for ``version`` of ``name``, if any.

        The signature, checked against ``allowed_signers``, is on a commit of ``version``
        in ``name``'s history or on a pipeline snapshot that pins it; None if no such
        commit is signed so.

        Examples:
            >>> version = pcm.push(Model)
            >>> import pathlib
            >>> signers = pathlib.Path(tempfile.mkdtemp()) / "allowed_signers"
            >>> _ = signers.write_text("")
            >>> store.signed_by("Model", version, signers) is None     # unsigned commits
            True
        """
        allowed_signers = check_path(allowed_signers, "allowed_signers")
        version_id = self.resolve(name, version).encode("ascii")
        signers = Path(allowed_signers).absolute()
        repo = self._repo()
        if repo is None:
            return None
        tip = self._read_ref(repo, class_ref(name))
        if tip is not None:
            for commit in first_parent_chain(repo.object_store, tip):
                if commit.tree == version_id and (signer := self._signer(commit, signers)) is not None:
                    return signer
        from gitpet.pipelines.history import pipeline_tips, snapshot_pins

        pin = (name, version_id.decode("ascii"))
        for _pipeline, tip in pipeline_tips(self, repo):
            for commit, pins in snapshot_pins(repo, tip):
                if pin in pins and (signer := self._signer(commit, signers)) is not None:
                    return signer
        return None

    def _signer(self, commit: Commit, signers: Path) -> str | None:
        key = (commit.id, signers)
        if key not in self._signers:
            from gitpet.git.signing import ssh_signer

            self._signers[key] = ssh_signer(commit, signers)
        return self._signers[key]

    def _trust_history(self, repo: Repo, tips: Mapping[bytes, bytes]) -> None:
        """Vouch for every version in the histories of ``tips`` (ref -> sha, from a trusted remote).

        A class's versions, and every version a pipeline's snapshots pin.
        """
        from gitpet.pipelines.history import pinned_ids

        ids: set[str] = set()
        for ref, tip in tips.items():
            if is_pipeline_ref(ref):
                ids.update(pinned_ids(repo, tip))
                continue
            commit = peeled_commit(repo.object_store, tip)
            if commit is not None:
                ids.update(c.tree.decode("ascii") for c in first_parent_chain(repo.object_store, commit))
        self._trusted.add(ids)

    # -- tags ----------------------------------------------------------------

    def tags(self, name: str) -> dict[str, str]:
        """The tags of class ``name``: tag -> version id.

        Examples:
            >>> version = pcm.push(Model)
            >>> _ = store.tag("Model", "v1")
            >>> store.tags("Model") == {"v1": version}
            True
        """
        return self._tags_under(tag_prefix(check_class_name(name)))

    def _tags_under(self, prefix: bytes) -> dict[str, str]:
        """tag -> the tree (version or snapshot) it names, for the tags directly under ``prefix``."""
        repo = self._repo()
        if repo is None:
            return {}
        found = {}
        for tag, sha in sorted(repo.refs.as_dict(Ref(prefix)).items()):
            tree = self._tag_tree(repo, prefix + bytes(tag), sha)
            if tree is not None and b"/" not in bytes(tag):
                found[tag.decode("utf-8", "replace")] = tree.decode("ascii")
        return found

    @staticmethod
    def _tag_tree(repo: Repo, ref: bytes, sha: bytes) -> bytes | None:
        """The version or snapshot tag ``ref`` names; None, logged, for one that names none.

        A blob, a missing object, a chain of tags too deep: a remote's bad tag is ignored,
        and the class stays usable.
        """
        try:
            tree = peeled_tree(repo.object_store, sha)
        except IntegrityError as err:
            log.warning("gitpet: ignoring tag %s: %s", ref.decode("utf-8", "replace"), err)
            return None
        if tree is None:
            log.warning("gitpet: ignoring tag %s: it names no version", ref.decode("utf-8", "replace"))
        return tree

    @writes_store("path")
    def tag(self, name: str, tag: str, version: str | None = None, *, force: bool = False) -> str:
        """Name a version of ``name`` (default: its latest) ``tag``; return its id.

        The tag is the ref ``refs/tags/<name>/<tag>``, pointing at the newest
        commit of the class's history with that version. Moving an existing
        tag to another version needs ``force=True`` (:class:`TagExistsError`).

        Examples:
            >>> version = pcm.push(Model)
            >>> store.tag("Model", "champion") == version
            True
            >>> store.resolve("Model", "champion") == version
            True
        """
        check_bool(force, "force")
        check_class_name(name)
        check_tag_name(tag)
        version_id = self._resolve(name, version)[0]
        repo = self._writable_repo()
        commit = self._commit_of_version(repo, name, version_id)
        return self._set_tag(repo, tag_ref(name, tag), commit, version_id, name, tag, force, "class")

    def _set_tag(
        self, repo: Repo, ref: bytes, commit: bytes, tree: bytes, owner: str, tag: str, force: bool, kind: str
    ) -> str:
        """Point tag ``ref`` at ``commit`` (whose tree is ``tree``); moving it elsewhere needs ``force``."""
        while True:
            current = self._read_ref(repo, ref)
            if current is not None:
                current_tree = self._tag_tree(repo, ref, current)
                if current_tree == tree:
                    return tree.decode("ascii")
                if not force:
                    raise TagExistsError(owner, tag, (current_tree or current).decode("ascii"), kind)
            if self._compare_and_swap(repo, ref, current, commit):
                return tree.decode("ascii")

    def _tag_target(self, repo: Repo, name: str, tag: str) -> bytes | None:
        ref = tag_ref(name, tag)
        sha = self._read_ref(repo, ref)
        return self._tag_tree(repo, ref, sha) if sha is not None else None

    def _commit_of_version(self, repo: Repo, name: str, version_id: bytes) -> bytes:
        tip = self._read_ref(repo, class_ref(name))
        if tip is not None:
            for commit in first_parent_chain(repo.object_store, tip):
                if commit.tree == version_id:
                    return commit.id
        raise VersionNotFoundError(name, version_id.decode("ascii"), f"not in the history of {name}")

    # -- remotes -------------------------------------------------------------

    def remotes(self) -> dict[str, str]:
        """Configured remotes (kept in the repository's git config): name -> URL.

        Examples:
            >>> store.add_remote("origin", "https://git.example.com/team/models.git")
            >>> store.remotes()
            {'origin': 'https://git.example.com/team/models.git'}
        """
        repo = self._repo()
        return _remotes_in(repo.get_config()) if repo is not None else {}

    @writes_store("path")
    def add_remote(self, name: str, url: str, *, trusted: bool = False) -> None:
        """Configure remote ``name`` (``git remote -v`` shows it too); local paths become absolute.

        ``trusted``: versions fetched from it load without ceremony (see
        :mod:`gitpet.trust.trustlist`); kept in this store's git config only.

        Examples:
            >>> store.add_remote("team", "https://git.example.com/team/models.git", trusted=True)
            >>> store.is_trusted_remote("team")
            True
        """
        check_bool(trusted, "trusted")
        check_remote_name(name)
        check_text(url, "url")
        if not isinstance(url, str) or not url.strip():
            raise InvalidNameError(url, "is empty", "remote URL")
        from gitpet.sync.remote import describe_location, normalize_location

        location = normalize_location(url.strip())
        existing = self.remotes().get(name)
        if existing is not None and existing != location:
            raise InvalidNameError(
                name, f"is already configured with URL {describe_location(existing)}", "remote"
            )
        if existing == location and self.is_trusted_remote(name) == trusted:
            return
        repo = self._writable_repo()

        def write() -> None:
            config = repo.get_config()
            section = (b"remote", name.encode("utf-8"))
            config.set(section, b"url", location.encode("utf-8"))
            config.set(section, b"fetch", f"+refs/heads/*:refs/remotes/{name}/*".encode())
            config.set(section, _TRUSTED_KEY, trusted)
            config.write_to_path()

        self._retry_while_locked("config", write)

    @writes_store("path")
    def trust_remote(self, name: str, trusted: bool = True) -> None:
        """Mark configured remote ``name`` trusted (or not) for versions fetched from now on.

        Examples:
            >>> store.add_remote("team", "https://git.example.com/team/models.git")
            >>> store.trust_remote("team")
            >>> store.is_trusted_remote("https://git.example.com/team/models.git")
            True
        """
        check_bool(trusted, "trusted")
        check_remote_name(name)
        url = self.remotes().get(name)
        if url is None:
            raise RemoteError(name, "no remote of that name is configured")
        self.add_remote(name, url, trusted=trusted)

    def is_trusted_remote(self, remote: str) -> bool:
        """Whether ``remote`` (a configured name, or the URL/path of one) is marked trusted.

        Examples:
            >>> store.add_remote("origin", "https://git.example.com/team/models.git")
            >>> store.is_trusted_remote("origin")
            False
        """
        repo = self._repo()
        if repo is None or not isinstance(remote, str):
            return False
        from gitpet.sync.remote import normalize_location

        config = repo.get_config()
        configured = _remotes_in(config)
        if remote in configured:
            names = [remote]
        else:
            location = normalize_location(remote.strip()) if remote.strip() else remote
            names = [n for n, url in configured.items() if url == location]
        for name in names:
            try:
                if config.get_boolean((b"remote", name.encode("utf-8")), _TRUSTED_KEY, False):
                    return True
            except ValueError:
                continue
        return False

    @writes_store("path")
    def remove_remote(self, name: str) -> None:
        """Forget remote ``name`` (nothing on the remote changes).

        Examples:
            >>> store.add_remote("origin", "https://git.example.com/team/models.git")
            >>> store.remove_remote("origin")
            >>> store.remotes()
            {}
        """
        check_remote_name(name)
        if name not in self.remotes():
            raise RemoteError(name, "no remote of that name is configured")
        repo = self._writable_repo()

        def write() -> None:
            config: ConfigFile = repo.get_config()
            del config[(b"remote", name.encode("utf-8"))]
            config.write_to_path()

        self._retry_while_locked("config", write)

    def remote_location(self, remote: str) -> str:
        """The URL or absolute path ``remote`` stands for: a configured name, a URL or a path.

        Examples:
            >>> store.add_remote("origin", "https://git.example.com/team/models.git")
            >>> store.remote_location("origin")
            'https://git.example.com/team/models.git'
        """
        if not isinstance(remote, str) or not remote.strip():
            raise RemoteError(repr(remote), "a remote is a configured name, a URL or a path")
        from gitpet.sync.remote import is_url, normalize_location

        remote = remote.strip()
        configured = self.remotes().get(remote)
        if configured is not None:
            return configured
        if is_url(remote) or os.sep in remote or remote.startswith(("~", ".")) or os.path.exists(remote):
            return normalize_location(remote)
        raise RemoteError(
            remote, "no remote of that name is configured (add one with add_remote / gitpet remote add)"
        )

    @writes_store("path")
    def push(
        self,
        remote: str,
        names: Sequence[str] | str | None = None,
        *,
        pipelines: Sequence[str] | str | None = None,
        force_tags: bool = False,
        allow_unvouched: bool = False,
        retry_for: float = 60.0,
    ) -> SyncReport:
        """Send versions to ``remote`` (a configured name, a URL or a path).

        Moves ``refs/heads/<name>`` and ``refs/tags/<name>/*`` of the classes
        ``names``, and the refs and tags of the ``pipelines`` (with every
        version their snapshots pin); everything when both are None. A
        class the remote has newer versions of is first fetched and our
        versions are put on top of the remote's, so no one's version is lost.
        While others keep pushing, this repeats, with jittered pauses, for
        up to ``retry_for`` seconds (``report.attempts`` says how many sends
        it took); a ref still racing after that raises
        :class:`RemoteRejectedError`, with nothing lost. Returns what
        happened to each ref.

        Others may trust the remote, so a push carries only versions this
        machine vouches for (:meth:`is_trusted`): one that would deliver any
        other version sends nothing and raises :class:`UnvouchedPushError`
        naming them, unless ``allow_unvouched``.

        Examples:
            >>> version = pcm.push(Model)
            >>> remote = GitStore(tempfile.mkdtemp() + "/remote")
            >>> remote.init()
            True
            >>> [(u.ref, u.status) for u in store.push(str(remote.path)).updates]
            [('refs/heads/Model', 'created')]
        """
        check_bool(force_tags, "force_tags")
        check_bool(allow_unvouched, "allow_unvouched")
        retry_for = check_seconds(retry_for, "retry_for")
        import gitpet.sync.transfer as _sync

        return _sync.push(
            self,
            remote,
            names,
            pipelines,
            force_tags=force_tags,
            allow_unvouched=allow_unvouched,
            retry_for=retry_for,
        )

    @writes_store("path")
    def fetch(
        self,
        remote: str,
        names: Sequence[str] | str | None = None,
        *,
        pipelines: Sequence[str] | str | None = None,
        force_tags: bool = False,
        trusted: bool | None = None,
        accept_rollbacks: bool = False,
    ) -> SyncReport:
        """Bring versions from ``remote``; local refs only gain versions, never lose one.

        ``names``/``pipelines``: only those classes and pipelines (each with
        its tags); everything when both are None.

        ``trusted``: vouch for every fetched version (see :mod:`gitpet.trust.trustlist`);
        default: whether ``remote`` is a configured remote marked trusted.

        A class this store also changed keeps both: the remote's history with
        this store's new versions on top. A tag that differs is not moved
        unless ``force_tags``; it is reported and raises
        :class:`RemoteRejectedError` after everything else was fetched.

        A remote that is not trusted cannot make an older version (or
        snapshot) the latest again: such a ref is rejected the same way unless
        ``accept_rollbacks`` (it could otherwise bring back a release with a
        known bug without anyone noticing).

        Examples:
            >>> version = pcm.push(Model)
            >>> mine = GitStore(tempfile.mkdtemp() + "/mine")
            >>> [(u.ref, u.status) for u in mine.fetch(str(store.path)).updates]
            [('refs/heads/Model', 'created')]
            >>> mine.latest_id("Model") == version
            True
        """
        check_bool(force_tags, "force_tags")
        check_bool(accept_rollbacks, "accept_rollbacks")
        if trusted is not None:
            check_bool(trusted, "trusted")
        if trusted is None:
            trusted = self.is_trusted_remote(remote)
        import gitpet.sync.transfer as _sync

        return _sync.fetch(
            self,
            remote,
            names,
            pipelines,
            force_tags=force_tags,
            trusted=trusted,
            accept_rollbacks=accept_rollbacks,
        )

    # -- writing -----------------------------------------------------------

    @writes_store("path")
    def init(self) -> bool:
        """Create the bare repository now; False if it already existed.

        Examples:
            >>> store.init(), store.init()      # created, then already there
            (True, False)
        """
        existed = self.exists()
        self._writable_repo()
        return not existed

    @writes_store("path")
    def write_versions(self, items: Sequence[tuple[str, VersionTree]]) -> list[PushResult]:
        """Make each ``(name, version)`` the latest version of ``name``.

        All names are validated first; a large batch is then written as one
        pack. Each ref moves by compare-and-swap, after its version's objects
        are stored (loose, for a small batch) and fresh, in the same writers
        lock hold. A version that already is latest writes nothing.

        Examples:
            >>> tree = pcm.encode(Model)
            >>> [result] = store.write_versions([("Model", tree)])
            >>> result.created, result.id == tree.id
            (True, True)
        """
        _check_items(items)
        for name, _version in items:
            check_class_name(name)
        if not items:
            return []
        author = self._author_line(self._repo())
        repo = self._writable_repo()
        now = int(time.time())
        planned: list[tuple[str, VersionTree, bytes | None, Commit | None]] = []
        new_objects: dict[bytes, ShaFile] = {}
        for name, version in items:
            parent = self._read_ref(repo, class_ref(name))
            if parent is not None and self._tree_of(repo, parent) == version.tree.id:
                planned.append((name, version, parent, None))
                continue
            commit = self._make_commit(
                version.tree.id, parent, author, now, _version_message(name, version.id)
            )
            planned.append((name, version, parent, commit))
            for obj in (*version.blobs, version.tree, commit):
                new_objects.setdefault(obj.id, obj)
        written = self._pack_batch(repo, list(new_objects.values()))
        self._trusted.add(version.id for _name, version in items)  # pushed from here: vouched for
        return [
            self._advance(
                repo,
                name,
                version.tree.id,
                parent,
                commit,
                author,
                keep=(*version.blobs, version.tree),
                written=written,
            )
            for name, version, parent, commit in planned
        ]

    @writes_store("path")
    def rollback(self, name: str, version: str) -> PushResult:
        """Make an older version the latest again, as a new commit on top.

        History keeps everything: the new commit's tree equals the old
        version's, so the version id is the old one. A no-op if it is latest.

        Examples:
            >>> version = pcm.push(Model)
            >>> class Model:
            ...     def fit(self):
            ...         return self
            >>> _ = pcm.push(Model)
            >>> store.rollback("Model", version).id == version == store.latest_id("Model")
            True
            >>> len(store.versions("Model"))     # history keeps all three commits
            3
        """
        version_id = self.resolve(name, version).encode("ascii")
        author = self._author_line(self._repo())
        repo = self._writable_repo()
        parent = self._read_ref(repo, class_ref(name))
        message = f"{name}: rollback to version {version_id.decode()}\n"
        commit = None
        if parent is None or self._tree_of(repo, parent) != version_id:
            commit = self._make_commit(version_id, parent, author, int(time.time()), message)
        return self._advance(repo, name, version_id, parent, commit, author, message)

    def _advance(
        self,
        repo: Repo,
        name: str,
        tree: bytes,
        parent: bytes | None,
        commit: Commit | None,
        author: bytes,
        message: str | None = None,
        *,
        keep: Sequence[ShaFile] = (),
        written: _Written | None = None,
    ) -> PushResult:
        """Move ``refs/heads/<name>`` to ``commit`` (see :meth:`_advance_ref`)."""
        version_id = tree.decode("ascii")
        text = message or _version_message(name, version_id)
        sha, created = self._advance_ref(
            repo, class_ref(name), tree, parent, commit, author, text, keep=keep, written=written
        )
        return PushResult(name, version_id, sha.decode("ascii"), created)

    def _advance_ref(
        self,
        repo: Repo,
        ref: bytes,
        tree: bytes,
        parent: bytes | None,
        commit: Commit | None,
        author: bytes,
        message: str,
        *,
        keep: Sequence[ShaFile] = (),
        written: _Written | None = None,
        present: Sequence[bytes] = (),
    ) -> tuple[bytes, bool]:
        """Move ``ref`` to ``commit``, rebasing onto racing writers; return the tip and whether it moved.

        ``commit`` None means ``parent`` already holds ``tree``. ``keep``: the
        commit's other new objects. Each swap first makes sure they and the
        commit are stored and fresh, and that the ``present`` objects it
        needs are still there, under the same writers lock (see
        :meth:`_ensure_stored`), however long the rebasing took.
        """
        while True:
            if commit is None:
                assert parent is not None
                return parent, False
            if self._compare_and_swap(
                repo, ref, parent, commit.id, keep=(*keep, commit), written=written, present=present
            ):
                self._commit_trees[commit.id] = tree
                return commit.id, True
            # Another writer moved the ref: put ours on top of theirs.
            parent = self._read_ref(repo, ref)
            if parent is not None and self._tree_of(repo, parent) == tree:
                commit = None
                continue
            commit = self._make_commit(tree, parent, author, int(time.time()), message)

    def _retry_while_locked(
        self, what: str, attempt: Callable[[], _V], writers: WriterLock | None = None
    ) -> _V:
        """Run ``attempt`` until no other writer holds its lock, with jittered backoff.

        Each attempt holds the shared writers flock of this store (or of
        ``writers``, for a local remote); a lock whose writer is gone is removed.
        """
        writers = writers or self._writers
        waited = 0.0
        delay = 0.001
        while True:
            try:
                with writers.shared():
                    return attempt()
            except FileLocked as err:
                lock_file = Path(os.fsdecode(err.lockfilename))
                if remove_if_stale(lock_file, self._stale_lock_after):
                    continue
                if waited >= self._lock_timeout:
                    raise StoreBusyError(what, waited, str(lock_file)) from err
            pause = delay * (1 + random.random())
            time.sleep(pause)
            waited += pause
            delay = min(delay * 2, 0.05)

    def _compare_and_swap(
        self,
        repo: Repo,
        ref: bytes,
        old: bytes | None,
        new: bytes,
        *,
        keep: Sequence[ShaFile] = (),
        written: _Written | None = None,
        present: Sequence[bytes] = (),
    ) -> bool:
        """Point ``ref`` at ``new`` if it still points at ``old`` (None: if it does not exist).

        ``keep`` (the objects ``new`` needs that may not be reachable yet) are
        made stored and fresh in the same writers-lock hold as the swap, so gc
        cannot prune them in between; ``present`` (objects already stored that
        ``new`` names) are checked to be still there in that hold.
        """

        def attempt() -> bool:
            self._ensure_stored(repo, keep, written)
            missing = [sha for sha in present if ObjectID(sha) not in repo.object_store]
            if missing:
                raise IntegrityError(
                    missing[0].decode("ascii"),
                    "no longer in the store (pruned while unreachable); push it again",
                )
            return swap_ref(repo.refs, ref, old, new, fsync=self._fsync)

        return self._retry_while_locked(ref.decode("utf-8"), attempt)

    def _pack_batch(self, repo: Repo, objects: Sequence[ShaFile]) -> _Written:
        """Write a large batch, or one holding a large object, as one pack.

        A small one is left to :meth:`_ensure_stored`.

        Objects already stored loose are not packed again, but their mtime is
        refreshed (as git does), under the shared writers lock: gc prunes only
        old unreachable objects, under the exclusive lock.
        """
        store = repo.object_store
        written = _Written()
        if len(objects) < _PACK_THRESHOLD and all(obj.raw_length() <= LARGEST_LOOSE_BYTES for obj in objects):
            return written

        def write() -> None:
            # Only objects whose fan-out directory exists can be loose: in a packed
            # store that is none, and each failed utime cost more than packing it.
            fan_out = _loose_directories(store.path)
            missing = [
                obj for obj in objects if obj.id[:2] not in fan_out or not _freshen_loose(store, obj.id)
            ]
            pack_path = write_pack(store.pack_dir, missing, fsync=self._fsync)
            if pack_path is not None:
                refresh_packs(store)
                written.pack_path = pack_path
                written.packed = frozenset(obj.id for obj in missing)

        self._retry_while_locked("objects", write)
        return written

    def _ensure_stored(self, repo: Repo, objects: Sequence[ShaFile], written: _Written | None) -> None:
        """Make each object stored and fresh (call with the writers lock held).

        Below the pack threshold this is where a version's loose objects are
        written. An object that only some older pack holds is written again
        rather than relied on: that pack may be garbage gc is about to drop.
        """
        store = repo.object_store
        pack_fresh: bool | None = None
        for obj in objects:
            if written is not None and obj.id in written.packed:
                if pack_fresh is None:
                    pack_fresh = _touch(written.pack_path)
                if pack_fresh:
                    continue
            self._add_loose(store, obj)  # writes it, or refreshes the loose copy

    def _add_loose(self, store: Any, obj: ShaFile) -> None:
        write_loose(store.path, obj, fsync=self._fsync)  # refreshes the mtime of one already loose

    def _make_commit(
        self, tree: bytes, parent: bytes | None, author: bytes, when: int, message: str
    ) -> Commit:
        commit = Commit()
        commit.tree = ObjectID(tree)
        commit.parents = [ObjectID(parent)] if parent is not None else []
        commit.author = commit.committer = author
        commit.author_time = commit.commit_time = when
        commit.author_timezone = commit.commit_timezone = 0
        commit.encoding = None
        commit.message = message.encode("utf-8")
        self._sign(commit)
        return commit

    def _sign(self, commit: Commit) -> None:
        if self._signing_key is not None:
            from gitpet.git.signing import sign_commit

            sign_commit(commit, self._signing_key)

    def _author_line(self, repo: Repo | None) -> bytes:
        """The identity of the commits this store makes (see :mod:`gitpet.git.identity`).

        Writers ask for it before they create or change anything: an identity
        git would reject raises InvalidNameError and leaves the store as it was.
        """
        if self._author is None:
            config = repo.get_config_stack() if repo is not None else StackedConfig.default()
            self._author = configured_identity(config)
        return self._author


@dataclass
class _Written:
    """Where :meth:`GitStore._pack_batch` put a batch: the pack, and which objects it holds."""

    pack_path: str | None = None
    packed: frozenset[bytes] = frozenset()


def _touch(path: str | None) -> bool:
    if path is None:
        return False
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _remotes_in(config: ConfigFile) -> dict[str, str]:
    """name -> URL of every remote a git config defines."""
    found = {}
    for section in config.sections():
        if len(section) == 2 and section[0] == b"remote":
            try:
                url = config.get(section, b"url")
            except KeyError:
                continue
            found[section[1].decode("utf-8")] = url.decode("utf-8")
    return dict(sorted(found.items()))


def _loose_directories(objects_dir: str | os.PathLike[str]) -> frozenset[bytes]:
    """The two-hex-digit fan-out directories of a store's loose objects."""
    try:
        names = os.listdir(objects_dir)
    except FileNotFoundError:
        return frozenset()
    return frozenset(name.encode("ascii") for name in names if len(name) == 2)


def _freshen_loose(store: Any, sha: bytes) -> bool:
    """Refresh the mtime of loose object ``sha``; False if it is not stored loose."""
    try:
        os.utime(loose_object_path(store, sha))
    except FileNotFoundError:
        return False
    return True


def _stored_size(stored: StoredVersion) -> int:
    files = stored.files
    return len(files.source) + len(files.pickle) + len(files.meta)


def _version_message(name: str, version_id: str) -> str:
    return f"{name}: version {version_id}\n"
