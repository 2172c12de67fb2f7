"""The ``bayesmmm`` command line.

Exit codes: 0 ok, 1 invalid data (or fit file), 2 usage error (bad option, spec or
config), 3 an internal error (message only; ``BAYESMMM_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="BayesMMM: Bayesian marketing mix modelling.")
# Rich falls back to 80 columns when output is piped; summaries need more room.
_WIDTH = None if sys.stdout.isatty() else 160
out_console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

EXIT_OK, EXIT_INVALID_DATA, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

DataArg = Annotated[Path, typer.Argument(help="CSV or Parquet file, one row per period.")]
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
ChainsOpt = Annotated[int | None, typer.Option("--chains", help="Chains (4).")]
WarmupOpt = Annotated[int | None, typer.Option("--warmup", help="Warm-up draws per chain (1000).")]
DrawsOpt = Annotated[int | None, typer.Option("--draws", help="Draws per chain (1000).")]
AcceptOpt = Annotated[float | None, typer.Option("--target-accept", help="NUTS target (0.8).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (0).")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
PresetOpt = Annotated[str | None, typer.Option(
    "--preset", help="Model preset: classic, or LightweightMMM's adstock, hill_adstock, "
    "carryover.")]
PanelOpt = Annotated[list[str] | None, typer.Option(
    "--panel", help="Panel (geo) column of a long-format table; repeat for a composite key "
    "(brand, region).")]
TrendOpt = Annotated[str | None, typer.Option(
    "--trend", help="none, linear, piecewise, power or smooth.")]
HolidayOpt = Annotated[list[str] | None, typer.Option(
    "--holidays", help="Country code whose holidays become controls (US, GB, DE ...).")]
AdstockOpt = Annotated[str | None, typer.Option(
    "--adstock", help="Adstock form for all channels (geometric, delayed, weibull_cdf, ...).")]
SaturationOpt = Annotated[str | None, typer.Option(
    "--saturation", help="Saturation form for all channels (logistic, hill, ...).")]

_SAMPLER_KEYS = ("chains", "warmup", "draws", "target_accept", "seed", "centring",
                 "time_limit")


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _guard(fn: Callable[[], int | None]) -> None:
    """Run a command body, turning our errors into messages and exit codes."""
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
        _print_report(exc.report)
        raise typer.Exit(EXIT_INVALID_DATA) from None
    except (DataLoadError, FitFileError) as exc:
        _fail(str(exc), EXIT_INVALID_DATA)
    except SpecError as exc:
        _fail(str(exc), EXIT_USAGE)
    except BayesMMMError as exc:
        _fail(str(exc), EXIT_INVALID_DATA)
    except KeyboardInterrupt:
        _fail("interrupted; nothing was written for the unfinished step", 130)
    except Exception as exc:  # the last line of defence: no traceback at the user
        if os.environ.get("BAYESMMM_DEBUG"):
            raise
        _fail(f"internal error ({type(exc).__name__}: {exc}). Please report it; rerun with "
              "BAYESMMM_DEBUG=1 for the traceback.", EXIT_INTERNAL)
    if code:
        raise typer.Exit(code)


def _read_config(path: Path | None) -> dict[str, Any]:
    from bayesmmm.errors import SpecError

    if path is None:
        return {}
    if not path.is_file():
        raise SpecError(f"config file '{path}' does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            cfg = tomllib.loads(text)
        elif path.suffix in {".yaml", ".yml"}:
            import yaml

            cfg = yaml.safe_load(text)
        else:
            cfg = json.loads(text)
    except Exception as exc:
        raise SpecError(f"config file '{path}' could not be parsed: {exc}") from None
    if not isinstance(cfg, dict):
        raise SpecError(f"config file '{path}' must hold a mapping of options")
    return cfg


def _settings(config: Path | None, preset: str | None = None, **options: Any
              ) -> tuple[Any, dict[str, Any]]:
    """Merge config file and options into (ModelSpec, sampler kwargs); a preset gives the
    spec's starting point."""
    from bayesmmm.errors import SpecError
    from bayesmmm.model import ModelSpec, preset_spec

    cfg = _read_config(config)
    sampler = {k: cfg.pop(k) for k in _SAMPLER_KEYS if k in cfg}
    table = cfg.pop("sampler", None) or {}
    if not isinstance(table, dict):
        raise SpecError(f"'sampler' in the config must be a table of options, got {table!r}")
    sampler.update(table)
    sep = cfg.pop("sep", None)
    for key, value in options.items():
        if value is None or value == []:
            continue
        (sampler if key in _SAMPLER_KEYS else cfg)[key] = value
    cfg.setdefault("sep", sep)
    sep = cfg.pop("sep")
    missing = [f"--{k.replace('_', '-')}" for k in ("date_column", "y_column") if k not in cfg]
    if "channel_columns" not in cfg:
        missing.append("--channel")
    if missing:
        raise SpecError(f"missing {', '.join(missing)}: name the columns as options or in "
                        "--config (e.g. --date-column date --y-column sales --channel tv)")
    unknown = set(sampler) - set(_SAMPLER_KEYS)
    if unknown:
        raise SpecError(f"unknown sampler option(s) {sorted(unknown)}; expected "
                        f"{list(_SAMPLER_KEYS)}")
    preset = cfg.pop("preset", None) if preset is None else preset
    spec = ModelSpec.from_dict(cfg)
    if preset is not None:
        spec = preset_spec(preset, **{k: getattr(spec, k) for k in cfg if k != "priors"},
                           priors=dict(spec.priors))
    return spec, {**sampler, "sep": sep}


