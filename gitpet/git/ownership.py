"""Whether gitpet may write into a repository: a store is a bare repository that is gitpet's own.

gitpet marks the stores it creates (``gitpet.store = true`` in their config).
A bare repository without the mark is adopted (and marked) when nothing in
it can be someone else's: it has no refs yet, or gitpet's own ``gitpet/``
directory (stores written before the mark existed). Anything else is refused
before any write: class refs are ``refs/heads/<name>``, so writing into a
repository of other branches could move them.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from dulwich.file import FileLocked
from dulwich.repo import Repo

from gitpet.errors import NotAStoreError

__all__ = ["claim_store", "mark_store"]

_SECTION = (b"gitpet",)
_KEY = b"store"


def mark_store(repo: Repo) -> None:
    """Record in ``repo``'s config that it is a gitpet store."""
    config = repo.get_config()
    config.set(_SECTION, _KEY, True)
    # FileLocked: another writer is editing the config now (marking it too, or git); a later write marks it.
    with contextlib.suppress(FileLocked):
        config.write_to_path()


def _is_marked(repo: Repo) -> bool:
    try:
        return repo.get_config().get_boolean(_SECTION, _KEY, False) is True
    except (KeyError, ValueError):
        return False


def claim_store(repo: Repo, path: Path) -> None:
    """Return if gitpet may write into ``repo`` (marking it if needed), else raise NotAStoreError."""
    if _is_marked(repo):
        return
    refs = sorted(bytes(ref).decode("utf-8", "replace") for ref in repo.refs.allkeys() if ref != b"HEAD")
    if not refs or (path / "gitpet").is_dir():
        mark_store(repo)
        return
    shown = ", ".join(refs[:3]) + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
    raise NotAStoreError(
        str(path),
        f"a bare repository gitpet did not create, with refs gitpet did not write ({shown}); "
        "use another path, or if it is a gitpet store written by other means, mark it with "
        f"`git --git-dir={path} config gitpet.store true`",
    )
