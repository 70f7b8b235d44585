"""What reads and writes report: history entries and write results (plain frozen records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from dulwich.objects import Commit

__all__ = ["PushResult", "SnapshotInfo", "VersionInfo"]


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
    def of(cls, commit: Commit) -> VersionInfo:
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
    def of_snapshot(cls, pipeline: str, commit: Commit) -> SnapshotInfo:
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


def _fields(commit: Commit) -> tuple[str, str, datetime, str, str]:
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
    when it already was, and nothing was written.

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
