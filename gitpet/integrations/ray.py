"""A Ray worker setup hook (``pip install gitpet[ray]``); it imports nothing of Ray.

Give it to ``ray.init`` with the variables of :class:`gitpet.WorkerConfig`::

    ray.init(runtime_env={
        "env_vars": {"GITPET_REMOTE": "git://models.example/team.git", "GITPET_REMOTE_TRUSTED": "1"},
        "worker_process_setup_hook": "gitpet.integrations.ray.setup_hook",
    })

Examples:
    >>> import gitpet
    >>> before = (gitpet.Container.store.path, gitpet.Container.remote)
    >>> setup_hook()
    >>> gitpet.Container.configure(store=before[0], remote=before[1])
"""

from __future__ import annotations

import gitpet

__all__ = ["setup_hook"]


def setup_hook() -> None:
    """Configure this Ray worker process from its ``GITPET_*`` environment (:func:`gitpet.setup`)."""
    gitpet.setup()
