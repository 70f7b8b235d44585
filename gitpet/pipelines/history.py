"""Pipeline histories: save, find, tag, compare and check snapshots in a :class:`GitStore`.

``refs/heads/pipelines/<name>`` is a pipeline's history, newest first along
first parents; each commit is one snapshot (see :mod:`gitpet.pipelines.snapshots`).
Which class versions have been used together is read from these histories
(every pipeline's): there is no separate record to drift out of date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

from dulwich.objects import Commit

from gitpet.arguments import check_bool, check_limit, check_text
from gitpet.errors import (
    ClassNotFoundError,
    InvalidDumpError,
    InvalidNameError,
    PipelineNotFoundError,
    SnapshotNotFoundError,
    VersionNotFoundError,
)
from gitpet.format.dumps import dump_json, normalize_dump
from gitpet.format.names import (
    check_class_name,
    check_pipeline_name,
    check_tag_name,
    class_ref,
    parse_snapshot_spec,
    pipeline_ref,
    pipeline_tag_prefix,
    pipeline_tag_ref,
)
from gitpet.format.textdiff import unified_diff
from gitpet.format.version_files import StoredVersion
from gitpet.git.history import first_parent_chain, read_commit
from gitpet.git.integrity import RawReader
from gitpet.git.refstore import RefStore
from gitpet.git.repository import Repository
from gitpet.git.writefaults import writes_store
from gitpet.pipelines.catalog import pinned_ids, pipeline_tips, snapshot_pins
from gitpet.pipelines.snapshots import (
    Snapshot,
    build_snapshot_tree,
    pin_entries,
    read_snapshot_tree,
    used_pin_set,
)
from gitpet.records import HistoryCommit, PushResult, SnapshotInfo
from gitpet.store.history_writer import HistoryWriter
from gitpet.store.specs import History, SpecErrors, SpecResolver
from gitpet.store.tags import Tags

__all__ = [
    "ClassChange",
    "ClassVersions",
    "PinStatus",
    "PipelineHistory",
    "PipelineParts",
    "SnapshotDiff",
    "SnapshotRef",
    "SnapshotStatus",
]


class ClassVersions(Protocol):
    """What a pipeline history needs of its store's classes; a :class:`GitStore` is one.

    Examples:
        >>> store.pipeline("train").store is store
        True
    """

    @property
    def path(self) -> Path:
        """Where the store lives.

        Examples:
            >>> store.pipeline("train").store.path == store.path
            True
        """

    def resolve(self, name: str, version: str | None = None) -> str:
        """The full id ``version`` of class ``name`` names (see :meth:`GitStore.resolve`).

        Examples:
            >>> version = pcm.push(Model)
            >>> store.pipeline("train").store.resolve("Model", version[:7]) == version
            True
        """

    def latest_id(self, name: str) -> str | None:
        """The latest version id of ``name``, or None (see :meth:`GitStore.latest_id`).

        Examples:
            >>> version = pcm.push(Model)
            >>> store.pipeline("train").store.latest_id("Model") == version
            True
        """

    def read_version(self, name: str, version: str | None = None) -> StoredVersion:
        """One version of ``name`` (see :meth:`GitStore.read_version`).

        Examples:
            >>> version = pcm.push(Model)
            >>> store.pipeline("train").store.read_version("Model").id == version
            True
        """


@dataclass(frozen=True)
class PipelineParts:
    """The parts of a store a pipeline history works with.

    ``vouch`` records that this machine vouches for some version ids.
    """

    repository: Repository
    refs: RefStore
    writer: HistoryWriter
    tags: Tags
    specs: SpecResolver
    vouch: Callable[[Iterable[str]], None]


@dataclass(frozen=True)
class SnapshotRef:
    """A snapshot of some pipeline: ``pipeline@id``.

    Examples:
        >>> print(SnapshotRef("train", "3f2a91c07b1e" + "0" * 28))
        train@3f2a91c07b1e
    """

    pipeline: str
    id: str

    def __str__(self) -> str:
        return f"{self.pipeline}@{self.id[:12]}"


@dataclass(frozen=True)
class ClassChange:
    """A class whose pinned versions differ between two snapshots.

    ``old``/``new``: the ids each snapshot pins (empty: the class is not in
    it); ``source_diff``: unified diff of ``source.py`` from the old
    snapshot's ``classes/<name>`` to the new one's, as ``git diff`` shows it.

    Examples:
        >>> history = store.pipeline("train")
        >>> _ = history.save({"clazz": "Model", "version_hash": pcm.push(Model), "params": {}})
        >>> Model.k = 2
        >>> _ = history.save({"clazz": "Model", "version_hash": pcm.push(Model), "params": {}})
        >>> [(change.name, len(change.old), len(change.new)) for change in history.diff("~1").changes]
        [('Model', 1, 1)]
    """

    name: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    source_diff: str


@dataclass(frozen=True)
class SnapshotDiff:
    """What changed from snapshot ``old`` to snapshot ``new`` of one pipeline.

    Examples:
        >>> history = store.pipeline("train")
        >>> _ = history.save({"clazz": "Model", "version_hash": pcm.push(Model), "params": {}})
        >>> class Model:
        ...     def fit(self):
        ...         return self
        >>> _ = history.save({"clazz": "Model", "version_hash": pcm.push(Model), "params": {}})
        >>> diff = history.diff("~1")
        >>> diff.same, [change.name for change in diff.changes]
        (False, ['Model'])
    """

    pipeline: str
    old: SnapshotInfo
    new: SnapshotInfo
    changes: tuple[ClassChange, ...]
    dump_diff: str

    @property
    def same(self) -> bool:
        """Whether both snapshots pin the same versions with the same dump."""
        return not self.changes and not self.dump_diff


@dataclass(frozen=True)
class PinStatus:
    """Where one pinned class stands against the store's latest version of it.

    ``latest``: the store's latest id (None when the store has no ref for the
    class); ``behind``: how many versions of the class's history came after
    the pinned one (None when the pinned version is not in that history);
    ``saved_with_latest``: the snapshots, of any pipeline, that pinned
    exactly this snapshot's versions but the latest of this class.

    Examples:
        >>> history = store.pipeline("train")
        >>> _ = history.save({"clazz": "Model", "version_hash": pcm.push(Model), "params": {}})
        >>> [(pin.name, pin.behind, pin.saved_with_latest) for pin in history.status().classes]
        [('Model', 0, ())]
    """

    name: str
    pinned: tuple[str, ...]
    latest: str | None
    behind: int | None
    saved_with_latest: tuple[SnapshotRef, ...]

    @property
    def newer(self) -> bool:
        """Whether the store's latest version of the class is one this snapshot does not pin."""
        return self.latest is not None and self.latest not in self.pinned


