"""The one ref-decision table of push and fetch: what moving a ref to the other side's value would be.

Both directions ask the same question of each ref: the receiving side has
``current`` (None: no such ref) and is offered ``proposed``. Push receives on
the remote, fetch in this store; what each then does with a decision (send it,
reconcile, rebase, refuse) is theirs.
"""

from __future__ import annotations

import enum

from gitpet.format.names import TAG_REF_PREFIX
from gitpet.git.history import ObjectReader, is_ancestor, peeled_tree

__all__ = ["Decision", "decide", "is_tag"]


class Decision(enum.Enum):
    """What moving one ref from ``current`` to ``proposed`` would be."""

    UP_TO_DATE = "up-to-date"
    """It already is ``proposed``, or (a tag) names the same version."""
    CREATE = "create"
    """The receiving side has no such ref."""
    FAST_FORWARD = "fast-forward"
    """``proposed`` only adds newer versions on top of ``current``."""
    BEHIND = "behind"
    """``current`` already holds everything ``proposed`` does, and more."""
    DIVERGED = "diverged"
    """Each side has versions the other lacks: they must be put one on top of the other."""
    TAG_DIFFERS = "tag-differs"
    """A tag that names another version; moved only when forced."""
    FORCE_TAG = "force-tag"
    """A tag that names another version, moved because tags are forced."""


def is_tag(ref: bytes) -> bool:
    """Whether ``ref`` is a tag (of a class or a pipeline)."""
    return ref.startswith(TAG_REF_PREFIX)


def decide(
    objects: ObjectReader, ref: bytes, current: bytes | None, proposed: bytes, *, force_tags: bool
) -> Decision:
    """What moving ``ref`` from ``current`` to ``proposed`` would be; ``objects`` holds both histories.

    Examples:
        >>> from dulwich.object_store import MemoryObjectStore
        >>> decide(MemoryObjectStore(), b"refs/heads/A", None, b"1" * 40, force_tags=False)
        <Decision.CREATE: 'create'>
        >>> decide(MemoryObjectStore(), b"refs/heads/A", b"1" * 40, b"1" * 40, force_tags=False)
        <Decision.UP_TO_DATE: 'up-to-date'>
    """
    if current == proposed:
        return Decision.UP_TO_DATE
    if current is None:
        return Decision.CREATE
    if is_tag(ref):
        tree = peeled_tree(objects, current)
        if tree is not None and tree == peeled_tree(objects, proposed):
            return Decision.UP_TO_DATE
        return Decision.FORCE_TAG if force_tags else Decision.TAG_DIFFERS
    if is_ancestor(objects, current, proposed):
        return Decision.FAST_FORWARD
    if is_ancestor(objects, proposed, current):
        return Decision.BEHIND
    return Decision.DIVERGED
