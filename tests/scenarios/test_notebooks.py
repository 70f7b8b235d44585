"""Classes written in a Jupyter notebook: a real kernel runs the notebook headless (nbclient)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from gitpet.cli.main import main as cli
from tests.conftest import git, run_python

CELLS = [
    "import json\nfrom gitpet import PetClassManager\npcm = PetClassManager(STORE)",
    "class Scaler:\n    factor = 2\n\n    def apply(self, xs):\n        return [x * self.factor for x in xs]",
    "first = pcm.push(Scaler)",
    "class Scaler:\n    factor = 3\n\n    def apply(self, xs):\n        return [x * self.factor for x in xs]",
    "second = pcm.push(Scaler)\nprint(json.dumps([first, second]))",
]


def run_notebook(tmp_path: Path, store: Path) -> list[str]:
    """Execute the notebook in a new kernel; the versions its cells pushed."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(f"STORE = {str(store)!r}")]
    notebook.cells += [nbformat.v4.new_code_cell(cell) for cell in CELLS]
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = notebook.cells[-1].outputs
    versions: list[str] = json.loads(outputs[0]["text"])
    return versions


@pytest.fixture(scope="module")
def notebook_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    work = tmp_path_factory.mktemp("notebook")
    store = work / "store.git"
    return store, run_notebook(work, store)


def test_a_notebook_class_stores_its_cell_text(notebook_store: tuple[Path, list[str]]) -> None:
    store, (first, second) = notebook_store
    assert first != second
    source = git(store, "show", f"{first}:source.py").stdout
    assert source == CELLS[1] + "\n"
    meta = json.loads(git(store, "show", f"{first}:meta.json").stdout)
    assert meta["source"] == "file" and meta["module"] == "__main__"


def test_show_and_diff_of_notebook_versions_print_the_code(
    notebook_store: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    store, (first, second) = notebook_store
    assert cli(["--store", str(store), "show", f"Scaler@{first}"]) == 0
    assert "def apply(self, xs):" in capsys.readouterr().out
    assert cli(["--store", str(store), "diff", "Scaler", first, second]) == 0
    out = capsys.readouterr().out
    assert "-    factor = 2\n+    factor = 3\n" in out
    assert "class.pkl differ" in out


def test_notebook_versions_load_elsewhere_and_a_second_kernel_gives_the_same_ids(
    notebook_store: tuple[Path, list[str]], tmp_path: Path
) -> None:
    store, versions = notebook_store
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager
        pcm = PetClassManager(sys.argv[1])
        cls = pcm.pull("Scaler", sys.argv[2])
        print(cls().apply([1, 2]), pcm.push(cls) == sys.argv[2], len(pcm.store.versions("Scaler")))
        """,
        str(store),
        versions[1],
        cwd=tmp_path,
    )
    assert out.split() == ["[3,", "6]", "True", "2"]
    again = run_notebook(tmp_path, tmp_path / "other.git")
    assert again == versions