def _print_report(report: Any) -> None:
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
    if abs(value) >= 1000:
        return f"{value:,.0f}"  # money and sales: 278,162 rather than 2.782e+05
    return f"{value:,.4g}"


def _table(frame: Any, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(escape(frame.index.name or ""), style="bold", no_wrap=True)
    for col in frame.columns:
        table.add_column(escape(str(col)), justify="right")
    for idx, row in frame.iterrows():
        table.add_row(escape(str(idx)), *(escape(_cell(str(c), v)) for c, v in row.items()))
    return table


@app.command()
def validate(data: DataArg, config: ConfigOpt = None, date_column: DateOpt = None,
             y_column: YOpt = None, channel: ChannelOpt = None, control: ControlOpt = None,
             adstock_max_lag: LagOpt = None, yearly_seasonality: SeasonOpt = None,
             sep: SepOpt = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Check a data file and list every problem with a fix; exit 1 if any error."""
    def body() -> int:
        from bayesmmm.data import load_table
        from bayesmmm.data import validate as run_validation

        spec, extra = _settings(config, date_column=date_column, y_column=y_column,
                                channel_columns=channel, control_columns=control,
                                adstock_max_lag=adstock_max_lag,
                                yearly_seasonality=yearly_seasonality, sep=sep)
        report = run_validation(load_table(data, sep=extra["sep"]), **spec.data_kwargs())
        if as_json:
            print(json.dumps(report.to_dict(), indent=1))
        else:
            _print_report(report)
        return EXIT_OK if report.ok else EXIT_INVALID_DATA

    _guard(body)


def _check_out(out: Path) -> None:
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


def _fit_and_write(data: Any, spec: Any, sampler: dict[str, Any], out: Path) -> None:
    import bayesmmm as bm
    from bayesmmm.data import prepare
    from bayesmmm.report import export_results

    _check_out(out)
    prepared, report = prepare(data, **spec.data_kwargs(), sep=sampler.pop("sep", None))
    if report.warnings:
        _print_report(report)
    where = f" in {prepared.n_geos} panel cells" if prepared.is_panel else ""
    out_console.print(f"Fitting {len(spec.channel_columns)} channels, "
                      f"{len(spec.control_columns)} controls, {prepared.n_times} periods"
                      f"{where} ...")
    fitted = bm.fit(prepared, spec, **sampler)
    paths = export_results(fitted, out)
    out_console.print(_table(fitted.summary(), "Posterior summary (scaled units)"))
    out_console.print(_table(fitted.roi(), "ROI (incremental sales per unit of spend)"))
    m = fitted.fit_metrics()
    out_console.print(f"Fit: R² {m['r2']:.3f} · MAPE {m['mape']:.2f}% · Durbin-Watson "
                      f"{m['durbin_watson']:.2f} · fitted in {fitted.meta['seconds_total']:.1f} s")
    for w in fitted.warnings():
        out_console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    out_console.print(escape(f"Wrote {', '.join(p.name for p in paths.values())} to {out}/"),
                      highlight=False)


@app.command()
def fit(data: DataArg, config: ConfigOpt = None, date_column: DateOpt = None,
        y_column: YOpt = None, channel: ChannelOpt = None, control: ControlOpt = None,
        adstock_max_lag: LagOpt = None, yearly_seasonality: SeasonOpt = None,
        sep: SepOpt = None, chains: ChainsOpt = None, warmup: WarmupOpt = None,
        draws: DrawsOpt = None, target_accept: AcceptOpt = None, seed: SeedOpt = None,
        preset: PresetOpt = None, panel: PanelOpt = None, trend: TrendOpt = None,
        holidays: HolidayOpt = None, adstock: AdstockOpt = None,
        saturation: SaturationOpt = None, out: OutOpt = Path("bayesmmm-output")) -> None:
    """Validate, fit the MMM (classic by default), print the summary and write results.

    Everything the model offers (per-channel forms, priors, lift tests, events, costs per
    unit ...) can be set in --config; the options here override it.
    """
    def body() -> None:
        spec, sampler = _settings(config, preset, date_column=date_column, y_column=y_column,
                                  channel_columns=channel, control_columns=control,
                                  adstock_max_lag=adstock_max_lag,
                                  yearly_seasonality=yearly_seasonality, sep=sep, chains=chains,
                                  warmup=warmup, draws=draws, target_accept=target_accept,
                                  seed=seed, panel_columns=panel, trend=trend,
                                  holidays=holidays, adstock=adstock, saturation=saturation)
        _fit_and_write(data, spec, sampler, out)

    _guard(body)


@app.command()
def demo(out: OutOpt = Path("bayesmmm-demo"), chains: ChainsOpt = None,
         warmup: WarmupOpt = None, draws: DrawsOpt = None, seed: SeedOpt = None) -> None:
    """Fit the bundled example (PyMC-Marketing's simulated data) and write the results."""
    def body() -> None:
        from bayesmmm.datasets import example_path, example_spec

        sampler = {k: v for k, v in dict(chains=chains, warmup=warmup, draws=draws,
                                         seed=seed).items() if v is not None}
        out_console.print(escape(f"Example data: {example_path()}"), highlight=False)
        _fit_and_write(example_path(), example_spec(), sampler, out)

    _guard(body)


@app.command()
def simulate(
    preset: Annotated[str, typer.Option(
        "--preset", help="small_business, growing_business, medium_business or "
        "large_business.")] = "small_business",
    seed: SeedOpt = None, out: OutOpt = Path("bayesmmm-synth"),
    force: Annotated[bool, typer.Option(
        "--force", help="Write into a folder that already holds files.")] = False,
) -> None:
    """Simulate a preset data set with known truth: data.csv, truth.json, spec.json."""
    def body() -> None:
        from bayesmmm.errors import SpecError
        from bayesmmm.synth import preset as preset_config
        from bayesmmm.synth import simulate as run_simulation

        config = preset_config(preset)  # an unknown name fails before --out is touched
        if out.is_dir() and any(out.iterdir()) and not force:
            raise SpecError(f"--out '{out}' is not empty; pass an empty or new folder, or "
                            "--force to overwrite data.csv, truth.json and spec.json there")
        _check_out(out)
        with out_console.status(f"Simulating {preset} ..."):
            sim = run_simulation(config, 0 if seed is None else seed)
            paths = sim.write(out)
        s = sim.truth["summary"]
        table = Table(title=f"Simulated {preset} (seed {sim.truth['seed']})",
                      title_justify="left")
        for col in ("rows", "geos", "weeks", "channels", "controls", "media share",
                    "R² of true mean"):
            table.add_column(col, justify="right")
        table.add_row(f"{s['n_rows']:,}", str(s["n_geos"]), str(s["n_weeks"]),
                      str(len(s["channels"])), str(len(s["controls"])),
                      f"{s['media_share']:.1%}", f"{s['r2_true_mean']:.3f}")
        out_console.print(table)
        out_console.print(escape(f"Wrote {', '.join(p.name for p in paths.values())} to "
                                 f"{out}/"), highlight=False)

    _guard(body)


@app.command()
def compare(data: DataArg, config: ConfigOpt = None, date_column: DateOpt = None,
            y_column: YOpt = None, channel: ChannelOpt = None, control: ControlOpt = None,
            panel: PanelOpt = None, sep: SepOpt = None,
            preset: Annotated[list[str] | None, typer.Option(
                "--preset", help="A preset to compare; repeat (default: classic, adstock, "
                "hill_adstock, carryover).")] = None,
            holdout: Annotated[int, typer.Option(
                "--holdout", help="Periods held out at the end for the holdout MAPE "
                "(0 = none).")] = 13,
            chains: ChainsOpt = None, warmup: WarmupOpt = None, draws: DrawsOpt = None,
            seed: SeedOpt = None, out: OutOpt = Path("bayesmmm-compare")) -> None:
    """Fit several model presets on the same data and rank them (PSIS-LOO, holdout MAPE)."""
    def body() -> None:
        from bayesmmm.analysis import compare_specs
        from bayesmmm.data import load_table
        from bayesmmm.report import write_table, write_text

        names = preset or ["classic", "adstock", "hill_adstock", "carryover"]
        specs: dict[str, Any] = {}
        sampler: dict[str, Any] = {}
        for name in dict.fromkeys(names):
            specs[name], sampler = _settings(
                config, name, date_column=date_column, y_column=y_column,
                channel_columns=channel, control_columns=control, panel_columns=panel,
                sep=sep, chains=chains, warmup=warmup, draws=draws, seed=seed)
        _check_out(out)
        table = load_table(data, sep=sampler.pop("sep"))
        with out_console.status("Fitting ...") as status:
            result = compare_specs(table, specs, holdout_periods=holdout,
                                   progress=lambda n: status.update(f"Fitting {n} ..."),
                                   **sampler)
        shown = result.table[[c for c in ("rank", "elpd_loo", "se", "elpd_diff", "dse",
                                          "holdout_mape", "in_sample_mape", "max_r_hat",
                                          "divergences") if c in result.table]]
        out_console.print(_table(shown, "Model comparison (higher elpd_loo is better)"))
        out_console.print(escape(result.recommendation), highlight=False)
        write_table(result.table, out / "comparison.csv")
        write_text(result.recommendation + "\n", out / "recommendation.txt")
        out_console.print(escape(f"Wrote comparison.csv, recommendation.txt to {out}/"),
                          highlight=False)

    _guard(body)


@app.command("validate-fit")
def validate_fit(
    fit_file: Annotated[Path, typer.Argument(help="Fit file written by `bayesmmm fit`.")],
    truth_file: Annotated[Path, typer.Argument(help="truth.json from `bayesmmm simulate`.")],
    test: Annotated[Path | None, typer.Option(
        "--test", help="CSV of held-out periods right after the fitted ones (adds holdout "
        "MAPE and R²).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report as "
                                                                 "JSON here.")] = None,
) -> None:
    """Check a fit against its simulation's truth; exit 1 if any check fails.

    Reports parameter, ROI and contribution recovery, in-sample (and with --test holdout)
    MAPE and R², Durbin-Watson, r_hat, divergences and ESS, each against its threshold.
    """
    def body() -> int:
        from bayesmmm.bench import validate_fit as run_validation
        from bayesmmm.errors import DataLoadError
        from bayesmmm.model import load_fit

        fitted = load_fit(fit_file)
        try:
            truth = json.loads(truth_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataLoadError(f"truth file '{truth_file}' could not be read ({exc}). Fix: "
                                "pass the truth.json written by `bayesmmm simulate`") from None
        if out is not None and out.is_dir():
            raise DataLoadError(f"--out '{out}' is a folder; pass a file name "
                                "(e.g. report.json)")
        report = run_validation(fitted, truth, test=None if test is None else str(test))
        checks = report.table()
        checks["passed"] = checks["passed"].map({True: "yes", False: "NO"})
        out_console.print(_table(checks, "Validation against the truth"))
        worst = report.worst_parameters(8)[["truth", "mean", "rel_error", "hdi_3%",
                                            "hdi_97%", "in_hdi_94"]]
        out_console.print(_table(worst, "Parameters furthest from the truth"))
        out_console.print(_table(report.roi[["truth", "mean", "rel_error", "hdi_3%",
                                             "hdi_97%", "in_hdi_94"]], "ROI against the truth"))
        verdict = "[green]passed[/]" if report.passed else \
            f"[red]failed[/] ({', '.join(c.name for c in report.failed)})"
        out_console.print(f"Validation {verdict}", highlight=False)
        if out is not None:
            from bayesmmm._files import atomic_write

            out.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(report.to_dict(), indent=1)
            atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
            out_console.print(escape(f"Wrote {out}"), highlight=False)
        return EXIT_OK if report.passed else EXIT_INVALID_DATA

    _guard(body)


def _bench_parser() -> Any:
    """``bench`` takes space-separated lists (``--datasets a b``), which Click cannot."""
    import argparse

    p = argparse.ArgumentParser(
        prog="bayesmmm bench", description="Fit simulated presets with BayesMMM and its "
        "peers in separate processes; compare speed (ESS/s) and recovery of the truth.")
    p.add_argument("--datasets", nargs="+", default=["small_business", "medium_business"],
                   help="presets (default: small_business medium_business)")
    p.add_argument("--libraries", nargs="+", default=["bayesmmm", "pymc-marketing", "meridian"])
    p.add_argument("--samplers", nargs="+", default=[],
                   help="nuts (bayesmmm), nutpie/pymc/numpyro/blackjax (pymc-marketing), tfp "
                   "(meridian); default: each library's first")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000, help="draws per chain")
    p.add_argument("--tune", type=int, default=1000, help="warm-up draws per chain")
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    p.add_argument("--data-seed", type=int, default=0, help="simulation seed")
    p.add_argument("--force-rerun", action="store_true", help="refit even when cached")
    p.add_argument("--plots-only", action="store_true",
                   help="fit nothing: redraw plots and tables from the cache")
    p.add_argument("--peer-python", help="Python with pymc-marketing (default: this one if it "
                   "has it, else .venv-bench/bin/python)")
    p.add_argument("--meridian-python", help="Python with google-meridian (default: this one "
                   "if it has it, else .venv-meridian/bin/python)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per fit")
    for name in ("chains", "tune", "draws"):
        p.add_argument(f"--peer-{name}", type=int,
                       help=f"--{name} for the peers only (default: --{name})")
    p.add_argument("--out", "-o", type=Path, default=Path("results"))
    return p


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                               "help_option_names": []})
def bench(ctx: typer.Context) -> None:
    """Fit presets with BayesMMM and its peers; compare speed and recovery.

    `bayesmmm bench --help` lists the options.
    """
    args = _bench_parser().parse_args(ctx.args)  # usage errors exit 2

    def body() -> int:
        from bayesmmm.bench import BenchOptions, run_bench

        opts = BenchOptions(datasets=tuple(args.datasets), libraries=tuple(args.libraries),
                            samplers=tuple(args.samplers), chains=args.chains,
                            draws=args.draws, tune=args.tune, seed=args.seed,
                            data_seed=args.data_seed, force_rerun=args.force_rerun,
                            plots_only=args.plots_only, out=args.out,
                            peer_python=args.peer_python,
                            meridian_python=args.meridian_python, timeout=args.timeout,
                            peer_chains=args.peer_chains, peer_tune=args.peer_tune,
                            peer_draws=args.peer_draws)
        _check_out(args.out)
        result = run_bench(opts, log=lambda m: out_console.print(escape(m), highlight=False))
        shown = ["dataset", "library", "sampler", "status", "draws", "runtime_s",
                 "ess_bulk_min", "ess_bulk_per_s", "max_r_hat", "divergences", "r2", "mape",
                 "coverage_94",
                 "roi_mean_abs_rel_error", "contribution_srmse", "peak_mib"]
        out_console.print(_table(result.table[shown].set_index("dataset"), "Benchmark"))
        out_console.print(escape(f"Wrote summary.csv and README.md to {args.out}/"),
                          highlight=False)
        return EXIT_INVALID_DATA if result.failed else EXIT_OK

    _guard(body)


@app.command()
def eda(data: DataArg, config: ConfigOpt = None, date_column: DateOpt = None,
        y_column: YOpt = None, channel: ChannelOpt = None, control: ControlOpt = None,
        panel: PanelOpt = None, sep: SepOpt = None,
        out: OutOpt = Path("bayesmmm-eda")) -> None:
    """Exploratory plots before any fit: one PNG per plot and a self-contained eda.html.

    Panel data are shown as the total over panel cells (target and spend summed,
    controls averaged); see docs/plots.md.
    """
    def body() -> None:
        from bayesmmm.data import load_table, prepare
        from bayesmmm.report import eda_figures, plot_data_outliers, write_figures_html, write_png

        spec, extra = _settings(config, date_column=date_column, y_column=y_column,
                                channel_columns=channel, control_columns=control,
                                panel_columns=panel, sep=sep)
        _check_out(out)
        prepared, report = prepare(load_table(data, sep=extra["sep"]), **spec.data_kwargs())
        if report.warnings:
            _print_report(report)
        with out_console.status("Drawing exploratory plots ...") as status:
            figures = eda_figures(prepared)
            for name, figure in figures.items():
                status.update(f"Writing {name}.png ...")
                write_png(figure, out / f"{name}.png")
        flagged = plot_data_outliers(prepared)
        dates = prepared.dates
        notes = [f"{Path(data).name}: {prepared.n_times} periods "
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
        write_figures_html(figures, out / "eda.html", f"Exploratory analysis: {Path(data).name}",
                           notes)
        out_console.print(escape(outliers), highlight=False)
        out_console.print(escape(f"Wrote {len(figures)} PNG files and eda.html to {out}/"),
                          highlight=False)

    _guard(body)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int | None, typer.Option(
        "--workers", help="Worker processes of the embedded Dask cluster "
        "(BAYESMMM_DASK_WORKERS, 1).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Use the Dask scheduler at this address (tcp://host:8786) "
        "instead of an embedded cluster (BAYESMMM_DASK_SCHEDULER).")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="Job store URL (BAYESMMM_DATABASE_URL; default a SQLite "
        "file).")] = None,
    artifacts: Annotated[str | None, typer.Option(
        "--artifacts", help="Folder or fsspec URL for data and fits "
        "(BAYESMMM_ARTIFACTS).")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning.")
                         ] = "info",
) -> None:
    """Run the REST API with its job store and Dask workers (see docs/service.md)."""
    def body() -> None:
        from bayesmmm.service._cli import serve as run_server

        run_server(host=host, port=port, log_level=log_level, dask_workers=workers,
                   dask_scheduler=scheduler, database_url=database_url, artifacts=artifacts)

    _guard(body)


