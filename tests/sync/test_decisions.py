"""The one ref-decision table push and fetch share, on real commit graphs (no store needed)."""

from __future__ import annotations

from dulwich.object_store import MemoryObjectStore
from dulwich.objects import Blob, Commit, Tag, Tree
from hypothesis import given
from hypothesis import strategies as st

from gitpet.sync.decisions import Decision, decide

_BRANCH = b"refs/heads/Model"
_TAG = b"refs/tags/Model/v1"


def _history(store: MemoryObjectStore, parents: list[int]) -> list[bytes]:
    """Commits 0..n; commit i+1 has parent ``parents[i]`` (an earlier commit), trees distinct."""
    commits: list[bytes] = []
    for index in range(len(parents) + 1):
        blob = Blob.from_string(f"version {index}\n".encode())
        tree = Tree()
        tree.add(b"source.py", 0o100644, blob.id)
        commit = Commit()
        commit.tree = tree.id
        commit.parents = [commits[parents[index - 1] % index]] if index else []
        commit.author = commit.committer = b"A <a@example.com>"
        commit.author_time = commit.commit_time = index
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"v\n"
        for obj in (blob, tree, commit):
            store.add_object(obj)
        commits.append(commit.id)
    return commits


def _ancestors(store: MemoryObjectStore, sha: bytes) -> set[bytes]:
    seen, pending = {sha}, [sha]
    while pending:
        for parent in store[pending.pop()].parents:
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    return seen


@given(parents=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=12), data=st.data())
def test_a_branch_decision_is_what_the_two_histories_say(parents: list[int], data: st.DataObject) -> None:
    store = MemoryObjectStore()
    commits = _history(store, parents)
    current = data.draw(st.sampled_from(commits), label="current")
    proposed = data.draw(st.sampled_from(commits), label="proposed")
    decision = decide(store, _BRANCH, current, proposed, force_tags=False)
    reverse = decide(store, _BRANCH, proposed, current, force_tags=False)
    below_proposed, below_current = _ancestors(store, proposed), _ancestors(store, current)
    if current == proposed:
        expected = Decision.UP_TO_DATE
    elif current in below_proposed:
        expected = Decision.FAST_FORWARD
    elif proposed in below_current:
        expected = Decision.BEHIND
    else:
        expected = Decision.DIVERGED
    assert decision is expected
    # Push and fetch see one pair from both ends: the table reads the same either way.
    mirrored = {
        Decision.UP_TO_DATE: Decision.UP_TO_DATE,
        Decision.FAST_FORWARD: Decision.BEHIND,
        Decision.BEHIND: Decision.FAST_FORWARD,
        Decision.DIVERGED: Decision.DIVERGED,
    }
    assert reverse is mirrored[decision]
    assert decide(store, _BRANCH, None, proposed, force_tags=False) is Decision.CREATE


@given(parents=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6), data=st.data())
def test_a_tag_moves_only_to_another_version_when_forced(parents: list[int], data: st.DataObject) -> None:
    store = MemoryObjectStore()
    commits = _history(store, parents)
    current = data.draw(st.sampled_from(commits), label="current")
    proposed = data.draw(st.sampled_from(commits), label="proposed")
    # An annotated tag of the same commit names the same version: nothing to move.
    annotated = Tag()
    annotated.object = (Commit, current)
    annotated.name = b"v1"
    annotated.tagger = b"A <a@example.com>"
    annotated.tag_time, annotated.tag_timezone, annotated.message = 0, 0, b"v1\n"
    store.add_object(annotated)
    assert decide(store, _TAG, current, annotated.id, force_tags=False) is Decision.UP_TO_DATE
    same = current == proposed
    assert decide(store, _TAG, current, proposed, force_tags=False) is (
        Decision.UP_TO_DATE if same else Decision.TAG_DIFFERS
    )
    assert decide(store, _TAG, current, proposed, force_tags=True) is (
        Decision.UP_TO_DATE if same else Decision.FORCE_TAG
    )
