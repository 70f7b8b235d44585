"""The team the distributed scenarios share: the laptop's push, served by a real git daemon."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.laptop_team import push_from_laptop
from tests.servers import git_daemon


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The laptop's push: a remote served by git daemon, the pipeline dumps, the versions."""
    root = tmp_path_factory.mktemp("distributed")
    pushed = push_from_laptop(root)
    log = root / "daemon.log"
    with git_daemon(root / "served", log=log) as url:
        yield {"root": root, "url": f"{url}/team.git", "log": log, **pushed}
