"""The ``popsurvey`` command line: a thin click layer over the library.

Each command group lives in its own module and is registered on :data:`main` below. Library
exceptions are turned into :class:`click.ClickException` (one line, exit code 1) by
:func:`surveys.cli.common.handle_errors`; nothing else in popsurvey knows about click.
"""

from __future__ import annotations

import click

from surveys.cli.demo import demo
from surveys.cli.form import form
from surveys.cli.import_ import import_
from surveys.cli.init import init
from surveys.cli.pull import pull
from surveys.cli.sample import sample
from surveys.cli.simulate import simulate
from surveys.cli.weighting import estimate, weight


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="popsurvey")
def main() -> None:
    """popsurvey: household sample surveys on ODK, from XLSForm to weighted dataset.

    Typical flow: `form check` and `form build` the questionnaires, deploy them to ODK
    Central, `pull` submissions into the store, check quality, `weight`, `estimate` and
    export. `demo` runs the whole pipeline on simulated fieldwork.
    """


main.add_command(demo)
main.add_command(form)
main.add_command(pull)
main.add_command(import_)
main.add_command(init)
main.add_command(sample)
main.add_command(simulate)
main.add_command(weight)
main.add_command(estimate)
