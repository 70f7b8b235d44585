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


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (
            (("core.repositoryformatversion", "1"), ("extensions.frobnicate", "true")),
            "extension 'frobnicate'",
        ),
        ((("core.repositoryformatversion", "7"),), "repositoryformatversion is 7"),
    ],
)
def test_a_repository_of_a_format_gitpet_cannot_read_is_refused_with_a_gitpet_error(
    tmp_path: Path, user_module: ModuleWriter, settings: tuple[tuple[str, str], ...], says: str
) -> None:
    """A git from the future (another hash, another ref store) marks its format in the config."""
    store = bare_repo(tmp_path / "future.git")
    for key, value in settings:
        git(store, "config", key, value)
    before = _files(store)  # git itself refuses to read it
    model = user_module(MODEL).Model
    for attempt in (
        lambda: GitStore(store).names(),
        lambda: PetClassManager(store).pull("Model"),
        lambda: PetClassManager(store).push(model),
    ):
        with pytest.raises(NotAStoreError, match=says):
            attempt()
    assert _files(store) == before


def _files(store: Path) -> dict[str, bytes]:
    return {str(path.relative_to(store)): path.read_bytes() for path in store.rglob("*") if path.is_file()}


def test_reads_follow_refs_git_packs_under_them(tmp_path: Path, user_module: ModuleWriter) -> None:
    """Reads use refs and objects of their own, not the writer's Repo: both see every change."""
    store = tmp_path / "store.git"
    pcm = PetClassManager(store)
    module = user_module(MODEL + "\n\nclass Other:\n    pass\n")
    first = pcm.push(module.Model)
    pcm.push(module.Other)
    assert pcm.store.names() == ["Model", "Other"]
    git(store, "pack-refs", "--all")  # the loose refs are gone, packed-refs holds them
    assert not (store / "refs" / "heads" / "Model").exists()
    assert pcm.store.names() == ["Model", "Other"]
    assert pcm.store.latest_id("Model") == first
    second = pcm.push(user_module(MODEL.replace("return 1", "return 2")).Model)
    assert second != first
    assert pcm.store.latest_id("Model") == second
    assert PetClassManager(store).pull("Model")().fit() == 2
    assert git(store, "rev-parse", "refs/heads/Model^{tree}").stdout.strip() == second
