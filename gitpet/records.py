"""What reads and writes report: history entries and write results (plain frozen records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, Protocol

__all__ = ["Problem", "PushResult", "RefUpdate", "SnapshotInfo", "Status", "SyncReport", "VersionInfo"]


class HistoryCommit(Protocol):
    """What a history entry is made from: a dulwich ``Commit``, or the fields a walk read of one."""

    @property
    def id(self) -> bytes: ...
    @property
    def tree(self) -> bytes: ...
    @property
    def commit_time(self) -> int: ...
    @property
    def message(self) -> bytes: ...
    @property
    def author(self) -> bytes: ...


@dataclass(frozen=True)
class VersionInfo:
    """One entry of a class's history, newest first in :meth:`GitStore.versions`.

    Examples:
        >>> version = pcm.push(Model)
        >>> info = store.versions("Model")[0]
        >>> info.id == version, info.message
        (True, 'Model: version ...')
    """

    id: str
    commit: str
    time: datetime
    message: str
    author: str

    @classmethod
    def of(cls, commit: HistoryCommit) -> VersionInfo:
        """The entry a history commit stands for: its tree is the version.

        Examples:
            >>> version = pcm.push(Model)
            >>> from dulwich.repo import Repo
            >>> repo = Repo(str(store.path))
            >>> commit = repo[store.latest_commit("Model").encode()]
            >>> VersionInfo.of(commit) == store.versions("Model")[0]
            True
            >>> repo.close()
        """
        return cls(*_fields(commit))


@dataclass(frozen=True)
class SnapshotInfo(VersionInfo):
    """One entry of a pipeline's history, newest first in :meth:`PipelineHistory.snapshots`.

    ``id`` is the snapshot id (the commit's tree).

    Examples:
        >>> version = pcm.push(Model)
        >>> history = store.pipeline("train")
        >>> snapshot = history.save({"clazz": "Model", "version_hash": version, "params": {}}, "first")
        >>> info = history.snapshots()[0]
        >>> info.pipeline, info.id == snapshot.id, info.message.splitlines()[0]
        ('train', True, 'train: first')
    """

    pipeline: str

    @classmethod
    def of_snapshot(cls, pipeline: str, commit: HistoryCommit) -> SnapshotInfo:
        """The entry a snapshot commit of ``pipeline`` stands for: its tree is the snapshot.

        Examples:
            >>> version = pcm.push(Model)
            >>> from dulwich.repo import Repo
            >>> history = store.pipeline("train")
            >>> saved = history.save({"clazz": "Model", "version_hash": version, "params": {}})
            >>> repo = Repo(str(store.path))
            >>> SnapshotInfo.of_snapshot("train", repo[saved.commit.encode()]) == history.snapshots()[0]
            True
            >>> repo.close()
        """
        return cls(*_fields(commit), pipeline)


def commit_datetime(seconds: int) -> datetime:
    """A commit's time as a UTC datetime.

    A time beyond what datetime holds (a remote may write any number) is shown as the
    nearest it can hold rather than making the history unreadable.

    Examples:
        >>> commit_datetime(0).isoformat()
        '1970-01-01T00:00:00+00:00'
        >>> commit_datetime(99999999999999).year, commit_datetime(-99999999999999).year
        (9999, 1)
    """
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        limit = datetime.max if seconds > 0 else datetime.min
        return limit.replace(tzinfo=timezone.utc)


def _fields(commit: HistoryCommit) -> tuple[str, str, datetime, str, str]:
    return (
        commit.tree.decode("ascii"),
        commit.id.decode("ascii"),
        commit_datetime(commit.commit_time),
        commit.message.decode("utf-8", "replace"),
        commit.author.decode("utf-8", "replace"),
    )


@dataclass(frozen=True)
class PushResult:
    """What a write did.

    ``name`` (a class or a pipeline) is at ``id`` in ``commit``; ``created`` is False
    when it already was, and nothing was written. For a class version of format 3:
    ``source_complete`` (whether its text builds exactly the class it stores) and, when
    it is not, ``source_problem`` (why); None and empty for a pipeline snapshot.

    Examples:
        >>> [result] = pcm.push_many([("Model", Model)])
        >>> result.name, result.created, result.id == store.latest_id("Model")
        ('Model', True, True)
        >>> pcm.push_many([("Model", Model)])[0].created   # already the latest: nothing written
        False
    """

    name: str
    id: str
    commit: str
    created: bool
    source_complete: bool | None = None
    source_problem: str = ""


Status = Literal["created", "fast-forward", "rebased", "up-to-date", "ahead", "forced", "rejected"]

_UNCHANGED = frozenset({"up-to-date", "ahead"})


@dataclass(frozen=True)
class RefUpdate:
    """What a push or fetch did to one ref.

    ``status`` is one of:

    - ``created``: the ref did not exist on the receiving side;
    - ``fast-forward``: the receiving side only lacked newer versions;
    - ``rebased``: both sides had versions the other lacked; the receiving
      side's versions were kept and ours were added on top, so it holds all;
    - ``up-to-date``: nothing to do;
    - ``ahead``: (fetch) this store has versions the remote lacks; unchanged;
    - ``forced``: a tag was moved because ``force_tags=True``;
    - ``rejected``: not updated; ``detail`` says why.

    ``old`` and ``new`` are the commit ids on the receiving side.

    Examples:
        >>> _ = pcm.push(Model)
        >>> remote = GitStore(tempfile.mkdtemp() + "/remote")
        >>> remote.init()  # an empty bare repository, as a new server-side repository is
        True
        >>> [update] = store.push(str(remote.path)).updates
        >>> update.ref, update.status, update.old, update.new == store.latest_commit("Model")
        ('refs/heads/Model', 'created', None, True)
    """

    ref: str
    status: Status
    old: str | None = None
    new: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        change = f"{(self.old or 'none')[:12]} -> {(self.new or 'none')[:12]}"
        text = f"{self.status:<12} {self.ref}"
        if self.status not in _UNCHANGED:
            text += f"  ({change})"
        return text + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class SyncReport:
    """Per-ref outcome of :meth:`GitStore.push` or :meth:`GitStore.fetch`.

    Examples:
        >>> _ = pcm.push(Model)
        >>> remote = GitStore(tempfile.mkdtemp() + "/remote")
        >>> remote.init()  # an empty bare repository, as a new server-side repository is
        True
        >>> report = store.push(str(remote.path))
        >>> report.direction, [(u.ref, u.status) for u in report.changed]
        ('push', [('refs/heads/Model', 'created')])
        >>> store.push(str(remote.path)).changed
        ()
    """

    remote: str
    direction: Literal["push", "fetch"]
    updates: tuple[RefUpdate, ...]
    attempts: int = 1
    """How many times a push sent its refs (more than one: it reconciled with racing pushers)."""

    @property
    def changed(self) -> tuple[RefUpdate, ...]:
        """Updates that moved or created a ref."""
        return tuple(u for u in self.updates if u.status not in _UNCHANGED and u.status != "rejected")

    @property
    def rejected(self) -> tuple[RefUpdate, ...]:
        """Updates that were refused, each with the reason in ``detail``."""
        return tuple(u for u in self.updates if u.status == "rejected")

    def status_of(self, ref: str) -> Status | None:
        """The status of ``ref`` (full name, e.g. ``refs/heads/MyFilter``), if it was considered.

        Examples:
            >>> version = pcm.push(Model)
            >>> remote = GitStore(tempfile.mkdtemp() + "/remote")
            >>> remote.init()
            True
            >>> report = store.push(str(remote.path))
            >>> report.status_of("refs/heads/Model"), report.status_of("refs/heads/Other")
            ('created', None)
        """
        for update in self.updates:
            if update.ref == ref:
                return update.status
        return None

    def __str__(self) -> str:
        lines = [
            f"{self.direction} {self.remote}: {len(self.changed)} changed, {len(self.rejected)} rejected"
            + (f" ({self.attempts} attempts)" if self.attempts > 1 else "")
        ]
        lines.extend(f"  {update}" for update in self.updates)
        return "\n".join(lines)


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where it was reached from, which object, and what is wrong.

    Examples:
        >>> print(Problem("refs/heads/Model", "5ada918f5c84fd45c5bf871e", "class.pkl is missing"))
        refs/heads/Model: 5ada918f5c84: class.pkl is missing
    """

    ref: str
    object: str
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.ref}: {self.object[:12]}: {self.detail}" if self.object else f"{self.ref}: {self.detail}"
        )
