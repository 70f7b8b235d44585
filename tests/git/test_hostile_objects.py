"""Objects a remote writes with plain git to break reading: each gives a one-line error naming the
bad object, or is ignored, and the class stays usable; every read is bounded."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from gitpet import IntegrityError, PetClassManager, PetFactory, TrustPolicy, WrongClassVersionError
from gitpet.cli.main import main as cli
from gitpet.format.bounds import JSON_MAX_DEPTH, MAX_OBJECT_BYTES, META_JSON_MAX_BYTES
from tests.conftest import ModuleWriter, git
from tests.hostile import HARMLESS, blob

CLI_READERS = (["ls"], ["log", "Model"], ["tag", "Model"], ["show", "Model"], ["verify"])


def _store_with_model(tmp_path: Path, user_module: ModuleWriter) -> tuple[PetClassManager, Path, str]:
    pcm = PetClassManager(tmp_path / "store")
    version = pcm.push(user_module(HARMLESS).Model)
    return pcm, tmp_path / "store", version


def _raw_object(store: Path, kind: str, data: bytes) -> str:
    return (
        subprocess.run(
            ["git", f"--git-dir={store}", "hash-object", "-t", kind, "--literally", "-w", "--stdin"],
            input=data,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )


def _cli_lines(store: Path, capsys: pytest.CaptureFixture[str], *command: str) -> tuple[int, str]:
    code = cli(["--store", str(store), *command])
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize("seconds", ["99999999999999", "-99999999999999", "253402300800"])
def test_a_commit_date_beyond_what_python_holds_does_not_break_the_history(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str], seconds: str
) -> None:
    pcm, store, version = _store_with_model(tmp_path, user_module)
    parent = git(store, "rev-parse", "Model").stdout.strip()
    ident = f"M <m@example.org> {seconds} +0000"
    raw = f"tree {version}\nparent {parent}\nauthor {ident}\ncommitter {ident}\n\nfrom the future\n"
    git(store, "update-ref", "refs/heads/Model", _raw_object(store, "commit", raw.encode()))
    for command in CLI_READERS:
        code, err = _cli_lines(store, capsys, *command)
        assert (code, err) == (0, ""), command
    newest = pcm.store.versions("Model")[0]
    assert newest.time.year in (1, 9999) and newest.message == "from the future\n"
    assert PetClassManager(store).pull("Model")().predict() == "harmless"


def test_bad_tags_are_ignored_and_the_class_stays_usable(
    tmp_path: Path,
    user_module: ModuleWriter,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    pcm, store, version = _store_with_model(tmp_path, user_module)
    pcm.store.tag("Model", "good")
    target, kind = git(store, "rev-parse", "Model").stdout.strip(), "commit"
    for depth in range(20):  # a chain of annotated tags deeper than any reader follows
        raw = f"object {target}\ntype {kind}\ntag t{depth}\ntagger M <m@example.org> 1 +0000\n\nchain\n"
        target, kind = _raw_object(store, "tag", raw.encode()), "tag"
    git(store, "update-ref", "refs/tags/Model/deep", target)
    blob_id = blob(store, b"not a version")
    on_blob = f"object {blob_id}\ntype blob\ntag b\ntagger M <m@example.org> 1 +0000\n\nblob\n"
    git(store, "update-ref", "refs/tags/Model/on-blob", _raw_object(store, "tag", on_blob.encode()))
    git(store, "update-ref", "refs/tags/Model/a-blob", blob_id)

    with caplog.at_level(logging.WARNING, logger="gitpet"):
        assert pcm.store.tags("Model") == {"good": version}
    assert "refs/tags/Model/deep" in caplog.text and "tag chain is too deep" in caplog.text
    for command in (["ls"], ["log", "Model"], ["tag", "Model"], ["show", "Model@good"]):
        code, _err = _cli_lines(store, capsys, *command)
        assert code == 0, command
    assert PetFactory(PetClassManager(store)).get_version("Model", "good")().predict() == "harmless"
    problems = {p.ref for p in pcm.store.verify().problems}
    assert {"refs/tags/Model/deep", "refs/tags/Model/a-blob", "refs/tags/Model/on-blob"} <= problems
    # The bad tag can be replaced.
    assert pcm.store.tag("Model", "deep", force=True) == version and "deep" in pcm.store.tags("Model")


def test_a_tag_naming_another_classes_version_is_a_one_line_refusal_and_verify_names_it(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    pcm, store, _version = _store_with_model(tmp_path, user_module)
    pcm.push(user_module("class Other:\n    pass\n").Other)
    git(store, "update-ref", "refs/tags/Model/cross", git(store, "rev-parse", "Other").stdout.strip())
    with pytest.raises(WrongClassVersionError, match="belongs to class 'Other'"):
        PetClassManager(store).pull("Model", "cross")
    code, err = _cli_lines(store, capsys, "show", "Model@cross")
    assert code != 0 and err.count("\n") == 1 and "belongs to class 'Other'" in err
    assert PetClassManager(store).pull("Model")().predict() == "harmless"
    [problem] = pcm.store.verify().problems
    assert problem.ref == "refs/tags/Model/cross" and "names class 'Other'" in problem.detail


def _version_with_meta(store: Path, version: str, meta: bytes) -> str:
    """A new latest of Model: its version's files with ``meta.json`` replaced (plain git)."""
    listing = git(store, "ls-tree", version).stdout
    new_meta = blob(store, meta)
    lines = [
        line if not line.endswith("\tmeta.json") else f"100644 blob {new_meta}\tmeta.json"
        for line in listing.splitlines()
    ]
    tree = git(store, "mktree", input="\n".join(lines) + "\n").stdout.strip()
    commit = git(store, "commit-tree", tree, "-p", "refs/heads/Model", "-m", "meta").stdout.strip()
    git(store, "update-ref", "refs/heads/Model", commit)
    return tree


