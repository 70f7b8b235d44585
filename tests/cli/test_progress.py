"""Progress on a terminal, and Ctrl-C, for long pushes, fetches and gc (issue 19, item 11).

Each command runs as a real process whose stderr is a real pseudo-terminal,
as a person at a terminal runs it; Ctrl-C is the SIGINT a terminal sends.
The store is big enough that each operation takes several seconds here, so
progress (shown only after a second) has something to show and Ctrl-C lands
in the middle of the work.
"""

from __future__ import annotations

import io
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitpet import GitStore
from gitpet.progress import TerminalProgress, progress_on_stderr
from tests.conftest import REPO_ROOT, bare_repo, git, run_python

# Random numbers hardly compress: a version this big takes seconds to send, check and pack.
_BIG_BYTES = 60_000_000
_INTERRUPTED = "gitpet: interrupted; no ref was left half-updated (run the command again to finish)"


@dataclass
class Finished:
    returncode: int
    stdout: str
    terminal: str  # what the terminal showed on stderr, with its \r kept and \r\n read as \n


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GITPET_STORE"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def on_terminal(*args: str, cwd: Path, interrupt_when: str | None = None) -> Finished:
    """Run ``gitpet ARGS`` with stderr on a terminal; send SIGINT once ``interrupt_when`` shows."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "gitpet", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=secondary,
        cwd=cwd,
        env=_env(),
        # As a shell at a terminal starts it: Ctrl-C not ignored (a test runner's background job may be).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(secondary)
    shown = bytearray()
    interrupted = False
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # EIO: the process closed its end
                    chunk = b""
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
            if interrupt_when is not None and not interrupted and interrupt_when.encode() in shown:
                process.send_signal(signal.SIGINT)
                interrupted = True
        returncode = process.wait(timeout=120)
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
    assert process.stdout is not None
    stdout = process.stdout.read().decode()
    process.stdout.close()
    if interrupt_when is not None:
        assert interrupted, f"{interrupt_when!r} never showed; the terminal showed {bytes(shown)!r}"
    return Finished(returncode, stdout, shown.decode().replace("\r\n", "\n"))


def progress_lines(terminal: str) -> list[str]:
    """The final state of each progress line (what a person sees once it is redrawn for the last time)."""
    return [line.split("\r")[-1].rstrip() for line in terminal.split("\n") if line.startswith("\r")]


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose one version holds 60 MB of random numbers, pushed on 'another machine'."""
    where = tmp_path_factory.mktemp("big")
    (where / "bigdata.py").write_text(
        "import numpy as np\n"
        f"DATA = np.random.default_rng(0).integers(0, 2**62, size={_BIG_BYTES // 8}, dtype=np.int64)\n\n\n"
        "class Big:\n    def first(self):\n        return int(DATA[0])\n"
    )
    run_python(
        """
        import sys, warnings
        from gitpet import PetClassManager
        import bigdata
        warnings.simplefilter("ignore")
        PetClassManager(sys.argv[1]).push(bigdata.Big)
        """,
        str(where / "store"),
        cwd=where,
        pythonpath=[str(where)],
    )
    return where / "store"


