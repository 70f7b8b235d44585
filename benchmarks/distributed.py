"""Dask workers without the code: cold and warm per-task cost, and round trips to the remote.

A laptop pushes a 20-class pipeline (a Chain of 20 steps) to a bare remote served by a
real ``git daemon`` on 127.0.0.1; a 2-worker ``LocalCluster`` (processes, 2 threads each),
started from a directory without the module, runs tasks that rebuild the pipeline from its
dump (``build_from_dump``) and apply it. Baseline, in the same run and cluster: the
pipeline built once on the driver and shipped as cloudpickle bytes (its instances pickle
by version, so the bytes are small), unpickled and applied in the task. Not a test:
nothing here fails on timing.

Usage: python benchmarks/distributed.py [--tasks N]   (``make bench-distributed``)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.laptop_team import STEPS, push_from_laptop, worker_env  # noqa: E402
from tests.servers import fetches_served, git_daemon  # noqa: E402

DRIVER = textwrap.dedent(
    """
    import json, os, statistics, sys, time
    import cloudpickle
    from distributed import Client, LocalCluster
    from gitpet import BasePlugin, Container

    def by_dump(dump, x):
        from gitpet import BasePlugin, Container
        start = time.perf_counter()
        value = BasePlugin.build_from_dump(dump, Container.ppif).apply(x)
        return value, time.perf_counter() - start

    def by_value(payload, x):
        import pickle
        start = time.perf_counter()
        value = pickle.loads(payload).apply(x)
        return value, time.perf_counter() - start

    if __name__ == "__main__":
        dump, tasks, stores = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
        payload = cloudpickle.dumps(BasePlugin.build_from_dump(dump, Container.ppif))
        with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                          env={"GITPET_STORE": stores}) as cluster, Client(cluster) as client:
            workers = sorted(client.scheduler_info()["workers"])
            print("READY", flush=True)
            sys.stdin.readline()
            cold = [client.submit(by_dump, dump, 0, workers=[w], pure=False).result() for w in workers]
            print("COLD_DONE", flush=True)
            sys.stdin.readline()
            warm = client.gather([client.submit(by_dump, dump, x, pure=False) for x in range(tasks)])
            baseline = client.gather([client.submit(by_value, payload, x, pure=False) for x in range(tasks)])
        assert [v for v, _ in warm] == [v for v, _ in baseline]
        print(json.dumps({
            "cold": [t for _, t in cold],
            "warm": statistics.median(t for _, t in warm),
            "baseline": statistics.median(t for _, t in baseline),
            "payload_bytes": len(payload),
        }), flush=True)
    """
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitpet-bench-dist-") as tmp:
        root = Path(tmp)
        wide = json.dumps(push_from_laptop(root)["wide"])
        log = root / "daemon.log"
        with git_daemon(root / "served", log=log) as url:
            driver_env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("GITPET_")},
                "PYTHONPATH": str(REPO),
                **worker_env(root, f"{url}/team.git", "driver-store"),
            }
            driver = subprocess.Popen(
                [sys.executable, "-c", DRIVER, wide, str(args.tasks), str(root / "workers")],
                env=driver_env,
                cwd=root / "elsewhere",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert driver.stdin is not None and driver.stdout is not None
            for expected in ("READY", "COLD_DONE"):
                line = driver.stdout.readline()
                assert line.strip() == expected, line
                if expected == "READY":
                    ready = fetches_served(log)
                driver.stdin.write("\n")
                driver.stdin.flush()
            cold_fetches = fetches_served(log) - ready
            result = json.loads(driver.stdout.readline())
            driver.wait(timeout=120)
            warm_fetches = fetches_served(log) - cold_fetches - ready
    cold = result["cold"]
    print("| row | gitpet | baseline | ratio |\n|---|---:|---:|---:|")
    print(
        f"| warm task: build_from_dump of a {STEPS + 1}-class pipeline + apply (median of {args.tasks}) "
        f"| {result['warm'] * 1e3:.2f} ms | the built pipeline shipped pickled (cloudpickle: by version, "
        f"{result['payload_bytes']} B) + apply: {result['baseline'] * 1e3:.2f} ms "
        f"| {result['warm'] / result['baseline']:.2f}x |"
    )
    print(
        f"| cold first task per worker (empty store: fetch + load {STEPS + 1} classes) "
        f"| {', '.join(f'{t * 1e3:.0f} ms' for t in cold)} | warm task | "
        f"{max(cold) / result['warm']:.0f}x |"
    )
    print(
        f"connections to the remote for the cold first tasks of 2 workers sharing one store "
        f"({STEPS + 1} classes): {cold_fetches}"
    )
    print(f"connections to the remote for {args.tasks} warm tasks: {warm_fetches}")


if __name__ == "__main__":
    main()
