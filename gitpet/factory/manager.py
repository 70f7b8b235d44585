"""PetClassManager: push classes to a store and pull them back (labchain's API)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from gitpet.arguments import check_bool, check_seconds, check_text
from gitpet.codec.classcodec import ClassCodec, check_versionable
from gitpet.codec.modpolicy import ModulePolicy
from gitpet.codec.reads import GlobalReads
from gitpet.codec.requirements import requirement_problems
from gitpet.errors import (
    ClassNotFoundError,
    DifferentClassError,
    GitpetError,
    IntegrityError,
    InvalidArgumentError,
    NotFoundError,
    PipelineNotFoundError,
    RemoteRejectedError,
    SnapshotNotFoundError,
    SourceMismatchError,
    UntrustedVersionError,
    VersionNotFoundError,
)
from gitpet.format.names import (
    check_class_name,
    check_class_names,
    check_pins,
    parse_snapshot_spec,
    parse_version_spec,
)
from gitpet.format.version_files import VersionTree
from gitpet.gitstore import GitStore, StoredVersion
from gitpet.progress import human_size
from gitpet.records import Problem, PushResult, VersionInfo
from gitpet.trust.trustlist import TrustPolicy

if TYPE_CHECKING:
    from gitpet.pipelines.snapshots import Snapshot

__all__ = ["LARGE_VERSION_BYTES", "LargeVersionWarning", "PetClassManager"]

log = logging.getLogger("gitpet")

LARGE_VERSION_BYTES = 16 * 2**20
"""Above this size a push warns (:class:`LargeVersionWarning`); see ``PetClassManager``."""


class LargeVersionWarning(UserWarning):
    """A version about to be stored is large, usually because a method reads big module-level data.

    Examples:
        >>> import warnings
        >>> small = PetClassManager(store, large_version_bytes=100)
        >>> with warnings.catch_warnings(record=True) as seen:
        ...     warnings.simplefilter("always")
        ...     _ = small.push(Model)
        >>> type(seen[0].message).__name__, "above 100 B" in str(seen[0].message)
        ('LargeVersionWarning', True)
    """


def _registered_name(cls: object, name: str | None) -> str:
    """``name``, or the class's ``__name__`` when none is given; checked either way."""
    return check_class_name(check_versionable(cls).__name__ if name is None else name)


def _one_version(version: str | None, code_hash: str | None) -> str | None:
    """The version given as ``version`` or as labchain's ``code_hash`` keyword (not both)."""
    if version is not None and code_hash is not None and version != code_hash:
        raise InvalidArgumentError("code_hash", code_hash, f"names another version than version={version!r}")
    return version if version is not None else code_hash


def _moved_names(moved: bool | Iterable[str]) -> bool | frozenset[str]:
    if isinstance(moved, bool):
        return moved
    if isinstance(moved, (str, bytes)) or not isinstance(moved, Iterable):
        raise InvalidArgumentError("moved", moved, "must be a bool or an iterable of class names")
    return frozenset(check_class_names(list(moved)))


def _held_bytes(value: object) -> int:
    """The bytes a captured global holds, as far as one can tell without pickling it."""
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    return 0


def _dotted(meta: Mapping[str, object]) -> str | None:
    """``module.qualname`` a version's meta records (None when either is missing)."""
    module, qualname = meta.get("module"), meta.get("qualname")
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


