"""``GitStore.gc()``: one pack for everything reachable, and old garbage pruned, while others write.

Why it is safe with concurrent writers (gitpet's or git's):

1. Everything reachable from *any* ref is read back with full checks and
   written as one new pack (older versions as deltas of newer ones), which
   is complete (index included) and read back object by object before
   anything is deleted. A damaged store is not collected: ``IntegrityError``
   before any change (run ``gitpet verify``).
2. Deleting happens under the exclusive writers flock (:mod:`gitpet.git.locks`),
   so no gitpet writer is between "this object is already stored" (which
   refreshes its mtime) and "write it" meanwhile.
3. Only what existed when gc started is ever deleted: a loose object the new
   pack holds; an unreachable loose object or an old pack only when it is
   older than ``prune_older_than``. Objects a writer has written but not yet
   referenced are young, so they stay; git's own gc relies on the same rule.

Refs are never rewritten or packed (dulwich's ``pack_refs(all=True)`` deletes
loose refs without their locks and loses versions written meanwhile).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import time
from binascii import hexlify, unhexlify
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from dulwich.objects import Blob, Commit, ShaFile, Tag, Tree
from dulwich.pack import Pack
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitpet.errors import IntegrityError, StoreBusyError
from gitpet.git.dulwich_private import (
    drop_pack,
    iter_loose_ids,
    loose_object_path,
    pack_basename,
    pack_data_path,
    refresh_packs,
)
from gitpet.git.indexpack import IndexedPack
from gitpet.git.integrity import find_raw, read_object
from gitpet.git.locks import FetchLock, LockRetry, remove_if_stale
from gitpet.git.objread import RawObjectReader
from gitpet.git.objwrite import BinaryIds, write_pack_of
from gitpet.maintenance.verify import leftover_files
from gitpet.progress import SILENT, Progress

__all__ = ["GcReport", "collect_garbage", "objects_size"]

_GITLINK = 0o160000
_DIRECTORY = 0o040000
# Loading a version gc stored as a delta applies at most this many (git's default is 50).
_MAX_DELTA_DEPTH = 10


@dataclass(frozen=True)
class StoreSize:
    """Size of a store's ``objects`` directory: content bytes and disk usage (blocks).

    Examples:
        >>> _ = pcm.push(Model)
        >>> report = store.gc()
        >>> report.after.files >= 2 and report.after.bytes <= report.after.disk_bytes
        True
    """

    files: int
    bytes: int
    disk_bytes: int


@dataclass(frozen=True)
class GcReport:
    """What :meth:`GitStore.gc` did.

    Examples:
        >>> _ = pcm.push(Model)
        >>> report = store.gc()
        >>> report.reachable, report.pruned     # 4 blobs, a tree and a commit; nothing was garbage
        (6, 0)
    """

    before: StoreSize
    after: StoreSize
    reachable: int
    loose_packed: int
    packs_removed: int
    pruned: int
    kept_young: int
    leftovers_removed: tuple[str, ...]
    #: False when the store's one pack was the last gc's and held exactly what is reachable:
    #: it was kept as it is (rewriting it gives the same pack, at the cost of compressing it all).
    repacked: bool = True

    def summary(self) -> str:
        """What gc did, in one line (what ``gitpet gc`` prints).

        Examples:
            >>> version = pcm.push(Model)
            >>> print(store.gc().summary())  # doctest: +ELLIPSIS
            packed 6 reachable objects into one pack; removed 6 loose copies and 0 old pack(s); ...
        """
        young = f" ({self.kept_young} unreachable but young kept)" if self.kept_young else ""
        packed = "packed" if self.repacked else "already packed:"
        return (
            f"{packed} {self.reachable} reachable objects into one pack; removed {self.loose_packed} "
            f"loose copies and {self.packs_removed} old pack(s); pruned {self.pruned} unreachable "
            f"object(s){young}; objects on disk: {_mb(self.before.disk_bytes)} -> "
            f"{_mb(self.after.disk_bytes)}"
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def objects_size(gitdir: Path) -> StoreSize:
    """Files, content bytes and disk usage of a store's ``objects`` directory."""
    files = total = disk = 0
    for root, _dirs, names in os.walk(gitdir / "objects"):
        for name in names:
            try:
                info = os.stat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            files += 1
            total += info.st_size
            disk += info.st_blocks * 512
    return StoreSize(files, total, disk)


