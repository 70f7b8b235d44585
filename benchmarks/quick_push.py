"""Quick measurement of register / push_all / no-op push_all / lazy load for N small classes.

Not a test and not the full benchmark suite (issue 6): prints per-class costs
and ratios to the push floor (cloudpickle.dumps + sha1 + zlib, no git) measured
in the same run. Usage: python benchmarks/quick_push.py [N]
"""

from __future__ import annotations

import hashlib
import importlib
import sys
import tempfile
import time
import zlib
from pathlib import Path

import cloudpickle

from gitpet import BaseFactory, PetClassManager, PetFactory


def main(count: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gitpet-bench-"))
    (workdir / "bench_many.py").write_text(
        "".join(
            f"\nclass C{i}:\n    k = {i}\n\n    def f(self, x):\n        return x * {i} + self.k\n"
            for i in range(count)
        )
    )
    sys.path.insert(0, str(workdir))
    module = importlib.import_module("bench_many")
    classes = [getattr(module, f"C{i}") for i in range(count)]

    cloudpickle.register_pickle_by_value(module)
    started = time.perf_counter()
    for cls in classes:
        data = cloudpickle.dumps(cls)
        hashlib.sha1(data).digest()
        zlib.compress(data)
    floor = (time.perf_counter() - started) / count
    cloudpickle.unregister_pickle_by_value(module)

    factory = PetFactory(PetClassManager(workdir / "store"), BaseFactory())
    started = time.perf_counter()
    for i, cls in enumerate(classes):
        factory[f"C{i}"] = cls
    register = (time.perf_counter() - started) / count
    started = time.perf_counter()
    factory.push_all()
    write = (time.perf_counter() - started) / count
    started = time.perf_counter()
    factory.push_all()
    noop = (time.perf_counter() - started) / count

    fresh = PetFactory(PetClassManager(workdir / "store"), BaseFactory())
    sample = range(0, count, max(1, count // 100))
    started = time.perf_counter()
    for i in sample:
        fresh[f"C{i}"]
    lazy = (time.perf_counter() - started) / len(sample)

    print(f"classes: {count}")
    print(f"push floor (dumps+sha1+zlib): {floor * 1e3:.3f} ms/class")
    print(f"register (hash):              {register * 1e3:.3f} ms/class  ({register / floor:.1f}x floor)")
    print(f"push_all write:               {write * 1e3:.3f} ms/class  ({write / floor:.1f}x floor)")
    print(f"register + push_all:          {(register + write) / floor:.1f}x floor")
    ratio = noop / (register + write)
    print(f"push_all, nothing changed:    {noop * 1e3:.3f} ms/class  ({ratio:.3f}x of pushing)")
    print(f"lazy factory[name], cold:     {lazy * 1e3:.3f} ms/class")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