@app.command()
def worker(
    scheduler: Annotated[str, typer.Argument(help="Dask scheduler address, tcp://host:8786.")],
    nthreads: Annotated[int, typer.Option("--nthreads", help="Threads per worker process "
                                          "(1: one fit at a time, using every core).")] = 1,
    nworkers: Annotated[int, typer.Option("--nworkers", help="Worker processes.")] = 1,
    memory_limit: Annotated[str, typer.Option(
        "--memory-limit", help="Per worker process, e.g. 4GB (auto: memory / nworkers).")
                            ] = "auto",
    name: Annotated[str | None, typer.Option("--name", help="Worker name.")] = None,
) -> None:
    """Add this machine's cores to a BayesMMM service's Dask cluster."""
    def body() -> None:
        from bayesmmm.service._cli import worker as run_worker

        run_worker(scheduler, nthreads=nthreads, nworkers=nworkers, memory_limit=memory_limit,
                   name=name)

    _guard(body)


# Budget optimisation, what-if questions and scenarios (bayesmmm.optimize) ---------------

FitFileArg = Annotated[Path, typer.Argument(help="Fit file written by `bayesmmm fit` "
                                            "(OUT/fit.nc).")]
PeriodsOpt = Annotated[int, typer.Option(
    "--periods", help="Planning horizon in periods of the data (e.g. 13 weeks).")]
