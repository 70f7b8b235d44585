"""What gitpet is measured against: the floor, a plain file store, and the real git.

* floor: the work no store can avoid. Push: ``cloudpickle.dumps`` + sha1 +
  zlib of the three payloads gitpet stores. Load: read a file, zlib
  decompress, ``cloudpickle.loads``. No git, no refs, no checks.
* :class:`PlainFileStore`: one pickle file per version and a ``latest``
  pointer written by atomic rename, what existing tools do.
* :class:`FastImport`: ``git fast-import`` writing the same trees and commits.
* :class:`CatFile`: a running ``git cat-file --batch`` reading blobs.
* :class:`LayoutLoad`: the least a load from gitpet's layout must do, in Python.
* :class:`HistoryWalk`: the least a walk of a class's history must do, in Python.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import pickle
import re
import struct
import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path

import cloudpickle

from gitpet.format.version_files import VersionTree

__all__ = ["CatFile", "FastImport", "HistoryWalk", "LayoutLoad", "PlainFileStore", "load_floor", "push_floor"]


def push_floor(classes: Sequence[type], payloads: Sequence[tuple[bytes, bytes]]) -> None:
    """cloudpickle.dumps + sha1 + zlib of each class's source, pickle and meta."""
    for cls, (source, meta) in zip(classes, payloads, strict=True):
        for payload in (source, cloudpickle.dumps(cls), meta):
            hashlib.sha1(payload).digest()
            zlib.compress(payload)


def write_floor_files(folder: Path, pickles: Sequence[bytes]) -> list[Path]:
    """Each pickle compressed into its own file: what :func:`load_floor` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, data in enumerate(pickles):
        path = folder / f"{i}.z"
        path.write_bytes(zlib.compress(data))
        paths.append(path)
    return paths


def load_floor(paths: Sequence[Path]) -> list[type]:
    """Read + zlib decompress + cloudpickle.loads of each file."""
    return [cloudpickle.loads(zlib.decompress(path.read_bytes())) for path in paths]


class PlainFileStore:
    """One pickle file per version and a ``latest`` pointer, each written by atomic rename."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def push(self, name: str, cls: type) -> str:
        data = cloudpickle.dumps(cls)
        digest = hashlib.sha1(data).hexdigest()
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(folder / f"{digest}.pkl", data)
        _write_atomically(folder / "latest", digest.encode())
        return digest

    def pull(self, name: str) -> type:
        folder = self.root / name
        digest = (folder / "latest").read_text()
        cls: type = pickle.loads((folder / f"{digest}.pkl").read_bytes())
        return cls


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


class FastImport:
    """``git fast-import`` of versions as gitpet writes them: one commit per version on its class ref."""

    AUTHOR = b"gitpet <gitpet@localhost> 1700000000 +0000"

    @staticmethod
    def stream(items: Sequence[tuple[str, VersionTree]]) -> bytes:
        chunks = []
        for name, version in items:
            message = f"{name}: version {version.id}\n".encode()
            chunks.append(b"commit refs/heads/%s\ncommitter %s\n" % (name.encode(), FastImport.AUTHOR))
            chunks.append(b"data %d\n%s" % (len(message), message))
            files = version.files
            for path, data in (
                (b"source.py", files.source),
                (b"class.pkl", files.pickle),
                (b"meta.json", files.meta),
            ):
                chunks.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path, len(data), data))
            chunks.append(b"\n")
        return b"".join(chunks)

    @staticmethod
    def run(repo: Path, stream: bytes) -> None:
        subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
        subprocess.run(["git", f"--git-dir={repo}", "fast-import", "--quiet"], input=stream, check=True)


