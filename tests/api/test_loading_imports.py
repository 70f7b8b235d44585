"""A process that only loads classes imports none of the modules that make versions.

Workers and notebooks start a Python just to load a few classes; the
modules that encode a class (the deterministic pickler, the capture of its
module, the build from its text), write objects, sign commits or read
pipelines were a third of ``import gitpet`` (docs/performance.md). They
are imported on first use; this keeps them that way.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import gitpet
from tests.conftest import ModuleWriter

# Each is imported by a push, a signed push or a pipeline; none by a load.
NOT_FOR_LOADING = (
    "gitpet.codec.captured",
    "gitpet.codec.data_files",
    "gitpet.codec.from_source",
    "gitpet.codec.pickler",
    "gitpet.codec.source",
    "gitpet.format.npy",
    "gitpet.git.objwrite",
    "gitpet.git.signing",
    "gitpet.pipelines.catalog",
    "gitpet.pipelines.snapshots",
)

MODEL = """
class Model:
    def predict(self, x):
        return 2 * x
"""


def _imported_by(code: str, cwd: Path) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    listing = "print(json.dumps(sorted(sys.modules)))"
    script = f"import json, sys\n{code}\n{listing}"
    out = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize("name", NOT_FOR_LOADING)
def test_each_module_named_exists(name: str) -> None:
    assert importlib.util.find_spec(name) is not None


def test_a_process_that_loads_imports_no_encoding_module(
    tmp_path: Path, pcm: gitpet.PetClassManager, user_module: ModuleWriter
) -> None:
    version = pcm.push(user_module(MODEL).Model)
    store = str(pcm.store.path)
    loaded = _imported_by(
        f"import gitpet\nm = gitpet.PetClassManager({store!r})\n"
        f"assert m.pull('Model', {version!r})().predict(2) == 4\n"
        "assert gitpet.PetFactory(m)['Model']().predict(3) == 6",
        tmp_path,
    )
    assert "gitpet.codec.classcodec" in loaded
    assert not loaded & set(NOT_FOR_LOADING)
    # Read without a dulwich Repo, whose construction imports its work-tree support.
    assert "dulwich.worktree" not in loaded


def test_a_process_that_pushes_imports_the_encoding_modules(tmp_path: Path, store_path: Path) -> None:
    """The other side: the modules named above are what a push uses (so the test above can fail)."""
    (tmp_path / "models.py").write_text(MODEL)
    pushed = _imported_by(
        f"import gitpet, models\ngitpet.PetClassManager({str(store_path)!r}).push(models.Model)",
        tmp_path,
    )
    assert {"gitpet.codec.pickler", "gitpet.codec.captured", "gitpet.codec.from_source"} <= pushed
    assert "gitpet.git.objwrite" in pushed
    assert "dulwich.worktree" in pushed  # a writer opens the Repo