PlanGapOpt = Annotated[int, typer.Option(
    "--gap", help="Periods of zero spend between the data's end and the plan.")]
PatternOpt = Annotated[str, typer.Option(
    "--pattern", help="Spend over the horizon: flat, or historical (as in the last PERIODS "
    "periods).")]


def _write_csv(frame: Any, path: Path) -> None:
    from bayesmmm._files import atomic_write

    atomic_write(path, lambda tmp: frame.to_csv(tmp))


def _parse_bounds(items: list[str] | None) -> dict[str, Any]:
    from bayesmmm.errors import SpecError
    from bayesmmm.optimize import parse_bound

    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SpecError(f"--bounds {item!r} must be CHANNEL=LOW:HIGH, e.g. tv=0.5:2, "
                            "tv=-30%:+20% or tv=100k:250kabs")
        try:
            out[name.strip()] = parse_bound(text)
        except SpecError as exc:
            raise SpecError(f"--bounds {item!r}: {exc}") from None
    return out


@app.command()
def optimize(
    fit_file: FitFileArg, periods: PeriodsOpt,
    budget: Annotated[str | None, typer.Option(
        "--budget", help="Total spend over the horizon (500000, 500k, 1.5M); default: the "
        "historical spend for PERIODS periods.")] = None,
    bounds: Annotated[list[str] | None, typer.Option(
        "--bounds", help="CHANNEL=LOW:HIGH as multiples of historical spend (tv=0.5:2), "
        "percent changes (tv=-30%:+20%) or amounts marked abs (tv=100k:250kabs); repeat.")
    ] = None,
    fix: Annotated[list[str] | None, typer.Option(
        "--fix", help="Hold this channel at its historical spend; repeat.")] = None,
    target_roi: Annotated[float | None, typer.Option(
        "--target-roi", help="Instead of --budget: the budget at which the optimal plan's "
        "ROI falls to this value.")] = None,
    target_mroi: Annotated[float | None, typer.Option(
        "--target-marginal-roi", help="Instead of --budget: spend until one more unit "
        "returns this much in every channel.")] = None,
    objective: Annotated[str, typer.Option(
        "--objective", help="mean, a quantile such as q10 (risk averse), or mean-1sd.")
    ] = "mean",
    gap: PlanGapOpt = 0, pattern: PatternOpt = "flat",
    draws: Annotated[int, typer.Option(
        "--draws", help="Posterior draws the optimizer uses (a seeded subsample); the "
        "reported figures use all.")] = 200,
    seed: SeedOpt = None, out: OutOpt = Path("bayesmmm-optimize"),
) -> None:
    """Allocate a budget over channels (and geos) to maximise incremental sales."""
    def body() -> None:
        import bayesmmm as bm
        from bayesmmm.errors import SpecError
        from bayesmmm.optimize import (
            FixedBudget,
            TargetMarginalROI,
            TargetROI,
            historical_spend,
            optimize_budget,
            parse_amount,
            parse_objective,
        )

        goals = [g for g in (budget, target_roi, target_mroi) if g is not None]
        if len(goals) > 1:
            raise SpecError("give one of --budget, --target-roi and --target-marginal-roi")
        risk = parse_objective(objective)
        limits = _parse_bounds(bounds)
        fitted = bm.load_fit(fit_file)
        if target_roi is not None:
            goal: Any = TargetROI(target_roi)
        elif target_mroi is not None:
            goal = TargetMarginalROI(target_mroi)
        else:
            goal = FixedBudget(parse_amount(budget) if budget is not None
                               else float(historical_spend(fitted, periods).sum()))
        _check_out(out)
        with out_console.status("Optimising ..."):
            alloc = optimize_budget(fitted, goal, n_periods=periods, bounds=limits,
                                    fixed=fix or [], objective=risk, gap=gap, pattern=pattern,
                                    n_draws=draws, seed=0 if seed is None else seed)
        frame = alloc.to_frame()
        shown = frame[["historical_at_budget", "optimal", "change_pct", "lower", "upper",
                       "sales", "roi", "marginal_roi"]]
        out_console.print(_table(shown, f"Optimal allocation over {periods} periods "
                                        f"({risk.describe()})"))
        out_console.print(escape(alloc.summary()), highlight=False)
        for note in alloc.notes:
            out_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
        _write_csv(frame, out / "allocation.csv")
        written = ["allocation.csv"]
        if alloc.cells is not None:
            _write_csv(alloc.cells, out / "allocation_panels.csv")
            written.append("allocation_panels.csv")
        out_console.print(escape(f"Wrote {', '.join(written)} to {out}/"), highlight=False)

    _guard(body)


