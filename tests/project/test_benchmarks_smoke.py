"""The benchmark script runs (tiny N) so it cannot rot; its timings are never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_bench_script_runs_and_writes_every_row_as_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "bench.py"),
            "--classes",
            "5",
            "--rounds",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if k != "GITPET_STORE"}, "PYTHONPATH": str(REPO_ROOT)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    rows = report["rows"]
    assert {row["baseline"] for row in rows} >= {
        "push floor",
        "load floor",
        "plain file store push",
        "git fast-import, same trees",
        "git cat-file --batch + loads",
        "git log (real git)",
        "import dulwich.repo, cloudpickle",
        "git push, same",
        "git fetch, same",
    }
    assert {row["name"] for row in rows if row["target"] is not None} >= {
        "register + push_all, 5 new classes",
        "git-writing part of push_all",
        "push_all, nothing changed",
        "pull latest, warm store (first load)",
        "pull in a fresh process (import + open + load)",
        "load latest, 50 classes in the store",
        "push 1 new version onto 50 (git daemon)",
        "fetch the new versions onto 50 (path)",
        "fetch all 50 versions (git daemon)",
        "first pull in a new process, 500 classes",
        "gc, 50 versions, loose (own process)",
        "gc, two versions holding 1 MB of random bytes (own process)",
    }
    peaks = {peak["name"]: peak for peak in report["memory"]}
    assert {"gc, 50 versions, loose", "fetch all 50 versions (path)"} <= set(peaks)
    assert all(peak["kib"] > 0 and peak["baseline_kib"] > 0 for peak in peaks.values())
    sizes = {size["name"]: size["bytes"] for size in report["sizes"]}
    assert len(sizes) == 4 and all(value > 0 for value in sizes.values())
    for row in rows:
        assert row["seconds"] > 0 and row["baseline_seconds"] > 0
        assert row["ratio"] == row["seconds"] / row["baseline_seconds"]
        assert row["name"] in proc.stdout
