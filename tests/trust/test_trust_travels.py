"""Trust travels with the version, not with the remote it last came through.

A version nobody here vouched for must not reach a remote others trust by
being pushed on (laundering), must not be signed by a rebase, and a remote
that is not trusted must not quietly bring back an older release.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gitpet import (
    ClassNotFoundError,
    GitStore,
    PetClassManager,
    PetFactory,
    RemoteRejectedError,
    TrustPolicy,
    UntrustedVersionError,
    UnvouchedPushError,
)
from gitpet.cli.main import main as cli
from tests.conftest import ModuleWriter, bare_repo, git, store_snapshot
from tests.hostile import TOOL, malicious_remote, needs_ssh_keygen, ssh_key


def _team_with_tool(tmp_path: Path, user_module: ModuleWriter) -> tuple[Path, str]:
    """A team remote holding Tool, pushed by Alice; returns it and the version."""
    alice = PetClassManager(tmp_path / "alice")
    version = alice.push(user_module(TOOL.format(n=1)).Tool)
    remote = bare_repo(tmp_path / "team.git")
    alice.store.push(str(remote))
    return remote, version


def _mallory_on_top(tmp_path: Path, team: Path, user_module: ModuleWriter) -> tuple[Path, str, str]:
    """Mallory's remote: Evil (its pickle writes ``pwned``) and her own Tool on top of the team's."""
    remote = malicious_remote(tmp_path, tmp_path / "pwned")
    mallory = PetClassManager(tmp_path / "mallory")
    mallory.store.fetch(str(team), trusted=True)
    sneaky = mallory.push(user_module(TOOL.format(n=666)).Tool)
    mallory.store.push(str(remote), ["Tool"])
    evil = GitStore(remote).latest_id("Evil")
    return remote, evil, sneaky


def test_a_push_does_not_carry_versions_this_machine_does_not_vouch_for(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    team, base = _team_with_tool(tmp_path, user_module)
    mallory_remote, evil, sneaky = _mallory_on_top(tmp_path, team, user_module)

    bob = PetClassManager(tmp_path / "bob")
    bob.store.add_remote("team", str(team), trusted=True)
    bob.store.fetch("team")
    bob.store.fetch(str(mallory_remote))  # not trusted: Evil and Mallory's Tool are not vouched for
    mine = bob.push(user_module("class Mine:\n    pass\n").Mine)
    before = store_snapshot(team)

    with pytest.raises(UnvouchedPushError) as refused:
        bob.store.push("team")
    assert sorted(refused.value.versions) == sorted([("Evil", evil), ("Tool", sneaky)])
    assert f"Evil@{evil[:12]}" in str(refused.value) and isinstance(refused.value, PermissionError)
    assert store_snapshot(team) == before  # nothing was sent, not even Bob's own class
    # A fast-forward of a class the remote has, and a tag naming a foreign version, are refused too.
    with pytest.raises(UnvouchedPushError, match=f"Tool@{sneaky[:12]}"):
        bob.store.push("team", ["Tool"])
    bob.store.tag("Tool", "looks-fine", sneaky)
    with pytest.raises(UnvouchedPushError, match=f"Tool@{sneaky[:12]}"):
        bob.store.push("team", ["Tool"])
    # So is a pipeline whose snapshot pins one.
    bob.store.pipeline("p").save({"clazz": "Evil", "version_hash": evil, "params": {}})
    with pytest.raises(UnvouchedPushError, match=f"Evil@{evil[:12]}"):
        bob.store.push("team", [], pipelines=["p"])
    assert cli(["--store", str(tmp_path / "bob"), "push", "team"]) != 0
    assert "does not vouch for" in capsys.readouterr().err
    assert store_snapshot(team) == before

    # What Bob vouches for goes.
    assert bob.store.push("team", ["Mine"]).status_of("refs/heads/Mine") == "created"
    alice = PetFactory(PetClassManager(tmp_path / "alice", remote="team"))
    alice.manager.store.add_remote("team", str(team), trusted=True)
    with pytest.raises(ClassNotFoundError):
        alice["Evil"]
    assert alice.get_version("Tool", "~0")().get() == 1
    assert not (tmp_path / "pwned").exists()
    assert GitStore(team).latest_id("Mine") == mine

    # After review (or with the explicit flag), the versions go, named in the report.
    bob.store.trust("Tool", sneaky)
    assert cli(["--store", str(tmp_path / "bob"), "push", "team", "--allow-unvouched"]) == 0
    assert GitStore(team).latest_id("Tool") == sneaky and GitStore(team).latest_id("Evil") == evil
    assert base in [v.id for v in GitStore(team).versions("Tool")]


def test_a_version_trusted_here_goes_without_ceremony_and_one_the_remote_has_is_not_carried(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    """Bob fetched the team's versions without trusting the team: pushing his own on top sends only his."""
    team, base = _team_with_tool(tmp_path, user_module)
    bob = PetClassManager(tmp_path / "bob")
    bob.store.fetch(str(team))  # not trusted here, but already on the remote: not carried by a push
    assert not bob.store.is_trusted(base)
    mine = bob.push(user_module(TOOL.format(n=2)).Tool)
    assert bob.store.push(str(team)).status_of("refs/heads/Tool") == "fast-forward"
    assert GitStore(team).latest_id("Tool") == mine