@app.command()
def whatif(
    fit_file: FitFileArg,
    channel: Annotated[str, typer.Option("--channel", help="The channel to change.")],
    spend_increase: Annotated[str, typer.Option(
        "--spend-increase", help="Extra spend over the horizon (500000, 500k; negative for a "
        "cut: --spend-increase=-100k).")],
    periods: PeriodsOpt, gap: PlanGapOpt = 0, pattern: PatternOpt = "flat",
    break_even: Annotated[float, typer.Option(
        "--break-even", help="ROI at which spend pays for itself (1 when sales are revenue).")
    ] = 1.0,
    out: OutOpt = Path("bayesmmm-whatif"),
) -> None:
    """What would more (or less) spend on one channel bring?"""
    def body() -> None:
        import bayesmmm as bm
        from bayesmmm.optimize import analyze_channel, parse_amount

        amount = parse_amount(spend_increase)
        fitted = bm.load_fit(fit_file)
        _check_out(out)
        answer = analyze_channel(fitted, channel, amount, n_periods=periods, gap=gap,
                                 pattern=pattern, break_even=break_even)
        frame = answer.to_frame()
        out_console.print(_table(frame.drop(index="recommendation"),
                                 f"What if: {amount:+,.0f} on {channel} over {periods} periods"))
        out_console.print(escape(answer.recommendation), highlight=False)
        _write_csv(frame, out / "whatif.csv")
        out_console.print(escape(f"Wrote whatif.csv to {out}/"), highlight=False)

    _guard(body)


