"""The everyday rough edges a new user met (issue 19, items 7, 8 and 12), through the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitpet import GitStore, PetClassManager, UntrustedVersionError, __version__
from tests.conftest import REPO_ROOT, ModuleWriter, git


def gitpet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITPET_STORE"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "gitpet", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def _two_versions(pcm: PetClassManager, user_module: ModuleWriter) -> tuple[str, str]:
    first = pcm.push(user_module("class Model:\n    x = 1\n").Model)
    return first, pcm.push(user_module("class Model:\n    x = 2\n").Model)


def test_version_help_store_after_the_command_and_a_missing_store(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    assert gitpet("--version", cwd=tmp_path).stdout == f"gitpet {__version__}\n"
    bare = gitpet(cwd=tmp_path)
    assert bare.returncode == 0 and "usage: gitpet" in bare.stdout and "COMMAND" in bare.stdout
    _two_versions(pcm, user_module)
    after = gitpet("ls", "--store", str(pcm.store.path), cwd=tmp_path)
    assert after.returncode == 0 and after.stdout.splitlines()[1].startswith("Model\t")
    missing = gitpet("--store", str(tmp_path / "no" / "such"), "ls", cwd=tmp_path)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr.startswith(f"gitpet: error: no gitpet store at {tmp_path / 'no' / 'such'}")
    assert not (tmp_path / "no").exists()
    typo = gitpet("--store", str(pcm.store.path), "log", "Modle", cwd=tmp_path)
    assert typo.returncode == 1 and typo.stderr.rstrip().endswith("did you mean Model?")


def test_a_commit_names_its_version_and_at_tilde_survives_the_shell(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    first, second = _two_versions(pcm, user_module)
    commit = git(pcm.store.path, "log", "--format=%h", "Model").stdout.split()[-1]  # as git log shows it
    assert pcm.store.resolve("Model", commit) == first
    assert pcm.pull("Model", commit).x == 1
    store = str(pcm.store.path)
    shown = gitpet("--store", store, "show", f"Model@{commit}", cwd=tmp_path)
    assert shown.returncode == 0 and f"# version {first}" in shown.stdout
    # Through a real shell: bash expands ~ before gitpet runs, and leaves @~1 alone.
    run = f"{sys.executable} -m gitpet --store {store} diff Model"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HOME": str(tmp_path)}
    expanded = subprocess.run(["bash", "-c", f"{run} ~"], capture_output=True, text=True, env=env)
    assert expanded.returncode == 1 and f"'{tmp_path}'" in expanded.stderr
    assert "looks like a path" in expanded.stderr and "@~N" in expanded.stderr
    kept = subprocess.run(["bash", "-c", f"{run} @~1"], capture_output=True, text=True, env=env)
    assert kept.returncode == 0 and "-    x = 1" in kept.stdout and "+    x = 2" in kept.stdout
    assert pcm.store.resolve("Model", "@~1") == first and pcm.store.resolve("Model", "@") == second


def test_listings_have_headers_but_json_has_not_and_a_closed_pipe_is_quiet(
    tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter
) -> None:
    for value in range(40):
        pcm.push(user_module(f"class Model:\n    x = {value}\n").Model, message=f"x is {value}")
    store = str(pcm.store.path)
    log = gitpet("--store", store, "log", "Model", cwd=tmp_path).stdout.splitlines()
    assert log[0].split()[:3] == ["VERSION", "COMMIT", "DATE"] and log[1].endswith("Model: x is 39")
    assert gitpet("--store", store, "log", "Model", "--json", cwd=tmp_path).stdout.startswith("[")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    piped = subprocess.run(
        [
            "bash",
            "-c",
            f"for i in 1 2 3; do {sys.executable} -m gitpet --store {store} log Model; done | head -1",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert piped.stdout.startswith("VERSION") and piped.stderr == ""


def test_remote_trust_admits_what_was_fetched_and_untrust_and_tag_delete(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    author = PetClassManager(tmp_path / "author")
    version = author.push(user_module("class Shared:\n    x = 1\n").Shared)
    author.store.tag("Shared", "v1")
    team = tmp_path / "team.git"
    subprocess.run(["git", "init", "-q", "--bare", str(team)], check=True)
    author.store.push(str(team))
    here = tmp_path / "here"
    assert gitpet("--store", str(here), "remote", "add", "origin", str(team), cwd=tmp_path).returncode == 0
    again = gitpet("--store", str(here), "remote", "add", "origin", str(tmp_path / "other.git"), cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert gitpet("--store", str(here), "fetch", cwd=tmp_path).returncode == 0
    with pytest.raises(UntrustedVersionError):
        PetClassManager(here).pull("Shared")
    listed = gitpet("--store", str(here), "remote", cwd=tmp_path).stdout
    assert listed == f"NAME\tURL\tTRUSTED\norigin\t{team}\tno\n"
    assert gitpet("--store", str(here), "remote", "trust", "origin", cwd=tmp_path).returncode == 0
    assert PetClassManager(here).pull("Shared").x == 1  # no fetch in between
    assert gitpet("--store", str(here), "remote", cwd=tmp_path).stdout.endswith("\tyes\n")

    assert (
        gitpet("--store", str(here), "untrust", "Shared", "v1", cwd=tmp_path).stdout
        == f"untrusted Shared@{version}\n"
    )
    assert not GitStore(here).is_trusted(version)
    with pytest.raises(UntrustedVersionError):
        PetClassManager(here).pull("Shared")
    deleted = gitpet("--store", str(here), "tag", "--delete", "Shared", "v1", cwd=tmp_path)
    assert deleted.stdout == f"deleted tag Shared@v1 (was {version[:12]})\n"
    assert GitStore(here).tags("Shared") == {} and GitStore(here).latest_id("Shared") == version
    assert git(here, "fsck", "--strict").returncode == 0