@needs_ssh_keygen
def test_a_rebase_signs_only_the_versions_this_machine_vouches_for(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    bob_key, bob_line = ssh_key(tmp_path, "bob")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(bob_line)
    team, _base = _team_with_tool(tmp_path, user_module)
    mallory_remote, _evil, sneaky = _mallory_on_top(tmp_path, team, user_module)

    bob = PetClassManager(GitStore(tmp_path / "bob", signing_key=bob_key))
    bob.store.fetch(str(team), trusted=True)
    bob.store.fetch(str(mallory_remote), ["Tool"])  # Mallory's version, not vouched for here
    reviewed = bob.push(user_module(TOOL.format(n=2)).Tool)
    alice = PetClassManager(tmp_path / "alice")
    alice.push(user_module(TOOL.format(n=3)).Tool)
    alice.store.push(str(team))

    # Bob's history and the team's diverged: his versions are replayed on top, re-signed by his key.
    assert bob.store.fetch(str(team), trusted=True).status_of("refs/heads/Tool") == "rebased"
    assert bob.store.signed_by("Tool", reviewed, allowed) == "bob@example.org"
    assert bob.store.signed_by("Tool", sneaky, allowed) is None
    verify = ["-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit"]
    assert git(tmp_path / "bob", *verify, "Tool", check=False).returncode == 0
    assert git(tmp_path / "bob", *verify, "Tool~1", check=False).returncode != 0  # Mallory's, unsigned
    carol = PetClassManager(tmp_path / "carol", trust=TrustPolicy.signed_by(allowed))
    carol.store.fetch(str(tmp_path / "bob"))
    assert carol.pull("Tool", reviewed)().get() == 2
    with pytest.raises(PermissionError):
        carol.pull("Tool", sneaky)


def _rolled_back_remote(tmp_path: Path, team: Path, old: str) -> Path:
    """A copy of the team remote where, with plain git, Tool's new latest is the old version ``old``."""
    mirror = tmp_path / "mirror.git"
    git(tmp_path, "clone", "-q", "--bare", str(team), str(mirror))
    commit = git(mirror, "commit-tree", old, "-p", "refs/heads/Tool", "-m", "innocent").stdout.strip()
    git(mirror, "update-ref", "refs/heads/Tool", commit)
    return mirror


def test_a_remote_that_is_not_trusted_cannot_bring_back_an_older_version(
    tmp_path: Path, user_module: ModuleWriter, caplog: pytest.LogCaptureFixture
) -> None:
    team, v1 = _team_with_tool(tmp_path, user_module)
    alice = PetClassManager(tmp_path / "alice")
    v2 = alice.push(user_module(TOOL.format(n=2)).Tool)
    alice.store.push(str(team))
    mirror = _rolled_back_remote(tmp_path, team, v1)

    bob = PetClassManager(tmp_path / "bob")
    bob.store.fetch(str(team), trusted=True)
    with pytest.raises(RemoteRejectedError, match=r"older version \(" + v1[:12]) as refused:
        bob.store.fetch(str(mirror))
    assert refused.value.rejected[0][0] == "refs/heads/Tool"
    assert bob.store.latest_id("Tool") == v2 and bob.pull("Tool")().get() == 2
    # Lazily, through a factory: the load keeps the latest it had, and says why in the log.
    lazy = PetFactory(PetClassManager(tmp_path / "bob", remote=str(mirror)))
    with caplog.at_level(logging.WARNING, logger="gitpet"):
        assert lazy.get_version("Tool", v2[:8])().get() == 2
        lazy.manager.fetch_class("Tool")
    assert "older version" in caplog.text and bob.store.latest_id("Tool") == v2
    # Told to, it takes the rollback (so does a fetch from a trusted remote).
    assert cli(["--store", str(tmp_path / "bob"), "fetch", str(mirror), "--accept-rollbacks"]) == 0
    assert bob.store.latest_id("Tool") == v1
    carol = GitStore(tmp_path / "carol")
    carol.fetch(str(team), trusted=True)
    assert carol.fetch(str(mirror), trusted=True).status_of("refs/heads/Tool") == "fast-forward"


def test_a_remote_that_is_not_trusted_cannot_bring_back_an_older_snapshot(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    team, v1 = _team_with_tool(tmp_path, user_module)
    alice = GitStore(tmp_path / "alice")
    history = alice.pipeline("train")
    old = history.save({"clazz": "Tool", "version_hash": v1, "params": {"k": 1}})
    history.save({"clazz": "Tool", "version_hash": v1, "params": {"k": 2}})
    alice.push(str(team))
    mirror = tmp_path / "mirror.git"
    git(tmp_path, "clone", "-q", "--bare", str(team), str(mirror))
    ref = "refs/heads/pipelines/train"
    commit = git(mirror, "commit-tree", old.id, "-p", ref, "-m", "innocent").stdout.strip()
    git(mirror, "update-ref", ref, commit)

    bob = GitStore(tmp_path / "bob")
    bob.fetch(str(team), trusted=True)
    newest = bob.pipeline("train").read().id
    with pytest.raises(RemoteRejectedError, match="older snapshot"):
        bob.fetch(str(mirror))
    assert bob.pipeline("train").read().id == newest != old.id


def test_trusting_a_pipeline_vouches_only_for_what_its_pipeline_json_uses(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    """A remote adds Evil's version to a snapshot's classes/ by hand, unnamed by pipeline.json:
    trusting the pipeline (one snapshot or all) vouches for Tool only, so Evil never runs."""
    remote = malicious_remote(tmp_path, tmp_path / "pwned")
    alice = PetClassManager(tmp_path / "alice")
    tool = alice.push(user_module(TOOL.format(n=1)).Tool)
    alice.store.pipeline("p").save({"clazz": "Tool", "version_hash": tool, "params": {}})
    alice.store.push(str(remote), pipelines=["p"], names=["Tool"])
    evil = git(remote, "rev-parse", "Evil^{tree}").stdout.strip()
    dump = git(remote, "rev-parse", "pipelines/p:pipeline.json").stdout.strip()
    classes = git(
        remote, "mktree", input=f"040000 tree {evil}\tEvil\n040000 tree {tool}\tTool\n"
    ).stdout.strip()
    root = git(remote, "mktree", input=f"040000 tree {classes}\tclasses\n100644 blob {dump}\tpipeline.json\n")
    commit = git(remote, "commit-tree", root.stdout.strip(), "-p", "pipelines/p", "-m", "p: same").stdout
    git(remote, "update-ref", "refs/heads/pipelines/p", commit.strip())

    victim = PetClassManager(tmp_path / "victim")
    victim.store.fetch(str(remote))
    assert victim.store.pipeline("p").trust("~0") == [tool]
    assert cli(["--store", str(victim.store.path), "pipeline", "trust", "p"]) == 0
    assert capsys.readouterr().out == f"trusted {tool}\n"
    assert victim.store.is_trusted(tool) and not victim.store.is_trusted(evil)
    with pytest.raises(UntrustedVersionError):
        PetFactory(victim)["Evil"]
    assert not (tmp_path / "pwned").exists()


def test_a_trusted_fetch_vouches_for_each_version_it_brings_down_to_what_was_here_and_vouched(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    team, v1 = _team_with_tool(tmp_path, user_module)
    bob = GitStore(tmp_path / "bob")
    bob.fetch(str(team), trusted=True)
    # Carol's store got Tool's first version from a remote nobody trusts, then more from the team.
    carol = GitStore(tmp_path / "carol")
    carol.fetch(str(team))
    assert not carol.is_trusted(v1)
    alice = PetClassManager(tmp_path / "alice")
    v2 = alice.push(user_module(TOOL.format(n=2)).Tool)
    # v1 once more on top: the newest commit names a version Bob already vouches for.
    again = alice.push(user_module(TOOL.format(n=1)).Tool)
    assert again == v1
    alice.store.push(str(team))
    assert [c.split()[0] for c in git(team, "log", "--format=%T", "Tool").stdout.splitlines()] == [v1, v2, v1]

    bob.fetch(str(team), trusted=True)
    assert bob.is_trusted(v2)  # below a version vouched for, but new here: vouched
    carol.fetch(str(team), trusted=True)
    assert carol.is_trusted(v2) and carol.is_trusted(v1)  # nothing below was vouched: all of it