@app.command()
def scenarios(
    fit_file: FitFileArg,
    scenario_file: Annotated[Path, typer.Argument(
        help="YAML: scenario names mapped to {channel: percent change} ('default' for the "
        "other channels), optionally under 'scenarios:' beside n_periods, gap, pattern.")],
    periods: Annotated[int | None, typer.Option(
        "--periods", help="Planning horizon (overrides n_periods in the file).")] = None,
    gap: Annotated[int | None, typer.Option("--gap", help="Periods of zero spend before the "
                                            "plan (overrides the file).")] = None,
    pattern: Annotated[str | None, typer.Option("--pattern", help="flat or historical "
                                                "(overrides the file).")] = None,
    out: OutOpt = Path("bayesmmm-scenarios"),
) -> None:
    """Compare named spend scenarios side by side with the current plan."""
    def body() -> None:
        import bayesmmm as bm
        from bayesmmm.errors import SpecError
        from bayesmmm.optimize import compare_scenarios, load_scenarios

        items, options = load_scenarios(scenario_file)
        n_periods = periods if periods is not None else options.get("n_periods")
        if n_periods is None:
            raise SpecError("give --periods or n_periods in the scenario file")
        fitted = bm.load_fit(fit_file)
        _check_out(out)
        table = compare_scenarios(
            fitted, items, n_periods=n_periods,
            gap=gap if gap is not None else options.get("gap", 0),
            pattern=pattern if pattern is not None else options.get("pattern", "flat"))
        low, high = [c for c in table.columns if c.startswith("sales_hdi")][:2]
        shown = table[["spend", "spend_change_pct", "sales", low, high, "sales_change_pct",
                       "roi", "incremental_roi", "prob_better"]]
        out_console.print(_table(shown, f"Scenarios over {n_periods} periods (incremental "
                                        "sales of all media)"))
        _write_csv(table, out / "scenarios.csv")
        out_console.print(escape(f"Wrote scenarios.csv to {out}/"), highlight=False)

    _guard(body)