class _Reachable:
    """What the refs reach: each object's type, and the little the delta search needs.

    Not the objects: holding every object a store has read (its content too) made gc's
    memory grow with the store; each object is read again when it is written.
    """

    def __init__(self) -> None:
        self.types: dict[bytes, bytes] = {}  # hex id -> type name
        self.first_parents: dict[bytes, tuple[bytes, bytes | None]] = {}  # commit -> (tree, first parent)
        self.files: dict[bytes, dict[bytes, bytes]] = {}  # tree -> its regular files (name -> blob)

    def __contains__(self, sha: object) -> bool:
        return sha in self.types

    def __len__(self) -> int:
        return len(self.types)

    def add(self, sha: bytes, obj: ShaFile) -> tuple[list[bytes], list[bytes]]:
        """Record ``obj`` (read with full checks); return the ids it links to: to read, and blobs."""
        self.types[sha] = obj.type_name
        if isinstance(obj, Commit):
            parents = [bytes(parent) for parent in obj.parents]
            self.first_parents[sha] = (bytes(obj.tree), parents[0] if parents else None)
            return [bytes(obj.tree), *parents], []
        if isinstance(obj, Tree):
            subtrees, blobs, files = [], [], {}
            for entry in obj.items():
                if entry.mode == _GITLINK:
                    continue
                if entry.mode == _DIRECTORY:
                    subtrees.append(bytes(entry.sha))
                    continue
                blobs.append(bytes(entry.sha))
                if entry.mode & 0o170000 == 0o100000:
                    files[entry.path] = bytes(entry.sha)
            self.files[sha] = files
            return subtrees, blobs
        if isinstance(obj, Tag):
            return [bytes(obj.object[1])], []
        assert isinstance(obj, Blob)
        return [], []


def _reachable(repo: Repo, objects: RawObjectReader, known: _Reachable, progress: Progress = SILENT) -> None:
    """Add to ``known`` every object reachable from any ref now.

    Commits, trees and tags are read with full checks. A blob is only looked for here:
    it is read and hashed when it is packed, and the pack is read back before anything
    is removed (reading each blob twice was a third of gc's time).
    """
    roots = {bytes(sha) for sha in repo.refs.as_dict().values()}
    pending = [sha for sha in roots if sha not in known]
    while pending:
        sha = pending.pop()
        if sha in known:
            continue
        links, blobs = known.add(sha, read_object(objects, sha))
        pending.extend(links)
        progress.advance()
        for blob in blobs:
            if blob not in known:
                if not objects.holds(blob):
                    raise IntegrityError(
                        blob.decode("ascii"), f"blob is missing (tree {sha.decode('ascii')} names it)"
                    )
                known.types[blob] = b"blob"
                progress.advance()


def _packed_already(
    gitdir: Path, old_packs: list[Pack], old_loose: BinaryIds, reachable: _Reachable
) -> str | None:
    """The store's one pack, when the last gc wrote it and it holds exactly what is reachable.

    Rewriting it would give the same pack back; every object was just read from it with
    full checks, so it needs no reading back either. A pack gc did not write (one a fetch
    brought, or a writer's big object) is repacked: it may lack the deltas gc finds.
    """
    if len(old_packs) != 1 or not reachable or any(hexlify(sha) in reachable for sha in old_loose):
        return None
    (pack,) = old_packs
    path = pack_data_path(pack)
    if os.path.basename(path) != _last_gc(gitdir)[0]:
        return None
    if len(pack) != len(reachable) or any(bytes(sha) not in reachable for sha in pack):
        return None
    return path


def _record_gc_pack(gitdir: Path, name: str, refs: str) -> None:
    """Record the pack gc wrote, and the refs (their digest) whose objects it holds."""
    record = gitdir / _GC_PACK_RECORD
    record.parent.mkdir(exist_ok=True)  # a store a plain `git init --bare` made has no gitpet/ yet
    temporary = record.with_name(f"{record.name}.{os.getpid()}.lock")  # a leftover of a crash is found as one
    temporary.write_text(f"{name}\nrefs {refs}\n")
    os.replace(temporary, record)


def _last_gc(gitdir: Path) -> tuple[str | None, str | None]:
    """The pack the last gc wrote or kept, and the digest of the refs it packed (older gcs: None)."""
    try:
        lines = (gitdir / _GC_PACK_RECORD).read_text().splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return None, None
    refs = lines[1].removeprefix("refs ") if len(lines) > 1 and lines[1].startswith("refs ") else None
    return (lines[0].strip() if lines else None), refs


