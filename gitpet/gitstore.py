"""GitStore: versions of classes in a bare git repository, written through dulwich.

A facade: each job is a collaborator that owns one kind of state, and
GitStore composes them (ARCHITECTURE.md). The repository and its object
reader (:mod:`gitpet.git.repository`), refs moved only by compare-and-swap
(:mod:`gitpet.git.refstore`), commits (:mod:`gitpet.git.commits`), the one
history writer (:mod:`gitpet.store.history_writer`), the version index and
the one spec resolver (:mod:`gitpet.store.versions`, :mod:`gitpet.store.specs`),
tags, trust, remotes; pipelines, sync, verify and gc are handed the parts
they need.

Layout (DESIGN.md §1): ``refs/heads/<name>`` is the latest version of class
``<name>``; its first-parent history is the class's version history; each
commit's tree is one version (``source.py``, ``class.pkl``, ``meta.json``) and
the tree id is the version id.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dulwich.objects import ShaFile

from gitpet.arguments import check_bool, check_path, check_seconds, check_text
from gitpet.config import StoreConfig, default_store_path
from gitpet.errors import IntegrityError, InvalidArgumentError, VersionNotFoundError
from gitpet.format.meta import source_state
from gitpet.format.names import (
    check_class_name,
    check_remote_name,
    check_tag_name,
    class_ref,
    missing_tag_detail,
    tag_prefix,
    tag_ref,
)
from gitpet.format.requirements import Requirement, requirement_trailers
from gitpet.format.version_files import StoredVersion, VersionTree
from gitpet.git.commits import CommitMaker
from gitpet.git.locks import FetchLock, LockRetry, WriterLock
from gitpet.git.object_writer import ObjectWriter
from gitpet.git.refstore import RefStore
from gitpet.git.repository import Repository
from gitpet.git.writefaults import writes_store
from gitpet.progress import progress_on_stderr
from gitpet.records import PushResult, SyncReport, VersionInfo
from gitpet.store.history_writer import HistoryWriter
from gitpet.store.specs import SpecResolver
from gitpet.store.tags import Tags
from gitpet.store.versions import VersionIndex
from gitpet.sync.remotes import Remotes
from gitpet.trust.trustlist import TrustList
from gitpet.trust.vouching import Vouching

if TYPE_CHECKING:
    # Imported where used: sharing, gc, verify and pipeline histories are not on the
    # path of loading a class, and importing them (dulwich's network client above
    # all) was a third of ``import gitpet``.
    from gitpet.maintenance.gc import GcReport
    from gitpet.maintenance.verify import VerifyReport
    from gitpet.pipelines.history import PipelineHistory
    from gitpet.sync.transfer import SyncParts

__all__ = ["GitStore", "PushResult", "StoredVersion", "VersionInfo", "default_store_path"]


def _check_items(items: object) -> None:
    """``write_versions``'s argument: a sequence of ``(class name, VersionTree)``."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InvalidArgumentError("items", items, "must be a sequence of (name, VersionTree) pairs")
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], VersionTree)):
            raise InvalidArgumentError("item", item, "must be a (name, VersionTree) pair")


