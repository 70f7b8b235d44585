"""The laptop of the distributed scenarios: a pipeline module, pushed to a team remote.

Shared by ``tests/scenarios`` (Dask, process pools, Ray) and ``benchmarks/distributed.py``:
the laptop is a process of its own with the module on its path; every other process runs
from ``<root>/elsewhere``, where there is no copy of it.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import bare_repo, run_python

STEPS = 20
MODULE = '''
from gitpet import BasePlugin, Container


@Container.bind(persist=True)
class Scale(BasePlugin):
    """A fitted step: fit() learns an offset, apply() uses it."""

    def __init__(self, k=2):
        super().__init__(k=k)
        self.k = k
        self.offset = 0

    def fit(self, values):
        self.offset = sum(values)
        return self

    def apply(self, x):
        return x * self.k + self.offset


@Container.bind(persist=True)
class Chain(BasePlugin):
    def __init__(self, steps=()):
        super().__init__(steps=steps)
        self.steps = list(steps)

    def fit(self, values):
        for step in self.steps:
            step.fit(values)
        return self

    def apply(self, x):
        for step in self.steps:
            x = step.apply(x)
        return x
''' + "".join(
    f"""

@Container.bind(persist=True)
class Step{i}(BasePlugin):
    def __init__(self, add={i}):
        super().__init__(add=add)
        self.add = add

    def fit(self, values):
        return self

    def apply(self, x):
        return x + self.add
"""
    for i in range(STEPS)
)


def push_from_laptop(root: Path) -> dict[str, object]:
    """Write the module, push its classes to ``<root>/served/team.git``; return the dumps and versions.

    ``small`` is a Chain of one Scale; ``wide`` a Chain of the {STEPS} steps.
    """
    (root / "laptop").mkdir()
    (root / "laptop" / "pipeline_steps.py").write_text(MODULE)
    (root / "elsewhere").mkdir()  # where every other process runs: no module here
    (root / "served").mkdir()
    remote = bare_repo(root / "served" / "team.git")
    out = run_python(
        """
        import json, sys
        from gitpet import Container
        from pipeline_steps import Chain, Scale
        Container.ppif.push_all()
        Container.store.push(sys.argv[1])
        steps = [Container.ppif[f"Step{i}"]() for i in range(int(sys.argv[2]))]
        print(json.dumps({
            "small": Chain([Scale(3)]).item_dump(),
            "wide": Chain(steps).item_dump(),
            "versions": dict(Container.ppif.version_control),
        }))
        """,
        str(remote),
        str(STEPS),
        cwd=root / "laptop",
        env={"GITPET_STORE": str(root / "laptop" / "store")},
        pythonpath=[str(root / "laptop")],
    )
    return dict(json.loads(out))


def worker_env(root: Path, url: str, store: str) -> dict[str, str]:
    """The environment of a worker with its own store, fetching (trusted) from ``url``."""
    return {"GITPET_STORE": str(root / store), "GITPET_REMOTE": url, "GITPET_REMOTE_TRUSTED": "1"}


def run_on_worker(
    team: dict[str, object], code: str, *args: str, store: str, env: dict[str, str] | None = None
) -> str:
    """Run ``code`` in a new process from ``elsewhere``: a worker of store ``store`` (or ``env``)."""
    root = Path(str(team["root"]))
    full_env = worker_env(root, str(team["url"]), store) if env is None else env
    return run_python(code, *args, cwd=root / "elsewhere", env=full_env, unset=("GITPET_REMOTE",))
