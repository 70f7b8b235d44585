"""``GitStore.gc()``: one pack for everything reachable, and old garbage pruned, while others write.

Why it is safe with concurrent writers (gitpet's or git's):

1. Everything reachable from *any* ref is read with full checks
   (:mod:`gitpet.maintenance.reachable`) and written as one new pack (older
   versions as deltas of newer ones: :mod:`gitpet.maintenance.pack_order`),
   which is complete (index included) and indexed again from its bytes,
   every object hashed, before anything is deleted; only the copies of what
   it holds so read back are deleted. A damaged store is not collected:
   ``IntegrityError`` before any change (run ``gitpet verify``).
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
import os
import time
from binascii import hexlify, unhexlify
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

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
from gitpet.git.idtable import IdNumbering
from gitpet.git.indexpack import IndexedPack
from gitpet.git.integrity import find_raw
from gitpet.git.locks import FetchLock, LockRetry, remove_if_stale
from gitpet.git.objread import RawObjectReader
from gitpet.git.objwrite import BinaryIds, write_pack_of
from gitpet.maintenance.pack_order import pack_objects
from gitpet.maintenance.reachable import TYPE_NUMBERS, Reachable, count_reachable
from gitpet.maintenance.verify import leftover_files
from gitpet.progress import SILENT, Progress

__all__ = ["GcReport", "collect_garbage", "objects_size"]


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


def _packed_already(
    gitdir: Path, old_packs: list[Pack], old_loose: BinaryIds, reachable: Reachable
) -> str | None:
    """The store's one pack, when the last gc wrote it and it holds exactly what is reachable.

    Rewriting it would give the same pack back; every object was just read from it with
    full checks, so it needs no reading back either. A pack gc did not write (one a fetch
    brought, or a writer's big object) is repacked: it may lack the deltas gc finds.
    """
    if len(old_packs) != 1 or not reachable or any(sha in reachable for sha in old_loose):
        return None
    (pack,) = old_packs
    path = pack_data_path(pack)
    if os.path.basename(path) != _last_gc(gitdir)[0]:
        return None
    if len(pack) != len(reachable) or any(unhexlify(bytes(sha)) not in reachable for sha in pack):
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


def _refs_digest(refs: Mapping[Ref, bytes]) -> str:
    """A digest of every ref and what it names: equal digests, equal refs."""
    listing = sorted(b"%s %s\n" % (bytes(ref), bytes(sha)) for ref, sha in refs.items())
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


def _class_tips(refs: Mapping[Ref, bytes]) -> list[bytes]:
    """The commit each class's ref names, in the order of the refs' names.

    Pipelines' refs (``refs/heads/<name>/...``) are not classes: their trees are class
    versions, reached through the classes.
    """
    names = sorted(bytes(ref) for ref in refs if bytes(ref).startswith(b"refs/heads/"))
    return [bytes(refs[Ref(name)]) for name in names if b"/" not in name.removeprefix(b"refs/heads/")]


# The name of the pack the last gc wrote (in the store's gitpet/ folder).
_GC_PACK_RECORD = "gitpet/gc-pack"


def _checked_pack(path: str, count: int, *, remove_if_bad: bool) -> IdNumbering:
    """Read every object of the new pack back (resolving deltas) before anything is deleted.

    Returns the ids the pack holds. A pack that does not give back exactly what was
    packed (or an index that does not say where it is) stops gc, and is removed if gc
    made it (readers look in packs first, so it would hide the good copies).
    """
    checked = _read_back(path, count)
    if not isinstance(checked, str):
        return checked
    if remove_if_bad:
        for leftover in (path, path.removesuffix(".pack") + ".idx"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
    raise IntegrityError(
        path, f"gc's new pack does not give back what was packed ({checked}); nothing was removed"
    )


def _read_back(path: str, count: int) -> IdNumbering | str:
    """The ids the pack at ``path`` holds, or what is wrong with it.

    The pack is indexed again from its bytes alone (every object inflated, every delta
    applied, every id hashed), as a fetch indexes a pack it receives, and the index gc
    wrote must be the one those ids and places make. That index was written from the
    ids gc counted (each read back and hashed), so the pack holds exactly those: an id
    names its type and content too.
    """
    try:
        pack = IndexedPack(path, _NO_OBJECTS, keep_for_reading=False)
    except (ValueError, OSError) as err:
        return str(err)
    try:
        if len(pack) != count:
            return f"it holds {len(pack)} objects, not {count}"
        if not pack.index_matches(path.removesuffix(".pack") + ".idx"):
            return "its index does not say where its objects are"
        return pack.ids
    finally:
        pack.close()


class _NoObjects:
    """A store holding nothing: the bases a pack gc wrote must all be in it."""

    def get_raw(self, name: object) -> tuple[int, bytes]:
        raise KeyError(name)


_NO_OBJECTS = _NoObjects()


def _read_again(reader: RawObjectReader) -> Callable[[bytes], tuple[int, bytes]]:
    """Read an object to pack it, hashed again (it was checked when counted; a file may change)."""

    def read(sha: bytes) -> tuple[int, bytes]:
        found = find_raw(reader, sha)
        if found is None:
            raise IntegrityError(sha.decode("ascii"), "an object gc counted is gone; nothing was removed")
        return TYPE_NUMBERS[found[0]], found[1]

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

    # One reading of the refs for the digest, the count and the histories: refs that move
    # meanwhile only cost a repack next time.
    refs_now = repo.refs.as_dict()
    refs = _refs_digest(refs_now)
    if _nothing_changed(gitdir, old_packs, old_loose, refs):
        return _only_leftovers(gitdir, retry, prune_older_than, before, len(old_packs[0]))
    reader = RawObjectReader(objects)
    reachable = Reachable()
    progress.stage("counting objects")
    count_reachable(refs_now.values(), reader, reachable, progress=progress)
    packs_before = set(os.listdir(objects.pack_dir))
    new_pack = _packed_already(gitdir, old_packs, old_loose, reachable)
    repacked = new_pack is None
    in_new_pack: IdNumbering = reachable.ids  # what the kept pack holds: all that is reachable
    if not repacked:
        assert new_pack is not None
        _record_gc_pack(gitdir, os.path.basename(new_pack), refs)
    else:
        progress.stage("writing pack", total=len(reachable))
        in_order = pack_objects(reachable, _class_tips(refs_now), _read_again(reader))
        new_pack = write_pack_of(objects.pack_dir, len(reachable), in_order, progress=progress)
        if new_pack is not None:
            count = len(reachable)
            del reachable, in_order, in_new_pack  # the pack's own ids, read back, replace them
            progress.stage("checking pack", unit="")
            created = os.path.basename(new_pack) not in packs_before
            in_new_pack = _checked_pack(new_pack, count, remove_if_bad=created)
            _record_gc_pack(gitdir, os.path.basename(new_pack), refs)
    keep_pack = os.path.basename(new_pack).removesuffix(".pack") if new_pack is not None else None
    refresh_packs(objects)
    reader.close()

    progress.stage("pruning", unit="")
    reached_since = Reachable()

    def prune() -> tuple[int, int, int, int, tuple[str, ...]]:
        # Refs may have moved while we packed: what they reach now stays
        # too, where it is (the new pack does not hold it). What the new pack
        # holds needs no walk: all it links to is in the pack too.
        count_reachable(repo.refs.as_dict().values(), RawObjectReader(objects), reached_since, in_new_pack)
        now = time.time()
        grace = prune_older_than
        loose_packed, pruned, kept_young = _remove_loose(
            objects, old_loose, in_new_pack, reached_since, grace, now
        )
        packs_removed = _remove_packs(objects, old_packs, keep_pack, in_new_pack, reached_since, grace, now)
        removed = _remove_leftovers(gitdir, grace, retry.stale_lock_after)
        return loose_packed, pruned, kept_young, packs_removed, removed

    loose_packed, pruned, kept_young, packs_removed, removed = _as_only_writer(gitdir, retry, prune)
    objects.close()  # forget removed packs; the store reopens what it needs
    return GcReport(
        before=before,
        after=objects_size(gitdir),
        reachable=len(in_new_pack) + len(reached_since),
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
    in_new_pack: Container[bytes],
    reached_since: Container[bytes],
    grace: float,
    now: float,
) -> tuple[int, int, int]:
    """Remove the loose objects the new pack holds, and old garbage (neither packed nor reached since)."""
    removed = pruned = young = 0
    for binary in old_loose:
        path = loose_object_path(objects, hexlify(binary))
        if binary in in_new_pack:
            removed += _unlink(path)  # the new pack holds a copy
        elif binary in reached_since:
            continue  # became reachable after the new pack was written
        elif _age(path, now) >= grace:
            pruned += _unlink(path)
        else:
            young += 1
    for first in {binary[0] for binary in old_loose}:
        # An emptied fan-out directory goes too (gitpet writers are excluded now).
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(loose_object_path(objects, b"%02x" % first + b"0" * 38)))
    return removed, pruned, young


def _remove_packs(
    objects: object,
    old_packs: list[Pack],
    new_pack_name: str | None,
    in_new_pack: Container[bytes],
    reached_since: Container[bytes],
    grace: float,
    now: float,
) -> int:
    removed = 0
    for pack in old_packs:
        if os.path.basename(pack_basename(pack)) == new_pack_name:
            continue
        all_in_new_pack = True
        for binary in (unhexlify(bytes(sha)) for sha in pack):
            if binary in in_new_pack:
                continue
            if binary in reached_since:
                break  # holds something that became reachable after the new pack was written
            all_in_new_pack = False
        else:
            # What else it holds is garbage once the pack is old: a writer that needs an
            # object only an old pack holds writes it again (ObjectWriter.ensure_stored).
            if all_in_new_pack or _age(pack_data_path(pack), now) >= grace:
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
