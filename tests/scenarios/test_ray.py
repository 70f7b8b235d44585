"""Ray workers without the code run a pinned pipeline and send results back (``make integration``).

Ray is heavy to install, so this runs in ``make integration``, not ``make test``: Ray
workers get the ``GITPET_*`` variables and gitpet's setup hook from the runtime env.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.laptop_team import run_on_worker

pytest.importorskip("ray")


def test_ray_tasks_run_the_pipeline_and_return_it_pinned(team: dict[str, object]) -> None:
    versions = team["versions"]
    assert isinstance(versions, dict)
    out = run_on_worker(
        team,
        """
        import json, os, sys
        import ray
        from gitpet import BasePlugin, Container, loaded_version
        dump, url = json.loads(sys.argv[1]), sys.argv[2]
        for name in ("GITPET_REMOTE", "GITPET_REMOTE_TRUSTED"):
            os.environ.pop(name)


        @ray.remote
        def task(x, dump):
            from gitpet import BasePlugin, Container
            return BasePlugin.build_from_dump(dump, Container.ppif).fit([x])


        ray.init(num_cpus=2, include_dashboard=False, runtime_env={
            "env_vars": {"GITPET_STORE": sys.argv[3], "GITPET_REMOTE": url, "GITPET_REMOTE_TRUSTED": "1"},
            "worker_process_setup_hook": "gitpet.integrations.ray.setup_hook",
        })
        fitted = ray.get([task.remote(x, dump) for x in range(6)])
        ray.shutdown()
        print(json.dumps({
            "pinned": sorted({loaded_version(type(f)).version_id for f in fitted}),
            "applied": [f.apply(1) for f in fitted],
        }))
        """,
        json.dumps(team["small"]),
        str(team["url"]),
        str(Path(str(team["root"])) / "ray-store"),
        store="ray-driver",
    )
    assert json.loads(out) == {"pinned": [versions["Chain"]], "applied": [1 * 3 + x for x in range(6)]}