@pytest.mark.parametrize(
    ("meta", "refusal"),
    [
        (b"[" * 20_000 + b"]" * 20_000, f"nests deeper than {JSON_MAX_DEPTH} levels"),
        (b'{"name": "Model", "pad": "' + b"x" * META_JSON_MAX_BYTES + b'"}', "more than the"),
    ],
    ids=["deep", "huge"],
)
def test_a_hostile_meta_json_is_refused_in_one_line_by_every_reader(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str], meta: bytes, refusal: str
) -> None:
    pcm, store, version = _store_with_model(tmp_path, user_module)
    bad = _version_with_meta(store, version, meta)
    for trust in (TrustPolicy.refuse(), TrustPolicy.allow()):  # read before anything is unpickled
        with pytest.raises(IntegrityError, match=refusal):
            PetClassManager(store, trust=trust).pull("Model", bad)
    code, err = _cli_lines(store, capsys, "show", "Model")
    assert code != 0 and err.count("\n") == 1 and refusal in err
    assert any(refusal in p.detail for p in pcm.store.verify().problems)
    assert PetClassManager(store).pull("Model", version)().predict() == "harmless"  # the class stays usable


def test_a_deeply_nested_pipeline_json_is_refused_in_one_line(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    pcm, store, version = _store_with_model(tmp_path, user_module)
    pcm.store.pipeline("p").save({"clazz": "Model", "version_hash": version, "params": {}})
    listing = git(store, "ls-tree", "pipelines/p").stdout
    deep = blob(store, b'{"clazz": "Model", "params": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}")
    lines = [
        f"100644 blob {deep}\tpipeline.json" if line.endswith("\tpipeline.json") else line
        for line in listing.splitlines()
    ]
    tree = git(store, "mktree", input="\n".join(lines) + "\n").stdout.strip()
    commit = git(store, "commit-tree", tree, "-p", "refs/heads/pipelines/p", "-m", "deep").stdout.strip()
    git(store, "update-ref", "refs/heads/pipelines/p", commit)
    with pytest.raises(IntegrityError, match="nests deeper"):
        pcm.store.pipeline("p").read()
    code, err = _cli_lines(store, capsys, "pipeline", "show", "p")
    assert code != 0 and err.count("\n") == 1 and "nests deeper" in err
    assert any("nests deeper" in p.detail for p in pcm.store.verify().problems)
    # A dump that deep is refused when saved, before anything is written.
    nested: object = version
    for _ in range(JSON_MAX_DEPTH + 1):
        nested = [nested]
    with pytest.raises(Exception, match="nests deeper") as refused:
        pcm.store.pipeline("q").save({"clazz": "Model", "version_hash": version, "params": {"x": nested}})
    assert type(refused.value).__name__ == "InvalidDumpError"


BOMB = """
import resource, sys
sys.path.insert(0, {root!r})
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # inflating the object would need 2 GiB
from gitpet import IntegrityError, PetClassManager
try:
    PetClassManager({store!r}).pull("Model")
except IntegrityError as err:
    print("refused:", err)
"""


def test_an_object_that_inflates_to_gigabytes_is_refused_before_it_is_inflated(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    _pcm, store, version = _store_with_model(tmp_path, user_module)
    pickle_sha = git(store, "rev-parse", f"{version}:class.pkl").stdout.strip()
    claimed = 2 * MAX_OBJECT_BYTES
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(f"blob {claimed}\0".encode())]
    zeros = bytes(1 << 20)
    chunks += [compressor.compress(zeros) for _ in range(claimed >> 20)]
    chunks.append(compressor.flush())
    loose = store / "objects" / pickle_sha[:2] / pickle_sha[2:]
    os.chmod(loose, 0o644)
    loose.write_bytes(b"".join(chunks))
    assert loose.stat().st_size < 4 << 20  # a few MB on disk
    run = subprocess.run(
        [sys.executable, "-c", BOMB.format(root=str(Path(__file__).resolve().parents[2]), store=str(store))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "refused:" in run.stdout and f"more than the {MAX_OBJECT_BYTES}" in run.stdout


HIDDEN = "\x1b[1A\x1b[2K\u202e"
CONTROLS = "\x1b\u202e\r"


def test_control_characters_in_stored_text_are_escaped_in_everything_the_cli_prints(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line of source or a commit message can carry terminal escapes that erase or reorder
    what a reviewer sees: the CLI shows each such character as a visible escape."""
    evil = 'class Model:\n    def predict(self):\n        return "' + HIDDEN + 'harmless"\n'
    pcm = PetClassManager(tmp_path / "store")
    first = pcm.push(user_module(HARMLESS).Model)
    second = pcm.push(user_module(evil).Model)
    store = tmp_path / "store"
    parent = git(store, "rev-parse", "Model").stdout.strip()
    message = f"release{HIDDEN}\r\n"
    git(
        store,
        "update-ref",
        "refs/heads/Model",
        git(store, "commit-tree", second, "-p", parent, "-m", message).stdout.strip(),
    )
    for command in (["show", "Model"], ["log", "Model"], ["diff", "Model", first], ["ls"]):
        assert cli(["--store", str(store), *command]) == 0, command
        out = capsys.readouterr().out
        assert not any(char in out for char in CONTROLS), (command, out)
        if command[0] != "ls":
            assert "\\x1b[1A\\x1b[2K\\u202e" in out, command
    assert cli(["--store", str(store), "show", f"Model@nope{HIDDEN}"]) == 1
    err = capsys.readouterr().err
    assert "nope\\x1b[1A" in err and not any(char in err for char in CONTROLS)