@app.command()
def report(
    fit_file: FitFileArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")
                   ] = Path("report.html"),
    periods: Annotated[int | None, typer.Option(
        "--periods", help="Horizon of the budget recommendation (13, or the data's length "
        "if shorter).")] = None,
    hdi_prob: Annotated[float, typer.Option("--hdi-prob", help="Credible interval width.")
                        ] = 0.94,
    title: Annotated[str | None, typer.Option("--title", help="Page title.")] = None,
    seed: SeedOpt = None,
) -> None:
    """Write one self-contained HTML report of a fit (opens offline): data and validation,
    fit quality, summary, contributions, ROI, curves, the recommended budget and whether
    the model can be trusted."""
    def body() -> None:
        import bayesmmm as bm
        from bayesmmm.errors import SpecError
        from bayesmmm.report import verdict, write_report

        if out.is_dir():
            raise SpecError(f"--out '{out}' is a folder; pass a file name (e.g. "
                            f"{out / 'report.html'})")
        if not 0 < hdi_prob < 1:
            raise SpecError(f"--hdi-prob must be between 0 and 1, got {hdi_prob}")
        if periods is not None and periods < 1:
            raise SpecError(f"--periods must be >= 1, got {periods}")
        fitted = bm.load_fit(fit_file)
        _check_out(out.parent)
        with out_console.status("Writing the report ..."):
            written = write_report(fitted, out, title=title, hdi_prob=hdi_prob,
                                   n_periods=periods, seed=0 if seed is None else seed)
        out_console.print(escape(f"Verdict: {verdict(fitted).headline}"), highlight=False)
        out_console.print(escape(f"Wrote {written}"), highlight=False)

    _guard(body)


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
