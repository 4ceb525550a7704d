"""The `triage` command: every registered command resolves and answers --help."""

from __future__ import annotations

import importlib

import pytest

from serve_app.cli import COMMANDS, main


@pytest.mark.parametrize("words", list(COMMANDS), ids=[" ".join(w) for w in COMMANDS])
def test_every_command_has_its_own_parser(words, capsys):
    module, _, function = COMMANDS[words][0].partition(":")
    assert callable(getattr(importlib.import_module(module), function or "main"))
    with pytest.raises(SystemExit) as exc:
        main([*words, "--help"])
    assert exc.value.code == 0
    assert f"usage: triage {' '.join(words)}" in capsys.readouterr().out


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(" ".join(w) in out for w in COMMANDS)


def test_a_group_without_its_subcommand_lists_the_group_and_fails(capsys):
    assert main(["bench"]) == 2
    err = capsys.readouterr().err
    assert "bench overhead" in err and "validate" not in err


def test_unknown_command_fails(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
