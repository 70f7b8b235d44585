"""The classes the benchmark measures: generated into real module files on disk.

* small classes: ``count`` distinct two-member classes, for the scale rows;
* plugins: ~20 plugin classes of 50-150 lines, each with module-level
  helpers, a docstring, properties, static methods and loops, the shape of
  the filters and transforms of an ML pipeline.

Modules are user code, registered with cloudpickle by value (as gitpet's
module policy captures them), so every class is stored by value.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import cloudpickle

__all__ = ["import_module", "plugin_classes", "small_classes"]


def import_module(workdir: Path, name: str, source: str, copy: int | None = None) -> ModuleType:
    """Write ``source`` as ``workdir/name.py`` and import it (user code, pickled by value).

    ``copy``: an edit of module ``name`` in a file of its own (``workdir/name-<copy>/name.py``),
    so that classes of earlier edits keep their unchanged file, as versions of one class.
    """
    if copy is not None:
        folder = workdir / f"{name}-{copy}"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.py").write_text(source)
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        cloudpickle.register_pickle_by_value(module)
        return module
    (workdir / f"{name}.py").write_text(source)
    if str(workdir) not in sys.path:
        sys.path.insert(0, str(workdir))
    sys.modules.pop(name, None)  # a module of the same name from an earlier run of the suite
    importlib.invalidate_caches()
    module = importlib.import_module(name)
    cloudpickle.register_pickle_by_value(module)
    return module


def small_classes(
    workdir: Path, count: int, module_name: str, edit: int = 0, copy: int | None = None
) -> list[type]:
    """``count`` small distinct classes in one module; another ``edit`` changes every method."""
    source = "".join(
        f"\nclass C{i}:\n    k = {i}\n\n    def f(self, x):\n        return x * {i} + self.k + {edit}\n"
        for i in range(count)
    )
    module = import_module(workdir, module_name, source, copy)
    return [getattr(module, f"C{i}") for i in range(count)]


_HELPERS = '''
def _clip_{i}(values, low, high):
    """Clip every value into [low, high]."""
    return [min(max(v, low), high) for v in values]


def _window_mean_{i}(values, width):
    out = []
    total = 0.0
    for index, value in enumerate(values):
        total += value
        if index >= width:
            total -= values[index - width]
        out.append(total / min(index + 1, width))
    return out
'''

_CLASS_HEAD = '''

class Plugin{i}(BasePlugin):
    """Filter {i} of the benchmark pipeline: smooths, scales and clips a series.

    Parameters are recorded by BasePlugin, so the pipeline dumps with them.
    """

    default_width = {width}
    names = ("mean", "scale", "clip", "plugin{i}")

    def __init__(self, width={width}, scale=1.0, low=-1e6, high=1e6, edit={edit}):
        super().__init__(width=width, scale=scale, low=low, high=high, edit=edit)
        self.width = width
        self.scale = scale
        self.low = low
        self.high = high
        self.fitted = None

    @property
    def bounds(self):
        return (self.low, self.high)

    @staticmethod
    def _check(values):
        if not isinstance(values, (list, tuple)):
            raise TypeError("expected a list of numbers")
        return list(values)

    def fit(self, values):
        values = self._check(values)
        smoothed = _window_mean_{i}(values, self.width)
        self.fitted = sum(smoothed) / max(len(smoothed), 1)
        return self

    def transform(self, values):
        values = self._check(values)
        centred = [v - (self.fitted or 0.0) + {edit} for v in values]
        scaled = [v * self.scale for v in _window_mean_{i}(centred, self.width)]
        return _clip_{i}(scaled, *self.bounds)

    def __call__(self, values):
        return self.fit(values).transform(values)
'''

_EXTRA_METHOD = '''
    def step_{j}(self, values, factor={j}):
        """Extra stage {j}: a weighted running difference."""
        out = []
        previous = None
        for value in self._check(values):
            if previous is None:
                out.append(value)
            else:
                out.append(value - previous * factor / ({j} + 1))
            previous = value
        return out
'''


def plugin_source(count: int, edit: int = 0) -> str:
    """A module of ``count`` plugin classes, each 50-150 lines with its helpers."""
    parts = ["from gitpet import BasePlugin\n"]
    for i in range(count):
        parts.append(_HELPERS.format(i=i))
        parts.append(_CLASS_HEAD.format(i=i, width=3 + i % 5, edit=edit))
        parts.extend(_EXTRA_METHOD.format(j=j) for j in range(1 + i % 8))
    return textwrap.dedent("".join(parts))


def plugin_classes(
    workdir: Path, module_name: str, count: int = 20, edit: int = 0, copy: int | None = None
) -> list[type]:
    """``count`` realistic plugin classes (see :func:`plugin_source`)."""
    module = import_module(workdir, module_name, plugin_source(count, edit), copy)
    return [getattr(module, f"Plugin{i}") for i in range(count)]


def class_lines(cls: type) -> int:
    """Lines of a generated plugin class with its two helpers (for the report)."""
    import inspect

    helpers = [
        getattr(sys.modules[cls.__module__], f"_{h}_{cls.__name__[6:]}") for h in ("clip", "window_mean")
    ]
    return sum(len(inspect.getsource(obj).splitlines()) for obj in (cls, *helpers))
