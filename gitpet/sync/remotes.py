"""The remotes a store knows, kept in its git config (``git remote -v`` shows them too)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from gitpet.errors import InvalidNameError, RemoteError
from gitpet.git.locks import GITPET_DIR, LockRetry
from gitpet.git.repository import Repository
from gitpet.sync.locations import describe_location, is_url, normalize_location

if TYPE_CHECKING:
    from dulwich.config import ConfigFile

__all__ = ["Remotes"]

_TRUSTED_KEY = b"gitpettrusted"


class Remotes:
    """The configured remotes of one store: name -> URL, and which are trusted.

    Args:
        repository: the store, whose git config holds the remotes.
        retry: runs each config write under the writers lock, retrying while git's lock is held.
    """

    def __init__(self, repository: Repository, retry: LockRetry) -> None:
        self._repository = repository
        self._retry = retry

    def configured(self) -> dict[str, str]:
        """Name -> URL of every remote, sorted by name."""
        repo = self._repository.open()
        return _remotes_in(repo.get_config()) if repo is not None else {}

    def add(self, name: str, url: str, *, trusted: bool) -> None:
        """Configure remote ``name`` at ``url`` (a local path becomes absolute); idempotent."""
        if not url.strip():
            raise InvalidNameError(url, "is empty", "remote URL")
        location = normalize_location(url.strip())
        existing = self.configured().get(name)
        if existing is not None and existing != location:
            raise InvalidNameError(
                name, f"is already configured with URL {describe_location(existing)}", "remote"
            )
        if existing == location and self.is_trusted(name) == trusted:
            return
        repo = self._repository.writable()

        def write() -> None:
            config = repo.get_config()
            section = (b"remote", name.encode("utf-8"))
            config.set(section, b"url", location.encode("utf-8"))
            config.set(section, b"fetch", f"+refs/heads/*:refs/remotes/{name}/*".encode())
            config.set(section, _TRUSTED_KEY, trusted)
            config.write_to_path()

        self._retry.run("config", write)

    def set_trusted(self, name: str, trusted: bool) -> None:
        """Mark configured remote ``name`` trusted or not."""
        url = self.configured().get(name)
        if url is None:
            raise RemoteError(name, "no remote of that name is configured")
        self.add(name, url, trusted=trusted)

    def is_trusted(self, remote: str) -> bool:
        """Whether ``remote`` (a configured name, or the URL/path of one) is marked trusted."""
        repo = self._repository.open()
        if repo is None or not isinstance(remote, str):
            return False
        config = repo.get_config()
        configured = _remotes_in(config)
        if remote in configured:
            names = [remote]
        else:
            location = normalize_location(remote.strip()) if remote.strip() else remote
            names = [n for n, url in configured.items() if url == location]
        for name in names:
            try:
                if config.get_boolean((b"remote", name.encode("utf-8")), _TRUSTED_KEY, False):
                    return True
            except ValueError:
                continue
        return False

    def remember_fetched(self, location: str, tips: dict[bytes, bytes]) -> None:
        """Note the tips a fetch from ``location`` (not trusted) brought in.

        Marking that remote trusted later vouches for their histories (:meth:`fetched`),
        as a fetch from a trusted remote would have: what came from a remote is then
        admitted without fetching again. Whole lines appended, like the trust list.
        """
        if not tips:
            return
        path = self._fetched_path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(
            f"{sha.decode('ascii')} {ref.decode('utf-8', 'replace')}\n" for ref, sha in tips.items()
        )
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, data.encode("utf-8"))
        finally:
            os.close(fd)

    def fetched(self, location: str) -> list[tuple[bytes, bytes]]:
        """Each ``(ref, tip)`` a fetch from ``location`` brought in while it was not trusted."""
        try:
            text = self._fetched_path(location).read_bytes()
        except FileNotFoundError:
            return []
        found: dict[tuple[bytes, bytes], None] = {}
        for line in text.split(b"\n")[:-1]:  # a torn last line is not whole
            sha, _, ref = line.partition(b" ")
            if len(sha) == 40 and ref:
                found[(ref, sha)] = None
        return list(found)

    def _fetched_path(self, location: str) -> Path:
        key = hashlib.sha1(location.encode("utf-8")).hexdigest()[:20]
        return self._repository.path / GITPET_DIR / "fetched" / key

    def remove(self, name: str) -> None:
        """Forget remote ``name``."""
        if name not in self.configured():
            raise RemoteError(name, "no remote of that name is configured")
        repo = self._repository.writable()

        def write() -> None:
            config: ConfigFile = repo.get_config()
            del config[(b"remote", name.encode("utf-8"))]
            config.write_to_path()

        self._retry.run("config", write)

    def location(self, remote: str) -> str:
        """The URL or absolute path ``remote`` stands for: a configured name, a URL or a path."""
        if not isinstance(remote, str) or not remote.strip():
            raise RemoteError(repr(remote), "a remote is a configured name, a URL or a path")
        remote = remote.strip()
        configured = self.configured().get(remote)
        if configured is not None:
            return configured
        if is_url(remote) or os.sep in remote or remote.startswith(("~", ".")) or os.path.exists(remote):
            return normalize_location(remote)
        raise RemoteError(
            remote, "no remote of that name is configured (add one with add_remote / gitpet remote add)"
        )


def _remotes_in(config: ConfigFile) -> dict[str, str]:
    """Name -> URL of every remote a git config defines."""
    found = {}
    for section in config.sections():
        if len(section) == 2 and section[0] == b"remote":
            try:
                url = config.get(section, b"url")
            except KeyError:
                continue
            found[section[1].decode("utf-8")] = url.decode("utf-8")
    return dict(sorted(found.items()))
