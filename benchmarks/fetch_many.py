"""Time a whole fetch of N classes into an empty store over a bare path (median of 5).

Run ``python benchmarks/fetch_many.py [N]`` (default 1000). It prints seconds; to compare two
versions of gitpet, run it on each checkout (what a fetch checks before it keeps anything,
the pack bounds and the connectivity walk, is part of the time).
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

from gitpet import GitStore, PetClassManager


def main(count: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="gitpet-fetch-"))
    try:
        author = PetClassManager(root / "author")
        for i in range(count):
            namespace = {"__name__": f"bench{i}"}
            exec(f"class C{i}:\n    value = {i}\n    def run(self, x):\n        return x * {i}\n", namespace)
            author.push(namespace[f"C{i}"])  # type: ignore[arg-type]
        remote = root / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        author.store.push(str(remote))
        times = []
        for round_ in range(5):
            store = GitStore(root / f"fetch{round_}")
            store.init()
            started = time.perf_counter()
            store.fetch(str(remote))
            times.append(time.perf_counter() - started)
            store.close()
        median, fastest = statistics.median(times), min(times)
        print(f"fetch of {count} classes over a path: median {median:.3f} s, min {fastest:.3f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
