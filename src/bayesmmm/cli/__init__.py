"""The ``bayesmmm`` command line.

Exit codes: 0 ok, 1 invalid data (or fit file), 2 usage error (bad option, spec or
config), 3 an internal error (message only; ``BAYESMMM_DEBUG=1`` shows the traceback).

The commands live by group: ``_data`` (validate, eda), ``_fitting`` (fit, demo,
simulate, compare, validate-fit, bench), ``_planning`` (optimize, whatif, scenarios,
report) and ``_service`` (serve, worker, mcp); ``_common`` holds what they share and
``_settings`` the config file and the sampler flags. They are registered here, in the
order ``bayesmmm --help`` lists them. Command bodies import the library's heavy parts
when they run, so that ``--help`` stays quick.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bayesmmm.cli import _common, _data, _fitting, _planning, _service

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="BayesMMM: Bayesian marketing mix modelling.")


def _print_version(given: bool) -> None:
    if given:
        from bayesmmm import __version__

        typer.echo(f"bayesmmm {__version__}")
        raise typer.Exit()


@app.callback()
def _everywhere(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print only warnings and errors: no progress, tables or "
        "messages (files are written as usual).")] = False,
) -> None:
    _common.out_console.quiet = quiet

app.command()(_data.validate)
app.command()(_fitting.fit)
app.command()(_fitting.demo)
app.command()(_fitting.simulate)
app.command()(_fitting.compare)
app.command("validate-fit")(_fitting.validate_fit)
app.command(context_settings=_fitting.BENCH_SETTINGS)(_fitting.bench)
app.command()(_data.eda)
app.command()(_service.serve)
app.command()(_service.worker)
app.command()(_service.mcp)
app.command()(_planning.optimize)
app.command()(_planning.whatif)
app.command()(_planning.scenarios)
app.command()(_planning.report)


def main() -> None:  # console-script entry point
    app()
