"""What a fetch offers a remote as ``have``: a few commits per moved ref, whatever the history's length."""

from __future__ import annotations

from pathlib import Path

from dulwich.objects import Commit, Tree
from dulwich.repo import Repo

from gitpet.git.objread import RawObjectReader
from gitpet.sync.negotiation import HaveList, offered
from tests.conftest import bare_repo


def _chain(path: Path, length: int) -> list[bytes]:
    """A first-parent history of ``length`` commits, oldest first."""
    repo = Repo(str(bare_repo(path)))
    tree = Tree()
    repo.object_store.add_object(tree)
    ids: list[bytes] = []
    for index in range(length):
        commit = Commit()
        commit.tree, commit.parents = tree.id, ids[-1:]
        commit.author = commit.committer = b"T <t@example.org>"
        commit.author_time = commit.commit_time = 1_700_000_000 + index
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"%d\n" % index
        repo.object_store.add_object(commit)
        ids.append(bytes(commit.id))
    repo.close()
    return ids


def test_a_tip_is_offered_first_then_commits_twice_as_far_back_each_time(tmp_path: Path) -> None:
    ids = _chain(tmp_path / "long.git", 300)
    other = _chain(tmp_path / "short.git", 3)
    reader = RawObjectReader(Repo(str(tmp_path / "long.git")).object_store)
    newest_first = ids[::-1]
    assert list(offered(reader, [ids[-1]])) == [newest_first[n] for n in (0, 1, 2, 4, 8, 16, 32, 64)]
    short = RawObjectReader(Repo(str(tmp_path / "short.git")).object_store)
    assert list(offered(short, [other[-1]])) == [other[2], other[1], other[0]]


def test_the_have_list_asks_for_its_tips_only_when_the_first_have_is_needed(tmp_path: Path) -> None:
    ids = _chain(tmp_path / "repo.git", 5)
    reader = RawObjectReader(Repo(str(tmp_path / "repo.git")).object_store)
    asked: list[int] = []

    def tips() -> list[bytes]:
        asked.append(1)
        return [ids[-1], ids[-2]]  # the second is also offered as the first one's parent: once

    haves = HaveList(reader, tips)
    assert asked == []
    given = []
    while (have := next(haves)) is not None:
        given.append(bytes(have))
    assert asked == [1]
    # Tips first; then 1, 2, 4 back from each (ids[-2] and ids[-3] only once).
    assert given == [ids[-1], ids[-2], ids[-3], ids[-5], ids[-4]]
    assert next(haves) is None
