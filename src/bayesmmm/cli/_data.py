"""Commands on the data before any fit: ``validate`` and ``eda``. The data is a file or
a source URL (a database with ``--query`` or ``--table``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bayesmmm.cli._common import (
    EXIT_INVALID_DATA,
    EXIT_OK,
    ChannelOpt,
    ConfigOpt,
    ControlOpt,
    DataArg,
    DateOpt,
    LagOpt,
    OutOpt,
    PanelOpt,
    QueryOpt,
    SeasonOpt,
    SepOpt,
    TableOpt,
    YOpt,
    check_out,
    data_name,
    guard,
    out_console,
    print_report,
    read_data,
    say,
)
from bayesmmm.cli._settings import read_settings

__all__ = ["eda", "validate"]


def validate(data: DataArg, config: ConfigOpt = None, date_column: DateOpt = None,
             y_column: YOpt = None, channel: ChannelOpt = None, control: ControlOpt = None,
             adstock_max_lag: LagOpt = None, yearly_seasonality: SeasonOpt = None,
             sep: SepOpt = None, query: QueryOpt = None, table: TableOpt = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Check the data and list every problem with a fix; exit 1 if any error."""
    def body() -> int:
        from bayesmmm.data import validate as run_validation

        chosen = read_settings(config, date_column=date_column, y_column=y_column,
                               channel_columns=channel, control_columns=control,
                               adstock_max_lag=adstock_max_lag,
                               yearly_seasonality=yearly_seasonality, sep=sep)
        report = run_validation(read_data(data, chosen.sep, query, table),
                                **chosen.spec.data_kwargs())
        if as_json:
            print(json.dumps(report.to_dict(), indent=1))
        else:
            print_report(report)
        return EXIT_OK if report.ok else EXIT_INVALID_DATA

    guard(body)


def eda(data: DataArg, config: ConfigOpt = None, date_column: DateOpt = None,
        y_column: YOpt = None, channel: ChannelOpt = None, control: ControlOpt = None,
        panel: PanelOpt = None, sep: SepOpt = None, query: QueryOpt = None,
        table: TableOpt = None, out: OutOpt = Path("bayesmmm-eda"),
        image_format: Annotated[str, typer.Option(
            "--format", help="Image format of the plots: png, or svg / pdf (vector, for "
            "slides and print).")] = "png") -> None:
    """Exploratory plots before any fit: one image per plot and a self-contained eda.html.

    Panel data are shown as the total over panel cells (target and spend summed,
    controls averaged); see docs/plots.md.
    """
    def body() -> None:
        from bayesmmm.data import prepare
        from bayesmmm.errors import SpecError
        from bayesmmm.report import (
            IMAGE_FORMATS,
            eda_figures,
            plot_data_outliers,
            write_figures_html,
            write_image,
        )

        kind = image_format.lower().lstrip(".")
        if kind not in IMAGE_FORMATS:
            raise SpecError(f"--format {image_format!r}: choose one of "
                            f"{', '.join(IMAGE_FORMATS)}")
        chosen = read_settings(config, date_column=date_column, y_column=y_column,
                               channel_columns=channel, control_columns=control,
                               panel_columns=panel, sep=sep)
        check_out(out)
        prepared, report = prepare(read_data(data, chosen.sep, query, table),
                                   **chosen.spec.data_kwargs())
        if report.warnings:
            print_report(report)
        with out_console.status("Drawing exploratory plots ...") as status:
            figures = eda_figures(prepared)
            for name, figure in figures.items():
                status.update(f"Writing {name}.{kind} ...")
                write_image(figure, out / f"{name}.{kind}")
        flagged = plot_data_outliers(prepared)
        dates = prepared.dates
        shown = data_name(data, table)
        notes = [f"{shown}: {prepared.n_times} periods "
                 f"({prepared.frequency or 'unknown frequency'}) from "
                 f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}",
                 f"target {prepared.y_column}; channels {', '.join(prepared.channel_names)}"
                 + (f"; controls {', '.join(prepared.control_names)}"
                    if prepared.control_names else "")]
        if prepared.is_panel:
            notes.append(f"{prepared.n_geos} panel cells ({', '.join(prepared.panel_columns)})"
                         ": plots show the total over cells")
        outliers = (f"{int(flagged['outlier'].sum())} outlier period(s) flagged (robust z "
                    "of the target around its local level over 13 periods, |z| > 3.5)")
        notes.append(outliers)
        notes += [f"validation warning [{w.code}]: {w.message}" for w in report.warnings]
        write_figures_html(figures, out / "eda.html", f"Exploratory analysis: {shown}",
                           notes)
        say(outliers)
        say(f"Wrote {len(figures)} PNG files and eda.html to {out}/")

    guard(body)