class CatFile:
    """A running ``git cat-file --batch``: one request and one reply per object."""

    def __init__(self, repo: Path) -> None:
        self._process = subprocess.Popen(
            ["git", f"--git-dir={repo}", "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def read(self, rev: str) -> bytes:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(rev.encode() + b"\n")
        self._process.stdin.flush()
        header = self._process.stdout.readline().split()
        if header[-1] == b"missing":
            raise KeyError(rev)
        data = self._process.stdout.read(int(header[2]) + 1)
        return data[:-1]

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait()


class LayoutLoad:
    """The least a load of the latest version from gitpet's layout must do, in Python.

    Read the class's ref file; inflate its commit, its tree, and the version's four
    files from the store's packs (ids looked up in a dict built beforehand); parse
    ``meta.json``; unpickle ``class.pkl``. What it leaves out is what gitpet adds to
    it: each object hashed again and its bounds checked, trust, the class's text
    registered for tracebacks, the version's packages, caches. Objects stored whole,
    packed or loose (as ``push_all`` and gc write them).
    """

    _FILES = (b"source.py", b"class.pkl", b"meta.json", b"captured.py")

    def __init__(self, store: Path) -> None:
        self._objects = _ObjectsAtHand(store)

    def load(self, name: str) -> type:
        tip = self._objects.ref(name)
        tree = self._objects.read(tip)[5:45]
        entries = self._entries(self._objects.read(tree))
        _source, pickled, meta, _captured = (self._objects.read(entries[file]) for file in self._FILES)
        json.loads(meta)
        cls: type = cloudpickle.loads(pickled)
        return cls

    @staticmethod
    def _entries(raw: bytes) -> dict[bytes, bytes]:
        entries, at = {}, 0
        while at < len(raw):
            space, nul = raw.index(b" ", at), raw.index(b"\0", at)
            entries[raw[space + 1 : nul]] = raw[nul + 1 : nul + 21].hex().encode()
            at = nul + 21
        return entries


class HistoryWalk:
    """The least a walk of a history must do in Python: what ``versions()`` reads, and nothing else.

    From the tip of ``refs/heads/<name>``, newest first along first parents: find
    each commit (ids looked up in a dict built beforehand), inflate it, hash it again
    (a store must: the content could be anything), and read its tree, first parent,
    author, committer time and message with one pattern. What it leaves out is what
    gitpet adds: bounds on sizes, the other forms a commit may take, the entries as
    records (times as datetimes, text decoded), the store's locks and caches.
    """

    _FIELDS = re.compile(
        rb"tree ([0-9a-f]{40})\n(?:parent ([0-9a-f]{40})\n)?(?:parent [0-9a-f]{40}\n)*"
        rb"author ([^\n]*) -?[0-9]+ [^ \n]*\ncommitter [^\n]* (-?[0-9]+) [^ \n]*\n\n"
    )

    def __init__(self, store: Path) -> None:
        self._objects = _ObjectsAtHand(store)

    def walk(self, name: str) -> list[tuple[bytes, bytes, bytes, int, bytes]]:
        """``(commit, tree, author, time, message)`` of each commit, newest first."""
        found = []
        sha: bytes | None = self._objects.ref(name)
        while sha is not None:
            raw = self._objects.read(sha)
            digest = hashlib.sha1(b"commit %d\0" % len(raw))
            digest.update(raw)
            if digest.hexdigest().encode() != sha:
                raise ValueError(f"{sha.decode()} does not hash to its id")
            fields = self._FIELDS.match(raw)
            assert fields is not None, "a commit as git fast-import writes it"
            tree, parent, author, time = fields.groups()
            found.append((sha, tree, author, int(time), raw[fields.end() :]))
            sha = parent
        return found


class _ObjectsAtHand:
    """A store's objects as the floors read them: packed ones found in a dict built beforehand.

    Inflated with no check of any kind (what gitpet adds is what the floors leave out);
    objects stored whole, packed or loose, as pushes and gc write them.
    """

    def __init__(self, store: Path) -> None:
        self._store = store
        self._where: dict[bytes, tuple[mmap.mmap, int]] = {}
        for index_path in sorted((store / "objects" / "pack").glob("*.idx")):
            with open(index_path.with_suffix(".pack"), "rb") as pack:
                data = mmap.mmap(pack.fileno(), 0, access=mmap.ACCESS_READ)
            index = index_path.read_bytes()
            count = struct.unpack_from(">I", index, 8 + 255 * 4)[0]
            names_at = 8 + 1024
            offsets_at = names_at + 24 * count
            for i in range(count):
                sha = index[names_at + 20 * i : names_at + 20 * i + 20].hex().encode()
                self._where[sha] = (data, struct.unpack_from(">I", index, offsets_at + 4 * i)[0])

    def ref(self, name: str) -> bytes:
        """The commit ``refs/heads/<name>`` names (its file read as it is)."""
        return (self._store / "refs" / "heads" / name).read_bytes()[:40]

    def read(self, sha: bytes) -> bytes:
        """The content of object ``sha`` (hex)."""
        where = self._where.get(sha)
        if where is None:  # written since the packs were: loose
            text = sha.decode()
            loose = zlib.decompress((self._store / "objects" / text[:2] / text[2:]).read_bytes())
            return loose[loose.index(b"\0") + 1 :]
        data, offset = where
        byte = data[offset]
        size, shift, offset = byte & 0x0F, 4, offset + 1
        while byte & 0x80:
            byte = data[offset]
            size |= (byte & 0x7F) << shift
            shift, offset = shift + 7, offset + 1
        return zlib.decompressobj().decompress(data[offset : offset + size + 64], size)