def _refs_digest(repo: Repo) -> str:
    """A digest of every ref and what it names: equal digests, equal refs."""
    listing = sorted(b"%s %s\n" % (bytes(ref), bytes(sha)) for ref, sha in repo.refs.as_dict().items())
    return hashlib.sha1(b"".join(listing)).hexdigest()


def _nothing_changed(gitdir: Path, old_packs: list[Pack], old_loose: BinaryIds, refs: str) -> bool:
    """Whether the store is as the last gc left it: its one pack, nothing loose, the same refs.

    Then every object is in that pack, and the pack holds what those refs reached when it
    was checked: there is nothing to pack and nothing to prune.
    """
    if len(old_packs) != 1 or old_loose:
        return False
    name, packed_refs = _last_gc(gitdir)
    return packed_refs == refs and os.path.basename(pack_data_path(old_packs[0])) == name


def _delta_bases(repo: Repo, reachable: _Reachable) -> dict[bytes, bytes]:
    """Blob id -> the blob to store it as a delta against.

    Each file of a class's version is stored against the same file of the next newer
    version, as git's own gc would find.

    The latest version of every class stays whole (loading the latest never resolves a delta), and
    chains stop at :data:`_MAX_DELTA_DEPTH`, so loading an old version applies at most that many.
    """
    bases: dict[bytes, bytes] = {}
    depth: dict[bytes, int] = {}
    whole: set[bytes] = set()
    histories = []
    for ref, tip in repo.refs.as_dict(Ref(b"refs/heads/")).items():
        if b"/" in bytes(ref):
            continue  # pipelines: their trees are class versions, reached through the classes
        files = [reachable.files.get(tree, {}) for tree in _chain(reachable, bytes(tip))]
        if files:
            whole.update(files[0].values())
            histories.append(files)
    for files in histories:
        for newer, older in itertools.pairwise(files):
            for name, blob in older.items():
                base = newer.get(name)
                if base is None or base == blob or blob in bases or blob in whole:
                    continue
                if depth.get(base, 0) >= _MAX_DELTA_DEPTH or _leads_to(bases, base, blob):
                    continue
                bases[blob] = base
                depth[blob] = depth.get(base, 0) + 1
    return bases


def _chain(reachable: _Reachable, tip: bytes) -> list[bytes]:
    """The trees of the first-parent history of ``tip``, newest first, from what was read."""
    trees = []
    commit: bytes | None = tip
    while commit is not None and commit in reachable.first_parents:
        tree, commit = reachable.first_parents[commit]
        trees.append(tree)
    return trees


def _leads_to(bases: Mapping[bytes, bytes], start: bytes, target: bytes) -> bool:
    """Whether following bases from ``start`` reaches ``target`` (which would make a cycle)."""
    sha: bytes | None = start
    while sha is not None:
        if sha == target:
            return True
        sha = bases.get(sha)
    return False


# The name of the pack the last gc wrote (in the store's gitpet/ folder).
_GC_PACK_RECORD = "gitpet/gc-pack"