@dataclass(frozen=True)
class SnapshotStatus:
    """Each pinned class of a snapshot against the latest versions in the store.

    Examples:
        >>> history = store.pipeline("train")
        >>> _ = history.save({"clazz": "Model", "version_hash": pcm.push(Model), "params": {}})
        >>> history.status().up_to_date
        True
        >>> class Model:
        ...     def fit(self):
        ...         return self
        >>> _ = pcm.push(Model)                   # a newer Model is now the latest
        >>> status = history.status()
        >>> status.up_to_date, [(pin.name, pin.newer, pin.behind) for pin in status.classes]
        (False, [('Model', True, 1)])
    """

    snapshot: SnapshotInfo
    classes: tuple[PinStatus, ...]
    all_latest_saved_in: tuple[SnapshotRef, ...]

    @property
    def up_to_date(self) -> bool:
        """Whether the snapshot pins the latest version of every class it uses."""
        return not any(pin.newer for pin in self.classes)


class PipelineHistory:
    """The snapshots of one pipeline in a store: ``store.pipeline(name)``.

    Saving a dump writes a commit on ``refs/heads/pipelines/<name>`` whose
    tree pins every class version the dump names (DESIGN.md §5); reading,
    tagging, diffing and status never unpickle anything.

    Examples:
        >>> import tempfile
        >>> from gitpet import GitStore, PetClassManager
        >>> store = GitStore(tempfile.mkdtemp() + "/store")
        >>> class Scale:
        ...     def __init__(self, k=1):
        ...         self.k = k
        >>> version = PetClassManager(store).push(Scale)
        >>> history = store.pipeline("train")
        >>> snapshot = history.save({"clazz": "Scale", "version_hash": version, "params": {"k": 2}})
        >>> [pin.entry for pin in history.read().pins]
        ['Scale']
        >>> history.read().dump["params"]
        {'k': 2}
    """

    def __init__(self, store: ClassVersions, name: str, parts: PipelineParts) -> None:
        self._store = store
        self._parts = parts
        self._name = check_pipeline_name(name)
        self._ref = pipeline_ref(self._name)

    def __repr__(self) -> str:
        return f"PipelineHistory({self._store!r}, {self._name!r})"

    @property
    def name(self) -> str:
        """The pipeline's name."""
        return self._name

    @property
    def store(self) -> ClassVersions:
        """The store (a :class:`GitStore`) the snapshots are in."""
        return self._store

    def exists(self) -> bool:
        """Whether the store holds any snapshot of this pipeline.

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> history.exists(), history.save(dump).created, history.exists()
            (False, True, True)
        """
        return self._parts.refs.read(self._ref) is not None

    # -- writing -------------------------------------------------------------

    @writes_store("store.path")
    def save(self, dump: Mapping[str, Any], message: str | None = None) -> PushResult:
        """Save ``dump`` as the newest snapshot; a no-op if it equals the newest one.

        Every version the dump pins (an id, prefix or tag of its class) must
        already be in the store: it is written in full into ``pipeline.json``
        and pinned under ``classes/``. Returns the snapshot id and commit.

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> first = history.save(dump, "first")
            >>> first.created, history.save(dump).created, history.save(dump).id == first.id
            (True, False, True)
        """
        check_text(message, "message", optional=True)
        if message is not None and not isinstance(message, str):
            raise TypeError(f"message must be a str or None, not {type(message).__name__}")
        store = self._store
        resolved: dict[tuple[str, str], str] = {}

        def resolve(path: str, name: str, version: str) -> str:
            if (name, version) not in resolved:
                resolved[name, version] = resolve_once(path, name, version)
            return resolved[name, version]

        def resolve_once(path: str, name: str, version: str) -> str:
            try:
                check_class_name(name)
            except InvalidNameError as err:
                raise InvalidDumpError(path, str(err)) from err
            try:
                return store.resolve(name, version)
            except (VersionNotFoundError, ClassNotFoundError) as err:
                why = err.detail if isinstance(err, VersionNotFoundError) else ""
                raise VersionNotFoundError(
                    name,
                    version,
                    f"pinned at {path} of pipeline {self._name!r} but not in store {store.path}"
                    + (f" ({why})" if why else "")
                    + "; push the class first",
                ) from err

        normalized, pairs = normalize_dump(dump, resolve)
        pins = pin_entries(pairs)
        tree, new_objects = build_snapshot_tree(dump_json(normalized), pins)
        snapshot_id = tree.id.decode("ascii")
        text = _snapshot_message(self._name, snapshot_id, message, [(p.name, p.id) for p in pins])
        sha, created = self._parts.writer.advance(
            self._ref, tree.id, text, keep=new_objects, present=[pin.id.encode("ascii") for pin in pins]
        )
        return PushResult(self._name, snapshot_id, sha.decode("ascii"), created)

    @writes_store("store.path")
    def tag(self, tag: str, version: str | None = None, *, force: bool = False) -> str:
        """Name a snapshot (default: the newest) ``tag`` (``refs/tags/pipelines/<name>/<tag>``).

        Returns the snapshot id; moving an existing tag needs ``force=True``.

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> saved = history.save(dump, "first")
            >>> history.tag("production") == saved.id, history.read("production").id == saved.id
            (True, True)
        """
        check_bool(force, "force")
        check_tag_name(tag)
        commit = self._find(version)
        return self._parts.tags.set(
            pipeline_tag_ref(self._name, tag),
            commit.id,
            commit.tree,
            self._name,
            tag,
            force=force,
            kind="pipeline",
        )

    @writes_store("store.path")
    def trust(self, version: str | None = None) -> list[str]:
        """Vouch for the class versions one snapshot pins and uses (``version=None``: every snapshot's).

        Only versions ``pipeline.json`` names are vouched for: an entry of
        ``classes/`` it does not name (a snapshot tree made by hand) is not.

        For a pipeline reviewed after fetching it from a remote not marked
        trusted. Returns the version ids now trusted; nothing is unpickled.

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> saved = history.save(dump, "first")
            >>> history.trust() == [dump["version_hash"]]
            True
        """
        # Only what pipeline.json uses: an entry of classes/ it never names is not vouched for.
        if version is not None:
            commit = self._find(version)
            ids = sorted({vid for _name, vid in used_pin_set(self._parts.repository.objects(), commit.tree)})
        else:
            ids = sorted(pinned_ids(self._parts.repository.objects(), self._tip()))
        self._parts.vouch(ids)
        return ids

    # -- reading -------------------------------------------------------------

    def snapshots(self, limit: int | None = None) -> list[SnapshotInfo]:
        """The snapshots, newest first; ``limit`` keeps only the newest ``limit``.

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> saved = history.save(dump, "first")
            >>> [(info.id == saved.id, info.message.splitlines()[0]) for info in history.snapshots()]
            [(True, 'train: first')]
        """
        limit = check_limit(limit)
        tip = self._tip()
        history: list[SnapshotInfo] = []
        for commit in first_parent_chain(self._parts.repository.objects(), tip):
            if limit is not None and len(history) >= limit:
                break
            history.append(self._info(commit))
        return history

    def read(self, version: str | None = None) -> Snapshot:
        """One snapshot: the newest, or the one an id / 7+ hex prefix / tag / ``~N`` names.

        A prefix may also be of the snapshot's commit (as ``git log`` shows it).

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> saved = history.save(dump, "first")
            >>> snapshot = history.read(saved.id[:8])
            >>> snapshot.dump == dump, [pin.entry for pin in snapshot.pins]
            (True, ['Model'])
        """
        commit = self._find(version)
        return read_snapshot_tree(self._parts.repository.objects(), commit, self._info(commit))

    def tags(self) -> dict[str, str]:
        """The tags of this pipeline: tag -> snapshot id.

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> saved = history.save(dump, "first")
            >>> _ = history.tag("v1")
            >>> history.tags() == {"v1": saved.id}
            True
        """
        return self._parts.tags.under(pipeline_tag_prefix(self._name))

    def diff(self, a: str, b: str | None = None) -> SnapshotDiff:
        """The classes whose pinned versions changed from snapshot ``a`` to ``b`` (default: newest).

        Each change carries the unified diff of ``source.py`` between the two
        snapshots' ``classes/<Name>`` entries; ``dump_diff`` is the diff of
        ``pipeline.json``. ``git diff A B`` between the two snapshot commits
        shows the same changes.

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> saved = history.save(dump, "first")
            >>> _ = history.save({**dump, "params": {"k": 2}}, "second")
            >>> diff = history.diff("~1")
            >>> diff.changes, diff.same, "k" in diff.dump_diff      # same versions, other params
            ((), False, True)
        """
        old, new = self.read(a), self.read(b)
        changes = []
        for name in dict.fromkeys((*old.class_names, *new.class_names)):
            before, after = old.pinned(name), new.pinned(name)
            if set(before) == set(after):
                continue
            changes.append(ClassChange(name, before, after, self._source_diff(name, before, after)))
        dump_diff = unified_diff(
            dump_json(old.dump), dump_json(new.dump), "a/pipeline.json", "b/pipeline.json"
        )
        return SnapshotDiff(self._name, old.info, new.info, tuple(changes), dump_diff)

    def status(self, version: str | None = None) -> SnapshotStatus:
        """Each class a snapshot (default: the newest) pins, against the store's latest version.

        For a class with a newer version, whether this snapshot's combination
        with that latest version was ever saved, in any pipeline's history.

        Examples:
            >>> dump = {"clazz": "Model", "version_hash": pcm.push(Model), "params": {}}
            >>> history = store.pipeline("train")
            >>> saved = history.save(dump, "first")
            >>> status = history.status()
            >>> status.up_to_date, [(pin.name, pin.behind) for pin in status.classes]
            (True, [('Model', 0)])
        """
        snapshot = self.read(version)
        saved = _saved_combinations(self._parts.repository.objects(), self._parts.refs)
        mine = {(pin.name, pin.id) for pin in snapshot.pins}
        classes = []
        all_latest = set(mine)
        for name in snapshot.class_names:
            pinned = snapshot.pinned(name)
            latest = self._store.latest_id(name)
            behind = self._versions_after(name, pinned)
            saved_with_latest: tuple[SnapshotRef, ...] = ()
            if latest is not None and latest not in pinned:
                with_latest = {pair for pair in mine if pair[0] != name} | {(name, latest)}
                saved_with_latest = saved.get(frozenset(with_latest), ())
                all_latest = {pair for pair in all_latest if pair[0] != name} | {(name, latest)}
            classes.append(PinStatus(name, pinned, latest, behind, saved_with_latest))
        all_latest_saved = saved.get(frozenset(all_latest), ()) if all_latest != mine else ()
        return SnapshotStatus(snapshot.info, tuple(classes), all_latest_saved)

    # -- helpers ---------------------------------------------------------------

    def _tip(self) -> bytes:
        tip = self._parts.refs.read(self._ref)
        if tip is None:
            raise PipelineNotFoundError(self._name, f"store {self._store.path}")
        return tip

    def _find(self, version: str | None) -> Commit:
        """The snapshot commit ``version`` names, by the one rule of :mod:`gitpet.store.specs`."""
        tip = self._tip()
        objects = self._parts.repository.objects()
        if version is None:
            return read_commit(objects, tip)
        parse_snapshot_spec(self._name, version)
        snapshots: set[bytes] | None = None

        def owner(tree: bytes) -> str | None:
            nonlocal snapshots
            if snapshots is None:
                snapshots = {commit.tree for commit in first_parent_chain(objects, tip)}
            return self._name if tree in snapshots else None

        resolved = self._parts.specs.resolve(
            History(
                name=self._name,
                ref=self._ref,
                tag_ref=lambda tag: pipeline_tag_ref(self._name, tag),
                owner=owner,
                unit="snapshot",
                errors=self._errors(),
            ),
            version,
        )
        if resolved.commit is not None:
            return read_commit(objects, resolved.commit)
        for commit in first_parent_chain(objects, tip):
            if commit.tree == resolved.tree:
                return read_commit(objects, commit.id)  # the newest commit of that snapshot
        raise AssertionError("a resolved snapshot is in the history")  # owner() checked it

    def _errors(self) -> SpecErrors:
        name = self._name

        def missing(spec: str, detail: str) -> NoReturn:
            raise SnapshotNotFoundError(name, spec, detail or f"not in the history of pipeline {name}")

        def ambiguous(spec: str, ids: list[str]) -> NoReturn:
            shown = ", ".join(sorted(tree[:12] for tree in ids))
            raise SnapshotNotFoundError(name, spec, f"prefix is ambiguous ({shown})")

        def other_owner(spec: str, owner: str) -> NoReturn:
            raise SnapshotNotFoundError(name, spec, f"it is a snapshot of pipeline {owner}")

        def empty() -> NoReturn:
            raise PipelineNotFoundError(name, f"store {self._store.path}")

        return SpecErrors(missing, ambiguous, other_owner, empty)

    def _info(self, commit: HistoryCommit) -> SnapshotInfo:
        return SnapshotInfo.of_snapshot(self._name, commit)

    def _source_diff(self, name: str, before: tuple[str, ...], after: tuple[str, ...]) -> str:
        old = self._store.read_version(name, before[0]).files.source if before else b""
        new = self._store.read_version(name, after[0]).files.source if after else b""
        path = f"classes/{name}/source.py"
        return unified_diff(
            old, new, f"a/{path}" if before else "/dev/null", f"b/{path}" if after else "/dev/null"
        )

    def _versions_after(self, name: str, pinned: tuple[str, ...]) -> int | None:
        """How many versions of ``name``'s history came after the newest pinned one."""
        tip = self._parts.refs.read(class_ref(name))
        if tip is None:
            return None
        wanted = {vid.encode("ascii") for vid in pinned}
        for count, commit in enumerate(first_parent_chain(self._parts.repository.objects(), tip)):
            if commit.tree in wanted:
                return count
        return None


def _snapshot_message(name: str, snapshot_id: str, message: str | None, pins: list[tuple[str, str]]) -> str:
    """Subject (the user's first line, or the id), the rest of the message, then trailers."""
    lines = (message or "").strip().splitlines()
    subject = f"{name}: {lines[0].strip()}" if lines else f"{name}: snapshot {snapshot_id}"
    body = "\n".join(lines[1:]).strip()
    trailers = [f"Snapshot: {snapshot_id}", *(f"Pinned: {pin} {vid}" for pin, vid in pins)]
    return "\n\n".join(part for part in (subject, body, "\n".join(trailers)) if part) + "\n"


def _saved_combinations(
    objects: RawReader, refs: RefStore
) -> dict[frozenset[tuple[str, str]], tuple[SnapshotRef, ...]]:
    """Pinned-version sets of every snapshot in every pipeline's history -> those snapshots."""
    found: dict[frozenset[tuple[str, str]], dict[SnapshotRef, None]] = {}
    for pipeline, tip in pipeline_tips(refs):
        for commit, pins in snapshot_pins(objects, tip):
            found.setdefault(pins, {})[SnapshotRef(pipeline, commit.tree.decode("ascii"))] = None
    return {pins: tuple(refs) for pins, refs in found.items()}
