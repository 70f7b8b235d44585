"""What an attacker builds with plain git and pickle, shared by the hostile-input tests."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from gitpet import GitStore, VersionFiles, VersionTree
from gitpet.codec.classcodec import running_python

HARMLESS = """
class Model:
    def predict(self):
        return "harmless"
"""


def pack_entry_header(kind: int, size: int) -> bytes:
    """The header of a pack entry of type ``kind`` holding ``size`` bytes, as git encodes it."""
    byte, size = (kind << 4) | (size & 0x0F), size >> 4
    out = b""
    while size:
        out += bytes([byte | 0x80])
        byte, size = size & 0x7F, size >> 7
    return out + bytes([byte])


def pack_of(entries: list[bytes], *, count: int | None = None) -> bytes:
    """A pack of ``entries`` (announcing ``count`` of them), with its checksum."""
    body = b"PACK" + struct.pack(">II", 2, len(entries) if count is None else count) + b"".join(entries)
    return body + hashlib.sha1(body).digest()


def blob(repo: Path, data: bytes) -> str:
    """Write ``data`` as a blob into ``repo`` with plain git; its id."""
    return (
        subprocess.run(
            ["git", f"--git-dir={repo}", "hash-object", "-w", "--stdin"],
            input=data,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )


TOOL = """
class Tool:
    def get(self):
        return {n}
"""


class _RunsCode:
    """Unpickling this runs ``exec(code)``: what a malicious class.pkl can do."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (self.code,))


def malicious_remote(tmp_path: Path, marker: Path) -> Path:
    """A remote holding class Evil, whose pickle writes ``marker`` when loaded."""
    meta = {
        "format": 2,  # a well-formed format-2 version: no captured.py to craft
        "module": "evil",
        "name": "Evil",
        "python": running_python(),
        "qualname": "Evil",
    }
    files = VersionFiles(
        b"class Evil:\n    pass\n",
        pickle.dumps(_RunsCode(f"open({str(marker)!r}, 'w').write('pwned')")),
        json.dumps(meta, sort_keys=True).encode(),
    )
    attacker = GitStore(tmp_path / "attacker")
    attacker.write_versions([("Evil", VersionTree.build(files))])
    remote = tmp_path / "shared.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    attacker.push(str(remote))
    return remote


needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="no ssh-keygen")


def ssh_key(tmp_path: Path, who: str) -> tuple[Path, str]:
    """A new ed25519 key of ``who``, and its allowed_signers line."""
    key = tmp_path / f"{who}_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", str(key)], check=True)
    public = key.with_suffix(".pub").read_text().split()
    return key, f"{who}@example.org {public[0]} {public[1]}\n"
