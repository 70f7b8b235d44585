"""Bad input gets a clear GitpetError and leaves the store exactly as it was."""

from __future__ import annotations

import collections
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitpet import (
    ClassNotFoundError,
    GitpetError,
    InvalidNameError,
    NotAGitRepositoryError,
    PetClassManager,
    UnsupportedClassError,
    VersionNotFoundError,
    WrongClassVersionError,
)
from gitpet.format.names import check_class_name
from tests.conftest import ModuleWriter, store_snapshot

GOOD = """
class Good:
    def ok(self):
        return "ok"


class Other:
    pass
"""


@pytest.fixture
def populated(pcm: PetClassManager, user_module: ModuleWriter) -> tuple[PetClassManager, Any]:
    mod = user_module(GOOD)
    pcm.push(mod.Good)
    pcm.push(mod.Other)
    return pcm, mod


def _unchanged(pcm: PetClassManager, action: Callable[[], object], error: type[Exception]) -> Exception:
    before = store_snapshot(pcm.store.path)
    with pytest.raises(error) as excinfo:
        action()
    assert isinstance(excinfo.value, GitpetError)
    assert store_snapshot(pcm.store.path) == before
    return excinfo.value


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a/b",
        "pipelines",
        "HEAD",
        "has space",
        "ends.lock",
        ".hidden",
        "-flag",
        "a..b",
        "a@{1}",
        "tab\there",
        "star*",
        "colon:",
        "tilde~1",
        "caret^",
        "q?",
        "brack[",
        "back\\slash",
        "x" * 201,
        "trailing.",
    ],
)
def test_invalid_or_reserved_names(populated: tuple[PetClassManager, Any], name: str) -> None:
    pcm, mod = populated
    err = _unchanged(pcm, lambda: pcm.push(mod.Good, name), InvalidNameError)
    assert repr(name) in str(err)
    assert isinstance(err, ValueError)


@pytest.mark.parametrize("thing", [42, "Good", None, lambda: 1])
def test_non_class(populated: tuple[PetClassManager, Any], thing: object) -> None:
    pcm, _ = populated
    err = _unchanged(pcm, lambda: pcm.push(thing, "Thing"), UnsupportedClassError)  # type: ignore[arg-type]
    assert isinstance(err, TypeError)
    # Without a name, the error is still about the object, not about a missing name.
    err = _unchanged(pcm, lambda: pcm.push(thing), UnsupportedClassError)  # type: ignore[arg-type]
    assert "not a class" in str(err)


@pytest.mark.parametrize("cls", [int, dict, object, collections.OrderedDict])
def test_builtin_or_c_extension_class(populated: tuple[PetClassManager, Any], cls: type) -> None:
    pcm, _ = populated
    err = _unchanged(pcm, lambda: pcm.push(cls, "Builtin"), UnsupportedClassError)
    assert "builtin or C-extension" in str(err)


def test_unknown_name(populated: tuple[PetClassManager, Any]) -> None:
    pcm, _ = populated
    err = _unchanged(pcm, lambda: pcm.pull("Unknown"), ClassNotFoundError)
    assert "Unknown" in str(err) and isinstance(err, KeyError) and isinstance(err, AttributeError)
    _unchanged(pcm, lambda: pcm.versions("Unknown"), ClassNotFoundError)


@pytest.mark.parametrize("spec", ["0000000", "abc", "zzzzzzz", "g" * 40, "", "1234567890" * 5])
def test_unknown_or_malformed_version(populated: tuple[PetClassManager, Any], spec: str) -> None:
    pcm, _ = populated
    err = _unchanged(pcm, lambda: pcm.pull("Good", spec), VersionNotFoundError)
    assert repr(spec) in str(err)


def test_version_of_another_class(populated: tuple[PetClassManager, Any]) -> None:
    pcm, _ = populated
    other = pcm.store.latest_id("Other")
    assert other is not None
    err = _unchanged(pcm, lambda: pcm.pull("Good", other), WrongClassVersionError)
    assert "'Other'" in str(err)


def test_store_path_that_is_not_a_repo(tmp_path: Path, user_module: ModuleWriter) -> None:
    path = tmp_path / "notarepo"
    path.mkdir()
    (path / "data.csv").write_text("1,2\n")
    pcm = PetClassManager(path)
    mod = user_module(GOOD)
    for action in (lambda: pcm.push(mod.Good), lambda: pcm.pull("Good"), pcm.store.names):
        with pytest.raises(NotAGitRepositoryError) as excinfo:
            action()
        assert str(path) in str(excinfo.value)
    assert [p.name for p in path.iterdir()] == ["data.csv"]


def _git_accepts(name: str) -> bool:
    proc = subprocess.run(["git", "check-ref-format", f"refs/heads/{name}"], capture_output=True)
    return proc.returncode == 0


@given(st.text(min_size=1, max_size=30))
def test_accepted_names_are_names_git_accepts(name: str) -> None:
    try:
        check_class_name(name)
    except InvalidNameError:
        return
    if "\x00" in name:
        pytest.fail("NUL accepted")
    assert _git_accepts(name), name
    assert "/" not in name


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,40}", fullmatch=True))
def test_python_identifiers_are_accepted(name: str) -> None:
    if name in {"HEAD", "FETCH_HEAD", "ORIG_HEAD", "pipelines"}:
        return
    assert check_class_name(name) == name