def _version_message(name: str, version: VersionTree, message: str | None = None) -> str:
    """Subject (the user's first line, or the id), the rest of the message, then trailers.

    The packages it was pushed with go in the commit, outside the id (see
    gitpet.format.requirements); with a message of the user's, a ``Version:`` trailer
    keeps the id in the commit, as the subject does without one.
    """
    lines = (message or "").strip().splitlines()
    if not lines:
        return f"{name}: version {version.id}\n" + requirement_trailers(version.requires)
    subject = f"{name}: {lines[0].strip()}"
    body = "\n".join(lines[1:]).strip()
    trailers = f"Version: {version.id}\n" + requirement_trailers(version.requires).lstrip("\n")
    return "\n\n".join(part for part in (subject, body) if part) + "\n\n" + trailers


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
        self._compose(
            StoreConfig.from_arguments(
                path,
                author=author,
                lock_timeout=lock_timeout,
                stale_lock_after=stale_lock_after,
                signing_key=signing_key,
                fsync=fsync,
            )
        )

    @classmethod
    def from_config(cls, config: StoreConfig) -> GitStore:
        """The store a :class:`StoreConfig` describes (made once, e.g. from the environment).

        Examples:
            >>> config = StoreConfig.from_arguments(tempfile.mkdtemp() + "/store", lock_timeout=5)
            >>> GitStore.from_config(config).config is config
            True
        """
        if not isinstance(config, StoreConfig):
            raise InvalidArgumentError("config", config, "must be a StoreConfig")
        store = cls.__new__(cls)
        cls._compose(store, config)
        return store

    def _compose(self, config: StoreConfig) -> None:
        """Make the collaborators, each owning one kind of state (see docs/internals.md)."""
        self._config = config
        self._repository = Repository(config.path, fsync=config.fsync)
        self._retry = LockRetry(
            WriterLock(config.path),
            lock_timeout=config.lock_timeout,
            stale_lock_after=config.stale_lock_after,
        )
        self._fetching = FetchLock(config.path)
        self._objects = ObjectWriter(self._retry, fsync=config.fsync)
        self._refs = RefStore(self._repository, self._retry, self._objects)
        # The environment's and git config's identity is read at the first write, as git does.
        self._commits = CommitMaker(self._repository, config.author, config.signing_key)
        self._history = HistoryWriter(self._repository, self._refs, self._commits)
        self._tags = Tags(self._repository, self._refs)
        self._specs = SpecResolver(self._repository, self._refs, self._tags)
        self._versions = VersionIndex(self._repository, self._refs, self._specs)
        self._trusted = TrustList(config.path, fsync=config.fsync)
        self._vouching = Vouching(self._repository, self._refs, self._trusted)
        self._remotes = Remotes(self._repository, self._retry)

    def __repr__(self) -> str:
        return f"GitStore({str(self._config.path)!r})"

    @property
    def path(self) -> Path:
        """Where the bare repository lives."""
        return self._config.path

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
        return self._config.fsync

    def exists(self) -> bool:
        """Whether the repository has been created (nothing is created here).

        Examples:
            >>> store.exists()
            False
            >>> store.init(), store.exists()
            (True, True)
        """
        return self._repository.exists()

    def close(self) -> None:
        """Release open files; the store reopens itself on next use.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.close()
            >>> store.names()          # reopens itself
            ['Model']
        """
        self._repository.close()
        self._retry.writers.close()
        self._trusted.close()

    def names(self) -> list[str]:
        """Names of the classes in the store, sorted.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.names()
            ['Model']
        """
        return self._versions.names()

    def pipelines(self) -> list[str]:
        """Names of the pipelines with saved snapshots, sorted.

        Examples:
            >>> version = pcm.push(Model)
            >>> _ = store.pipeline("train").save({"clazz": "Model", "version_hash": version, "params": {}})
            >>> store.pipelines()
            ['train']
        """
        from gitpet.pipelines.catalog import pipeline_names

        return pipeline_names(self._refs)

    def pipeline(self, name: str) -> PipelineHistory:
        """The snapshots of pipeline ``name`` (:class:`PipelineHistory`); nothing is read yet.

        Examples:
            >>> version = pcm.push(Model)
            >>> history = store.pipeline("train")
            >>> history.exists()
            False
        """
        from gitpet.pipelines.history import PipelineHistory, PipelineParts

        parts = PipelineParts(
            self._repository, self._refs, self._history, self._tags, self._specs, self._vouching.vouch
        )
        return PipelineHistory(self, name, parts)

    def has_version(self, name: str, version_id: str) -> bool:
        """Whether the store holds version ``version_id`` (full id) of class ``name``.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.has_version("Model", version), store.has_version("Model", "0" * 40)
            (True, False)
        """
        return self._versions.has_version(name, version_id)

    def latest_commit(self, name: str) -> str | None:
        """The commit sha ``refs/heads/<name>`` points at, or None.

        Examples:
            >>> version = pcm.push(Model)
            >>> commit = store.latest_commit("Model")
            >>> len(commit), commit != version      # the commit that holds the version, not the version
            (40, True)
        """
        commit = self._versions.latest_commit(name)
        return commit.decode("ascii") if commit is not None else None

    def latest_id(self, name: str) -> str | None:
        """The version id of the latest version of ``name``, or None.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.latest_id("Model") == version, store.latest_id("Other")
            (True, None)
        """
        version_id = self._versions.latest_id(name)
        return version_id.decode("ascii") if version_id is not None else None

    def resolve(self, name: str, version: str | None = None) -> str:
        """The full version id that ``version`` names; ``None`` means the latest.

        ``version`` is a version id or a commit of ``name``'s history, a unique
        prefix of 7+ hex characters of either, a tag of ``name``, or ``~N`` (N
        versions before the latest): the rule of :mod:`gitpet.store.specs`,
        which pipeline snapshots follow too. The version must belong to ``name``.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.resolve("Model", version[:7]) == version == store.resolve("Model")
            True
        """
        return self._versions.resolve(name, version).decode("ascii")

    def read_version(self, name: str, version: str | None = None) -> StoredVersion:
        """Read one version of ``name``: latest, or an exact id / unique prefix.

        Examples:
            >>> version = pcm.push(Model)
            >>> stored = store.read_version("Model")
            >>> stored.id == version, stored.meta["qualname"], sorted(stored.files.__dict__)
            (True, 'Model', ['captured', 'data', 'meta', 'pickle', 'source'])
        """
        return self._versions.read(name, version)

    def requirements(self, name: str, version: str | None = None) -> tuple[Requirement, ...]:
        """The installed packages a version was pushed with, as its commit records them.

        Only packages its pickle imports by name (numpy, scikit-learn, ...) are recorded,
        in the commit message, never in the version's tree: an upgrade re-versions nothing.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.requirements("Model", version)    # Model imports no package
            ()
        """
        return self._versions.requirements(name, version)

    def versions(self, name: str, limit: int | None = None) -> list[VersionInfo]:
        """History of ``name``, newest first (first-parent chain of its ref).

        ``limit`` keeps only the newest ``limit`` entries (and reads no further).

        Examples:
            >>> version = pcm.push(Model)
            >>> [info.id == version for info in store.versions("Model")]
            [True]
        """
        return self._versions.history(name, limit)

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

        repo = self._repository.open()
        if repo is None:
            return VerifyReport()
        return verify_repository(repo, self._config.path)

    @writes_store("path")
    def gc(self, prune_older_than: float = 3600.0, *, progress: bool = True) -> GcReport:
        """Pack every reachable object into one pack (older versions as deltas) and prune old garbage.

        Safe while other processes write (see :mod:`gitpet.maintenance.gc`): nothing
        any ref reaches is removed, and unreachable objects, old packs and
        temporary files go only once older than ``prune_older_than`` seconds
        (a writer's objects are unreachable until its ref moves). Lock files
        whose writer is gone are removed too. Refs are never packed.
        ``progress``: show how far it is on stderr, when stderr is a terminal
        and gc has taken more than a second (False: never).

        Examples:
            >>> version = pcm.push(Model)
            >>> report = store.gc()
            >>> report.reachable, store.verify().ok
            (6, True)
        """
        prune_older_than = check_seconds(prune_older_than, "prune_older_than")
        check_bool(progress, "progress")
        from gitpet.maintenance.gc import GcReport, StoreSize, collect_garbage

        if self._repository.open() is None:
            empty = StoreSize(0, 0, 0)
            return GcReport(empty, empty, 0, 0, 0, 0, 0, ())
        with progress_on_stderr("gitpet gc", enabled=progress) as shown:
            report = collect_garbage(self._repository.writable(), self._retry, prune_older_than, shown)
        self._repository.drop_reader()  # unmap the packs gc removed
        return report

    def is_trusted(self, version_id: str) -> bool:
        """Whether this machine vouches for ``version_id`` (see :mod:`gitpet.trust.trustlist`).

        Examples:
            >>> version = pcm.push(Model)
            >>> store.is_trusted(version)      # pushed from here: vouched for
            True
        """
        check_text(version_id, "version id")
        return self._vouching.vouches_for(version_id)

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
        self._vouching.vouch(ids)
        return ids

    @writes_store("path")
    def untrust(self, name: str, version: str | None = None) -> list[str]:
        """Stop vouching for a version of ``name`` (``None``: its whole history); return the ids.

        A version pushed from here, trusted after review or fetched from a trusted remote
        then loads only as the trust policy allows (a reviewed text, a signature), until
        vouched for again. Processes notice at their next load of a version not loaded yet.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.untrust("Model") == [version], store.is_trusted(version)
            (True, False)
        """
        whole_history = version is None
        ids = [v.id for v in self.versions(name)] if whole_history else [self.resolve(name, version)]
        self._repository.writable()
        self._retry.run("trusted", lambda: self._vouching.unvouch(ids))
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
        return self._vouching.signed_by(name, version_id, Path(allowed_signers).absolute())

    def tags(self, name: str) -> dict[str, str]:
        """The tags of class ``name``: tag -> version id.

        Examples:
            >>> version = pcm.push(Model)
            >>> _ = store.tag("Model", "v1")
            >>> store.tags("Model") == {"v1": version}
            True
        """
        return self._tags.under(tag_prefix(check_class_name(name)))

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
        version_id = self._versions.resolve(name, version)
        self._repository.writable()
        commit = self._versions.commit_of(name, version_id)
        return self._tags.set(tag_ref(name, tag), commit, version_id, name, tag, force=force, kind="class")

    @writes_store("path")
    def delete_tag(self, name: str, tag: str) -> str:
        """Delete tag ``tag`` of class ``name``; return the version it named.

        Examples:
            >>> version = pcm.push(Model)
            >>> _ = store.tag("Model", "v1")
            >>> store.delete_tag("Model", "v1") == version, store.tags("Model")
            (True, {})
        """
        check_class_name(name)
        check_tag_name(tag)
        ref = tag_ref(name, tag)
        while True:
            sha = self._refs.read(ref)
            if sha is None:
                raise VersionNotFoundError(name, tag, missing_tag_detail(name, tag))
            target = self._tags.target(ref, sha)
            if self._refs.delete(ref, sha):
                return target.decode("ascii") if target is not None else sha.decode("ascii")

    def remotes(self) -> dict[str, str]:
        """Configured remotes (kept in the repository's git config): name -> URL.

        Examples:
            >>> store.add_remote("origin", "https://git.example.com/team/models.git")
            >>> store.remotes()
            {'origin': 'https://git.example.com/team/models.git'}
        """
        return self._remotes.configured()

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
        self._remotes.add(name, url, trusted=trusted)
        if trusted:
            self._admit_fetched(self._remotes.location(name))

    @writes_store("path")
    def trust_remote(self, name: str, trusted: bool = True) -> None:
        """Mark configured remote ``name`` trusted (or not).

        Marking it trusted vouches for the versions already fetched from it (under
        that URL) too, as if it had been trusted then; unmarking vouches for nothing
        more, and keeps what was vouched for.

        Examples:
            >>> store.add_remote("team", "https://git.example.com/team/models.git")
            >>> store.trust_remote("team")
            >>> store.is_trusted_remote("https://git.example.com/team/models.git")
            True
        """
        check_bool(trusted, "trusted")
        check_remote_name(name)
        self._remotes.set_trusted(name, trusted)
        if trusted:
            self._admit_fetched(self._remotes.location(name))

    def _admit_fetched(self, location: str) -> None:
        """Vouch for what earlier fetches brought from ``location``, as a trusted fetch would have."""
        for ref, tip in self._remotes.fetched(location):
            try:
                self._vouching.vouch_for_histories({ref: tip})
            except (KeyError, IntegrityError):
                continue  # a tip gc has since removed (it never became a ref here)

    def is_trusted_remote(self, remote: str) -> bool:
        """Whether ``remote`` (a configured name, or the URL/path of one) is marked trusted.

        Examples:
            >>> store.add_remote("origin", "https://git.example.com/team/models.git")
            >>> store.is_trusted_remote("origin")
            False
        """
        return self._remotes.is_trusted(remote)

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
        self._remotes.remove(name)

    def remote_location(self, remote: str) -> str:
        """The URL or absolute path ``remote`` stands for: a configured name, a URL or a path.

        Examples:
            >>> store.add_remote("origin", "https://git.example.com/team/models.git")
            >>> store.remote_location("origin")
            'https://git.example.com/team/models.git'
        """
        return self._remotes.location(remote)

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
        progress: bool = True,
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

        ``progress``: show how far it is on stderr, when stderr is a terminal
        and the push has taken more than a second (False: never). Ctrl-C
        stops it between objects: the remote's refs move only once the whole
        pack has arrived, so they are as before or updated, never half.

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
        check_bool(progress, "progress")
        retry_for = check_seconds(retry_for, "retry_for")
        from gitpet.sync import transfer

        with progress_on_stderr("gitpet push", enabled=progress) as shown:
            return transfer.push(
                self._sync_parts(),
                remote,
                names,
                pipelines,
                force_tags=force_tags,
                allow_unvouched=allow_unvouched,
                retry_for=retry_for,
                progress=shown,
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
        progress: bool = True,
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

        ``progress``: show how far it is on stderr, when stderr is a terminal
        and the fetch has taken more than a second (False: never). Ctrl-C
        stops it promptly: what arrived so far is dropped with its
        quarantine, and no ref has moved unless its versions had all arrived.

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
        check_bool(progress, "progress")
        if trusted is not None:
            check_bool(trusted, "trusted")
        if trusted is None:
            trusted = self.is_trusted_remote(remote)
        from gitpet.sync import transfer

        with progress_on_stderr("gitpet fetch", enabled=progress) as shown:
            return transfer.fetch(
                self._sync_parts(),
                remote,
                names,
                pipelines,
                force_tags=force_tags,
                trusted=trusted,
                accept_rollbacks=accept_rollbacks,
                progress=shown,
            )

    @writes_store("path")
    def init(self) -> bool:
        """Create the bare repository now; False if it already existed.

        Examples:
            >>> store.init(), store.init()      # created, then already there
            (True, False)
        """
        existed = self.exists()
        self._repository.writable()
        return not existed

    @writes_store("path")
    def write_versions(
        self, items: Sequence[tuple[str, VersionTree]], *, message: str | None = None
    ) -> list[PushResult]:
        """Make each ``(name, version)`` the latest version of ``name``.

        All names are validated first; a large batch is then written as one
        pack. Each ref moves by compare-and-swap, after its version's objects
        are stored (loose, for a small batch) and fresh, in the same writers
        lock hold. A version that already is latest writes nothing.
        ``message`` (its first line the subject) goes in every new commit.

        Examples:
            >>> tree = pcm.encode(Model)
            >>> [result] = store.write_versions([("Model", tree)])
            >>> result.created, result.id == tree.id
            (True, True)
        """
        _check_items(items)
        for name, _version in items:
            check_class_name(name)
        check_text(message, "message", optional=True)
        if not items:
            return []
        self._commits.author_line()  # an identity git would reject fails before the store is created
        repo = self._repository.writable()
        now = int(time.time())
        planned = [
            (
                name,
                version,
                self._history.plan(
                    class_ref(name), version.tree.id, _version_message(name, version, message), when=now
                ),
            )
            for name, version in items
        ]
        new_objects: dict[bytes, ShaFile] = {}
        for _name, version, plan in planned:
            if plan.commit is not None:
                for obj in (*version.objects, plan.commit):
                    new_objects.setdefault(obj.id, obj)
        written = self._objects.pack_batch(repo, list(new_objects.values()))
        self._vouching.vouch(version.id for _name, version in items)  # pushed from here: vouched for
        results = []
        for name, version, plan in planned:
            sha, created = self._history.advance(
                class_ref(name),
                version.tree.id,
                _version_message(name, version, message),
                planned=plan,
                keep=version.objects,
                written=written,
            )
            complete, problem = source_state(version.files.meta)
            results.append(PushResult(name, version.id, sha.decode("ascii"), created, complete, problem))
        return results

    @writes_store("path")
    def persist_version(self, name: str, version: VersionTree, *, message: str | None = None) -> PushResult:
        """Store ``version`` in the history of ``name`` without making it the latest.

        Two commits in one compare-and-swap: the version, then the latest version
        again, so ``git log`` shows both and no reader ever sees it as the latest. A class
        with no history yet gets it as its first, latest version; a version already in
        the history writes nothing.

        Examples:
            >>> latest = pcm.push(Model)
            >>> class Model:
            ...     def fit(self):
            ...         return self
            >>> result = store.persist_version("Model", pcm.encode(Model))
            >>> store.latest_id("Model") == latest, store.has_version("Model", result.id)
            (True, True)
        """
        _check_items([(name, version)])
        check_class_name(name)
        check_text(message, "message", optional=True)
        self._commits.author_line()
        self._repository.writable()
        if self.has_version(name, version.id):
            commit = self._versions.commit_of(name, version.id.encode("ascii"))
            return PushResult(name, version.id, commit.decode("ascii"), False)
        self._vouching.vouch([version.id])  # pushed from here: vouched for
        latest = self._versions.latest_id(name)
        restore = f"{name}: version {latest.decode('ascii') if latest else ''} stays the latest\n"
        tip, created = self._history.add_behind(
            class_ref(name),
            version.tree.id,
            _version_message(name, version, message),
            restore,
            keep=version.objects,
        )
        complete, problem = source_state(version.files.meta)
        return PushResult(name, version.id, tip.decode("ascii"), created, complete, problem)

    def meta(self, name: str, version: str | None = None) -> dict[str, Any]:
        """The ``meta.json`` of a version of ``name`` (default: the latest), its other files unread.

        Examples:
            >>> version = pcm.push(Model)
            >>> store.meta("Model")["qualname"]
            'Model'
        """
        version_id, meta = self._versions.meta(name, version)
        if meta is None:
            raise IntegrityError(version_id.decode("ascii"), "not a version")
        return meta

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
        version_id = self.resolve(name, version)
        message = f"{name}: rollback to version {version_id}\n"
        sha, created = self._history.advance(class_ref(name), version_id.encode("ascii"), message)
        return PushResult(name, version_id, sha.decode("ascii"), created)

    def _sync_parts(self) -> SyncParts:
        from gitpet.sync.transfer import SyncParts

        return SyncParts(
            self._repository,
            self._refs,
            self._commits,
            self._vouching,
            self._remotes,
            self._retry,
            self._fetching,
        )