def test_a_long_fetch_shows_progress_on_a_terminal_and_nothing_elsewhere(
    big_store: Path, tmp_path: Path
) -> None:
    shown = on_terminal("--store", str(tmp_path / "mine"), "fetch", str(big_store), cwd=tmp_path)
    assert shown.returncode == 0, shown.terminal
    assert "created      refs/heads/Big" in shown.stdout  # the report stays on stdout
    lines = progress_lines(shown.terminal)
    assert lines[0].startswith("gitpet fetch: receiving: ") and " MiB" in lines[0]
    assert all(line.endswith(", done.") for line in lines), lines
    assert lines[-1] == "gitpet fetch: updating refs: 1/1 refs (100%), done."
    # The same fetch into another store with stderr read by a program: no progress at all.
    piped = subprocess.run(
        [sys.executable, "-m", "gitpet", "--store", str(tmp_path / "other"), "fetch", str(big_store)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
    )
    assert (piped.returncode, piped.stderr) == (0, "")
    assert piped.stdout == shown.stdout.replace("\r\n", "\n")


def test_gc_shows_its_stages_on_a_terminal_unless_told_not_to(big_store: Path, tmp_path: Path) -> None:
    shutil.copytree(big_store, tmp_path / "one")
    shown = on_terminal("--store", str(tmp_path / "one"), "gc", cwd=tmp_path)
    assert shown.returncode == 0, shown.terminal
    lines = progress_lines(shown.terminal)
    assert any(line.startswith("gitpet gc: writing pack: ") and line.endswith(", done.") for line in lines)
    assert lines[-1] == "gitpet gc: pruning, done."
    shutil.copytree(big_store, tmp_path / "two")
    quiet = on_terminal("--store", str(tmp_path / "two"), "gc", "--no-progress", cwd=tmp_path)
    assert (quiet.returncode, quiet.terminal) == (0, "")
    assert "packed" in quiet.stdout


def _assert_interrupted(finished: Finished, stage: str) -> None:
    assert finished.returncode == 130, f"it finished before the interrupt: {finished.terminal!r}"
    # The progress line is ended (the message starts on a line of its own), and says why.
    *progress, message = finished.terminal.rstrip("\n").split("\n")
    assert progress_lines("\n".join(progress))[-1].endswith(", interrupted.")
    assert stage in progress[-1]
    assert message == _INTERRUPTED
    assert finished.stdout == ""


def test_ctrl_c_stops_a_fetch_and_leaves_nothing_half_done(big_store: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    stopped = on_terminal(
        "--store", str(mine), "fetch", str(big_store), cwd=tmp_path, interrupt_when="receiving"
    )
    _assert_interrupted(stopped, "gitpet fetch: receiving")
    assert git(mine, "for-each-ref").stdout == ""
    assert sorted(path.name for path in (mine / "objects").iterdir()) == [
        "info",
        "pack",
    ]  # no quarantine left
    assert list((mine / "objects" / "pack").iterdir()) == []
    git(mine, "fsck", "--strict")
    # Nothing is held: the same fetch runs again, to the end.
    again = GitStore(mine).fetch(str(big_store))
    assert [update.status for update in again.updates] == ["created"]
    assert GitStore(mine).verify().ok


def test_ctrl_c_stops_a_push_and_the_remote_is_as_before(big_store: Path, tmp_path: Path) -> None:
    remote = bare_repo(tmp_path / "remote.git")
    stopped = on_terminal(
        "--store", str(big_store), "push", str(remote), cwd=tmp_path, interrupt_when="sending"
    )
    _assert_interrupted(stopped, "gitpet push: sending")
    assert git(remote, "for-each-ref").stdout == ""
    git(remote, "fsck", "--strict")
    again = GitStore(big_store).push(str(remote))
    assert [update.status for update in again.updates] == ["created"]
    assert git(remote, "rev-parse", "refs/heads/Big").stdout.strip() == GitStore(big_store).latest_commit(
        "Big"
    )


def test_ctrl_c_stops_gc_and_every_version_is_still_there(big_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(big_store, store)
    refs = git(store, "for-each-ref").stdout
    stopped = on_terminal("--store", str(store), "gc", cwd=tmp_path, interrupt_when="writing pack")
    _assert_interrupted(stopped, "gitpet gc: writing pack")
    assert list((store / "objects" / "pack").iterdir()) == []  # the half-written pack is gone
    assert git(store, "for-each-ref").stdout == refs
    git(store, "fsck", "--strict")
    assert GitStore(store).verify().ok


def test_progress_waits_a_second_and_redraws_only_what_changed() -> None:
    now = [100.0]
    stream = io.StringIO()
    progress = TerminalProgress(stream, "gitpet push", clock=lambda: now[0])
    progress.stage("sending", total=4)
    progress.advance(2)
    progress.stage("sending", total=4)  # under a second: nothing drawn, nothing to end
    assert stream.getvalue() == ""
    now[0] += 1.5
    progress.advance(3)
    progress.stage("updating refs", total=1, unit="refs")
    progress.finish(", interrupted.")
    assert stream.getvalue() == (
        "\rgitpet push: sending: 3/4 objects (75%), done.\n"
        "\rgitpet push: updating refs: 0/1 refs (0%), interrupted.\n"
    )


def test_progress_is_silent_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_on_stderr("gitpet fetch") as progress:
        progress.stage("receiving", unit="bytes")
        progress.advance(10)
    assert type(progress) is not TerminalProgress
    assert capsys.readouterr().err == ""
