"""Review is what runs: a class.pkl that is not what its text builds is caught, and never unpickled.

The attacker keeps a harmless ``source.py`` and ``captured.py`` (what a reviewer reads) and
swaps ``class.pkl`` for another class's pickle.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from gitpet import PetClassManager, SourceCheck, VersionFiles, VersionTree
from gitpet.format.meta import meta_json
from tests.conftest import REPO_ROOT, ModuleWriter, bare_repo, run_python

HARMLESS = """
class Model:
    def predict(self):
        return "harmless"
"""
EVIL = """
class Model:
    def predict(self):
        return "evil"
"""


def _crafted_remote(tmp_path: Path, user_module: ModuleWriter) -> tuple[Path, str]:
    """A remote whose Model has the harmless text, source-complete in meta.json, and the evil pickle."""
    attacker = PetClassManager(tmp_path / "attacker")
    module = user_module(HARMLESS)
    honest = attacker.encode(module.Model)
    evil = attacker.encode(user_module(EVIL, name=module.__name__).Model)
    meta = json.loads(honest.files.meta)
    assert meta["source_complete"] is True
    crafted = VersionTree.build(
        VersionFiles(honest.files.source, evil.files.pickle, meta_json(meta), honest.files.captured)
    )
    attacker.store.write_versions([("Model", crafted)])
    remote = bare_repo(tmp_path / "team.git")
    attacker.store.push(str(remote), allow_unvouched=True)
    return remote, crafted.id


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitpet", *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_a_pickle_that_is_not_its_text_is_refused_and_caught_by_verify(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    remote, crafted = _crafted_remote(tmp_path, user_module)
    victim = tmp_path / "victim"
    # Fetched from a remote nobody marked trusted: nothing loads, as before.
    fetched = PetClassManager(victim)
    fetched.store.fetch(str(remote))
    # Reviewing shows the harmless text; vouching for it builds that text and refuses the pickle.
    shown = _cli("--store", str(victim), "show", "Model").stdout
    assert '"harmless"' in shown and '"evil"' not in shown
    refused = _cli("--store", str(victim), "trust", "Model")
    assert refused.returncode == 1 and "does not run what its text says" in refused.stderr
    assert not fetched.store.is_trusted(crafted)
    # A policy that admits what nobody vouched for still loads only what its text builds.
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager, SourceMismatchError, TrustPolicy
        try:
            PetClassManager(sys.argv[1], trust=TrustPolicy.allow()).pull("Model")
        except SourceMismatchError as err:
            print("refused:", err.version)
        """,
        str(victim),
        cwd=tmp_path,
    )
    assert out.split() == ["refused:", crafted]
    # A machine that trusts the remote vouched for it on arrival: verify --sources finds it.
    trusting = PetClassManager(tmp_path / "trusting")
    trusting.store.fetch(str(remote), trusted=True)
    plain = _cli("--store", str(trusting.store.path), "verify")
    checked = _cli("--store", str(trusting.store.path), "verify", "--sources")
    assert plain.returncode == 0
    assert checked.returncode == 1
    assert f"refs/heads/Model: {crafted[:12]}: class.pkl is not the pickle" in checked.stdout
    assert [p.object for p in trusting.verify_sources()] == [crafted]


def test_an_honest_version_passes_every_check(tmp_path: Path, user_module: ModuleWriter) -> None:
    author = PetClassManager(tmp_path / "author")
    version = author.push(user_module(HARMLESS).Model)
    remote = bare_repo(tmp_path / "team.git")
    author.store.push(str(remote))
    reviewer = PetClassManager(tmp_path / "reviewer")
    reviewer.store.fetch(str(remote))
    assert reviewer.vouch("Model") == [version]
    assert reviewer.pull("Model")().predict() == "harmless"
    assert reviewer.verify_sources() == []
    assert _cli("--store", str(reviewer.store.path), "verify", "--sources").returncode == 0
    # The check is real: the same version with another class's pickle fails it.
    stored = reviewer.store.read_version("Model")
    other = author.encode(user_module(EVIL).Model)
    forged = dataclasses.replace(stored, files=dataclasses.replace(stored.files, pickle=other.files.pickle))
    assert reviewer.codec.check_stored(stored) == SourceCheck(True)
    assert reviewer.codec.check_stored(forged) == SourceCheck(
        False, "class.pkl is not the pickle of the class its text builds"
    )


def test_the_safe_load_of_a_refused_version_is_the_text_the_review_read(
    tmp_path: Path, user_module: ModuleWriter
) -> None:
    remote, crafted = _crafted_remote(tmp_path, user_module)
    out = run_python(
        """
        import sys
        from gitpet import PetClassManager, SourceMismatchError, TrustPolicy
        pcm = PetClassManager(sys.argv[1], trust=TrustPolicy.allow())
        pcm.store.fetch(sys.argv[2])
        try:
            pcm.pull("Model")
        except SourceMismatchError as err:
            print("refused", "build_from_text('Model'" in str(err))
        built = pcm.build_from_text("Model", sys.argv[3])
        print(built().predict(), pcm.get_class_hash(built) != sys.argv[3])
        """,
        str(tmp_path / "victim"),
        str(remote),
        crafted,
        cwd=tmp_path,
    )
    assert out.split() == ["refused", "True", "harmless", "True"]
