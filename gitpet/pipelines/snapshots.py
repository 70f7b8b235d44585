"""The git format of a pipeline snapshot (DESIGN.md §5), pure over an object store.

A snapshot is a tree: ``pipeline.json`` (the dump, every version id in full)
and ``classes/`` with one entry per pinned class version, pointing at that
version's tree. The first version of a class is ``classes/<Name>``; another
version of the same class in the same snapshot is
``classes/<Name>@<first 12 hex of its id>``. "First" is in the order
``pipeline.json`` names them (sorted keys), so the naming does not depend on
the order params were given in. The snapshot id is the tree's id, so the same
dump pinning the same versions is the same snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree

from gitpet.errors import IntegrityError, InvalidDumpError
from gitpet.format.bounds import PIPELINE_JSON_MAX_BYTES, load_stored_json
from gitpet.format.dumps import normalize_dump
from gitpet.git.integrity import RawReader, read_object
from gitpet.records import SnapshotInfo

__all__ = [
    "PINNED_DIR",
    "PIPELINE_JSON",
    "Pin",
    "Snapshot",
    "build_snapshot_tree",
    "pin_entries",
    "pin_set",
    "used_pin_set",
    "read_pins",
    "read_snapshot_tree",
]

PIPELINE_JSON = b"pipeline.json"
PINNED_DIR = b"classes"
_DIR_MODE = 0o040000
_FILE_MODE = 0o100644
_SHORT = 12


@dataclass(frozen=True)
class Pin:
    """One class version a snapshot pins, and its entry under ``classes/``.

    Examples:
        >>> version = pcm.push(Model)
        >>> _ = store.pipeline("train").save({"clazz": "Model", "version_hash": version, "params": {}})
        >>> [(pin.name, pin.id == version, pin.entry) for pin in store.pipeline("train").read().pins]
        [('Model', True, 'Model')]
    """

    name: str
    id: str
    entry: str


@dataclass(frozen=True)
class Snapshot:
    """A saved pipeline: its dump and exactly the class versions it pins.

    Examples:
        >>> version = pcm.push(Model)
        >>> history = store.pipeline("train")
        >>> _ = history.save({"clazz": "Model", "version_hash": version, "params": {"k": 1}})
        >>> snapshot = history.read()
        >>> snapshot.dump["params"], snapshot.pinned("Model") == (version,), snapshot.class_names
        ({'k': 1}, True, ('Model',))
    """

    info: SnapshotInfo
    dump: dict[str, Any]
    pins: tuple[Pin, ...]

    @property
    def id(self) -> str:
        """The snapshot id: the sha of its tree."""
        return self.info.id

    @property
    def pipeline(self) -> str:
        """The pipeline the snapshot belongs to."""
        return self.info.pipeline

    def pinned(self, name: str) -> tuple[str, ...]:
        """The ids of ``name`` this snapshot pins (the one under ``classes/<name>`` first).

        Examples:
            >>> version = pcm.push(Model)
            >>> history = store.pipeline("train")
            >>> _ = history.save({"clazz": "Model", "version_hash": version, "params": {}})
            >>> history.read().pinned("Model") == (version,), history.read().pinned("Other")
            (True, ())
        """
        return tuple(pin.id for pin in self.pins if pin.name == name)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The pinned classes, each once, in the order the dump names them."""
        return tuple(dict.fromkeys(pin.name for pin in self.pins))


def pin_entries(pins: Sequence[tuple[str, str]]) -> tuple[Pin, ...]:
    """Name each ``(class, id)`` under ``classes/``: the first of a class plain, the others ``@id``.

    Examples:
        >>> [p.entry for p in pin_entries([("A", "1" * 40), ("B", "2" * 40), ("A", "3" * 40)])]
        ['A', 'B', 'A@333333333333']
    """
    named: dict[str, Pin] = {}
    for name, version in dict.fromkeys(pins):
        entry = name if name not in named else f"{name}@{version[:_SHORT]}"
        if entry in named:  # two ids of one class sharing 12 hex: name it in full
            entry = f"{name}@{version}"
        named[entry] = Pin(name, version, entry)
    return tuple(named.values())


