"""A Dask worker plugin that configures gitpet on every worker (``pip install gitpet[dask]``).

Examples:
    >>> plugin = GitpetWorkerPlugin(remote="git://models.example/team.git", trust_remote=True)
    >>> plugin.name, plugin.remote, plugin.trust_remote
    ('gitpet', 'git://models.example/team.git', True)
"""

from __future__ import annotations

import os
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

import gitpet

__all__ = ["GitpetWorkerPlugin"]


class GitpetWorkerPlugin(WorkerPlugin):
    """Calls :func:`gitpet.setup` on each worker: ``client.register_plugin(GitpetWorkerPlugin(...))``.

    Args:
        store: the worker's store (default: ``$GITPET_STORE`` there, else ``./.gitpet``).
            Workers of one machine may share one store.
        remote: the git remote the versions a task pins are fetched from.
        trust_remote: vouch for what is fetched from ``remote`` on arrival (default:
            ``$GITPET_REMOTE_TRUSTED`` there).
    """

    name = "gitpet"

    def __init__(
        self,
        store: str | os.PathLike[str] | None = None,
        remote: str | None = None,
        trust_remote: bool | None = None,
    ) -> None:
        self.store = None if store is None else os.fspath(store)
        self.remote = remote
        self.trust_remote = trust_remote

    def setup(self, worker: Any) -> None:
        """Configure the worker process's default container (:data:`gitpet.Container`)."""
        gitpet.setup(self.store, self.remote, self.trust_remote)