def _check_pack(path: str, expected: Mapping[bytes, bytes], *, remove_if_bad: bool) -> None:
    """Read every object of the new pack back (resolving deltas) before anything is deleted.

    A pack that does not give back exactly what was packed (or an index that does not
    say where it is) stops gc, and is removed if gc made it (readers look in packs
    first, so it would hide the good copies).
    """
    problem = _first_problem(path, expected)
    if problem is None:
        return
    if remove_if_bad:
        for leftover in (path, path.removesuffix(".pack") + ".idx"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
    raise IntegrityError(
        path, f"gc's new pack does not give back what was packed ({problem}); nothing was removed"
    )


def _first_problem(path: str, expected: Mapping[bytes, bytes]) -> str | None:
    """What is wrong with reading ``expected`` (id -> type name) back from the pack at ``path``.

    The pack is indexed again from its bytes alone (every object inflated, every delta
    applied, every id hashed), as a fetch indexes a pack it receives.
    """
    try:
        pack = IndexedPack(path, _NO_OBJECTS, keep_for_reading=False)
    except (ValueError, OSError) as err:
        return str(err)
    try:
        if len(pack) != len(expected):
            return f"it holds {len(pack)} objects, not {len(expected)}"
        for sha, type_name in expected.items():
            if sha not in pack:
                return f"{sha.decode('ascii')} is not in it"
            if _TYPE_NAMES[pack.type_num(sha)] != type_name:
                return f"{sha.decode('ascii')} comes back as another type"
        if not pack.index_matches(path.removesuffix(".pack") + ".idx"):
            return "its index does not say where its objects are"
        return None
    finally:
        pack.close()


class _NoObjects:
    """A store holding nothing: the bases a pack gc wrote must all be in it."""

    def get_raw(self, name: object) -> tuple[int, bytes]:
        raise KeyError(name)


_NO_OBJECTS = _NoObjects()


_TYPE_NUMBERS = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
_TYPE_NAMES = {number: name for name, number in _TYPE_NUMBERS.items()}


def _read_again(reader: RawObjectReader) -> Callable[[bytes], tuple[int, bytes]]:
    """Read an object to pack it, hashed again (it was checked when counted; a file may change)."""

    def read(sha: bytes) -> tuple[int, bytes]:
        found = find_raw(reader, sha)
        if found is None:
            raise IntegrityError(sha.decode("ascii"), "an object gc counted is gone; nothing was removed")
        return _TYPE_NUMBERS[found[0]], found[1]

    return read


def _age(path: str, now: float) -> float:
    try:
        return now - os.stat(path).st_mtime
    except FileNotFoundError:
        return -1.0


def collect_garbage(
    repo: Repo, retry: LockRetry, prune_older_than: float, progress: Progress = SILENT
) -> GcReport:
    """Pack every object a ref reaches into one pack, then prune what is old and unreachable.

    ``retry`` holds the store's writers lock and its timeouts: pruning waits
    up to its lock timeout to be the only writer. ``progress`` hears of each stage.
    """
    objects = repo.object_store
    gitdir = Path(repo.controldir())
    before = objects_size(gitdir)
    old_packs: list[Pack] = list(objects.packs)
    # What is loose now, in one buffer (binary ids): a set of hex ids was a tenth of gc's peak.
    old_loose = BinaryIds()
    for sha in iter_loose_ids(objects):
        old_loose.append(unhexlify(sha))

    refs = _refs_digest(repo)  # before counting: refs that move meanwhile only cost a repack next time
    if _nothing_changed(gitdir, old_packs, old_loose, refs):
        return _only_leftovers(gitdir, retry, prune_older_than, before, len(old_packs[0]))
    reader = RawObjectReader(objects)
    reachable = _Reachable()
    progress.stage("counting objects")
    _reachable(repo, reader, reachable, progress)
    packs_before = set(os.listdir(objects.pack_dir))
    new_pack = _packed_already(gitdir, old_packs, old_loose, reachable)
    repacked = new_pack is None
    if not repacked:
        assert new_pack is not None
        _record_gc_pack(gitdir, os.path.basename(new_pack), refs)
    if repacked:
        progress.stage("finding deltas", unit="")
        bases = _delta_bases(repo, reachable)
        progress.stage("writing pack", total=len(reachable))
        new_pack = write_pack_of(
            objects.pack_dir,
            reachable.types.keys(),
            _read_again(reader),
            delta_bases=bases,
            progress=progress,
        )
        if new_pack is not None:
            progress.stage("checking pack", unit="")
            created = os.path.basename(new_pack) not in packs_before
            _check_pack(new_pack, reachable.types, remove_if_bad=created)
            _record_gc_pack(gitdir, os.path.basename(new_pack), refs)
    keep_pack = os.path.basename(new_pack).removesuffix(".pack") if new_pack is not None else None
    refresh_packs(objects)
    reader.close()
    in_new_pack = frozenset(reachable.types)

    progress.stage("pruning", unit="")

    def prune() -> tuple[int, int, int, int, tuple[str, ...]]:
        # Refs may have moved while we packed: what they reach now stays
        # too, where it is (the new pack does not hold it).
        _reachable(repo, RawObjectReader(objects), reachable)
        now = time.time()
        grace = prune_older_than
        loose_packed, pruned, kept_young = _remove_loose(
            objects, old_loose, in_new_pack, reachable, grace, now
        )
        packs_removed = _remove_packs(objects, old_packs, keep_pack, in_new_pack, reachable, grace, now)
        removed = _remove_leftovers(gitdir, grace, retry.stale_lock_after)
        return loose_packed, pruned, kept_young, packs_removed, removed

    loose_packed, pruned, kept_young, packs_removed, removed = _as_only_writer(gitdir, retry, prune)
    objects.close()  # forget removed packs; the store reopens what it needs
    return GcReport(
        before=before,
        after=objects_size(gitdir),
        reachable=len(reachable),
        loose_packed=loose_packed,
        packs_removed=packs_removed,
        pruned=pruned,
        kept_young=kept_young,
        leftovers_removed=removed,
        repacked=repacked,
    )


_Done = TypeVar("_Done")


def _as_only_writer(gitdir: Path, retry: LockRetry, work: Callable[[], _Done]) -> _Done:
    """Run ``work`` holding the writers lock alone, waiting up to the lock timeout for it."""
    deadline = time.monotonic() + retry.lock_timeout
    while True:
        with retry.writers.exclusive() as alone:
            if alone:
                return work()
        if time.monotonic() > deadline:
            raise StoreBusyError("gc", retry.lock_timeout, str(gitdir / "gitpet" / "writers"))
        time.sleep(0.01)


def _only_leftovers(gitdir: Path, retry: LockRetry, grace: float, before: StoreSize, packed: int) -> GcReport:
    """gc of a store as the last gc left it: only stale locks and temporary files to remove."""
    removed = _as_only_writer(gitdir, retry, lambda: _remove_leftovers(gitdir, grace, retry.stale_lock_after))
    return GcReport(
        before=before,
        after=objects_size(gitdir),
        reachable=packed,
        loose_packed=0,
        packs_removed=0,
        pruned=0,
        kept_young=0,
        leftovers_removed=removed,
        repacked=False,
    )


def _remove_loose(
    objects: object,
    old_loose: BinaryIds,
    in_new_pack: frozenset[bytes],
    reachable: _Reachable,
    grace: float,
    now: float,
) -> tuple[int, int, int]:
    packed = pruned = young = 0
    for binary in sorted(old_loose):
        sha = hexlify(binary)
        path = loose_object_path(objects, sha)
        if sha in in_new_pack:
            packed += _unlink(path)  # the new pack holds a copy
        elif sha in reachable:
            continue  # became reachable after the new pack was written
        elif _age(path, now) >= grace:
            pruned += _unlink(path)
        else:
            young += 1
    for first in {binary[0] for binary in old_loose}:
        # An emptied fan-out directory goes too (gitpet writers are excluded now).
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(loose_object_path(objects, b"%02x" % first + b"0" * 38)))
    return packed, pruned, young


