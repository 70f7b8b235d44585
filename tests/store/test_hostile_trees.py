"""Trees a remote builds byte by byte with plain git: the load path applies verify's tree rules."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gitpet import IntegrityError, PetClassManager, PetFactory, RemoteRejectedError
from tests.conftest import ModuleWriter, bare_repo, git
from tests.hostile import HARMLESS, blob


def test_a_tree_with_two_class_pkl_entries_is_refused_by_the_loader_as_by_verify(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    remote = bare_repo(tmp_path / "team.git")
    author = PetClassManager(tmp_path / "author")
    author.push(user_module(HARMLESS).Model)
    author.store.push(str(remote))
    # On the remote, with plain git: the same version plus a second class.pkl after the first.
    # git shows the first entry; a loader that read the last would run other code.
    listing = git(remote, "ls-tree", "Model").stdout.splitlines()
    entries = {line.split("\t")[1]: line.split()[2] for line in listing}
    other = blob(remote, b"a different pickle: any bytes the loader must never reach")
    raw = b""
    for name in ("class.pkl", "class.pkl", "meta.json", "source.py"):
        sha = other if name == "class.pkl" and raw else entries[name]
        raw += b"100644 " + name.encode() + b"\0" + bytes.fromhex(sha)
    tree = (
        subprocess.run(
            ["git", f"--git-dir={remote}", "hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
            input=raw,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    commit = git(remote, "commit-tree", tree, "-p", "refs/heads/Model", "-m", "two class.pkl").stdout.strip()
    git(remote, "update-ref", "refs/heads/Model", commit)
    assert git(remote, "fsck", "--strict", check=False).returncode != 0  # git itself calls it broken

    reader = PetClassManager(tmp_path / "reader")
    reader.store.add_remote("team", str(remote), trusted=True)
    # A gitpet fetch refuses it (tests/sync/test_hostile_fetch.py: what a fetch brings is checked) ...
    with pytest.raises(RemoteRejectedError, match="duplicate entry"):
        reader.store.fetch("team")
    assert git(reader.store.path, "for-each-ref").stdout == ""
    # ... but plain git fetches it without a check, and then the loader must refuse it as verify does.
    git(reader.store.path, "fetch", "-q", str(remote), "refs/heads/Model:refs/heads/Model")
    reader.store.trust("Model")
    with pytest.raises(IntegrityError, match=r"duplicate entry b'class\.pkl'"):
        reader.pull("Model")
    with pytest.raises(IntegrityError, match="duplicate entry"):
        PetFactory(reader)["Model"]
    report = reader.store.verify()
    assert not report.ok and any("duplicate entry" in problem.detail for problem in report.problems)


def test_show_lists_what_the_pickle_imports_without_running_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitpet.cli.main import main as cli
    from tests.hostile import malicious_remote

    marker = tmp_path / "pwned"
    remote = malicious_remote(tmp_path, marker)  # source.py says "class Evil: pass"
    store = tmp_path / "reviewer"
    PetClassManager(store).store.fetch(str(remote))
    assert cli(["--store", str(store), "show", "Evil"]) == 0
    out = capsys.readouterr().out
    assert "class Evil:\n    pass\n" in out and "#   builtins.exec\n" in out
    assert cli(["--store", str(store), "show", "Evil", "--json"]) == 0
    assert "builtins.exec" in json.loads(capsys.readouterr().out)["pickle_imports"]
    assert not marker.exists()


def test_a_ref_pointing_at_another_classes_version_never_loads_that_class(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    remote = bare_repo(tmp_path / "team.git")
    author = PetClassManager(tmp_path / "author")
    author.push(user_module(HARMLESS).Model)
    author.store.push(str(remote))
    # refs/heads/Other -> a commit whose tree is Model's version
    tree = git(remote, "rev-parse", "Model^{tree}").stdout.strip()
    commit = git(remote, "commit-tree", tree, "-m", "Other: borrowed").stdout.strip()
    git(remote, "update-ref", "refs/heads/Other", commit)

    reader = PetClassManager(tmp_path / "reader")
    reader.store.add_remote("team", str(remote), trusted=True)
    reader.store.fetch("team")
    factory = PetFactory(reader)
    assert factory["Model"]().predict() == "harmless"  # Model's version is now read and cached
    for attempt in (lambda: factory["Other"], lambda: reader.pull("Other")):
        with pytest.raises(IntegrityError, match="names class 'Model'"):
            attempt()
