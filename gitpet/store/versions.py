"""The versions of the classes in a store: names, latest, history, and reading one version.

``refs/heads/<name>`` is the latest version of class ``<name>``; its
first-parent history is the class's version history; each commit's tree is
one version (``source.py``, ``class.pkl``, ``meta.json``, and from format 3
``captured.py`` and perhaps a ``data/`` folder) and the tree id is
the version id (DESIGN.md §1). A version belongs to the class its
``meta.json`` names.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any, NamedTuple, NoReturn, TypeGuard

from gitpet.arguments import check_limit
from gitpet.cache import BoundedCache
from gitpet.errors import (
    AmbiguousVersionError,
    ClassNotFoundError,
    IntegrityError,
    VersionNotFoundError,
    WrongClassVersionError,
)
from gitpet.format.bounds import META_JSON_MAX_BYTES, load_stored_json
from gitpet.format.meta import meta_owner
from gitpet.format.names import (
    CLASS_REF_PREFIX,
    FULL_ID,
    check_class_name,
    class_ref,
    is_ownable_ref,
    tag_ref,
)
from gitpet.format.requirements import Requirement, parse_requirements
from gitpet.format.version_files import (
    CAPTURED,
    CLASS_PICKLE,
    DATA,
    META,
    SOURCE,
    StoredVersion,
    VersionFiles,
)
from gitpet.git.history import first_parent_chain
from gitpet.git.integrity import TreeEntries, find_raw, read_raw, tree_entries
from gitpet.git.refstore import RefStore
from gitpet.git.repository import Repository
from gitpet.records import VersionInfo
from gitpet.store.specs import History, SpecErrors, SpecResolver

__all__ = ["VersionIndex"]

_VERSION_ENTRIES = frozenset({SOURCE, CLASS_PICKLE, META})
# By bytes, not entries: a count of 512 made every pull in a loop over
# 1000 classes a miss (274 us instead of 20 us per pull).
_VERSION_CACHE_BYTES = 64 * 1024 * 1024
_HEADS_KEPT = 256


class _VersionHead(NamedTuple):
    """A version tree's entries (name -> (mode, blob id)) and its meta.json, read once while resolving."""

    entries: TreeEntries
    meta_blob: bytes
    meta: dict[str, Any]