def _remove_packs(
    objects: object,
    old_packs: list[Pack],
    new_pack_name: str | None,
    in_new_pack: frozenset[bytes],
    reachable: _Reachable,
    grace: float,
    now: float,
) -> int:
    removed = 0
    for pack in old_packs:
        if os.path.basename(pack_basename(pack)) == new_pack_name:
            continue
        shas = [bytes(sha) for sha in pack]
        if any(sha in reachable and sha not in in_new_pack for sha in shas):
            continue  # holds something that became reachable after the new pack was written
        # What else it holds is garbage once the pack is old: a writer that
        # needs an object only an old pack holds writes it again (ObjectWriter.ensure_stored).
        if all(sha in in_new_pack for sha in shas) or _age(pack_data_path(pack), now) >= grace:
            drop_pack(objects, pack)
            removed += 1
    return removed


def _remove_leftovers(gitdir: Path, grace: float, stale_lock_after: float) -> tuple[str, ...]:
    """Remove lock files whose writer is gone, and temporary files older than ``grace``.

    Also what a killed fetch left in quarantine, only while no fetch runs: a running
    one's files may be old.
    """
    removed = []
    now = time.time()
    with FetchLock(gitdir).held_if_free() as no_fetch_running:
        for path in leftover_files(gitdir):
            if path.name.endswith(".lock"):
                gone = remove_if_stale(path, stale_lock_after, writers_excluded=True)
            elif _in_quarantine(gitdir, path):
                gone = no_fetch_running and bool(_unlink(str(path)))
            else:
                gone = _age(str(path), now) >= grace and bool(_unlink(str(path)))
            if gone:
                removed.append(str(path.relative_to(gitdir)))
        if no_fetch_running:
            quarantines = gitdir.glob("objects/incoming-*/**/")
            for directory in sorted(quarantines, key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    directory.rmdir()
    return tuple(removed)


def _in_quarantine(gitdir: Path, path: Path) -> bool:
    parts = path.relative_to(gitdir).parts
    return len(parts) > 2 and parts[0] == "objects" and parts[1].startswith("incoming-")


def _unlink(path: str) -> int:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return 1
