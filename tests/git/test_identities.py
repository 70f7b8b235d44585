"""Commit identities: found as git finds them, refused before any write when git would reject them."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitpet import GitStore, InvalidNameError, PetClassManager
from tests.conftest import ModuleWriter, git, run_python, store_snapshot

MODEL = """
class Model:
    def fit(self):
        return 1
"""

# What makes git fsck --strict reject a commit (missing email, line breaks, stray brackets).
BAD = [
    "Jane Doe",
    "Jane Doe <jane@example.org",
    "Jane\nDoe <jane@example.org>",
    "Jane <a> <b>",
    "<jane@example.org>",
    "Jane Doe <jane@exa\nmple.org>",
]


@pytest.mark.parametrize("line", BAD)
def test_an_identity_git_would_reject_is_refused_before_anything_is_written(
    line: str, store_path: Path, user_module: ModuleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidNameError, match="Name <email>"):
        GitStore(store_path, author=line)
    monkeypatch.setenv("GITPET_AUTHOR", line)
    pcm = PetClassManager(store_path)
    with pytest.raises(InvalidNameError, match="GITPET_AUTHOR"):
        pcm.push(user_module(MODEL).Model)
    assert store_snapshot(store_path) == ({}, frozenset()) and not store_path.exists()


def test_existing_store_is_unchanged_by_a_refused_identity(
    store_path: Path, user_module: ModuleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    mod = user_module(MODEL)
    PetClassManager(store_path).push(mod.Model)
    before = store_snapshot(store_path)
    monkeypatch.setenv("GITPET_AUTHOR", "no email here")
    changed = user_module(MODEL.replace("return 1", "return 2"))
    with pytest.raises(InvalidNameError):
        PetClassManager(store_path).push(changed.Model)
    assert store_snapshot(store_path) == before


def test_the_author_comes_from_git_config_and_git_env_like_git(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Ann Analyst\n\temail = ann@example.org\n")
    code = """
        import sys
        from gitpet import PetClassManager
        ns = {"__name__": "notebook"}
        exec("class Model:\\n    pass\\n", ns)
        PetClassManager(sys.argv[1]).push(ns["Model"])
    """
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg"), "GIT_CONFIG_NOSYSTEM": "1"}
    identity_vars = ("GITPET_AUTHOR", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_CONFIG_GLOBAL")
    stores = {}
    for label, extra in (
        ("config", {}),
        ("env", {"GIT_AUTHOR_NAME": "Bo", "GIT_AUTHOR_EMAIL": "bo@example.org"}),
    ):
        stores[label] = tmp_path / label
        run_python(code, str(stores[label]), cwd=tmp_path, env={**env, **extra}, unset=identity_vars)
    assert git(stores["config"], "log", "-1", "--format=%an <%ae>|%cn <%ce>", "Model").stdout.strip() == (
        "Ann Analyst <ann@example.org>|Ann Analyst <ann@example.org>"
    )
    assert (
        git(stores["env"], "log", "-1", "--format=%an <%ae>", "Model").stdout.strip() == "Bo <bo@example.org>"
    )
    for store in stores.values():
        assert git(store, "fsck", "--strict").returncode == 0
