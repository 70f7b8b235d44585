"""The documentation site: it builds strictly, and every example in it runs.

Each page's ```python blocks run in order as one script, in a new process and
an empty directory (so a page's examples are a program a reader could type
in). Docstring examples run as doctests through pytest's --doctest-modules.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gitpet
from tests.conftest import REPO_ROOT

DOCS = REPO_ROOT / "docs"
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """(first line, code) of each ```python block of a markdown page."""
    text = page.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in _PYTHON_BLOCK.finditer(text)]


def _pages_with_examples() -> list[Path]:
    pages = [*sorted(DOCS.glob("*.md")), REPO_ROOT / "README.md"]
    return [page for page in pages if python_blocks(page)]


def _script(page: Path) -> str:
    parts = []
    for line, code in python_blocks(page):
        parts.append(f"# --- {page.name}, block at line {line}\n{code}")
    return "\n".join(parts)


@pytest.mark.parametrize("page", _pages_with_examples(), ids=lambda page: page.name)
def test_every_python_example_of_a_page_runs(page: Path, tmp_path: Path) -> None:
    script = tmp_path / f"{page.stem}_examples.py"
    script.write_text(_script(page))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GITPET_STORE", "GITPET_AUTHOR", "GITPET_SIGNING_KEY")
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"{page.name}:\n{done.stdout}\n{done.stderr}"


def test_the_examples_cover_the_pages_that_teach_the_api() -> None:
    taught = {page.name for page in _pages_with_examples()}
    assert taught >= {
        "quickstart.md",
        "git.md",
        "sharing.md",
        "pipelines.md",
        "trust.md",
        "migrating.md",
        "troubleshooting.md",
        "README.md",
    }


def test_the_site_builds_with_no_warning(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).parent / "mkdocs"
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    for name in gitpet.__all__:
        assert f'id="gitpet.{name}"' in api, name


def _public_methods() -> list[tuple[str, object]]:
    """Every public method of the public classes (properties are attributes: documented, no example)."""
    found = []
    for name in gitpet.__all__:
        cls = getattr(gitpet, name)
        if not isinstance(cls, type) or issubclass(cls, BaseException):
            continue
        for attribute, value in vars(cls).items():
            function = getattr(value, "__func__", value)
            if not attribute.startswith("_") and inspect.isfunction(function):
                found.append((f"{name}.{attribute}", function))
    return found


def test_every_public_method_has_a_docstring_with_an_example() -> None:
    methods = _public_methods()
    assert len(methods) > 60
    assert [name for name, method in methods if ">>>" not in (inspect.getdoc(method) or "")] == []


def test_every_public_name_has_a_docstring_with_an_example() -> None:
    lacking = [name for name in gitpet.__all__ if ">>>" not in (inspect.getdoc(getattr(gitpet, name)) or "")]
    assert lacking == []


def test_troubleshooting_explains_every_error() -> None:
    page = (DOCS / "troubleshooting.md").read_text()
    errors = [
        name
        for name in gitpet.__all__
        if isinstance(getattr(gitpet, name), type) and issubclass(getattr(gitpet, name), gitpet.GitpetError)
    ]
    assert len(errors) > 15
    missing = [name for name in errors if f"### `{name}`" not in page]
    assert missing == []


def _error_tree() -> str:
    """The exception tree of the exported errors, drawn as the troubleshooting page shows it:
    each error under its nearest gitpet base, with the builtins it adds in brackets."""
    errors = [
        getattr(gitpet, name)
        for name in gitpet.__all__
        if isinstance(getattr(gitpet, name), type) and issubclass(getattr(gitpet, name), gitpet.GitpetError)
    ]

    def parent(cls: type) -> type:
        return next(base for base in cls.__mro__[1:] if issubclass(base, gitpet.GitpetError))

    def builtins_added(cls: type) -> str:
        inherited = {
            builtin
            for base in cls.__mro__[1:]
            if issubclass(base, gitpet.GitpetError)
            for builtin in base.__mro__
            if not issubclass(builtin, gitpet.GitpetError)
        }
        own = [
            base.__name__
            for base in cls.__bases__
            if not issubclass(base, gitpet.GitpetError) and base not in inherited and base is not Exception
        ]
        return f" [{', '.join(own)}]" if own else ""

    children: dict[type, list[type]] = {}
    for cls in errors:
        if cls is not gitpet.GitpetError:
            children.setdefault(parent(cls), []).append(cls)
    lines = ["GitpetError"]

    def walk(cls: type, prefix: str) -> None:
        kids = sorted(children.get(cls, []), key=lambda kid: kid.__name__)
        for index, kid in enumerate(kids):
            last = index == len(kids) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{kid.__name__}{builtins_added(kid)}")
            walk(kid, prefix + ("    " if last else "│   "))

    walk(gitpet.GitpetError, "")
    return "\n".join(lines)


def test_the_troubleshooting_page_draws_the_error_tree_as_it_is() -> None:
    page = (DOCS / "troubleshooting.md").read_text()
    assert f"```text\n{_error_tree()}\n```" in page
    categories = ("NotFoundError", "InvalidInputError", "CodecError", "StoreError", "SyncError", "TrustError")
    for category in categories:  # every error but the root sits under exactly one category
        assert issubclass(getattr(gitpet, category), gitpet.GitpetError)
    for name in gitpet.__all__:
        error = getattr(gitpet, name)
        if isinstance(error, type) and issubclass(error, gitpet.GitpetError) and name != "GitpetError":
            assert name in categories or any(issubclass(error, getattr(gitpet, c)) for c in categories), name


def test_every_page_is_in_the_navigation() -> None:
    nav = (REPO_ROOT / "mkdocs.yml").read_text()
    assert [page.name for page in sorted(DOCS.glob("*.md")) if page.name not in nav] == []


def test_the_cli_reference_lists_every_command() -> None:
    from gitpet.cli.parser import build_parser

    reference = (DOCS / "cli.md").read_text()
    commands = []
    for action in build_parser()._subparsers._group_actions:  # argparse keeps subcommands here
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
            commands += [f"gitpet {name} {child}" for n in nested for child in n.choices] or [
                f"gitpet {name}"
            ]
    assert len(commands) > 20
    assert [command for command in commands if f"`{command}" not in reference] == []


def test_every_guarantee_of_the_security_page_names_a_test_that_exists() -> None:
    page = (DOCS / "security.md").read_text()
    named = re.findall(r"`((?:\w+/)*test_\w+\.py)(?:::(test_\w+))?`", page)
    assert len(named) >= 10
    missing = []
    for module, test in named:
        source = REPO_ROOT / "tests" / module
        if not source.is_file() or (test and f"def {test}(" not in source.read_text()):
            missing.append(f"{module}::{test}")
    assert missing == []