class VersionIndex:
    """Finds and reads the versions of a store's classes.

    Args:
        repository: where the versions are.
        refs: the class refs.
        specs: resolves what a user gives for a version (see :mod:`gitpet.store.specs`).
    """

    def __init__(self, repository: Repository, refs: RefStore, specs: SpecResolver) -> None:
        self._repository = repository
        self._refs = refs
        self._specs = specs
        # Git objects never change, so this cache never goes stale.
        self._cache: BoundedCache[bytes, StoredVersion] = BoundedCache(_VERSION_CACHE_BYTES, _stored_size)
        # What resolving a spec read of each candidate, handed to read() (bounded: a prefix may
        # name many trees that are not the one read).
        self._heads: BoundedCache[bytes, _VersionHead] = BoundedCache(_HEADS_KEPT)
        self._histories: dict[str, History] = {}

    def names(self) -> list[str]:
        """Names of the classes in the store, sorted."""
        # A ref gitpet could not have written (an odd name left by plain git) is not a class.
        refs = self._refs.names_under(CLASS_REF_PREFIX)
        return sorted(
            ref[len(CLASS_REF_PREFIX) :].decode("utf-8")
            for ref in refs
            if b"/" not in ref[len(CLASS_REF_PREFIX) :] and is_ownable_ref(ref)
        )

    def latest_commit(self, name: str) -> bytes | None:
        """The commit ``refs/heads/<name>`` points at, or None."""
        return self._refs.read(class_ref(check_class_name(name)))

    def latest_id(self, name: str) -> bytes | None:
        """The latest version id of ``name``, or None."""
        commit = self.latest_commit(name)
        if commit is None:
            return None
        try:
            return self._repository.tree_of(commit)
        except IntegrityError as err:
            raise IntegrityError(f"refs/heads/{name} -> {commit.decode('ascii')}", err.detail) from err

    def has_version(self, name: str, version_id: str) -> bool:
        """Whether the store holds version ``version_id`` (a full id) of class ``name``."""
        check_class_name(name)
        if not isinstance(version_id, str) or len(version_id) != FULL_ID:
            return False
        try:
            self.resolve(name, version_id)
        except VersionNotFoundError:
            return False
        return True

    def resolve(self, name: str, version: str | None) -> bytes:
        """The version id ``version`` names (None: the latest), which must be one of ``name``'s."""
        return self._resolve(name, version)[0]

    def read(self, name: str, version: str | None) -> StoredVersion:
        """One version of ``name``: its files and parsed meta."""
        version_id, head = self._resolve(name, version)
        cached = self._cache.get(version_id)
        if cached is not None:
            # An entry answers only for the name it was read as: another class's ref may
            # point at the same tree, and the codec must see that name to refuse it.
            return cached if cached.name == name else replace(cached, name=name)
        if head is None:
            head = self._read_head(version_id)
            if head is None:
                raise IntegrityError(version_id.decode("ascii"), "latest commit's tree is not a version")
        files = VersionFiles(
            source=self._entry(version_id, head.entries, SOURCE),
            pickle=self._entry(version_id, head.entries, CLASS_PICKLE),
            meta=head.meta_blob,
            # In every version of format 3 (verify reports one without), in none before.
            captured=self._entry(version_id, head.entries, CAPTURED) if CAPTURED in head.entries else b"",
            data=self._data(version_id, head.entries),
        )
        stored = StoredVersion(name=name, id=version_id.decode("ascii"), files=files, meta=head.meta)
        self._cache[version_id] = stored
        return stored

    def meta(self, name: str, version: str | None) -> tuple[bytes, dict[str, Any] | None]:
        """The id ``version`` of ``name`` names and its parsed ``meta.json`` (None: no version).

        Its other files are not read, and what resolving it read is not read again.
        """
        version_id, head = self._resolve(name, version)
        cached = self._cache.get(version_id)
        if cached is not None:
            return version_id, cached.meta
        if head is None:
            head = self._read_head(version_id)
        return version_id, head.meta if head is not None else None

    def history(self, name: str, limit: int | None = None) -> list[VersionInfo]:
        """History of ``name``, newest first; ``limit`` keeps (and reads) only the newest ``limit``."""
        limit = check_limit(limit)
        tip = self.latest_commit(name)
        if tip is None:
            raise ClassNotFoundError(name, f"store {self._repository.path}")
        found: list[VersionInfo] = []
        for commit in first_parent_chain(self._repository.objects(), tip):
            if limit is not None and len(found) >= limit:
                break
            found.append(VersionInfo.of(commit))
        return found

    def commit_of(self, name: str, version_id: bytes) -> bytes:
        """The newest commit of ``name``'s history that holds ``version_id``."""
        tip = self.latest_commit(name)
        if tip is not None:
            for commit in first_parent_chain(self._repository.objects(), tip):
                if commit.tree == version_id:
                    return commit.id
        raise VersionNotFoundError(name, version_id.decode("ascii"), f"not in the history of {name}")

    def requirements(self, name: str, version: str | None) -> tuple[Requirement, ...]:
        """The packages the newest commit holding ``version`` records (see gitpet.format.requirements).

        A full version id is looked for in the history without resolving it first: finding
        it there is what resolving it would check (a loader asks this of every version).
        """
        tip = self.latest_commit(name)
        if tip is None:
            raise ClassNotFoundError(name, f"store {self._repository.path}")
        wanted = version.encode("ascii") if _is_full_id(version) else None
        if wanted is None or wanted != self._repository.tree_of(tip):
            wanted = self._resolve(name, version)[0]  # a prefix, tag, ~N, commit id, or an older version
        newest = self._repository.commit(tip)  # the commit latest_id just read, when it did
        older = first_parent_chain(self._repository.objects(), newest.parents[0]) if newest.parents else ()
        for commit in itertools.chain((newest,), older):  # read one by one, as far as needed
            if commit.tree == wanted:
                return parse_requirements(commit.message.decode("utf-8", "replace"))
        raise VersionNotFoundError(name, wanted.decode("ascii"), f"not in the history of {name}")

    def _resolve(self, name: str, version: str | None) -> tuple[bytes, _VersionHead | None]:
        """The version id, and its tree and meta when resolving had to read them."""
        check_class_name(name)
        if version is None:
            latest = self.latest_id(name)
            if latest is None:
                raise ClassNotFoundError(name, f"store {self._repository.path}")
            return latest, None
        history = self._histories.get(name)
        if history is None:
            history = self._histories[name] = History(
                name=name,
                ref=class_ref(name),
                tag_ref=lambda tag: tag_ref(name, tag),
                owner=self._owner,
                unit="version",
                errors=self._errors(name),
            )
        tree = self._specs.resolve(history, version).tree
        return tree, self._heads.take(tree) if tree in self._heads else None

    def _owner(self, tree: bytes) -> str | None:
        """The class version ``tree`` belongs to (None: no version); what it read is kept for read()."""
        cached = self._cache.get(tree)
        if cached is not None:
            return meta_owner(cached.meta)
        head = self._read_head(tree)
        if head is None:
            return None
        self._heads[tree] = head
        return meta_owner(head.meta)

    def _errors(self, name: str) -> SpecErrors:
        path = self._repository.path

        def missing(spec: str, detail: str) -> NoReturn:
            raise VersionNotFoundError(
                name, spec, detail or "not in this store: was it pushed, and fetched here?"
            )

        def ambiguous(spec: str, ids: list[str]) -> NoReturn:
            raise AmbiguousVersionError(name, spec, ids)

        def other_owner(spec: str, owner: str) -> NoReturn:
            raise WrongClassVersionError(name, spec, owner)

        def empty() -> NoReturn:
            raise ClassNotFoundError(name, f"store {path}")

        return SpecErrors(missing, ambiguous, other_owner, empty)

    def _read_head(self, sha: bytes) -> _VersionHead | None:
        """The tree and parsed meta of a version; None if ``sha`` is no version at all.

        A tree with some but not all of a version's files is a damaged
        version: :class:`IntegrityError`, like any object that fails its checks.
        """
        found = find_raw(self._repository.objects(), sha)
        if found is None or found[0] != b"tree":
            return None
        entries = tree_entries(sha, found[1])
        if not _VERSION_ENTRIES & entries.keys():
            return None
        meta_blob = self._entry(sha, entries, META)
        meta = load_stored_json(meta_blob, "meta.json", sha.decode("ascii"), META_JSON_MAX_BYTES)
        if not isinstance(meta, dict):
            raise IntegrityError(sha.decode("ascii"), "meta.json is not an object")
        return _VersionHead(entries, meta_blob, meta)

    def _data(self, tree_sha: bytes, entries: TreeEntries) -> tuple[tuple[str, bytes], ...]:
        """The files of a version's ``data/`` folder (none when it has no such folder)."""
        if DATA not in entries:
            return ()
        where = tree_sha.decode("ascii")
        folder_sha = entries[DATA][1]
        try:
            folder = tree_entries(
                folder_sha, read_raw(self._repository.objects(), folder_sha, b"tree", "data/")
            )
        except IntegrityError as err:
            raise IntegrityError(where, f"data/: {err.detail}") from err
        return tuple(
            (name.decode("utf-8", "replace"), self._entry(folder_sha, folder, name))
            for name in sorted(folder)
        )

    def _entry(self, tree_sha: bytes, entries: TreeEntries, entry: bytes) -> bytes:
        where = tree_sha.decode("ascii")
        name = entry.decode()
        try:
            _mode, blob_sha = entries[entry]
        except KeyError as err:
            raise IntegrityError(where, f"version has no {name}") from err
        try:
            return read_raw(self._repository.objects(), blob_sha, b"blob", f"{name} blob")
        except IntegrityError as err:
            raise IntegrityError(where, f"{name}: {err.detail}") from err


def _is_full_id(version: object) -> TypeGuard[str]:
    return (
        isinstance(version, str) and len(version) == FULL_ID and all(c in "0123456789abcdef" for c in version)
    )


def _stored_size(stored: StoredVersion) -> int:
    files = stored.files
    return sum(len(content) for content in files.by_name().values())
