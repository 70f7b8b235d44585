"""A whole fetch of a long history from a path, gitpet against git, alternating.

The ``fetch all versions (path)`` row of ``make bench`` on its own, for
profiling and for a quieter figure than one run of the whole suite: a class of
N versions written by ``git fast-import`` (one pack, as after a gc), fetched
into a fresh empty store by gitpet and by ``git fetch``, in turn, R times.
Usage: python benchmarks/whole_fetch.py [N] [R]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.baselines import FastImport
from benchmarks.corpus import small_classes
from gitpet import GitStore, PetClassManager


def main(versions: int, rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="gitpet-whole-fetch-"))
    try:
        history = small_classes(work, versions, "whole_fetch_history")
        reference = PetClassManager(work / "reference.git")
        remote = work / "remote.git"
        FastImport.run(
            remote, FastImport.stream([("Hist", reference.encode(cls, "Hist")) for cls in history])
        )
        subprocess.run(["git", f"--git-dir={remote}", "config", "gitpet.store", "true"], check=True)
        ours: list[float] = []
        theirs: list[float] = []
        for number in range(rounds):
            into = work / f"round-{number}"
            GitStore(into / "gitpet.git").init()
            subprocess.run(["git", "init", "-q", "--bare", str(into / "git.git")], check=True)
            started = time.perf_counter()
            GitStore(into / "gitpet.git").fetch(str(remote))
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            fetch = ["git", f"--git-dir={into / 'git.git'}", "fetch", "-q", str(remote), "Hist:Hist"]
            subprocess.run(fetch, check=True)
            theirs.append(time.perf_counter() - started)
            shutil.rmtree(into)
        mine, git = statistics.median(ours), statistics.median(theirs)
        times = f"gitpet {mine * 1e3:.0f} ms, git fetch {git * 1e3:.0f} ms"
        print(f"{versions} versions: {times}, {mine / git:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, int(sys.argv[2]) if len(sys.argv) > 2 else 9)
