PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check docs stress gc-size bench compat golden clean structure integration bench-distributed

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# Longer runs of the concurrency, crash and gc tests (not part of `make test`).
stress: $(STAMP)
	GITPET_STRESS_WRITERS=8 GITPET_STRESS_PUSHES=250 GITPET_STRESS_CRASH_ROUNDS=60 GITPET_STRESS_REMOTE_PUSHES=50 GITPET_STRESS_BIG_CLASS_MB=600 GITPET_STRESS_KILL_ROUNDS=60 \
		$(PY) -m pytest -q -p no:cacheprovider tests/scenarios/test_concurrency.py tests/maintenance/test_gc.py \
		tests/sync/test_remote.py::test_pushers_that_keep_racing_each_other_all_land \
		tests/git/test_large_objects.py::test_any_class_gitpet_writes_it_can_verify_pack_push_and_fetch tests/scenarios/test_kills.py

# The package's structure in figures: modules, largest module, longest function, import
# circles, imports inside functions, private names used across modules (issue 16).
structure: $(STAMP)
	$(PY) tools/structure.py gitpet

# Store size before and after gc for a store of 1000 versions.
gc-size: $(STAMP)
	$(PY) benchmarks/gc_size.py 1000

# The benchmark suite (docs/performance.md): a table on stdout, everything in bench.json.
# Timings are never asserted; `make test` runs a tiny smoke run of the same script.
# It draws the history-scaling curves (gitpet against git) into docs/performance-scaling.png.
bench: $(STAMP)
	$(PY) -m pip install --quiet matplotlib
	$(PY) benchmarks/bench.py --classes 1000 --rounds 5 --repeat 3 --json bench.json --plot docs/performance-scaling.png

# The documentation site (mkdocs, material theme, API reference from the docstrings) into site/.
# `make test` builds it too and runs every Python example in it.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# Every Python minor and dependency release pyproject.toml declares: golden ids, committed
# stores, cross-loading (tests/golden/compat.py; venvs cached in .compat/). `make test` runs --quick.
# Dask workers without the code: cold and warm per-task cost, round trips to the remote.
bench-distributed: $(STAMP)
	$(PY) benchmarks/distributed.py --tasks 200

# The engines too heavy for make test (Ray): installed here, then their scenario tests.
integration: $(STAMP)
	$(PY) -m pip install --quiet 'ray>=2.9'
	$(PY) -m pytest -q -p no:cacheprovider tests/scenarios/test_ray.py tests/scenarios/test_distributed.py

compat: $(STAMP)
	$(PY) tests/golden/compat.py

# Rewrite the golden ids and store of one Python minor: only for a deliberate format change.
# Another minor: make golden GOLDEN_PYTHON=.compat/py3.12-cp3.1.3-dw1.2.21/bin/python
GOLDEN_PYTHON ?= $(PY)
golden: $(STAMP)
	PYTHONPATH=$(CURDIR) $(GOLDEN_PYTHON) tests/golden/golden.py regenerate

check: $(STAMP)
	$(VENV)/bin/ruff check gitpet tests examples benchmarks tools
	$(VENV)/bin/mypy --strict gitpet

clean:
	rm -rf $(VENV) .gitpet site .compat
