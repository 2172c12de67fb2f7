"""What every command shares: the consoles, exit codes, the error guard, the common
options and printing tables and validation reports."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Rich falls back to 80 columns when output is piped; summaries need more room.
_WIDTH = None if sys.stdout.isatty() else 160
out_console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

EXIT_OK, EXIT_INVALID_DATA, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

# A str, not a Path: Path would fold the '//' of a URL (https://x becomes https:/x).
DataArg = Annotated[str, typer.Argument(
    help="The data, one row per period: a CSV or Parquet file, or a source URL: https://..., "
    "s3://..., gs://..., kaggle://OWNER/DATASET or kaggle://OWNER/DATASET/FILE, or a "
    "database (postgresql://..., sqlite:///sales.db, bigquery://..., snowflake://...) with "
    "--query or --table. See docs/data-sources.md.")]
QueryOpt = Annotated[str | None, typer.Option(
    "--query", help="SQL whose result is the data, when the data is a database URL (it runs "
    "in a transaction that is rolled back).")]
TableOpt = Annotated[str | None, typer.Option(
    "--table", help="Table (or schema.table) to read whole, when the data is a database "
    "URL; instead of --query.")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="JSON, TOML or YAML file with spec fields (date_column, channel_columns, "
    "...) and sampler options; command-line options override it.")]
DateOpt = Annotated[str | None, typer.Option("--date-column", help="Date column (%Y-%m-%d).")]
YOpt = Annotated[str | None, typer.Option("--y-column", help="Target (sales) column.")]
ChannelOpt = Annotated[list[str] | None, typer.Option(
    "--channel", "-c", help="Media spend column; repeat for each channel.")]
ControlOpt = Annotated[list[str] | None, typer.Option(
    "--control", help="Control column; repeat for each control.")]
LagOpt = Annotated[int | None, typer.Option("--adstock-max-lag", help="Adstock length (8).")]
SeasonOpt = Annotated[int | None, typer.Option(
    "--yearly-seasonality", help="Fourier modes of yearly seasonality (2; 0 = none).")]
SepOpt = Annotated[str | None, typer.Option("--sep", help="CSV delimiter (',').")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (0).")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
PanelOpt = Annotated[list[str] | None, typer.Option(
    "--panel", help="Panel (geo) column of a long-format table; repeat for a composite key "
    "(brand, region).")]
FitFileArg = Annotated[Path, typer.Argument(help="Fit file written by `bayesmmm fit` "
                                            "(OUT/fit.nc).")]


def read_data(data: str, sep: str | None, query: str | None = None,
              table: str | None = None) -> Any:
    """The DATA argument as a DataFrame: a file, or a source URL (a database with
    ``--query`` or ``--table``), read by :func:`bayesmmm.data.read_source`."""
    from bayesmmm.data import read_source

    return read_source(data, query=query, table=table, sep=sep)


def data_name(data: str, table: str | None = None) -> str:
    """DATA as titles and notes show it: a file's name, or the URL without secrets."""
    from bayesmmm.data._sources import describe_source

    return describe_source(data, table=table)


def fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def guard(fn: Callable[[], int | None]) -> None:
    """Run a command body, turning our errors into messages and exit codes."""
    from bayesmmm._extras import missing_extra
    from bayesmmm.errors import (
        BayesMMMError,
        DataLoadError,
        DataValidationError,
        FitFileError,
        SpecError,
    )

    try:
        code = fn()
    except DataValidationError as exc:
        print_report(exc.report)
        raise typer.Exit(EXIT_INVALID_DATA) from None
    except (DataLoadError, FitFileError) as exc:
        fail(str(exc), EXIT_INVALID_DATA)
    except SpecError as exc:
        fail(str(exc), EXIT_USAGE)
    except BayesMMMError as exc:
        fail(str(exc), EXIT_INVALID_DATA)
    except KeyboardInterrupt:
        fail("interrupted; nothing was written for the unfinished step", 130)
    except Exception as exc:  # the last line of defence: no traceback at the user
        extra = missing_extra(exc, "this command") if isinstance(exc, ImportError) else None
        if extra:  # a package of an optional extra is not installed: name the extra
            fail(extra, EXIT_USAGE)
        if os.environ.get("BAYESMMM_DEBUG"):
            raise
        fail(f"internal error ({type(exc).__name__}: {exc}). Please report it; rerun with "
             "BAYESMMM_DEBUG=1 for the traceback.", EXIT_INTERNAL)
    if code:
        raise typer.Exit(code)


def check_out(out: Path) -> None:
    """Refuse an unusable output folder before minutes of sampling, not after."""
    from bayesmmm.errors import SpecError

    if out.exists() and not out.is_dir():
        raise SpecError(f"--out '{out}' is a file; pass a folder (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpecError(f"--out '{out}' cannot be created ({exc.strerror}); pass a writable "
                        "folder") from None
    if not os.access(out, os.W_OK):
        raise SpecError(f"--out '{out}' is not writable; pass a writable folder")


def say(text: str) -> None:
    """Print plain text (no Rich markup or highlighting)."""
    out_console.print(escape(text), highlight=False)


def quiet() -> bool:
    """Whether ``--quiet`` was given: print only warnings and errors, show no progress."""
    return bool(out_console.quiet)


def warn(label: str, text: str, colour: str = "yellow") -> None:
    """A warning or note (``label``: ``warning``, ``note``): on standard output with the
    results, or on standard error under ``--quiet``, so that it is never silenced."""
    console = err_console if quiet() else out_console
    console.print(f"[{colour}]{label}:[/] {escape(text)}", highlight=False)


def print_report(report: Any) -> None:
    status = "[green]passed[/]" if report.ok else "[red]failed[/]"
    (out_console if report.ok else err_console).print(
        f"Validation {status}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        f" in {report.n_rows} rows ({report.frequency or 'unknown'} data)", highlight=False)
    for p in report.problems:
        colour = "red" if p.severity == "error" else "yellow"
        where = f"column '{p.column}': " if p.column else ""
        console = err_console if p.severity == "error" else out_console
        console.print(f"[{colour}]{p.severity}[/] " + escape(f"[{p.code}] {where}{p.message}"),
                      highlight=False, markup=True, soft_wrap=True)
        console.print(f"    rule: {p.rule}", highlight=False, markup=False, soft_wrap=True)
        console.print(f"    fix:  {p.fix}", highlight=False, markup=False, soft_wrap=True)


def _cell(column: str, value: Any) -> str:
    if not isinstance(value, float):
        return str(value)
    if column.startswith("ess"):
        return f"{value:,.0f}"
    if column == "r_hat":
        return f"{value:.3f}"
    from bayesmmm._numbers import format_number

    return format_number(value)  # by magnitude: 278,162 / 6.12 / 0.0123, as everywhere


def table(frame: Any, title: str) -> Table:
    out = Table(title=title, title_justify="left")
    out.add_column(escape(frame.index.name or ""), style="bold", no_wrap=True)
    for col in frame.columns:
        out.add_column(escape(str(col)), justify="right")
    for idx, row in frame.iterrows():
        out.add_row(escape(str(idx)), *(escape(_cell(str(c), v)) for c, v in row.items()))
    return out


def write_csv(frame: Any, path: Path) -> None:
    from bayesmmm._files import atomic_write

    atomic_write(path, lambda tmp: frame.to_csv(tmp))
