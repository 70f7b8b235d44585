"""A store's refs: read, and moved only by compare-and-swap with the new objects stored first."""

from __future__ import annotations

from collections.abc import Sequence

from dulwich.objects import ObjectID, ShaFile
from dulwich.refs import Ref

from gitpet.errors import IntegrityError
from gitpet.git.locks import LockRetry
from gitpet.git.object_writer import ObjectWriter, Written
from gitpet.git.refs import read_ref, swap_ref
from gitpet.git.repository import Repository

__all__ = ["RefStore"]


class RefStore:
    """The refs of one repository: read them; move one only if it still points where it did.

    Args:
        repository: the repository whose refs these are.
        retry: runs each swap under the writers lock, retrying while git's ref lock is held.
        writer: stores the objects a new ref value needs in the same lock hold as the swap.
    """

    def __init__(self, repository: Repository, retry: LockRetry, writer: ObjectWriter) -> None:
        self._repository = repository
        self._retry = retry
        self._writer = writer

    def read(self, ref: bytes) -> bytes | None:
        """The sha ``ref`` points at, or None (no such ref, or no repository yet)."""
        refs = self._repository.refs()
        return read_ref(refs, ref) if refs is not None else None

    def under(self, prefix: bytes) -> dict[bytes, bytes]:
        """Full ref -> sha of every ref whose name starts with ``prefix`` (ending in ``/``)."""
        refs = self._repository.refs()
        if refs is None:
            return {}
        return {prefix + bytes(name): bytes(sha) for name, sha in refs.as_dict(Ref(prefix)).items()}

    def names_under(self, prefix: bytes) -> list[bytes]:
        """Full names of the refs under ``prefix``, without reading their values."""
        refs = self._repository.refs()
        if refs is None:
            return []
        return [prefix + bytes(name) for name in refs.keys(base=Ref(prefix))]

    def compare_and_swap(
        self,
        ref: bytes,
        old: bytes | None,
        new: bytes,
        *,
        keep: Sequence[ShaFile] = (),
        written: Written | None = None,
        present: Sequence[bytes] = (),
    ) -> bool:
        """Point ``ref`` at ``new`` if it still points at ``old`` (None: if it does not exist).

        ``keep`` (the objects ``new`` needs that may not be reachable yet) are
        made stored and fresh in the same writers-lock hold as the swap, so gc
        cannot prune them in between; ``present`` (objects already stored that
        ``new`` names) are checked to be still there in that hold.
        """
        repo = self._repository.writable()

        def attempt() -> bool:
            self._writer.ensure_stored(repo, keep, written)
            missing = [sha for sha in present if ObjectID(sha) not in repo.object_store]
            if missing:
                raise IntegrityError(
                    missing[0].decode("ascii"),
                    "no longer in the store (pruned while unreachable); push it again",
                )
            return swap_ref(repo.refs, ref, old, new, fsync=self._repository.fsync)

        return self._retry.run(ref.decode("utf-8"), attempt)

    def delete(self, ref: bytes, old: bytes) -> bool:
        """Remove ``ref`` if it still points at ``old`` (loose or packed); whether it was removed."""
        repo = self._repository.writable()

        def attempt() -> bool:
            return bool(repo.refs.remove_if_equals(Ref(ref), ObjectID(old)))

        return self._retry.run(ref.decode("utf-8"), attempt)
