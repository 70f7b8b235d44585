"""A laptop pushes; workers that never had the code run the pipeline and send results back.

Every process here is real: the laptop, the driver and the workers are separate
interpreters, the remote is a real ``git daemon`` on 127.0.0.1, and no process but the
laptop has the module on its path (they run from a directory without it: Dask puts the
driver's working directory on its workers' path). Workers are configured by the
``GITPET_*`` environment alone, or by ``gitpet.setup`` / the Dask worker plugin.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.laptop_team import STEPS, run_on_worker
from tests.servers import fetches_served


def test_an_instance_pickles_as_its_version_with_pickle_joblib_and_cloudpickle(
    team: dict[str, object],
) -> None:
    root = Path(str(team["root"]))
    dump = json.dumps(team["small"])
    pickled, joblibbed, clouded = root / "fitted.pkl", root / "fitted.joblib", root / "fitted.cloudpickle"
    run_on_worker(
        team,
        """
        import json, pickle, sys, cloudpickle, joblib
        from gitpet import BasePlugin, Container
        chain = BasePlugin.build_from_dump(json.loads(sys.argv[1]), Container.ppif).fit([1, 2])
        with open(sys.argv[2], "wb") as f:
            pickle.dump(chain, f)
        joblib.dump(chain, sys.argv[3])
        with open(sys.argv[4], "wb") as f:
            f.write(cloudpickle.dumps(chain))
        """,
        dump,
        str(pickled),
        str(joblibbed),
        str(clouded),
        store="worker-a",
    )
    versions = team["versions"]
    assert isinstance(versions, dict)
    out = run_on_worker(
        team,
        """
        import json, pickle, sys, joblib
        from gitpet import Container, loaded_version
        with open(sys.argv[1], "rb") as f:
            chain = pickle.load(f)
        again = joblib.load(sys.argv[2])
        with open(sys.argv[4], "rb") as f:
            clouded = pickle.load(f)
        scale = chain.steps[0]
        print(json.dumps({
            "same_class": type(chain) is Container.ppif.get_version("Chain", sys.argv[3]) is type(again)
            is type(clouded),
            "pinned": [loaded_version(type(chain)).version_id, loaded_version(type(scale)).version_id],
            "applied": [chain.apply(1), again.apply(1), clouded.apply(1)],
            "dump": chain.item_dump()["version_hash"],
        }))
        """,
        str(pickled),
        str(joblibbed),
        str(versions["Chain"]),
        str(clouded),
        store="worker-b",
    )
    assert json.loads(out) == {
        "same_class": True,
        "pinned": [versions["Chain"], versions["Scale"]],
        "applied": [1 * 3 + 3] * 3,
        "dump": versions["Chain"],
    }


def test_a_process_that_cannot_reach_the_version_says_which(team: dict[str, object]) -> None:
    root = Path(str(team["root"]))
    out = run_on_worker(
        team,
        """
        import pickle, sys
        from gitpet import NotFoundError
        try:
            with open(sys.argv[1], "rb") as f:
                pickle.load(f)
        except NotFoundError as err:
            print(err.name, err.version[:12], "no remote" in str(err) or "remote" not in str(err))
        """,
        str(root / "fitted.pkl"),
        store="worker-c",
        env={"GITPET_STORE": str(root / "worker-c")},
    )
    versions = team["versions"]
    assert isinstance(versions, dict)
    assert out.split() == ["Chain", versions["Chain"][:12], "True"]


@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_a_process_pool_maps_over_instances_and_returns_them_pinned(
    team: dict[str, object], start: str
) -> None:
    """The pool's workers are configured by ``gitpet.setup`` alone: their environment has no GITPET_*."""
    versions = team["versions"]
    assert isinstance(versions, dict)
    out = run_on_worker(
        team,
        """
        import json, operator, os, sys
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context
        import gitpet
        from gitpet import BasePlugin, Container, loaded_version
        chain = BasePlugin.build_from_dump(json.loads(sys.argv[1]), Container.ppif)
        for name in ("GITPET_STORE", "GITPET_REMOTE", "GITPET_REMOTE_TRUSTED"):
            os.environ.pop(name)
        setup = (sys.argv[3], sys.argv[4], True)
        with ProcessPoolExecutor(2, mp_context=get_context(sys.argv[2]), initializer=gitpet.setup,
                                 initargs=setup) as pool:
            fitted = list(pool.map(operator.methodcaller("fit", [5]), [chain] * 4))
        print(json.dumps({
            "same_class": all(type(f) is type(chain) for f in fitted),
            "pinned": sorted({loaded_version(type(f)).version_id for f in fitted}),
            "applied": [f.apply(1) for f in fitted],
        }))
        """,
        json.dumps(team["small"]),
        start,
        str(Path(str(team["root"])) / f"pool-{start}"),
        str(team["url"]),
        store=f"driver-{start}",
    )
    assert json.loads(out) == {
        "same_class": True,
        "pinned": [versions["Chain"]],
        "applied": [1 * 3 + 5] * 4,
    }


