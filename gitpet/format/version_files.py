"""The git objects of one version: its files, and the tree (and ``data/`` subtree) that hold them.

Pure: builds dulwich objects in memory and never touches a repository, so the
codec can compute a version id without a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dulwich.objects import Blob, Tree

from gitpet.format.requirements import Requirement

__all__ = [
    "CAPTURED",
    "CLASS_PICKLE",
    "DATA",
    "FILE_MODE",
    "FOLDER_MODE",
    "META",
    "SOURCE",
    "StoredVersion",
    "VersionFiles",
    "VersionTree",
]

SOURCE = b"source.py"
CLASS_PICKLE = b"class.pkl"
META = b"meta.json"
# What the class uses from its module, as text (format 3; see gitpet.codec.captured).
CAPTURED = b"captured.py"
# The folder of captured constants that are data, not text (format 3; see gitpet.codec.data_files).
DATA = b"data"
# The modes of a version's entries: plain files, and the data/ folder.
FILE_MODE = 0o100644
FOLDER_MODE = 0o040000


@dataclass(frozen=True)
class VersionFiles:
    """The files of one version, as bytes.

    ``captured`` is ``captured.py``: what the class uses from its module, as text
    (empty for versions of formats 1 and 2, which have no such file). ``data`` is
    the files of the ``data/`` folder, ``(file name, bytes)`` sorted by name: the
    captured constants that are arrays (usually none; never before format 3).

    Examples:
        >>> files = store.read_version("Model", pcm.push(Model)).files
        >>> files.data, files.captured.startswith(b"# What the class")
        ((), True)
    """

    source: bytes
    pickle: bytes
    meta: bytes
    captured: bytes = b""
    data: tuple[tuple[str, bytes], ...] = ()

    def by_name(self) -> dict[str, bytes]:
        """The files under their names in the version's tree (``source.py``, ``captured.py``, ...).

        Examples:
            >>> sorted(VersionFiles(b"s", b"p", b"m").by_name().items())
            [('class.pkl', b'p'), ('meta.json', b'm'), ('source.py', b's')]
            >>> sorted(VersionFiles(b"s", b"p", b"m", b"c", (("W.npy", b"w"),)).by_name())
            ['captured.py', 'class.pkl', 'data/W.npy', 'meta.json', 'source.py']
        """
        files = {SOURCE.decode(): self.source, CLASS_PICKLE.decode(): self.pickle, META.decode(): self.meta}
        if self.captured:
            files[CAPTURED.decode()] = self.captured
        for name, content in self.data:
            files[f"{DATA.decode()}/{name}"] = content
        return files


@dataclass(frozen=True)
class VersionTree:
    """A version's blobs and tree; ``id`` is the version id (the tree's sha).

    Examples:
        >>> vt = VersionTree.build(VersionFiles(b"class A: pass\\n", b"x", b"{}"))
        >>> len(vt.id)
        40
    """

    files: VersionFiles
    tree: Tree = field(repr=False)
    blobs: tuple[Blob, ...] = field(repr=False)
    subtrees: tuple[Tree, ...] = field(default=(), repr=False)
    requires: tuple[Requirement, ...] = field(default=(), repr=False, compare=False)
    """The installed distributions its pickle imports: for the commit message, never the tree."""

    @classmethod
    def build(cls, files: VersionFiles, requires: tuple[Requirement, ...] = ()) -> VersionTree:
        """The tree of ``files`` (each file of :meth:`VersionFiles.by_name`), nothing written.

        Examples:
            >>> VersionTree.build(VersionFiles(b"", b"", b"")).id
            '00fe910b779bb6b4ee7215aa9b622fcc86733685'
            >>> with_data = VersionTree.build(VersionFiles(b"", b"", b"", b"c", (("W.npy", b"w"),)))
            >>> [entry.path for entry in with_data.tree.items()], len(with_data.subtrees)
            ([b'captured.py', b'class.pkl', b'data', b'meta.json', b'source.py'], 1)
        """
        tree = Tree()
        blobs = []
        subtrees = []
        top = {name: data for name, data in files.by_name().items() if "/" not in name}
        for name, data in sorted(top.items()):
            blob = Blob.from_string(data)
            tree.add(name.encode(), FILE_MODE, blob.id)
            blobs.append(blob)
        if files.data:
            folder = Tree()
            for name, data in files.data:
                blob = Blob.from_string(data)
                folder.add(name.encode(), FILE_MODE, blob.id)
                blobs.append(blob)
            tree.add(DATA, FOLDER_MODE, folder.id)
            subtrees.append(folder)
        return cls(files, tree, tuple(blobs), tuple(subtrees), requires)

    @property
    def objects(self) -> tuple[Blob | Tree, ...]:
        """Every object of the version, each before the tree that names it (the order to write)."""
        return (*self.blobs, *self.subtrees, self.tree)

    @property
    def id(self) -> str:
        """The version id: the sha of the tree."""
        return self.tree.id.decode("ascii")


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

    def pickle_imports(self) -> list[str]:
        """What ``class.pkl`` would import when loaded (``module.qualname``), read from its opcodes.

        Nothing is unpickled: this is for reviewing a version before trusting it.

        Raises:
            ValueError: ``class.pkl`` is not a well-formed pickle.

        Examples:
            >>> version = pcm.push(Model)
            >>> "gitpet.rebuild.class_skeleton" in store.read_version("Model").pickle_imports()
            True
        """
        # For review only: pickletools is not imported by every process that loads a class.
        from gitpet.format.pickle_refs import pickle_globals

        return pickle_globals(self.files.pickle)

    def diff(self, newer: StoredVersion) -> str:
        """What changed from this version to ``newer``, as ``git diff`` shows two trees.

        A unified diff of ``source.py``, ``captured.py`` and ``meta.json`` and a line for a changed
        ``class.pkl`` or data file; empty only when the two versions are the same.

        Examples:
            >>> class Scaler:
            ...     def scale(self, x):
            ...         return 2 * x
            >>> old = store.read_version("Scaler", pcm.push(Scaler))
            >>> class Scaler:
            ...     def scale(self, x):
            ...         return 3 * x
            >>> new = store.read_version("Scaler", pcm.push(Scaler))
            >>> print(old.diff(new).splitlines()[0].replace(old.id[:12], "OLD"))
            --- a/Scaler@OLD/source.py
        """
        a, b = f"a/{self.name}@{self.id[:12]}", f"b/{newer.name}@{newer.id[:12]}"
        from gitpet.format.textdiff import unified_diff  # difflib: for review only, as above

        text = unified_diff(self.files.source, newer.files.source, f"{a}/source.py", f"{b}/source.py")
        old, new = self.files.captured, newer.files.captured
        text += unified_diff(
            old, new, f"{a}/captured.py" if old else "/dev/null", f"{b}/captured.py" if new else "/dev/null"
        )
        text += unified_diff(self.files.meta, newer.files.meta, f"{a}/meta.json", f"{b}/meta.json")
        old_data, new_data = dict(self.files.data), dict(newer.files.data)
        for name in sorted(old_data.keys() | new_data.keys()):
            if old_data.get(name) != new_data.get(name):
                path = f"{DATA.decode()}/{name}"
                before = f"{a}/{path}" if name in old_data else "/dev/null"
                after = f"{b}/{path}" if name in new_data else "/dev/null"
                text += f"Binary files {before} and {after} differ\n"
        if self.files.pickle != newer.files.pickle:
            text += f"Binary files {a}/class.pkl and {b}/class.pkl differ\n"
        return text
