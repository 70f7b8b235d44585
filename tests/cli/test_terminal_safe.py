"""What the command line prints of stored text: every character that could hide text is escaped.

The rule is written out here on its own, character by character, and held
against :func:`gitpet.cli.output.terminal_safe` for any text: plain ASCII
(which takes a shortcut), ASCII with controls, and any Unicode.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gitpet.cli.output import terminal_safe

_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_NAMED = {"\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\0"}


def _shown(char: str) -> str:
    code = ord(char)
    hides = (code < 0x20 and char not in "\t\n") or 0x7F <= code <= 0x9F or code in _BIDI
    if not hides:
        return char
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def _by_rule(text: str) -> str:
    return "".join(_shown(char) for char in text)


_ASCII = st.characters(max_codepoint=0x7F)
_NEAR_CONTROLS = st.sampled_from(
    [
        "\x00",
        "\x08",
        "\t",
        "\n",
        "\x0b",
        "\x1b",
        "\x1f",
        " ",
        "~",
        "\x7f",
        "\x80",
        "\x9f",
        "\xa0",
        "\u061c",
        "\u200e",
        "\u202e",
        "\u2066",
        "\u2069",
        "\u206a",
        "é",
    ]
)


def test_each_character_alone_and_among_plain_text_is_shown_by_the_rule() -> None:
    for code in range(0x2100):  # every control, ASCII or not, and the bidirectional marks
        char = chr(code)
        assert terminal_safe(char) == _shown(char), hex(code)
        assert terminal_safe(f"ab{char}cd\n") == f"ab{_shown(char)}cd\n", hex(code)


@settings(max_examples=500)  # cheap: many more texts than the suite's default
@given(st.text(_ASCII) | st.text(_NEAR_CONTROLS | _ASCII) | st.text())
def test_every_character_that_hides_text_is_escaped_and_nothing_else(text: str) -> None:
    assert terminal_safe(text) == _by_rule(text)


def test_plain_ascii_is_handed_back_as_it_is() -> None:
    line = "1ec12ee15c3e  eb1f31336585  2023-11-14T22:13:20+00:00  Hist: version 63a4\tx\n" * 100
    assert terminal_safe(line) is line
    assert terminal_safe(line + "\x7f") == line + "\\x7f"