def test_a_dask_cluster_runs_the_pipeline_on_workers_without_the_code(team: dict[str, object]) -> None:
    """Two worker processes of two threads each, configured by the worker plugin, one store each."""
    pytest.importorskip("distributed")
    versions = team["versions"]
    assert isinstance(versions, dict)
    out = run_on_worker(
        team,
        """
        import json, os, sys
        from distributed import Client, LocalCluster
        from gitpet import BasePlugin, Container, loaded_version
        from gitpet.integrations.dask import GitpetWorkerPlugin
        dump, url, stores = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]


        def task(x, dump):
            from gitpet import BasePlugin, Container
            return BasePlugin.build_from_dump(dump, Container.ppif).fit([x])


        if __name__ == "__main__":
            for name in ("GITPET_REMOTE", "GITPET_REMOTE_TRUSTED"):
                os.environ.pop(name)
            with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                              env={"GITPET_STORE": stores}) as cluster, Client(cluster) as client:
                client.register_plugin(GitpetWorkerPlugin(remote=url, trust_remote=True))
                fitted = client.gather(client.map(task, range(16), dump=dump))
                where = client.run(lambda: Container.store.path.name)
            print(json.dumps({
                "pinned": sorted({loaded_version(type(f)).version_id for f in fitted}),
                "applied": [f.apply(1) for f in fitted],
                "dumps": sorted({f.item_dump()["version_hash"] for f in fitted}),
                "workers": len(where),
            }))
        """,
        json.dumps(team["small"]),
        str(team["url"]),
        str(Path(str(team["root"])) / "dask-store"),
        store="dask-driver",
    )
    assert json.loads(out) == {
        "pinned": [versions["Chain"]],
        "applied": [1 * 3 + x for x in range(16)],
        "dumps": [versions["Chain"]],
        "workers": 2,
    }


def test_a_wide_pipeline_arrives_in_one_fetch(team: dict[str, object]) -> None:
    """21 classes cost the connections of one: a cold store asks for the refs, then fetches once."""
    log = Path(str(team["log"]))
    served = {}
    for kind in ("small", "wide"):
        before = fetches_served(log)
        out = run_on_worker(
            team,
            """
            import json, sys
            from gitpet import BasePlugin, Container
            chain = BasePlugin.build_from_dump(json.loads(sys.argv[1]), Container.ppif)
            print(chain.apply(0), len(chain.steps))
            """,
            json.dumps(team[kind]),
            store=f"worker-{kind}",
        )
        served[kind] = fetches_served(log) - before
        assert int(out.split()[1]) == (STEPS if kind == "wide" else 1)
    assert served == {"small": 2, "wide": 2}


def test_an_unpinned_lookup_keeps_its_version_until_refreshed(team: dict[str, object]) -> None:
    """``factory[name]`` on a warm worker keeps the version it loaded; refresh() or a ttl looks again."""
    root = Path(str(team["root"]))
    out = run_on_worker(
        team,
        """
        import json, sys
        from gitpet import BasePlugin, Container, PetClassManager, PetFactory, loaded_version
        first = Container.ppif["Scale"]
        every_time = PetFactory(Container.pcm, ttl=0)
        assert every_time["Scale"] is first

        # Meanwhile another machine pushes a newer Scale to the team's remote.
        class Scale(BasePlugin):
            def apply(self, x):
                return -x

        other = PetClassManager(sys.argv[1])
        other.store.fetch(sys.argv[2], trusted=True)
        newer = other.push(Scale, moved=True)  # pipeline_steps.Scale, edited in a script
        other.store.push(sys.argv[2])

        stale = Container.ppif["Scale"] is first
        looked_again = loaded_version(every_time["Scale"]).version_id
        refreshed = Container.ppif.refresh()
        print(json.dumps({
            "stale_until_refreshed": stale,
            "ttl_sees_newer": looked_again == newer,
            "refreshed": refreshed,
            "after_refresh": loaded_version(Container.ppif["Scale"]).version_id == newer,
            "pinned_still_exact": Container.ppif.get_version("Scale", sys.argv[3]) is first,
        }))
        """,
        str(root / "other-laptop"),
        str(team["url"]),
        str(dict(team["versions"])["Scale"]),  # type: ignore[call-overload]
        store="worker-refresh",
    )
    assert json.loads(out) == {
        "stale_until_refreshed": True,
        "ttl_sees_newer": True,
        "refreshed": ["Scale"],
        "after_refresh": True,
        "pinned_still_exact": True,
    }
