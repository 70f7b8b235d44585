"""Quick measurement of push / fetch / lazy load through remotes for N small classes.

Not a test and not the full benchmark suite (issue 6). Pushes N classes from
one store to a fresh bare remote (a path and a real ``git daemon``), fetches
them into an empty store, measures a no-op push, and a lazy load of one class
from the daemon. Usage: python benchmarks/quick_sync.py [N]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitpet import BaseFactory, PetClassManager, PetFactory
from tests.servers import git_daemon


def _classes(count: int) -> list[type]:
    made = []
    for i in range(count):
        namespace = {"__name__": "bench_sync"}
        exec(f"class C{i}:\n    k = {i}\n\n    def f(self, x):\n        return x * {i} + self.k\n", namespace)
        made.append(namespace[f"C{i}"])
    return made


def _timed(label: str, action: object, count: int) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    print(f"{label:<34} {elapsed * 1000:9.1f} ms  {elapsed / count * 1000:7.3f} ms/class")
    return elapsed


def main(count: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="gitpet-sync-"))
    source = PetClassManager(root / "source")
    source.push_many([(cls.__name__, cls) for cls in _classes(count)])
    for name in ("path.git", "daemon.git"):
        subprocess.run(["git", "init", "-q", "--bare", str(root / name)], check=True)
    with git_daemon(root) as base:
        for label, url in (("path", str(root / "path.git")), ("git daemon", f"{base}/daemon.git")):
            _timed(f"push {count} classes ({label})", lambda u=url: source.store.push(u), count)
            _timed(f"no-op push ({label})", lambda u=url: source.store.push(u), count)
            target = PetClassManager(root / f"fetched-{label.replace(' ', '-')}")
            _timed(f"fetch {count} classes ({label})", lambda u=url, t=target: t.store.fetch(u), count)
        lazy = PetFactory(PetClassManager(root / "lazy", remote=f"{base}/daemon.git"), BaseFactory())
        _timed("lazy load of 1 class (git daemon)", lambda: lazy["C0"], 1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
