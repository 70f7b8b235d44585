"""tools/structure.py measures what issue 16 changes: checked on a small package made here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_the_structure_tool_finds_circles_hidden_imports_and_private_access(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import helper\n\n\ndef use(store):\n    return store._secret\n")
    (package / "b.py").write_text(
        "def helper():\n    from pkg.a import use  # hides the circle a <-> b\n\n    return use\n"
    )
    (package / "c.py").write_text("from pkg.b import helper\n" + "\n".join(["x = 1"] * 40) + "\n")
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "structure.py"), str(package)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = done.stdout.splitlines()
    assert "modules: 4 (50 lines)" in report
    assert "largest module: pkg.c (41 lines)" in report
    assert "longest function: pkg.b.helper (4 lines)" in report
    assert "import circles: 1" in report and "  pkg.a <-> pkg.b" in report
    assert "imports inside functions: 1" in report
    assert "private names of other objects used: 1" in report
