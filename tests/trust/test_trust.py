"""Trust: code from a remote nobody here vouched for is never unpickled unless a policy says so."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given

from gitpet import (
    GitpetError,
    GitStore,
    IntegrityError,
    PetClassManager,
    PetFactory,
    TrustPolicy,
    UntrustedVersionError,
)
from gitpet.cli.main import main as cli
from gitpet.trust.trustlist import SEARCHES_BEFORE_READING, TrustList
from tests.conftest import ModuleWriter, bare_repo, git, store_snapshot
from tests.hostile import TOOL, malicious_remote, needs_ssh_keygen, ssh_key
from tests.servers import git_daemon


def test_an_untrusted_remotes_class_is_never_unpickled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    remote = malicious_remote(tmp_path, marker)

    # Fetched explicitly, then loaded: refused before anything runs.
    victim = PetClassManager(tmp_path / "victim")
    victim.store.fetch(str(remote))
    with pytest.raises(UntrustedVersionError, match="Evil is not trusted") as refused:
        victim.pull("Evil")
    assert isinstance(refused.value, PermissionError) and "gitpet trust Evil" in str(refused.value)
    # Fetched lazily through a factory, over a real git daemon.
    with git_daemon(tmp_path) as url:
        lazy = PetFactory(PetClassManager(tmp_path / "lazy", remote=f"{url}/shared.git"))
        with pytest.raises(UntrustedVersionError):
            lazy["Evil"]
    # Reading it with the CLI never unpickles either.
    store = str(tmp_path / "victim")
    for command in (["show", "Evil"], ["log", "Evil"], ["diff", "Evil", "~0"], ["verify"], ["ls"]):
        assert cli(["--store", store, *command]) == 0, command
    assert cli(["--store", store, "checkout", "Evil", str(tmp_path / "review")]) == 0
    assert "class Evil" in capsys.readouterr().out
    assert not marker.exists()

    # The pickle really does run code: an explicit allow policy loads it.
    with pytest.raises(IntegrityError, match="does not hold class Evil"):
        PetClassManager(tmp_path / "victim", trust=TrustPolicy.allow()).pull("Evil")
    assert marker.read_text() == "pwned"


def test_local_pushes_trusted_remotes_and_reviewed_versions_load(
    tmp_path: Path, user_module: ModuleWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    alice = PetClassManager(tmp_path / "alice")
    v1 = alice.push(user_module(TOOL.format(n=1)).Tool)
    v2 = alice.push(user_module(TOOL.format(n=2)).Tool)
    remote = bare_repo(tmp_path / "team.git")
    alice.store.push(str(remote))

    bob = PetClassManager(tmp_path / "bob")
    bob.store.add_remote("team", str(remote), trusted=True)
    assert git(tmp_path / "bob", "config", "--get", "remote.team.gitpettrusted").stdout.strip() == "true"
    bob.store.fetch("team")
    assert bob.pull("Tool", v1)().get() == 1 and bob.pull("Tool")().get() == 2

    carol = PetClassManager(tmp_path / "carol")
    carol.store.add_remote("team", str(remote))
    carol.store.fetch("team")
    with pytest.raises(UntrustedVersionError):
        carol.pull("Tool")
    before = store_snapshot(tmp_path / "carol")
    assert cli(["--store", str(tmp_path / "carol"), "trust", "Tool", v2[:10]]) == 0  # after review
    assert f"trusted Tool@{v2}" in capsys.readouterr().out
    assert store_snapshot(tmp_path / "carol") == before  # trust is local: no ref or object changed
    assert carol.pull("Tool")().get() == 2
    with pytest.raises(UntrustedVersionError):
        carol.pull("Tool", v1)  # vouching for one version vouches for no other
    carol.store.trust_remote("team")
    assert carol.store.is_trusted_remote("team") and carol.store.is_trusted_remote(str(remote))
    carol.store.fetch("team")
    assert carol.pull("Tool", v1)().get() == 1


@needs_ssh_keygen
def test_signed_policy_loads_only_versions_signed_by_an_allowed_key(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    alice_key, alice_line = ssh_key(tmp_path, "alice")
    bob_key, bob_line = ssh_key(tmp_path, "bob")
    _, mallory_line = ssh_key(tmp_path, "mallory")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(alice_line + bob_line)
    only_mallory = tmp_path / "mallory_signers"
    only_mallory.write_text(mallory_line)
    remote = bare_repo(tmp_path / "team.git")

    alice = PetClassManager(GitStore(tmp_path / "alice", signing_key=alice_key))
    base = alice.push(user_module(TOOL.format(n=0)).Tool)
    alice.store.push(str(remote))
    bob = PetClassManager(GitStore(tmp_path / "bob", signing_key=bob_key))
    bob.store.fetch(str(remote), trusted=True)
    ours = alice.push(user_module(TOOL.format(n=1)).Tool)
    theirs = bob.push(user_module(TOOL.format(n=2)).Tool)
    alice.store.push(str(remote))
    assert bob.store.push(str(remote)).status_of("refs/heads/Tool") == "rebased"  # bob's commit re-signed
    unsigned = PetClassManager(tmp_path / "mallory")
    unsigned.store.fetch(str(remote), trusted=True)
    sneaky = unsigned.push(user_module(TOOL.format(n=666)).Tool)
    unsigned.store.push(str(remote))

    # The real git checks gitpet's signatures too.
    head = git(remote, "rev-parse", "Tool~1").stdout.strip()
    verified = git(
        remote,
        "-c",
        "gpg.format=ssh",
        "-c",
        f"gpg.ssh.allowedSignersFile={allowed}",
        "verify-commit",
        head,
        check=False,
    )
    assert verified.returncode == 0 and 'Good "git" signature for bob@example.org' in verified.stderr

    carol = PetClassManager(tmp_path / "carol", trust=TrustPolicy.signed_by(allowed))
    carol.store.fetch(str(remote))
    assert [carol.pull("Tool", v)().get() for v in (base, ours, theirs)] == [0, 1, 2]
    assert carol.store.signed_by("Tool", theirs, allowed) == "bob@example.org"
    with pytest.raises(UntrustedVersionError, match="signed by a key in"):
        carol.pull("Tool", sneaky)
    dave = PetClassManager(tmp_path / "carol", trust=TrustPolicy.signed_by(only_mallory))
    with pytest.raises(UntrustedVersionError):
        dave.pull("Tool", base)


def test_trust_policies_are_checked_when_made(tmp_path: Path) -> None:
    with pytest.raises(GitpetError, match="allowed-signers file"):
        TrustPolicy("signed")
    with pytest.raises(GitpetError, match="does not exist"):
        TrustPolicy.signed_by(tmp_path / "nope")
    with pytest.raises(GitpetError, match="unknown trust policy"):
        TrustPolicy("yolo")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="TrustPolicy"):
        PetClassManager(tmp_path / "s", trust="allow")  # type: ignore[arg-type]


@needs_ssh_keygen
def test_a_signed_snapshot_vouches_for_the_versions_it_pins(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    alice_key, alice_line = ssh_key(tmp_path, "alice")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(alice_line)
    remote = bare_repo(tmp_path / "team.git")
    # Mallory pushes two unsigned versions; Alice reviews one and pins it in a signed snapshot.
    mallory = PetClassManager(tmp_path / "mallory")
    reviewed = mallory.push(user_module(TOOL.format(n=1)).Tool)
    unreviewed = mallory.push(user_module(TOOL.format(n=2)).Tool)
    mallory.store.push(str(remote))
    alice = GitStore(tmp_path / "alice", signing_key=alice_key)
    alice.fetch(str(remote), trusted=True)
    alice.pipeline("reviewed").save({"clazz": "Tool", "version_hash": reviewed, "params": {}})
    unsigned = GitStore(tmp_path / "mallory2")
    unsigned.fetch(str(remote), trusted=True)
    unsigned.pipeline("sneaky").save({"clazz": "Tool", "version_hash": unreviewed, "params": {}})
    unsigned.push(str(remote), [], pipelines=["sneaky"])
    alice.push(str(remote), [], pipelines=["reviewed"])

    carol = PetClassManager(tmp_path / "carol", trust=TrustPolicy.signed_by(allowed))
    carol.store.fetch(str(remote), [], pipelines=["reviewed", "sneaky"])
    assert carol.store.names() == []  # no class history here: only the snapshots vouch
    assert carol.store.signed_by("Tool", reviewed, allowed) == "alice@example.org"
    assert carol.pull("Tool", reviewed)().get() == 1
    with pytest.raises(UntrustedVersionError):
        carol.pull("Tool", unreviewed)


_HEX_ID = st.text("0123456789abcdef", min_size=40, max_size=40)


@given(
    lines=st.lists(st.one_of(_HEX_ID, st.text("0123456789abcdef", max_size=39)), max_size=12),
    torn_end=st.text("0123456789abcdef", max_size=39),
    asked=st.lists(st.one_of(_HEX_ID, st.just("x" * 40)), max_size=4),
)
def test_a_fresh_trust_list_finds_an_id_as_reading_it_whole_does(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], torn_end: str, asked: list[str]
) -> None:
    """The first checks of a process look for the id's line; later ones read the file whole."""
    gitdir = tmp_path_factory.mktemp("trust")
    (gitdir / "gitpet").mkdir()
    content = "".join(f"{line}\n" for line in lines) + torn_end
    (gitdir / "gitpet" / "trusted").write_text(content)
    whole = {line for line in content.split("\n")[:-1] if len(line) == 40}
    for version in [*lines, torn_end, *asked]:
        searching = TrustList(gitdir)
        reading = TrustList(gitdir)
        for _ in range(SEARCHES_BEFORE_READING + 1):  # past the searches: the list is read whole
            "f" * 40 in reading  # noqa: B015
        assert (version in searching) == (version in reading) == (version in whole)
