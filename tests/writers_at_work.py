"""Helpers for tests that run gitpet writers as real processes, and versions made by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from gitpet import GitStore, PetClassManager, VersionFiles, VersionTree
from tests.conftest import REPO_ROOT, git


def version(name: str, body: str) -> VersionTree:
    """A version made by hand (its pickle is not one): for tests of the store alone."""
    fields = {"format": 1, "name": name, "module": "m", "qualname": name, "python": "3.11"}
    meta = json.dumps(fields, sort_keys=True).encode()
    return VersionTree.build(VersionFiles(body.encode(), b"pickle:" + body.encode(), meta))


WORKERS = str(REPO_ROOT / "tests" / "workers.py")


def start(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKERS, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**{k: v for k, v in os.environ.items() if k != "GITPET_STORE"}, **(env or {})},
    )


def start_writers(
    store_path: Path, tmp_path: Path, name: str, count: int, pushes: int, go: Path
) -> list[subprocess.Popen[str]]:
    """``count`` processes, each waiting for ``go`` then pushing ``pushes`` versions of ``name``."""
    return [
        start(
            "push-versions",
            str(store_path),
            str(tmp_path / f"{name}-w{n}"),
            name,
            f"w{n}",
            str(pushes),
            str(go),
            cwd=tmp_path,
        )
        for n in range(count)
    ]


def assert_all_load(store: GitStore, name: str, reported: dict[str, str]) -> None:
    """Every reported version is in ``name``'s history once and loads as itself."""
    history = store.versions(name)
    assert {v.id for v in history} == set(reported)
    assert len(history) == len(reported)
    pcm = PetClassManager(store)
    for vid, value in reported.items():
        assert pcm.pull(name, vid)().value() == value


def finish(procs: Sequence[subprocess.Popen[str]]) -> list[list[str]]:
    """Each process's output lines, after checking that every one exited cleanly."""
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        outputs.append(out.splitlines())
    return outputs


def pushed(lines: list[str]) -> dict[str, str]:
    """version id -> value, from a writer's ``pushed <id> <value>`` lines."""
    rows = [line.split() for line in lines]
    if rows and len(rows[-1]) != 3:
        rows.pop()  # a writer killed mid-line: that push was not reported
    assert all(len(parts) == 3 for parts in rows), lines
    return {parts[1]: parts[2] for parts in rows if parts[0] == "pushed"}


def collect_while_running(store_path: Path, writers: Sequence[subprocess.Popen[str]]) -> int:
    """Run gc with aggressive pruning (0.5 s) in a loop until every writer has exited, at least
    three times; return how many collections ran."""
    collections = 0
    while any(w.poll() is None for w in writers) or collections < 3:
        GitStore(store_path).gc(prune_older_than=0.5)
        collections += 1
    return collections


def assert_clean(store_path: Path) -> None:
    fsck = git(store_path, "fsck", "--strict", check=False)
    assert fsck.returncode == 0, fsck.stderr
    assert sorted(store_path.rglob("*.lock")) == []
