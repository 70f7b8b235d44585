"""The gitpet command (thin shell) and the demo script, run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gitpet import PetClassManager
from tests.conftest import REPO_ROOT, ModuleWriter


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
    assert [line.split()[0] for line in log] == [v2[:12], v1[:12]]
    shown = gitpet_cli("--store", store, "show", f"Tool@{v1[:8]}", cwd=tmp_path)
    assert shown.returncode == 0 and "x = 1" in shown.stdout and v1 in shown.stdout


def test_cli_errors_are_one_line_and_nonzero(tmp_path: Path, pcm: PetClassManager) -> None:
    proc = gitpet_cli("--store", str(pcm.store.path), "log", "Missing", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "Missing" in proc.stderr
    assert not pcm.store.path.exists()


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
    assert (tmp_path / ".gitpet" / "refs" / "heads" / "Scaler").exists()
    fsck = subprocess.run(
        ["git", f"--git-dir={tmp_path / '.gitpet'}", "fsck", "--strict"], capture_output=True
    )
    assert fsck.returncode == 0
