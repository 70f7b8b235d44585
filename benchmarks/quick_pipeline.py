"""Quick measurement of pipeline snapshots: save, no-op save, rebuild, status.

Not a test and not the full benchmark suite (issue 6). A pipeline of N
components over K classes (all pushed first). Ratios are to rebuilding the
same pipeline with ``BasePlugin.build_from_dump`` from classes already in
memory, measured in the same run. Usage: python benchmarks/quick_pipeline.py [N] [K]
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import time
from pathlib import Path

from gitpet import BasePlugin, PetContainer

STEP = """
class Step{i}(BasePlugin):
    def __init__(self, k=1, inner=None):
        super().__init__(k=k, inner=inner)

    def f(self, x):
        return x * {i}
"""

ROOT = """
class Root(BasePlugin):
    def __init__(self, steps=()):
        super().__init__(steps=steps)
"""


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def main(count: int, kinds: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gitpet-bench-"))
    source = "from gitpet import BasePlugin\n" + "".join(STEP.format(i=i) for i in range(kinds))
    source += ROOT
    (workdir / "bench_steps.py").write_text(source)
    sys.path.insert(0, str(workdir))
    module = importlib.import_module("bench_steps")
    container = PetContainer(workdir / "store")
    for name in ["Root", *(f"Step{i}" for i in range(kinds))]:
        container.bind(persist=True)(getattr(module, name))
    container.ppif.push_all()
    steps = [getattr(module, f"Step{i % kinds}")(k=i, inner={"n": [i, i + 1]}) for i in range(count)]
    pipeline = module.Root(steps)

    started = time.perf_counter()
    snapshot = container.save_pipeline("bench", pipeline)
    save = time.perf_counter() - started
    started = time.perf_counter()
    container.save_pipeline("bench", pipeline)
    noop = time.perf_counter() - started

    dump = pipeline.item_dump(container.ppif)
    started = time.perf_counter()
    BasePlugin.build_from_dump(dump, container.ppif)
    floor = time.perf_counter() - started

    fresh = PetContainer(workdir / "store")
    started = time.perf_counter()
    fresh.load_pipeline("bench", snapshot)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    fresh.load_pipeline("bench", snapshot)
    warm = time.perf_counter() - started
    started = time.perf_counter()
    container.store.pipeline("bench").status()
    status = time.perf_counter() - started

    print(f"pipeline of {count} components over {kinds + 1} classes")
    print(f"  rebuild from memory (floor) {_ms(floor)}")
    for label, took in (
        ("save (classes pushed)", save),
        ("save unchanged (no-op)", noop),
        ("load, fresh container", cold),
        ("load again", warm),
        ("status", status),
    ):
        print(f"  {label:27} {_ms(took)}  {took / floor:6.1f}x floor")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, int(sys.argv[2]) if len(sys.argv) > 2 else 10)
