"""The ``popsurvey`` command line: a thin click layer over the library.

Each command group lives in its own module and is named in :data:`COMMANDS`; a module is
imported only when its command runs or its help is shown, so that ``popsurvey --help`` does
not pay for pandas and the statistics stack. Library exceptions are turned into
:class:`click.ClickException` (one line, exit code 1) by
:func:`surveys.cli.common.handle_errors`; nothing else in popsurvey knows about click.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "surveys.cli.demo:demo",
        "Run every stage on the bundled questionnaires and simulated fieldwork.",
    ),
    "form": ("surveys.cli.form:form", "Check, build and document XLSForm questionnaires."),
    "pull": (
        "surveys.cli.pull:pull",
        "Pull submissions from ODK Central into the store, incrementally.",
    ),
    "import": (
        "surveys.cli.import_:import_",
        "Import a Central CSV export, XML files or JSON pages.",
    ),
    "init": ("surveys.cli.init:init", "Start a survey from a commented example survey.toml."),
    "sample": ("surveys.cli.sample:sample", "Draw, report and assign the sample."),
    "simulate": ("surveys.cli.simulate:simulate", "Simulate fieldwork, to files or to a Central."),
    "weight": (
        "surveys.cli.weighting:weight",
        "Weight a dataset (design, non-response, calibration).",
    ),
    "estimate": ("surveys.cli.weighting:estimate", "Estimate indicators with standard errors."),
    "validate": ("surveys.cli.validate:validate", "Validate stored submissions (schema, logic)."),
}
"""Command name -> (``module:attribute`` of its click command, one-line help for the list)."""


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, sorted, without importing any command module."""
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """The command called ``name``, importing its module now."""
        if name in self.commands:
            return self.commands[name]
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name][0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        self.add_command(command, name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help, without importing them."""
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx) if name in COMMANDS]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="popsurvey")
def main() -> None:
    """popsurvey: household sample surveys on ODK, from XLSForm to weighted dataset.

    Typical flow: `form check` and `form build` the questionnaires, deploy them to ODK
    Central, `pull` submissions into the store, check quality, `weight`, `estimate` and
    export. `demo` runs the whole pipeline on simulated fieldwork.
    """


def all_commands() -> dict[str, click.Command]:
    """Every top-level command, imported (for tests and documentation)."""
    ctx = click.Context(main)
    return {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}
