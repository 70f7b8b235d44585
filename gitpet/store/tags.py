"""Tags of classes and pipelines: ``refs/tags/<name>/<tag>`` naming one version or snapshot."""

from __future__ import annotations

from gitpet.errors import IntegrityError, TagExistsError
from gitpet.git.history import peeled_tree
from gitpet.git.locks import log
from gitpet.git.refstore import RefStore
from gitpet.git.repository import Repository

__all__ = ["Tags"]


class Tags:
    """Reads and sets the tags of one store.

    Args:
        repository: where the tagged objects are.
        refs: where the tags are, moved by compare-and-swap.
    """

    def __init__(self, repository: Repository, refs: RefStore) -> None:
        self._repository = repository
        self._refs = refs

    def under(self, prefix: bytes) -> dict[str, str]:
        """Tag -> the tree (version or snapshot) it names, for the tags directly under ``prefix``."""
        found = {}
        for ref, sha in sorted(self._refs.under(prefix).items()):
            tag = ref[len(prefix) :]
            tree = self.target(ref, sha)
            if tree is not None and b"/" not in tag:
                found[tag.decode("utf-8", "replace")] = tree.decode("ascii")
        return found

    def target(self, ref: bytes, sha: bytes) -> bytes | None:
        """The version or snapshot tag ``ref`` (pointing at ``sha``) names; None, logged, if none.

        A blob, a missing object, a chain of tags too deep: a remote's bad tag is
        ignored, and the class stays usable.
        """
        try:
            tree = peeled_tree(self._repository.objects(), sha)
        except IntegrityError as err:
            log.warning("gitpet: ignoring tag %s: %s", ref.decode("utf-8", "replace"), err)
            return None
        if tree is None:
            log.warning("gitpet: ignoring tag %s: it names no version", ref.decode("utf-8", "replace"))
        return tree

    def set(
        self, ref: bytes, commit: bytes, tree: bytes, owner: str, tag: str, *, force: bool, kind: str
    ) -> str:
        """Point tag ``ref`` at ``commit`` (whose tree is ``tree``); moving it elsewhere needs ``force``.

        Returns the tree id. ``owner``, ``tag`` and ``kind`` ("class" or "pipeline")
        word the :class:`TagExistsError`.
        """
        while True:
            current = self._refs.read(ref)
            if current is not None:
                current_tree = self.target(ref, current)
                if current_tree == tree:
                    return tree.decode("ascii")
                if not force:
                    raise TagExistsError(owner, tag, (current_tree or current).decode("ascii"), kind)
            if self._refs.compare_and_swap(ref, current, commit):
                return tree.decode("ascii")
