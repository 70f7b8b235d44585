"""Count a test suite's assertions and tests: proof that moving tests around lost none.

Run ``python tools/test_census.py [TESTS_DIR]``: it reads the source only and prints the
number of ``assert`` statements, of ``pytest.raises``/``pytest.warns`` blocks (assertions
too), and of test functions, with the same counts per file on ``--files``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def census(path: Path) -> tuple[int, int, int]:
    """(assert statements, pytest.raises/warns uses, test functions) in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    asserts = raises = tests = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            asserts += 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "pytest" and node.func.attr in ("raises", "warns"):
                raises += 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            tests += 1
    return asserts, raises, tests


def main(argv: list[str]) -> int:
    """Print the totals (and, with ``--files``, each file's counts)."""
    args = [arg for arg in argv[1:] if arg != "--files"]
    root = Path(args[0] if args else "tests")
    totals = [0, 0, 0]
    for path in sorted(root.rglob("*.py")):
        if "corpus" in path.parts:
            continue
        counts = census(path)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        if "--files" in argv and any(counts):
            print(f"{path.relative_to(root)}: {counts[0]} asserts, {counts[1]} raises, {counts[2]} tests")
    print(f"asserts: {totals[0]}, raises/warns: {totals[1]}, test functions: {totals[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
