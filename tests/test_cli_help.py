"""Every popsurvey command and option explains itself in --help."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from surveys.cli import all_commands, main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    commands = all_commands() if group is main else group.commands
    for name, command in sorted(commands.items()):
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


COMMANDS = list(_commands(main))


def test_top_level_help_lists_the_command_groups():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "form", "sample", "pull", "import", "weight", "estimate"):
        assert f"  {name} " in result.output


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_and_option_has_help(path, command):
    assert (command.help or command.short_help or "").strip(), f"{' '.join(path)} has no help"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"{' '.join(path)} {param.opts[0]} has no help"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
