"""Every use of a private dulwich name, in one place.

dulwich has no public API for these few needs; an upgrade of dulwich is
checked here (and by ``make compat`` at both ends of the supported range),
nowhere else. Each function says what gitpet needs and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dulwich.objects import ObjectID
from dulwich.pack import Pack
from dulwich.repo import Repo

__all__ = [
    "drop_pack",
    "iter_loose_ids",
    "loose_object_path",
    "pack_basename",
    "pack_data_path",
    "refresh_packs",
    "turn_off_reflog",
]


def iter_loose_ids(object_store: Any) -> Iterator[bytes]:
    """The ids of the objects stored loose (gc packs them, then removes the files)."""
    for sha in object_store._iter_loose_objects():
        yield bytes(sha)


def loose_object_path(object_store: Any, sha: bytes) -> str:
    """Where the loose copy of object ``sha`` lives (or would live)."""
    path: str = object_store._get_shafile_path(ObjectID(sha))
    return path


def refresh_packs(object_store: Any) -> None:
    """Make the object store see packs written behind its back (gitpet writes packs itself)."""
    object_store._update_pack_cache()


def drop_pack(object_store: Any, pack: Pack) -> None:
    """Close and delete a pack that gc has made redundant."""
    object_store._remove_pack(pack)


def pack_basename(pack: Pack) -> str:
    """A pack's path without ``.pack``/``.idx``."""
    name: str = pack._basename
    return name


def pack_data_path(pack: Pack) -> str:
    """The path of a pack's ``.pack`` file."""
    path: str = pack._data_path
    return path


def turn_off_reflog(repo: Repo) -> None:
    """Write no reflog, as git does in bare repositories (``core.logAllRefUpdates=false``).

    dulwich writes one anyway and re-reads the config for each entry, which
    was 28% of a 1000-class ``push_all``. History lives in the commits.
    """
    if hasattr(repo.refs, "_logger"):
        repo.refs._logger = None
