"""What a pickle imports, read from its opcodes without running any of it.

Unpickling a stored ``class.pkl`` runs code; listing the globals it names
does not. The list is what a reviewer (and the test of the frozen name
table, :data:`gitpet.rebuild.STORED_NAMES`) needs: every ``module.name``
the pickle would import when loaded.
"""

from __future__ import annotations

import pickletools
from typing import Final

__all__ = ["pickle_globals"]

_STRING_OPS: Final = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING"}
)
_PUT_OPS: Final = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GET_OPS: Final = frozenset({"GET", "BINGET", "LONG_BINGET"})


class _Mark:
    """The stack entry MARK pushes."""


class _Value:
    """Any stack entry whose value the scan does not need."""


_MARK: Final = _Mark()
_VALUE: Final = _Value()


def pickle_globals(data: bytes) -> list[str]:
    """The ``module.qualname`` of every global ``data`` would import, in order of first use.

    The stack is simulated opcode by opcode (from :mod:`pickletools`'s
    description of each opcode), so a name built from memoised strings is
    found as well as a literal one. A global whose name is not a literal
    string is reported as ``<computed>``: nothing the stored format writes
    does that.

    Raises:
        ValueError: ``data`` is not a well-formed pickle.

    Examples:
        >>> import pickle, collections
        >>> pickle_globals(pickle.dumps(collections.OrderedDict, protocol=4))
        ['collections.OrderedDict']
        >>> pickle_globals(pickle.dumps([1, "a"], protocol=4))
        []
    """
    found: dict[str, None] = {}
    stack: list[object] = []
    memo: dict[int, object] = {}
    try:
        for op, arg, _pos in pickletools.genops(data):
            name = op.name
            if name in _GET_OPS:
                stack.append(memo.get(int(arg), _VALUE))  # type: ignore[arg-type]
                continue
            if name in _PUT_OPS or name == "MEMOIZE":
                memo[int(arg) if name != "MEMOIZE" else len(memo)] = stack[-1]  # type: ignore[arg-type]
                continue
            if name == "MARK":
                stack.append(_MARK)
                continue
            if name in ("GLOBAL", "INST"):
                module, _, qualname = str(arg).partition(" ")
                found[f"{module}.{qualname}"] = None
            popped = _pop(stack, op.stack_before)
            if name == "STACK_GLOBAL":
                module_arg, name_arg = popped[-2], popped[-1]
                if isinstance(module_arg, str) and isinstance(name_arg, str):
                    found[f"{module_arg}.{name_arg}"] = None
                else:
                    found["<computed>"] = None
            if name in _STRING_OPS:
                stack.append(arg)
            else:
                stack.extend(_VALUE for _ in op.stack_after)
    except (IndexError, KeyError) as err:
        raise ValueError(f"not a well-formed pickle: {type(err).__name__}") from err
    return list(found)


def _pop(stack: list[object], before: list[pickletools.StackObject]) -> list[object]:
    """Pop what an opcode consumes; a mark consumes everything down to the last MARK."""
    taken: list[object] = []
    for kind in reversed(before):
        if kind is pickletools.stackslice:
            while stack[-1] is not _MARK:
                taken.append(stack.pop())
        else:
            taken.append(stack.pop())
    taken.reverse()
    return taken
