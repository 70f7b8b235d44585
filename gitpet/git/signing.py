"""SSH signatures on version commits, made and checked with ``ssh-keygen`` (as git does).

A signed commit carries a ``gpgsig`` header holding an SSH signature (namespace
``git``) over the commit without that header, exactly what ``git commit -S``
with ``gpg.format=ssh`` writes, so ``git verify-commit`` checks it too. Only
``ssh-keygen`` is run: gitpet never shells out to git.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from dulwich.errors import ObjectFormatException
from dulwich.objects import SIGNATURE_SSH, Commit

from gitpet.errors import SigningError

__all__ = ["sign_commit", "ssh_signer"]

_NAMESPACE = "git"
_TIMEOUT = 30


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SigningError("ssh-keygen is not installed; it signs and checks gitpet commits")
    return found


def sign_commit(commit: Commit, key: Path) -> None:
    """Sign ``commit`` in place with the SSH private key at ``key`` (its id changes)."""
    commit.gpgsig = None
    payload = commit.as_raw_string()
    with tempfile.TemporaryDirectory(prefix="gitpet-sign-") as scratch:
        data = Path(scratch) / "commit"
        data.write_bytes(payload)
        run = subprocess.run(
            [_ssh_keygen(), "-Y", "sign", "-f", str(key), "-n", _NAMESPACE, str(data)],
            capture_output=True,
            timeout=_TIMEOUT,
        )
        if run.returncode != 0:
            detail = run.stderr.decode("utf-8", "replace").strip()
            raise SigningError(f"cannot sign with {key}: {detail}")
        commit.gpgsig = (Path(scratch) / "commit.sig").read_bytes()


def ssh_signer(commit: Commit, allowed_signers: Path) -> str | None:
    """The principal in ``allowed_signers`` whose key made ``commit``'s valid SSH signature, or None."""
    try:
        payload, signature, kind = commit.extract_signature()
    except ObjectFormatException:  # an unknown signature format
        return None
    if signature is None or kind != SIGNATURE_SSH:
        return None
    keygen = _ssh_keygen()
    with tempfile.TemporaryDirectory(prefix="gitpet-verify-") as scratch:
        sig = Path(scratch) / "commit.sig"
        sig.write_bytes(signature)
        found = subprocess.run(
            [keygen, "-Y", "find-principals", "-s", str(sig), "-f", str(allowed_signers)],
            capture_output=True,
            timeout=_TIMEOUT,
        )
        if found.returncode != 0:
            return None
        for principal in found.stdout.decode("utf-8", "replace").split():
            verify = ["-Y", "verify", "-f", str(allowed_signers), "-I", principal, "-n", _NAMESPACE]
            check = subprocess.run(
                [keygen, *verify, "-s", str(sig)],
                input=payload,
                capture_output=True,
                timeout=_TIMEOUT,
            )
            if check.returncode == 0:
                return principal
    return None
