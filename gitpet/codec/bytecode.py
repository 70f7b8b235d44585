"""The names a code object's instructions use, read from its raw bytecode.

Two bytes an instruction, as CPython 3.6+ lays them out (inline caches read as
``CACHE`` instructions); ``dis`` gives the same answer ten times slower.
"""

from __future__ import annotations

import opcode
import sys
import types
from collections.abc import Iterator

__all__ = ["LOAD_GLOBAL", "named_instructions", "opcodes"]

LOAD_GLOBAL = opcode.opmap["LOAD_GLOBAL"]
_EXTENDED_ARG = opcode.opmap["EXTENDED_ARG"]
# Python 3.11+ packs a "push NULL" flag into LOAD_GLOBAL's low bit.
_LOAD_GLOBAL_SHIFT = 1 if sys.version_info >= (3, 11) else 0


def opcodes(*names: str) -> frozenset[int]:
    """The opcodes of those instruction names this Python has.

    Examples:
        >>> opcodes("LOAD_GLOBAL", "NO_SUCH_INSTRUCTION") == {LOAD_GLOBAL}
        True
    """
    return frozenset(opcode.opmap[name] for name in names if name in opcode.opmap)


def named_instructions(code: types.CodeType, wanted: frozenset[int]) -> Iterator[tuple[int, str]]:
    """``(opcode, name)`` of each ``wanted`` instruction of ``code`` (not the code nested in it), in order.

    ``wanted`` must hold only instructions whose argument indexes ``co_names``.

    Examples:
        >>> code = compile("x = y", "<s>", "exec")
        >>> [name for _op, name in named_instructions(code, opcodes("LOAD_NAME", "STORE_NAME"))]
        ['y', 'x']
    """
    raw, names = code.co_code, code.co_names
    extended = 0
    for index in range(0, len(raw), 2):
        op, arg = raw[index], raw[index + 1] | extended
        if op == _EXTENDED_ARG:
            extended = arg << 8
            continue
        extended = 0
        if op in wanted:
            yield op, names[arg >> _LOAD_GLOBAL_SHIFT if op == LOAD_GLOBAL else arg]
