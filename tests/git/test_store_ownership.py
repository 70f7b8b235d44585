"""A store is a bare repository that is gitpet's own: a project's repository is never written into."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitpet import GitStore, NotAStoreError, PetClassManager
from gitpet.cli.main import main as cli
from tests.conftest import ModuleWriter, bare_repo, git, store_snapshot

MODEL = """
class Model:
    def fit(self):
        return 1
"""


def _project(path: Path) -> Path:
    """A project's repository with one commit on main, as a data scientist has it."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "train.py").write_text("print('training')\n")
    for args in (
        ["add", "train.py"],
        ["-c", "user.name=A", "-c", "user.email=a@b", "commit", "-qm", "first"],
    ):
        subprocess.run(["git", "-C", str(path), *args], check=True)
    return path


def _state(project: Path) -> tuple[str, str, list[str]]:
    refs = subprocess.run(["git", "-C", str(project), "for-each-ref"], capture_output=True, text=True).stdout
    status = subprocess.run(
        ["git", "-C", str(project), "status", "--porcelain", "--ignored"], capture_output=True, text=True
    ).stdout
    return refs, status, sorted(p.name for p in project.iterdir())


def test_a_projects_repository_is_refused_before_any_write(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "project")
    before = _state(project)
    model = user_module(MODEL).Model
    for attempt in (
        lambda: PetClassManager(project).push(model, name="main"),
        lambda: PetClassManager(project).push(model),
        lambda: GitStore(project).names(),
        lambda: GitStore(project).init(),
    ):
        with pytest.raises(NotAStoreError, match="work tree"):
            attempt()
    assert cli(["--store", str(project), "ls"]) != 0
    assert "not a gitpet store" in capsys.readouterr().err
    assert _state(project) == before


def test_a_bare_repository_of_other_branches_is_not_written_into(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    project = _project(tmp_path / "project")
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(project), str(mirror)], check=True)
    before = store_snapshot(mirror)
    with pytest.raises(NotAStoreError, match=r"refs gitpet did not write \(refs/heads/main\)"):
        PetClassManager(mirror).push(user_module(MODEL).Model, name="main")
    assert store_snapshot(mirror) == before
    # Marked by its owner as a gitpet store, it is one.
    git(mirror, "config", "gitpet.store", "true")
    assert len(PetClassManager(mirror).push(user_module(MODEL).Model)) == 40


def test_stores_gitpet_creates_or_adopts_are_marked(tmp_path: Path, user_module: ModuleWriter) -> None:
    model = user_module(MODEL).Model
    created, empty = tmp_path / "created", bare_repo(tmp_path / "empty.git")
    for store in (created, empty):
        PetClassManager(store).push(model)
        assert git(store, "config", "--get", "gitpet.store").stdout.strip() == "true"
        assert git(store, "fsck", "--strict").returncode == 0
