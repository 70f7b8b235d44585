"""The gitpet command (thin shell) and the demo script, run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitpet import PetClassManager
from gitpet.cli.main import command_names, main
from tests.conftest import REPO_ROOT, ModuleWriter, git, store_snapshot
from tests.servers import free_port


def gitpet_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gitpet", *args], capture_output=True, text=True, cwd=cwd, env=full_env
    )


def test_cli_ls_log_show(tmp_path: Path, pcm: PetClassManager, user_module: ModuleWriter) -> None:
    v1 = pcm.push(user_module("class Tool:\n    x = 1\n").Tool)
    v2 = pcm.push(user_module("class Tool:\n    x = 2\n").Tool)
    store = str(pcm.store.path)
    listed = json.loads(gitpet_cli("--store", store, "ls", "--json", cwd=tmp_path).stdout)
    assert [(row["name"], row["id"]) for row in listed] == [("Tool", v2)]
    log = gitpet_cli("log", "Tool", cwd=tmp_path, env={"GITPET_STORE": store}).stdout.splitlines()
    assert log[0].split() == ["VERSION", "COMMIT", "DATE", "MESSAGE", "(TAGS)"]
    assert [line.split()[0] for line in log[1:]] == [v2[:12], v1[:12]]
    shown = gitpet_cli("--store", store, "show", f"Tool@{v1[:8]}", cwd=tmp_path)
    assert shown.returncode == 0 and "x = 1" in shown.stdout and v1 in shown.stdout


def test_cli_errors_are_one_line_and_nonzero(tmp_path: Path, pcm: PetClassManager) -> None:
    proc = gitpet_cli("--store", str(pcm.store.path), "log", "Missing", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"gitpet: error: no gitpet store at {pcm.store.path} (gitpet init")
    assert not pcm.store.path.exists()
    pcm.store.init()
    proc = gitpet_cli("--store", str(pcm.store.path), "log", "Missing", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "Missing" in proc.stderr


def test_demo_runs_against_the_default_store(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITPET_STORE"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "latest Scaler(3).apply(4) = 115" in proc.stdout
    assert "old    Scaler(3).apply(4) = 15" in proc.stdout
    assert "Clipper(5).apply(9)       = 5" in proc.stdout
    assert "created      refs/tags/Scaler/v1" in proc.stdout
    assert "scale-clip pins Scaler" in proc.stdout and "a newer version exists: True" in proc.stdout
    assert "changed: ['Scaler']" in proc.stdout
    assert ".apply(4) = 15" in proc.stdout and "scale-clip (newest).apply(4)      = 115" in proc.stdout
    assert "machine-b: ['Clipper', 'Scaler']" in proc.stdout
    assert (tmp_path / ".gitpet" / "refs" / "heads" / "Scaler").exists()
    fsck = subprocess.run(
        ["git", f"--git-dir={tmp_path / '.gitpet'}", "fsck", "--strict"], capture_output=True
    )
    assert fsck.returncode == 0


# -- every command, in process (the thin shell over the public API) ----------------


class Cli:
    """Run ``gitpet --store STORE ...`` in this process; capture output and exit code."""

    def __init__(self, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.store = store
        self._capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--store", str(self.store), *args])
        captured = self._capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def cli(pcm: PetClassManager, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(pcm.store.path, capsys)


def _three(pcm: PetClassManager, user_module: ModuleWriter) -> list[str]:
    return [pcm.push(user_module(f"class Gauge:\n    level = {i}\n").Gauge) for i in range(3)]


def test_cli_init_is_idempotent(cli: Cli) -> None:
    assert cli("init")[:2] == (0, f"initialized empty gitpet store in {cli.store}\n")
    assert cli("init")[:2] == (0, f"existing gitpet store in {cli.store}\n")
    assert git(cli.store, "rev-parse", "--is-bare-repository").stdout.strip() == "true"


def test_cli_show_diff_checkout_with_every_kind_of_version(
    cli: Cli, pcm: PetClassManager, user_module: ModuleWriter, tmp_path: Path
) -> None:
    v0, v1, v2 = _three(pcm, user_module)
    assert cli("tag", "Gauge", "first", v0[:8])[:2] == (0, f"Gauge@first -> {v0}\n")
    for spec, expected in ((f"Gauge@{v1}", v1), ("Gauge@first", v0), ("Gauge@~1", v1), ("Gauge", v2)):
        code, out, _ = cli("show", spec, "--json")
        assert code == 0 and json.loads(out)["id"] == expected
    code, out, _ = cli("diff", "Gauge", "first")
    assert code == 0
    assert f"--- a/Gauge@{v0[:12]}/source.py" in out and "-    level = 0" in out and "+    level = 2" in out
    assert "+    level = 1" in cli("diff", "Gauge", "~2", "~1")[1]
    assert cli("diff", "Gauge", "~0")[1] == ""  # the latest against itself
    target = tmp_path / "out"
    assert cli("checkout", "Gauge@first", str(target))[0] == 0
    assert (target / "source.py").read_text() == "class Gauge:\n    level = 0\n"
    assert json.loads((target / "meta.json").read_text())["name"] == "Gauge"
    assert (target / "class.pkl").read_bytes() == pcm.store.read_version("Gauge", v0).files.pickle
    # Another version into the same place is refused (nothing changes) unless --force.
    code, _, err = cli("checkout", "Gauge", str(target))
    assert code == 1 and "--force" in err and "level = 0" in (target / "source.py").read_text()
    assert cli("checkout", "Gauge", str(target), "--force")[0] == 0
    assert "level = 2" in (target / "source.py").read_text()


def test_cli_log_ls_tag_rollback(cli: Cli, pcm: PetClassManager, user_module: ModuleWriter) -> None:
    v0, v1, v2 = _three(pcm, user_module)
    cli("tag", "Gauge", "stable", "~1")
    code, out, _ = cli("log", "Gauge")
    assert code == 0 and out.splitlines()[2].endswith("(stable)") and out.splitlines()[2].startswith(v1[:12])
    logged = json.loads(cli("log", "Gauge", "--json")[1])
    assert [entry["id"] for entry in logged] == [v2, v1, v0] and logged[1]["tags"] == ["stable"]
    assert json.loads(cli("tag", "Gauge", "--json")[1]) == {"stable": v1}
    code, _, err = cli("tag", "Gauge", "stable", "~2")
    assert code == 1 and "--force" in err
    assert cli("tag", "Gauge", "stable", "~2", "--force")[0] == 0
    code, out, _ = cli("rollback", "Gauge", "stable")
    assert code == 0 and f"version {v0} again" in out
    assert [row["id"] for row in json.loads(cli("ls", "--json")[1])] == [v0]
    assert cli("rollback", "Gauge", "stable")[1].endswith("already is the latest\n")
    assert [v.id for v in pcm.versions("Gauge")] == [v0, v2, v1, v0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("log", "Missing"), "no class named 'Missing'"),
        (("show", "Gauge@~9"), "only 3 version"),
        (("show", "Gauge@0000000"), "no version '0000000'"),
        (("diff", "Gauge", "nope"), "no tag 'nope'"),
        (("checkout", "Missing@~1", "out"), "no class named 'Missing'"),
        (("tag", "Gauge", "bad/tag"), "invalid tag name"),
        (("tag", "Missing", "v1"), "no class named 'Missing'"),
        (("rollback", "Gauge", "deadbeef00"), "no version 'deadbeef00'"),
        (("push",), "none configured"),
        (("fetch", "upstream"), "no remote of that name"),
        (("push", "git://127.0.0.1:{port}/x.git"), "cannot connect"),
        (("fetch", "http://127.0.0.1:{port}/x.git"), "Connection refused"),
        (("push", "{tmp}/nowhere"), "no such directory"),
        (("remote", "remove", "origin"), "no remote of that name"),
    ],
)
def test_cli_errors_change_nothing(
    args: tuple[str, ...],
    message: str,
    cli: Cli,
    pcm: PetClassManager,
    user_module: ModuleWriter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    _three(pcm, user_module)
    before = store_snapshot(cli.store)
    args = tuple(a.format(port=free_port(), tmp=tmp_path) for a in args)
    code, out, err = cli(*args)
    assert code == 1 and out == ""
    assert err.startswith("gitpet: error: ") and err.count("\n") == 1 and message in err
    assert store_snapshot(cli.store) == before
    assert not (tmp_path / "out").exists()


def test_cli_remote_push_fetch(
    cli: Cli,
    pcm: PetClassManager,
    user_module: ModuleWriter,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _three(pcm, user_module)
    shared = tmp_path / "shared.git"
    subprocess.run(["git", "init", "-q", "--bare", str(shared)], check=True)
    assert cli("remote", "add", "origin", str(shared))[0] == 0
    assert cli("remote")[1] == f"NAME\tURL\tTRUSTED\norigin\t{shared}\tno\n"
    assert json.loads(cli("remote", "--json")[1]) == {"origin": {"url": str(shared), "trusted": False}}
    code, out, _ = cli("push")
    assert code == 0 and "created      refs/heads/Gauge" in out
    pushed_again = json.loads(cli("push", "--json", "--retry-for", "5")[1])
    assert pushed_again["updates"][0]["status"] == "up-to-date" and pushed_again["attempts"] == 1
    with pytest.raises(SystemExit) as refused:
        cli("push", "--retry-for", "-1")
    assert refused.value.code == 2 and "not a number of seconds" in capsys.readouterr().err
    other = Cli(tmp_path / "other", capsys)
    code, out, _ = other("fetch", str(shared), "--name", "Gauge", "--json")
    assert code == 0 and json.loads(out)["updates"] == [
        {
            "ref": "refs/heads/Gauge",
            "status": "created",
            "old": None,
            "new": pcm.store.latest_commit("Gauge"),
            "detail": "",
        }
    ]
    assert cli("remote", "remove", "origin")[0] == 0 and cli("remote")[1] == ""


def test_cli_help_for_each_command() -> None:
    commands = command_names()
    assert {"init", "ls", "log", "show", "verify", "gc", "trust", "push", "fetch", "remote"} <= set(commands)
    for command in commands:
        proc = subprocess.run(
            [sys.executable, "-m", "gitpet", command, "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        assert proc.returncode == 0 and proc.stdout.startswith(f"usage: gitpet {command}")
    usage = subprocess.run(
        [sys.executable, "-m", "gitpet", "frobnicate"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
