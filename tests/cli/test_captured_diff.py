"""Why a version exists shows as text: a helper or constant change is in ``gitpet diff`` and ``git diff``.

Each step is its own process (push, edit, push again, diff), as on a user's machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, git, run_python

MODULE = """
SCALE = 3


def helper(x):
    return x * SCALE


class Model:
    def run(self, x):
        return helper(x) + 1
"""

PUSH = """
import sys
sys.path.insert(0, sys.argv[2])
import models
from gitpet import PetClassManager
print(PetClassManager(sys.argv[1]).push(models.Model))
"""


def _push(store: Path, code: Path, source: str, cwd: Path) -> str:
    (code / "models.py").write_text(source)
    return run_python(PUSH, str(store), str(code), cwd=cwd).strip()


def test_a_helper_or_constant_change_shows_in_gitpet_diff_and_git_diff(tmp_path: Path) -> None:
    store, code = tmp_path / "store", tmp_path / "code"
    code.mkdir()
    first = _push(store, code, MODULE, tmp_path)
    second = _push(store, code, MODULE.replace("return x * SCALE", "return x * SCALE - 1"), tmp_path)
    third = _push(store, code, MODULE.replace("SCALE = 3", "SCALE = 4"), tmp_path)
    assert len({first, second, third}) == 3
    cli = [sys.executable, "-m", "gitpet", "--store", str(store), "diff", "Model"]
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    helper_diff = subprocess.run([*cli, first, second], capture_output=True, text=True, env=env, check=True)
    constant_diff = subprocess.run([*cli, second, third], capture_output=True, text=True, env=env, check=True)
    assert "-    return x * SCALE\n+    return x * SCALE - 1\n" in helper_diff.stdout
    assert "captured.py" in helper_diff.stdout and "source.py" not in helper_diff.stdout
    assert "-SCALE = 3\n+SCALE = 4\n" in constant_diff.stdout
    # git itself, between the two version trees: source.py is the same, captured.py is not.
    stat = git(store, "diff", "--stat", first, second).stdout
    assert "captured.py" in stat and "source.py" not in stat
    assert "+    return x * SCALE - 1" in git(store, "diff", first, second, "--", "captured.py").stdout
    shown = subprocess.run(
        [sys.executable, "-m", "gitpet", "--store", str(store), "show", f"Model@{third}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "# source-complete:" in shown and "SCALE = 4" in shown and "def helper(x):" in shown
