"""StoreConfig: built once from arguments, then the environment; frozen; what GitStore uses."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitpet import GitStore, InvalidArgumentError, InvalidNameError, StoreConfig
from tests.conftest import REPO_ROOT


def test_arguments_win_over_the_environment(tmp_path: Path) -> None:
    environ = {"GITPET_STORE": str(tmp_path / "from-env"), "GITPET_SIGNING_KEY": str(tmp_path / "env-key")}
    from_env = StoreConfig.from_arguments(environ=environ)
    assert from_env.path == tmp_path / "from-env" and from_env.signing_key == tmp_path / "env-key"
    given = StoreConfig.from_arguments(tmp_path / "given", signing_key=tmp_path / "key", environ=environ)
    assert given.path == tmp_path / "given" and given.signing_key == tmp_path / "key"
    assert StoreConfig.from_arguments(environ={}).path == Path(".gitpet").absolute()


def test_the_config_is_frozen_and_is_what_the_store_uses(tmp_path: Path) -> None:
    store = GitStore(tmp_path / "s", author="Ann <ann@example.org>", lock_timeout=2, fsync=True)
    config = store.config
    assert config == StoreConfig.from_arguments(
        tmp_path / "s", author="Ann <ann@example.org>", lock_timeout=2, fsync=True
    )
    assert (config.path, config.lock_timeout, config.fsync, config.author) == (
        store.path,
        2.0,
        True,
        b"Ann <ann@example.org>",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.fsync = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "arguments, error",
    [
        ({"path": 3}, InvalidArgumentError),
        ({"path": "a\0b"}, InvalidNameError),
        ({"lock_timeout": -1}, InvalidArgumentError),
        ({"stale_lock_after": float("nan")}, InvalidArgumentError),
        ({"fsync": "yes"}, InvalidArgumentError),
        ({"signing_key": b"key"}, InvalidArgumentError),
        ({"author": "no email"}, InvalidNameError),
    ],
)
def test_a_bad_argument_is_refused_when_the_config_is_made(arguments: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        StoreConfig.from_arguments(**arguments, environ={})  # type: ignore[arg-type]


def test_the_environment_is_read_when_the_store_is_made_not_later(tmp_path: Path) -> None:
    """A store made before GITPET_STORE changes keeps its path (in a process of its own)."""
    script = (
        "import os, sys; from gitpet import GitStore; "
        "os.environ['GITPET_STORE'] = sys.argv[1]; store = GitStore(); "
        "os.environ['GITPET_STORE'] = sys.argv[2]; print(store.config.path == store.path, store.path)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "first"), str(tmp_path / "second")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.stdout.split() == ["True", str(tmp_path / "first")]