def build_snapshot_tree(pipeline_json: bytes, pins: Sequence[Pin]) -> tuple[Tree, list[ShaFile]]:
    """The snapshot tree, and the new objects to store with it (the version trees already are)."""
    blob = Blob.from_string(pipeline_json)
    root = Tree()
    root.add(PIPELINE_JSON, _FILE_MODE, blob.id)
    new: list[ShaFile] = [blob]
    if pins:
        classes = Tree()
        for pin in pins:
            classes.add(pin.entry.encode("utf-8"), _DIR_MODE, ObjectID(pin.id.encode("ascii")))
        root.add(PINNED_DIR, _DIR_MODE, classes.id)
        new.append(classes)
    new.append(root)
    return root, new


def _read_tree(objects: RawReader, sha: bytes, what: str) -> Tree:
    obj = read_object(objects, sha, what)
    if not isinstance(obj, Tree):
        raise IntegrityError(sha.decode("ascii"), f"{what} is a {obj.type_name.decode()}, not a tree")
    return obj


def read_pins(objects: RawReader, snapshot: Tree) -> tuple[Pin, ...]:
    """The pins a snapshot tree holds, in entry order, each checked to be a subtree."""
    entries = {entry.path: entry for entry in snapshot.items()}
    pinned = entries.get(PINNED_DIR)
    if pinned is None:
        return ()
    where = snapshot.id.decode("ascii")
    if pinned.mode != _DIR_MODE:
        raise IntegrityError(where, "classes is not a directory")
    pins = []
    for entry in _read_tree(objects, pinned.sha, "classes tree").items():
        if entry.mode != _DIR_MODE:
            raise IntegrityError(
                where, f"classes/{entry.path.decode(errors='replace')} is not a version tree"
            )
        label = entry.path.decode("utf-8", "replace")
        pins.append(Pin(label.split("@", 1)[0], entry.sha.decode("ascii"), label))
    return tuple(pins)


def pin_set(objects: RawReader, tree_sha: bytes) -> frozenset[tuple[str, str]]:
    """``(class, id)`` of every version the snapshot ``tree_sha`` holds under ``classes/``.

    That is what a push of it carries.
    """
    tree = _read_tree(objects, tree_sha, "snapshot tree")
    return frozenset((pin.name, pin.id) for pin in read_pins(objects, tree))


def used_pin_set(objects: RawReader, tree_sha: bytes) -> frozenset[tuple[str, str]]:
    """``(class, id)`` of every version the snapshot pins and its ``pipeline.json`` uses.

    This is what "used together" means, and all that vouching for a snapshot vouches for.

    gitpet writes exactly the versions the dump uses; an entry of ``classes/`` the dump never
    names (a tree made by hand) is carried along but never vouched for, and a snapshot whose
    ``pipeline.json`` is missing or unreadable uses nothing.
    """
    tree = _read_tree(objects, tree_sha, "snapshot tree")
    try:
        used = set(_dump_pins(_read_dump(objects, tree, tree_sha.decode("ascii"))))
    except IntegrityError:
        return frozenset()
    return frozenset((pin.name, pin.id) for pin in read_pins(objects, tree) if (pin.name, pin.id) in used)


def _dump_pins(dump: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        return normalize_dump(dump, lambda _path, _name, version: version)[1]
    except InvalidDumpError:
        return []  # a dump gitpet would not have saved pins nothing


def read_snapshot_tree(objects: RawReader, commit: Commit, info: SnapshotInfo) -> Snapshot:
    """The snapshot a commit holds: its dump and pins, every object read with full checks."""
    tree = _read_tree(objects, commit.tree, "snapshot tree")
    dump = _read_dump(objects, tree, f"pipelines/{info.pipeline} snapshot {info.id}")
    return Snapshot(info, dump, read_pins(objects, tree))


def _read_dump(objects: RawReader, tree: Tree, where: str) -> dict[str, Any]:
    entries = {entry.path: entry for entry in tree.items()}
    if PIPELINE_JSON not in entries:
        raise IntegrityError(where, "has no pipeline.json")
    blob = read_object(objects, entries[PIPELINE_JSON].sha, "pipeline.json")
    if not isinstance(blob, Blob):
        raise IntegrityError(where, "pipeline.json is not a file")
    dump = load_stored_json(blob.as_raw_string(), "pipeline.json", where, PIPELINE_JSON_MAX_BYTES)
    if not isinstance(dump, dict):
        raise IntegrityError(where, "pipeline.json is not a JSON object")
    return dump
