"""Store size before and after ``gc`` for a store of N versions pushed one at a time.

Usage: python benchmarks/gc_size.py [N]   (default 1000)

Each push is what a training run does: one edited class, one version, loose
objects. Ten classes get N/10 versions each. Prints objects/ size (content
bytes and disk usage) before and after, and checks that every version loads.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from workers import load_edited_class

from gitpet import GitStore, PetClassManager


def main(count: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gitpet-gc-size-"))
    store = GitStore(workdir / "store.git")
    pcm = PetClassManager(store)
    pushed = {}
    for i in range(count):
        name = f"Step{i % 10}"
        cls = load_edited_class(workdir / "code", f"step{i % 10}", name, f"value-{i}")
        pushed[pcm.push(cls)] = (name, f"value-{i}")
    started = time.perf_counter()
    report = store.gc(prune_older_than=0)
    took = time.perf_counter() - started
    check = PetClassManager(GitStore(store.path))
    assert all(check.pull(name, vid)().value() == value for vid, (name, value) in pushed.items())
    assert GitStore(store.path).verify().ok
    b, a = report.before, report.after
    print(f"{count} versions ({len(pushed)} distinct), {report.reachable} reachable objects")
    print(f"  gc took {took:.2f} s")
    print(f"  before: {b.files} files, {b.bytes / 1e6:.2f} MB content, {b.disk_bytes / 1e6:.2f} MB on disk")
    print(f"  after:  {a.files} files, {a.bytes / 1e6:.2f} MB content, {a.disk_bytes / 1e6:.2f} MB on disk")
    print(f"  every version loads and verify() is clean; store: {store.path}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
