"""One rule names a version of a history: a class's versions and a pipeline's snapshots alike.

None, ``~N``, a tag, or a 7+ hex prefix of a version id or of a commit of the
history; whatever a spec finds must belong to that class or pipeline.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitpet import GitStore, SnapshotNotFoundError, VersionNotFoundError, WrongClassVersionError
from tests.conftest import git
from tests.writers_at_work import version


@settings(max_examples=15, deadline=None)
@given(picks=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=6))
def test_every_spec_names_the_same_version_for_a_class_and_the_same_snapshot_for_a_pipeline(
    tmp_path_factory: pytest.TempPathFactory, picks: list[int]
) -> None:
    # A history that may come back to an earlier version, with a snapshot of each step.
    store = GitStore(tmp_path_factory.mktemp("specs") / "store")
    bodies = [version("Model", f"body {pick}") for pick in picks]
    pipeline = store.pipeline("train")
    for step, tree in enumerate(bodies):
        store.write_versions([("Model", tree)])
        pipeline.save({"clazz": "Model", "version_hash": tree.id, "params": {"step": step}})
    class_history = store.versions("Model")
    snapshots = pipeline.snapshots()
    for back, entry in enumerate(class_history):
        assert store.resolve("Model", f"~{back}") == entry.id
        for spec in (entry.id, entry.id[:7], entry.commit, entry.commit[:10]):
            assert store.resolve("Model", spec) == entry.id
    for back, info in enumerate(snapshots):
        assert pipeline.read(f"~{back}").id == info.id
        for spec in (info.id, info.id[:7], info.commit, info.commit[:10]):
            assert pipeline.read(spec).id == info.id
    store.tag("Model", "v1", "~0")
    pipeline.tag("v1", "~0")
    assert store.resolve("Model", "v1") == class_history[0].id
    assert pipeline.read("v1").id == snapshots[0].id
    store.close()


def test_a_commit_of_another_history_names_nothing_here(tmp_path: Path) -> None:
    store = GitStore(tmp_path / "store")
    store.write_versions([("Model", version("Model", "m")), ("Other", version("Other", "o"))])
    other_commit = store.latest_commit("Other") or ""
    with pytest.raises(WrongClassVersionError, match="Other"):
        store.resolve("Model", other_commit[:12])
    pipeline = store.pipeline("train")
    pipeline.save({"clazz": "Model", "version_hash": store.resolve("Model"), "params": {}})
    store.pipeline("eval").save({"clazz": "Other", "version_hash": store.resolve("Other"), "params": {}})
    eval_commit = git(store.path, "rev-parse", "refs/heads/pipelines/eval").stdout.strip()
    with pytest.raises(SnapshotNotFoundError, match="not in the history of pipeline train"):
        pipeline.read(eval_commit[:12])
    # A snapshot commit is no version of a class, and a class commit no snapshot.
    with pytest.raises(VersionNotFoundError):
        store.resolve("Model", eval_commit)
    with pytest.raises(SnapshotNotFoundError):
        pipeline.read(store.latest_commit("Model") or "")