class PetClassManager:
    """Pushes classes to a :class:`GitStore` and loads them back.

    Args:
        store: a :class:`GitStore`, or a path for one; default the default store.
        policy: which modules are captured by value (:class:`ModulePolicy`).
        remote: a git remote (configured name, URL or path) that :meth:`pull`
            fetches a class from when the local store lacks it or the asked
            version. ``None``: nothing ever touches the network.
        remote_miss_ttl: seconds to remember that the remote has no class of
            some name, so repeated lookups of framework classes through a
            persistent factory do not each cost a round trip.
        trust: what :meth:`pull` does with a version this machine does not
            vouch for (fetched from a remote not marked trusted); default
            :meth:`TrustPolicy.refuse`. See docs/trust.md.
        large_version_bytes: a version bigger than this (its files, before git compresses
            them) is pushed with a :class:`LargeVersionWarning` naming the globals it
            captured that make it so; default 16 MiB.
        trust_remote: vouch for every version fetched from ``remote`` on arrival,
            as for a remote marked trusted (a worker started with
            ``GITPET_REMOTE_TRUSTED=1``); default: as the store's remote
            configuration says.

    Examples:
        >>> import tempfile
        >>> pcm = PetClassManager(tempfile.mkdtemp() + "/store")
        >>> class Doubler:
        ...     def __call__(self, x):
        ...         return 2 * x
        >>> version = pcm.push(Doubler)
        >>> pcm.push(Doubler) == version          # unchanged: nothing written
        True
        >>> pcm.pull("Doubler")()(21)
        42
    """

    def __init__(
        self,
        store: GitStore | str | os.PathLike[str] | None = None,
        *,
        policy: ModulePolicy | None = None,
        remote: str | None = None,
        remote_miss_ttl: float = 30.0,
        trust_remote: bool = False,
        trust: TrustPolicy | None = None,
        large_version_bytes: int = LARGE_VERSION_BYTES,
    ) -> None:
        self._store = store if isinstance(store, GitStore) else GitStore(store)
        self._remote = check_text(remote, "remote", optional=True)
        self._remote_miss_ttl = check_seconds(remote_miss_ttl, "remote_miss_ttl")
        self._trust_remote = check_bool(trust_remote, "trust_remote")
        if policy is not None and not isinstance(policy, ModulePolicy):
            raise InvalidArgumentError("policy", policy, "must be a ModulePolicy or None")
        self._remote_misses: dict[str, float] = {}
        self._codec = ClassCodec(policy)
        self._trust = trust if trust is not None else TrustPolicy.refuse()
        if not isinstance(self._trust, TrustPolicy):
            raise InvalidArgumentError("trust", trust, "must be a TrustPolicy or None")
        self._admitted: set[str] = set()
        if isinstance(large_version_bytes, bool) or not isinstance(large_version_bytes, int):
            raise InvalidArgumentError("large_version_bytes", large_version_bytes, "must be an int")
        self._large_version_bytes = large_version_bytes
        self._warned_large: set[str] = set()
        # name -> (id, module.qualname) of the version last checked to become its latest here
        self._checked_latest: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.Lock()
        self._encoded: weakref.WeakKeyDictionary[type, dict[str, tuple[GlobalReads, VersionTree]]] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"PetClassManager({self._store!r})"

    @property
    def store(self) -> GitStore:
        """The store versions are pushed to and pulled from."""
        return self._store

    @property
    def codec(self) -> ClassCodec:
        """The codec that turns classes into version files and back."""
        return self._codec

    @property
    def trust(self) -> TrustPolicy:
        """Which versions may be loaded (unpickled) here."""
        return self._trust

    @property
    def remote(self) -> str | None:
        """The remote :meth:`pull` fetches missing classes and versions from, if any."""
        return self._remote

    def encode(self, cls: type, name: str | None = None) -> VersionTree:
        """The version tree ``cls`` would be stored as (cached while unchanged).

        Examples:
            >>> import json
            >>> tree = pcm.encode(Model)
            >>> tree.id == pcm.get_class_hash(Model), json.loads(tree.files.meta)["qualname"]
            (True, 'Model')
        """
        name = _registered_name(cls, name)
        if not isinstance(cls, type):
            return self._codec.encode(cls, name)  # raises UnsupportedClassError
        with self._lock:
            cached = self._encoded.get(cls, {}).get(name)
        # Valid while every attribute, base and module global the pickle read is the same
        # object, and none of them can change in place (else the class is encoded every time).
        if cached is not None and cached[0].unchanged():
            return cached[1]
        encoded, reads = self._codec.encode_traced(cls, name)
        version = self._as_written_elsewhere(name, encoded)
        with self._lock:
            self._encoded.setdefault(cls, {})[name] = (reads, version)
        return version

    def _as_written_elsewhere(self, name: str, version: VersionTree) -> VersionTree:
        """The latest version of ``name`` when it is this very code, pickled by another Python minor.

        Both are source-complete with the same text: the class is that version, and pushing it
        from here writes nothing (a pickle differs between minors, the code does not).
        """
        meta = json.loads(version.files.meta)
        if meta.get("source_complete") is not True:
            return version
        try:
            latest = self._store.read_version(name)
        except (NotFoundError, IntegrityError):
            return version
        other = latest.meta
        if other.get("python") == meta.get("python") or other.get("source_complete") is not True:
            return version
        same_text = (latest.files.source, latest.files.captured) == (
            version.files.source,
            version.files.captured,
        )
        rest = {key: value for key, value in meta.items() if key != "python"}
        if not same_text or {key: value for key, value in other.items() if key != "python"} != rest:
            return version
        return VersionTree.build(latest.files)

    def get_class_hash(self, cls: type, name: str | None = None) -> str:
        """The version id ``cls`` gets when pushed as ``name`` (default ``__name__``).

        Examples:
            >>> pcm.get_class_hash(Model) == pcm.push(Model)     # the id it gets when pushed
            True
        """
        return self.encode(cls, name).id

    def push(
        self, cls: type, name: str | None = None, *, message: str | None = None, moved: bool = False
    ) -> str:
        """Make ``cls`` the latest version of ``name``; a no-op if it already is.

        ``message``: what the version's commit says (its first line the subject
        ``gitpet log`` shows). A class from another module or with another qualname
        than the latest version of ``name`` is another class: refused
        (:class:`DifferentClassError`) unless ``moved=True`` says it is the same class moved.

        Examples:
            >>> version = pcm.push(Model, message="first model")
            >>> pcm.push(Model) == version, pcm.push(Model, "Renamed") == version   # same code, same id
            (True, False)
            >>> pcm.versions("Model")[0].message.splitlines()[0]
            'Model: first model'
        """
        return self.push_many([(_registered_name(cls, name), cls)], message=message, moved=moved)[0].id

    def push_many(
        self,
        items: Iterable[tuple[str, type]],
        *,
        message: str | None = None,
        moved: bool | Iterable[str] = False,
    ) -> list[PushResult]:
        """Push several classes in one batch (one pack, one pass over refs).

        ``message`` goes in every new commit; ``moved``: True, or the names whose class
        may come from another module or qualname than their latest version (see :meth:`push`).

        Examples:
            >>> class Other:
            ...     pass
            >>> [(r.name, r.created) for r in pcm.push_many([("Model", Model), ("Other", Other)])]
            [('Model', True), ('Other', True)]
        """
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
            raise InvalidArgumentError("items", items, "must be an iterable of (name, class) pairs")
        check_text(message, "message", optional=True)
        pairs = list(items)
        for item in pairs:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise InvalidArgumentError("item", item, "must be a (name, class) pair")
        may_move = _moved_names(moved)
        versions = [(name, self.encode(cls, name)) for name, cls in pairs]
        for (name, cls), (_name, version) in zip(pairs, versions, strict=True):
            self._warn_if_large(name, cls, version)
        for name, version in versions:
            if not (may_move is True or (may_move is not False and name in may_move)):
                self._refuse_other_class(name, version)
        return self._store.write_versions(versions, message=message)

    def _warn_if_large(self, name: str, cls: type, version: VersionTree) -> None:
        """Warn (:class:`LargeVersionWarning`, once per version) when a version is large, naming why.

        A method reading a big module-level array captures it into every version: said
        before it is written, with the globals that make up most of it.
        """
        size = sum(len(content) for content in version.files.by_name().values())
        if size <= self._large_version_bytes or version.id in self._warned_large:
            return
        self._warned_large.add(version.id)
        with self._lock:
            cached = self._encoded.get(cls, {}).get(name) if isinstance(cls, type) else None
        found: list[tuple[int, str]] = []
        if cached is not None:
            for _namespace, global_name, value in cached[0].bindings:
                held = _held_bytes(value)
                if held >= size // 10:
                    found.append((held, f"{global_name} ({human_size(held)})"))
        named = ", ".join(text for _held, text in sorted(found, reverse=True)[:3])
        warnings.warn(
            LargeVersionWarning(
                f"{name}@{version.id[:12]} is {human_size(size)}, "
                f"above {human_size(self._large_version_bytes)}"
                + (f": it captures {named}" if named else "")
                + "; every version that captures it stores it again. Load such data at run time "
                "(a path as a param) instead, or raise large_version_bytes"
            ),
            stacklevel=4,
        )

    def _refuse_other_class(self, name: str, version: VersionTree) -> None:
        """Refuse to make another module's or qualname's class the latest version of ``name``."""
        latest = self._store.latest_id(name)
        now = _dotted(json.loads(version.files.meta))
        if latest is not None and latest != version.id:
            # What was checked here last for ``name``: a version id names its meta.json for
            # good, so the latest is not read again while it is the version pushed from here.
            with self._lock:
                pushed_id, before = self._checked_latest.get(name, ("", None))
            if pushed_id != latest:
                try:
                    before = _dotted(self._store.meta(name, latest))
                except (NotFoundError, IntegrityError):
                    return  # a damaged latest version is verify's to report; replacing it is fine
            if before is not None and now is not None and before != now:
                raise DifferentClassError(name, before, now)
        with self._lock:
            self._checked_latest[name] = (version.id, now)

    def persist_class(self, cls: type, name: str | None = None, *, message: str | None = None) -> str:
        """Store ``cls`` as a version of ``name`` without making it the latest; return its id.

        labchain's ``persist_class``: the version can be pulled by id (:meth:`recover_class`),
        pinned in a dump and shared, while ``factory[name]`` keeps loading the latest. The
        history gets the version and then the latest again (see :meth:`GitStore.persist_version`).

        Examples:
            >>> latest = pcm.push(Model)
            >>> class Model:
            ...     def fit(self):
            ...         return self
            >>> candidate = pcm.persist_class(Model)
            >>> pcm.store.latest_id("Model") == latest, hasattr(pcm.recover_class("Model", candidate), "fit")
            (True, True)
        """
        name = _registered_name(cls, name)
        version = self.encode(cls, name)
        self._refuse_other_class(name, version)
        return self._store.persist_version(name, version, message=message).id

    def recover_class(self, name: str, code_hash: str) -> type:
        """Load the version ``code_hash`` of ``name`` (labchain's name for :meth:`pull` with a version).

        Examples:
            >>> version = pcm.push(Model)
            >>> pcm.recover_class("Model", version) is pcm.pull("Model", version)
            True
        """
        return self.pull(name, code_hash)

    def check_status(self, cls: type, name: str | None = None) -> str:
        """Whether ``cls`` is the latest version of ``name`` in the store (labchain's statuses).

        ``"synced"``: it is; ``"out_of_sync"``: the store's latest is another version;
        ``"untracked"``: the store has no class ``name``. Nothing is fetched.

        Examples:
            >>> pcm.check_status(Model)
            'untracked'
            >>> _ = pcm.push(Model)
            >>> pcm.check_status(Model)
            'synced'
            >>> class Model:
            ...     def fit(self):
            ...         return self
            >>> pcm.check_status(Model)
            'out_of_sync'
        """
        name = _registered_name(cls, name)
        latest = self._store.latest_id(name)
        if latest is None:
            return "untracked"
        return "synced" if self.get_class_hash(cls, name) == latest else "out_of_sync"

    def pull(self, name: str, version: str | None = None, *, code_hash: str | None = None) -> type:
        """Load ``name``: its latest version, or the version an id, prefix, tag or ``~N`` names.

        ``code_hash`` is labchain's keyword for ``version``. With a remote, a class or
        version missing here is fetched (that class's ref and tags only) and loaded from
        what arrived.

        Examples:
            >>> version = pcm.push(Model)
            >>> pcm.pull("Model") is pcm.pull("Model", version[:7])   # loaded once per process
            True
        """
        check_class_name(name)
        version = _one_version(version, code_hash)
        if version is not None:
            parse_version_spec(name, version)  # a malformed spec is refused before any fetch
        try:
            return self._load(self._store.read_version(name, version))
        except (ClassNotFoundError, VersionNotFoundError) as err:
            if not self._may_fetch(err, name, version):
                raise
        assert self._remote is not None
        self.fetch_class(name)
        try:
            return self._load(self._store.read_version(name, version))
        except ClassNotFoundError as err:
            self._remote_misses[name] = time.monotonic()
            raise ClassNotFoundError(name, f"store {self._store.path} or remote {self._remote}") from err

    def _load(self, stored: StoredVersion) -> type:
        """Unpickle ``stored`` once the trust policy admits it (nothing runs before that)."""
        if stored.id not in self._admitted:
            self._admit(stored)
            self._warn_of_missing_packages(stored)
            self._admitted.add(stored.id)
        return self._codec.decode(stored)

    def _warn_of_missing_packages(self, stored: StoredVersion) -> None:
        """Say (once per version and manager) which package it was pushed with this process lacks."""
        try:
            requirements = self._store.requirements(stored.name, stored.id)
        except NotFoundError:
            return  # read by id from another class's snapshot: no history of its own here
        for problem in requirement_problems(requirements):
            log.warning("gitpet: %s@%s: %s", stored.name, stored.id[:12], problem)

    def _admit(self, stored: StoredVersion) -> None:
        if self._store.is_trusted(stored.id):
            return
        if self._trust.untrusted == "allow":
            self._refuse_if_not_its_text(stored)
            return
        # Its objects may have arrived with a fetch that has not recorded their trust yet.
        self._store.wait_for_fetches()
        if self._store.is_trusted(stored.id):
            return
        if self._trust.untrusted == "signed":
            assert self._trust.allowed_signers is not None
            if self._store.signed_by(stored.name, stored.id, self._trust.allowed_signers) is not None:
                self._refuse_if_not_its_text(stored)
                return
            reason = f"no commit of it is SSH-signed by a key in {self._trust.allowed_signers}"
        else:
            reason = "it was neither pushed from here nor fetched from a remote marked trusted"
        raise UntrustedVersionError(
            stored.name,
            stored.id,
            f"{reason}. Review it (gitpet show {stored.name}@{stored.id[:12]}), then vouch for it "
            f"(gitpet trust {stored.name} {stored.id[:12]}), or mark its remote trusted "
            "(gitpet remote add --trusted), or load with another TrustPolicy",
        )

    def _refuse_if_not_its_text(self, stored: StoredVersion) -> None:
        """A version nobody here vouched for loads only if its pickle is what its text builds.

        The text is what a reviewer (or a signer) read; checking builds it, never unpickles.
        """
        check = self._codec.check_stored(stored)
        if check.checked and not check.complete:
            raise SourceMismatchError(stored.name, stored.id, check.reason)

    def vouch(self, name: str, version: str | None = None) -> list[str]:
        """Vouch for a version of ``name`` after review (``None``: its whole history); return the ids.

        Unlike :meth:`GitStore.trust`, a source-complete version is first built from its
        text, the text the review read, and refused (:class:`SourceMismatchError`) when its
        ``class.pkl`` is not the pickle of that class (:meth:`build_from_text` is then the
        safe way to run what the review read). Nothing is unpickled.

        Examples:
            >>> version = pcm.push(Model)
            >>> pcm.vouch("Model") == [version]
            True
        """
        check_class_name(name)
        ids = (
            [info.id for info in self._store.versions(name)]
            if version is None
            else [self._store.resolve(name, version)]
        )
        for version_id in ids:
            self._refuse_if_not_its_text(self._store.read_version(name, version_id))
        for version_id in ids:
            self._store.trust(name, version_id)
        return ids

    def build_from_text(self, name: str, version: str | None = None) -> type:
        """The class a version's reviewed text builds, without reading its ``class.pkl``.

        The safe way to run a version whose pickle is not what its text builds
        (:class:`SourceMismatchError`): what runs is the text of ``captured.py``,
        ``data/`` and ``source.py``, the text ``gitpet show`` printed. Calling this runs
        that text, so call it for text you reviewed. The class is not that version
        (its pickle is something else): pushed, it is stored as the version its text is.

        Examples:
            >>> class Scaler:
            ...     def scale(self, x):
            ...         return 2 * x
            >>> version = pcm.push(Scaler)
            >>> built = pcm.build_from_text("Scaler", version)
            >>> built is not pcm.pull("Scaler", version), built().scale(3)
            (True, 6)
        """
        check_class_name(name)
        return self._codec.build_text(self._store.read_version(name, version))

    def verify_sources(self, names: Sequence[str] | None = None) -> list[Problem]:
        """Versions whose ``class.pkl`` is not what their text builds (empty: none).

        Every version in the histories of ``names`` (default: every class) that this
        machine vouches for and that ``meta.json`` calls source-complete, pickled by this
        Python minor, is built from its text and pickled again; nothing is unpickled.
        Versions nobody here vouched for are not run at all.

        Examples:
            >>> version = pcm.push(Model)
            >>> pcm.verify_sources()
            []
        """
        if names is not None and (isinstance(names, (str, bytes)) or not isinstance(names, Sequence)):
            raise InvalidArgumentError("names", names, "must be a list of class names, or None")
        found: list[Problem] = []
        for name in self._store.names() if names is None else [check_class_name(n) for n in names]:
            for info in self._store.versions(name):
                if not self._store.is_trusted(info.id):
                    continue
                check = self._codec.check_stored(self._store.read_version(name, info.id))
                if check.checked and not check.complete:
                    found.append(Problem(f"refs/heads/{name}", info.id, check.reason))
        return found

    def _may_fetch(self, err: Exception, name: str, version: str | None) -> bool:
        # An ambiguous prefix or another class's id stays so after a fetch.
        if self._remote is None or type(err) not in (ClassNotFoundError, VersionNotFoundError):
            return False
        missed = self._remote_misses.get(name)
        recently_missed = missed is not None and time.monotonic() - missed < self._remote_miss_ttl
        return version is not None or not recently_missed

    def fetch_class(self, name: str) -> None:
        """Fetch one class's ref and tags from the remote (a ref it rejects is left as it was, and logged).

        Examples:
            >>> version = pcm.push(Model)
            >>> here = PetClassManager(tempfile.mkdtemp() + "/here", remote=str(pcm.store.path))
            >>> here.fetch_class("Model")
            >>> here.store.latest_id("Model") == version
            True
        """
        if self._remote is None:
            return
        self._fetch_reporting_rejections([name], [])
        self._remote_misses.pop(name, None)

    def prefetch(self, pins: Iterable[tuple[str, str]]) -> list[str]:
        """Fetch every class a pin names whose version this store lacks, in one round trip.

        ``pins``: ``(class name, version)`` pairs (an id, a prefix or a tag). Returns the
        names fetched (none without a remote, or when every version is here): rebuilding a
        pipeline of 20 classes on a new worker costs one fetch, not 20.

        Examples:
            >>> version = pcm.push(Model)
            >>> here = PetClassManager(tempfile.mkdtemp() + "/here", remote=str(pcm.store.path))
            >>> here.prefetch([("Model", version)]), here.prefetch([("Model", version)])
            (['Model'], [])
        """
        checked = check_pins(pins)
        missing = sorted({name for name, version in checked if not self._has_version_here(name, version)})
        return self.prefetch_classes(missing)

    def prefetch_classes(self, names: Sequence[str]) -> list[str]:
        """Fetch these classes' refs and tags from the remote in one round trip; return the names.

        Examples:
            >>> pcm.prefetch_classes(["Model"])   # no remote: nothing to do
            []
        """
        names = check_class_names(names)
        if self._remote is None or not names:
            return []
        self._fetch_reporting_rejections(sorted(set(names)), [])
        for name in names:
            self._remote_misses.pop(name, None)
        return sorted(set(names))

    def _has_version_here(self, name: str, version: str) -> bool:
        try:
            self._store.resolve(name, version)
        except (ClassNotFoundError, VersionNotFoundError):
            return False
        except GitpetError:
            return True  # ambiguous, another class's, ...: loading says so, a fetch would not help
        return True

    def snapshot(self, pipeline: str, version: str | None = None) -> Snapshot:
        """Read a snapshot of ``pipeline`` (see :meth:`PipelineHistory.read`).

        With a remote, a pipeline or snapshot missing here is fetched first
        (that pipeline's ref and tags, with every version its snapshots pin).

        Examples:
            >>> version = pcm.push(Model)
            >>> dump = {"clazz": "Model", "version_hash": version, "params": {}}
            >>> _ = pcm.store.pipeline("train").save(dump)
            >>> pcm.snapshot("train").pinned("Model") == (version,)
            True
        """
        history = self._store.pipeline(pipeline)
        if version is not None:
            parse_snapshot_spec(pipeline, version)  # a malformed spec is refused before any fetch
        try:
            return history.read(version)
        except (PipelineNotFoundError, SnapshotNotFoundError):
            if self._remote is None:
                raise
        self.fetch_pipeline(pipeline)
        try:
            return history.read(version)
        except PipelineNotFoundError as err:
            raise PipelineNotFoundError(
                pipeline, f"store {self._store.path} or remote {self._remote}"
            ) from err

    def fetch_pipeline(self, pipeline: str) -> None:
        """Fetch one pipeline's ref and tags from the remote (a ref it rejects is left as it was, and logged).

        Examples:
            >>> version = pcm.push(Model)
            >>> dump = {"clazz": "Model", "version_hash": version, "params": {}}
            >>> _ = pcm.store.pipeline("train").save(dump)
            >>> here = PetClassManager(tempfile.mkdtemp() + "/here", remote=str(pcm.store.path))
            >>> here.fetch_pipeline("train")
            >>> here.store.pipelines(), here.store.has_version("Model", version)
            (['train'], True)
        """
        if self._remote is None:
            return
        self._fetch_reporting_rejections([], [pipeline])

    def _fetch_reporting_rejections(self, names: list[str], pipelines: list[str]) -> None:
        """Fetch for a load, logging what the fetch rejected.

        A rejected ref (a differing tag, a rollback by a remote that is not trusted) keeps
        what this store had, which is what loads.
        """
        assert self._remote is not None
        try:
            trusted = True if self._trust_remote else None
            self._store.fetch(self._remote, names, pipelines=pipelines, trusted=trusted)
        except RemoteRejectedError as err:
            for ref, why in err.rejected:
                log.warning("gitpet: fetch from %s left %s as it was: %s", err.remote, ref, why)

    def rollback(self, name: str, version: str) -> PushResult:
        """Make an older version of ``name`` the latest again (a new commit; history keeps all).

        Examples:
            >>> version = pcm.push(Model)
            >>> class Model:
            ...     def fit(self):
            ...         return self
            >>> _ = pcm.push(Model)
            >>> pcm.rollback("Model", version).id == version
            True
        """
        return self._store.rollback(name, version)

    def versions(self, name: str) -> list[VersionInfo]:
        """Version history of ``name``, newest first.

        Examples:
            >>> version = pcm.push(Model)
            >>> [info.id for info in pcm.versions("Model")] == [version]
            True
        """
        return self._store.versions(name)

    def names(self) -> list[str]:
        """Classes in the store.

        Examples:
            >>> version = pcm.push(Model)
            >>> pcm.names()
            ['Model']
        """
        return self._store.names()
