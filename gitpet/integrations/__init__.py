"""Thin, optional hooks that configure gitpet on the workers of a compute engine.

Each module imports its engine only when imported itself (``gitpet[dask]``,
``gitpet[ray]``); ``import gitpet`` never imports them. All they do is call
:func:`gitpet.setup` in every worker process; a worker started with the
``GITPET_*`` environment variables needs none of them (see docs/distributed.md).
"""
