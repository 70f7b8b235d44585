"""The command line builds the parser of the one command it runs: it must be that command's parser.

Building every command's parser cost ~10 ms (argparse looks up its translations for
each), most of ``gitpet log`` of a short history; what the one command's parser says
and parses must not differ from the full parser's.
"""

from __future__ import annotations

import argparse

import pytest

from gitpet.cli.parser import build_parser, chosen_command, command_names


def _command_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    chosen: argparse.ArgumentParser = subparsers.choices[name]
    return chosen


@pytest.mark.parametrize("name", command_names())
def test_the_parser_of_one_command_is_that_command_of_the_full_parser(name: str) -> None:
    alone = build_parser(only=name)
    full = build_parser()
    assert _command_parser(alone, name).format_help() == _command_parser(full, name).format_help()
    (subparsers,) = [a for a in alone._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(subparsers.choices) == [name]


@pytest.mark.parametrize(
    "argv",
    [
        ["--store", "s.git", "log", "Model"],
        ["--store=s.git", "log", "--json", "Model"],
        ["show", "Model@v1", "--store", "t.git"],
        ["remote", "add", "origin", "file:///x"],
        ["pipeline", "diff", "train", "abc1234"],
        ["tag", "Model", "best", "@~1", "--force"],
    ],
)
def test_one_command_s_parser_parses_as_the_full_parser(argv: list[str]) -> None:
    assert chosen_command(argv) == next(a for a in argv if not a.startswith("-") and a not in ("s.git",))
    alone = vars(build_parser(only=chosen_command(argv)).parse_args(argv))
    full = vars(build_parser().parse_args(argv))
    assert alone == full


def test_a_name_that_is_no_command_gets_the_full_parser_and_its_list_of_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser(only="lgo").parse_args(["lgo"])
    error = capsys.readouterr().err
    assert "invalid choice: 'lgo'" in error and "'log'" in error


def test_options_before_the_command_leave_the_choice_to_the_full_parser() -> None:
    assert chosen_command(["--help"]) is None
    assert chosen_command(["--version", "log"]) is None
    assert chosen_command([]) is None
    assert chosen_command(["--store"]) is None
