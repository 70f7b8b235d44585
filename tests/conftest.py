"""Shared fixtures: real bare repositories, user modules on disk, other processes."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

import gitpet

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
# `HYPOTHESIS_PROFILE=explore make test`: new random examples each run, many more of them.
settings.register_profile("explore", parent=settings.get_profile("ci"), derandomize=False, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO_ROOT = Path(__file__).resolve().parent.parent

# The golden corpus is imported only by the processes tests/golden/golden.py starts:
# collecting it (for doctests) would import it into this process.
collect_ignore_glob = ["golden/corpus/*"]


def git(
    store: Path, *args: str, check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real git binary against a bare store (``input``: its stdin)."""
    return subprocess.run(
        ["git", f"--git-dir={store}", *args], capture_output=True, text=True, check=check, input=input
    )


def bare_repo(path: Path) -> Path:
    """A new empty bare repository made by the real git (a remote as any server would hold it)."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def commit_on_top(store: Path, branch: str, tree_listing: str) -> str:
    """With the real git: make a tree from ``tree_listing`` (``git ls-tree`` format) and commit it
    on top of ``refs/heads/<branch>`` (a class, or ``pipelines/<name>``); return the tree id."""
    tree = git(store, "mktree", input=tree_listing).stdout.strip()
    commit = git(store, "commit-tree", tree, "-p", f"refs/heads/{branch}", "-m", "hand-made").stdout.strip()
    git(store, "update-ref", f"refs/heads/{branch}", commit)
    return tree


def store_snapshot(store: Path) -> tuple[dict[str, str], frozenset[str]]:
    """Every ref and every object file of a store: equal snapshots = unchanged store."""
    if not store.exists():
        return {}, frozenset()
    refs = {}
    if (store / "refs").exists():
        out = git(store, "for-each-ref", "--format=%(refname) %(objectname)").stdout
        refs = dict(line.split(" ", 1) for line in out.splitlines())
    objects = (
        frozenset(str(p.relative_to(store)) for p in (store / "objects").rglob("*") if p.is_file())
        if (store / "objects").exists()
        else frozenset()
    )
    return refs, objects


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.git"


@pytest.fixture
def pcm(store_path: Path) -> Iterator[gitpet.PetClassManager]:
    manager = gitpet.PetClassManager(store_path)
    yield manager
    manager.store.close()


ModuleWriter = Callable[..., ModuleType]


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleWriter:
    """Write source to a module in tmp and import it (user code).

    Without ``name``, every call of one test writes the same module, as a user editing
    one file does: the first copy at ``usercode/<module>.py``, each later one in a folder
    of its own, so the classes of earlier copies keep their unchanged source file (a
    user's old class object would be stale). With ``name``, that module is written in
    ``usercode`` and reloaded.
    """
    moddir = tmp_path / "usercode"
    moddir.mkdir()
    monkeypatch.syspath_prepend(str(moddir))
    created: list[str] = []
    default = f"usermod_{uuid.uuid4().hex[:10]}"
    copies = [0]

    def write(source: str, name: str | None = None) -> ModuleType:
        if name is None and copies[0] > 0:
            folder = moddir / f"copy{copies[0]}"
            folder.mkdir()
            path = folder / f"{default}.py"
            path.write_text(textwrap.dedent(source))
            spec = importlib.util.spec_from_file_location(default, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[default] = module
            spec.loader.exec_module(module)
            copies[0] += 1
            return module
        if name is None:
            copies[0] += 1
        modname = name or default
        (moddir / f"{modname}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        if modname in sys.modules:
            module = importlib.reload(sys.modules[modname])
        else:
            module = importlib.import_module(modname)
        created.append(modname)
        return module

    yield write  # type: ignore[misc]
    for modname in {*created, default}:
        sys.modules.pop(modname, None)


def run_python(
    code: str,
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    pythonpath: list[str] | None = None,
    unset: tuple[str, ...] = (),
) -> str:
    """Run code in a fresh interpreter ('another machine'); return stdout, raise on failure.

    ``env`` adds to this process's environment; ``unset`` removes variables from it."""
    dropped = ("PYTHONPATH", "GITPET_STORE", *unset)
    full_env = {k: v for k, v in os.environ.items() if k not in dropped}
    full_env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *(pythonpath or [])])
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=120,
    )
    if proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stderr}\n{proc.stdout}")
    return proc.stdout
