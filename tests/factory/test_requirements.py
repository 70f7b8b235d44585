"""The packages a version was pushed with are recorded in its commit, and a load says what is missing.

A real (tiny) installed distribution whose name is not its import name, ``fake-dist``
providing ``fakepkg``, is put on the path of each process as ``pip`` would lay it out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, git, run_python


def _site(root: Path, version: str) -> Path:
    site = root / f"site-{version}"
    (site / "fakepkg").mkdir(parents=True)
    (site / "fakepkg" / "__init__.py").write_text("def double(x):\n    return 2 * x\n")
    info = site / f"fake_dist-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-dist\nVersion: {version}\n")
    (info / "top_level.txt").write_text("fakepkg\n")
    (info / "RECORD").write_text("fakepkg/__init__.py,,\n")
    return site


def test_the_commit_records_the_packages_and_a_load_warns_of_what_differs(tmp_path: Path) -> None:
    store = tmp_path / "store"
    laptop = _site(tmp_path, "1.2.0")
    version = run_python(
        """
        import sys
        from gitpet import ModulePolicy, PetClassManager
        import fakepkg, json
        namespace = {"__name__": "models", "fakepkg": fakepkg, "json": json}
        exec("class Model:\\n    def run(self, x):\\n        return fakepkg.double(x)\\n", namespace)
        # Outside site-packages, fakepkg would count as user code: say it is installed.
        policy = ModulePolicy(by_reference=("fakepkg",))
        print(PetClassManager(sys.argv[1], policy=policy).push(namespace["Model"]))
        """,
        str(store),
        cwd=tmp_path,
        pythonpath=[str(laptop)],
    ).strip()
    message = git(store, "log", "-1", "--format=%B", "Model").stdout
    assert message == f"Model: version {version}\n\nRequires-Dist: fake-dist 1.2.0 (import fakepkg)\n\n"
    shown = subprocess.run(
        [sys.executable, "-m", "gitpet", "--store", str(store), "show", "Model", "--json"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert json.loads(shown.stdout)["requires"] == [
        {"distribution": "fake-dist", "version": "1.2.0", "module": "fakepkg"}
    ]

    load = """
        import logging, sys
        from gitpet import MissingDependencyError, PetClassManager
        logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
        try:
            print(PetClassManager(sys.argv[1]).pull("Model")().run(21))
        except MissingDependencyError as err:
            print("missing:", err.name)
        """
    upgraded = run_python(load, str(store), cwd=tmp_path, pythonpath=[str(_site(tmp_path, "2.0.1"))])
    assert (
        f"gitpet: Model@{version[:12]}: it was pushed with fake-dist 1.2.0, and this process has 2.0.1"
        in upgraded
    )
    assert upgraded.splitlines()[-1] == "42"
    same_minor = run_python(load, str(store), cwd=tmp_path, pythonpath=[str(_site(tmp_path, "1.2.7"))])
    assert same_minor.splitlines() == ["42"]
    lacking = run_python(load, str(store), cwd=tmp_path)
    assert (
        "fake-dist 1.2.0 (import fakepkg), which is not installed here: pip install 'fake-dist==1.2.0'"
        in lacking
    )
    assert lacking.splitlines()[-1] == "missing: Model"
