"""Commands that fit models or check them: ``fit``, ``demo``, ``simulate``, ``compare``,
``validate-fit`` and ``bench``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

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
    SeedOpt,
    SepOpt,
    TableOpt,
    YOpt,
    check_out,
    guard,
    out_console,
    print_report,
    quiet,
    read_data,
    say,
    table,
    warn,
)
from bayesmmm.cli._settings import read_settings, sampler_flags

__all__ = ["bench", "compare", "demo", "fit", "simulate", "validate_fit"]

#: Filled in by :func:`sampler_flags`: one flag per sampler option.
Sampler = dict[str, Any]
PresetOpt = Annotated[str | None, typer.Option(
    "--preset", help="Model preset: classic, or LightweightMMM's adstock, hill_adstock, "
    "carryover.")]
TrendOpt = Annotated[str | None, typer.Option(
    "--trend", help="none, linear, piecewise, power or smooth.")]
HolidayOpt = Annotated[list[str] | None, typer.Option(
    "--holidays", help="Country code whose holidays become controls (US, GB, DE ...).")]
AdstockOpt = Annotated[str | None, typer.Option(
    "--adstock", help="Adstock form for all channels (geometric, delayed, weibull_cdf, ...).")]
SaturationOpt = Annotated[str | None, typer.Option(
    "--saturation", help="Saturation form for all channels (logistic, hill, ...).")]
FormsOpt = Annotated[str | None, typer.Option(
    "--forms", help="'auto': search the adstock x saturation structure (geometric, delayed, "
    "weibull_pdf x logistic, hill, michaelis_menten) and average the best by stacking; "
    "default: the forms of the spec.")]


def _fit_and_write(data: Any, spec: Any, sampler: dict[str, Any], sep: str | None,
                   out: Path, forms: str | None = None) -> None:
    import bayesmmm as bm
    from bayesmmm.analysis import half_life
    from bayesmmm.data import prepare
    from bayesmmm.report import export_results

    check_out(out)
    prepared, report = prepare(data, **spec.data_kwargs(), sep=sep)
    if report.warnings:
        print_report(report)
    where = f" in {prepared.n_geos} panel cells" if prepared.is_panel else ""
    out_console.print(f"Fitting {len(spec.channel_columns)} channels, "
                      f"{len(spec.control_columns)} controls, {prepared.n_times} periods"
                      f"{where} ...")
    if forms == "auto":
        out_console.print("Searching the structure (forms='auto'): short fits of every "
                          "candidate, full fits of the best, averaged by stacking ...")
    if quiet():
        sampler = {**sampler, "progress": False}
    fitted: bm.Fit | bm.AveragedFit = bm.fit(prepared, spec, forms=forms, **sampler) \
        if forms else bm.fit(prepared, spec, **sampler)
    paths = export_results(fitted, out)
    if isinstance(fitted, bm.AveragedFit):
        say(fitted.carried_by())
    out_console.print(table(fitted.summary(), "Posterior summary (scaled units)"))
    out_console.print(table(fitted.roi(), "ROI (incremental sales per unit of spend)"))
    out_console.print(table(half_life(fitted), "Carry-over: adstock half-life and peak lag "
                            "(periods)"))
    m = fitted.fit_metrics()
    out_console.print(f"Fit: R² {m['r2']:.3f} · MAPE {m['mape']:.2f}% · Durbin-Watson "
                      f"{m['durbin_watson']:.2f} · fitted in {fitted.meta['seconds_total']:.1f} s")
    for w in fitted.warnings():
        warn("warning", w)
    say(f"Wrote {', '.join(p.name for p in paths.values())} to {out}/")


@sampler_flags
def fit(data: DataArg, config: ConfigOpt = None, date_column: DateOpt = None,
        y_column: YOpt = None, channel: ChannelOpt = None, control: ControlOpt = None,
        adstock_max_lag: LagOpt = None, yearly_seasonality: SeasonOpt = None,
        sep: SepOpt = None, query: QueryOpt = None, source_table: TableOpt = None,
        sampler: Sampler | None = None, preset: PresetOpt = None,
        panel: PanelOpt = None, trend: TrendOpt = None, holidays: HolidayOpt = None,
        adstock: AdstockOpt = None, saturation: SaturationOpt = None,
        forms: FormsOpt = None,
        quick: Annotated[bool, typer.Option(
            "--quick", help="A preview in seconds: the approximate method 'advi' (its "
            "warnings say how far to trust it; confirm with the default NUTS).")] = False,
        estimate: Annotated[bool, typer.Option(
            "--dry-run", "--estimate", help="Say how long this fit would take here (a "
            "short pilot chain on the data) and stop without fitting.")] = False,
        out: OutOpt = Path("bayesmmm-output")) -> None:
    """Validate, fit the MMM (classic by default), print the summary and write results.

    Everything the model offers (per-channel forms, priors, lift tests, events, costs per
    unit ...) can be set in --config; the options here override it.
    """
    def body() -> None:
        chosen = read_settings(config, preset, sampler, date_column=date_column,
                               y_column=y_column, channel_columns=channel,
                               control_columns=control, adstock_max_lag=adstock_max_lag,
                               yearly_seasonality=yearly_seasonality, sep=sep,
                               panel_columns=panel, trend=trend, holidays=holidays,
                               adstock=adstock, saturation=saturation)
        sampler_options = {**chosen.sampler, **({"method": "advi"} if quick else {})}
        frame = read_data(data, chosen.sep, query, source_table)
        if estimate:
            _estimate(frame, chosen.spec, sampler_options, chosen.sep)
            return
        _fit_and_write(frame, chosen.spec, sampler_options, chosen.sep, out, forms)

    guard(body)


def _estimate(data: Any, spec: Any, sampler: dict[str, Any], sep: str | None) -> None:
    from bayesmmm.data import prepare
    from bayesmmm.model import estimate_time

    if sampler.get("method", "nuts") != "nuts":
        say("An approximate fit (--quick) takes seconds after compiling; nothing to "
            "estimate.")
        return
    prepared, report = prepare(data, **spec.data_kwargs(), sep=sep)
    if report.warnings:
        print_report(report)
    guess = estimate_time(prepared, spec, **sampler)
    say(f"This fit would take {guess.describe()}. Nothing was fitted; run the same "
        "command without --dry-run to fit.")


@sampler_flags
def demo(out: OutOpt = Path("bayesmmm-demo"), sampler: Sampler | None = None) -> None:
    """Fit the bundled example (PyMC-Marketing's simulated data) and write the results."""
    def body() -> None:
        from bayesmmm.datasets import example_path, example_spec

        say(f"Example data: {example_path()}")
        _fit_and_write(example_path(), example_spec(), sampler or {}, None, out)

    guard(body)


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
        check_out(out)
        with out_console.status(f"Simulating {preset} ..."):
            sim = run_simulation(config, 0 if seed is None else seed)
            paths = sim.write(out)
        s = sim.truth["summary"]
        shown = Table(title=f"Simulated {preset} (seed {sim.truth['seed']})",
                      title_justify="left")
        for col in ("rows", "geos", "weeks", "channels", "controls", "media share",
                    "R² of true mean"):
            shown.add_column(col, justify="right")
        shown.add_row(f"{s['n_rows']:,}", str(s["n_geos"]), str(s["n_weeks"]),
                      str(len(s["channels"])), str(len(s["controls"])),
                      f"{s['media_share']:.1%}", f"{s['r2_true_mean']:.3f}")
        out_console.print(shown)
        say(f"Wrote {', '.join(p.name for p in paths.values())} to {out}/")

    guard(body)


@sampler_flags
def compare(data: DataArg, config: ConfigOpt = None, date_column: DateOpt = None,
            y_column: YOpt = None, channel: ChannelOpt = None, control: ControlOpt = None,
            panel: PanelOpt = None, sep: SepOpt = None, query: QueryOpt = None,
            source_table: TableOpt = None,
            preset: Annotated[list[str] | None, typer.Option(
                "--preset", help="A preset to compare; repeat (default: classic, adstock, "
                "hill_adstock, carryover).")] = None,
            forms: Annotated[list[str] | None, typer.Option(
                "--forms", help="A structure to compare, ADSTOCK+SATURATION on every "
                "channel (e.g. delayed+hill); repeat. With presets or alone.")] = None,
            holdout: Annotated[int, typer.Option(
                "--holdout", help="Periods held out at the end for the holdout MAPE "
                "(0 = none).")] = 13,
            sampler: Sampler | None = None, out: OutOpt = Path("bayesmmm-compare")) -> None:
    """Fit several presets or structures on the same data and rank them (PSIS-LOO,
    holdout MAPE); only fits that converge well enough are ranked."""
    def body() -> None:
        from bayesmmm.analysis import compare_specs, form_candidate
        from bayesmmm.errors import SpecError
        from bayesmmm.report import write_table, write_text

        names = preset or ([] if forms else ["classic", "adstock", "hill_adstock",
                                              "carryover"])
        specs = {name: read_settings(config, name, sampler, date_column=date_column,
                                     y_column=y_column, channel_columns=channel,
                                     control_columns=control, panel_columns=panel, sep=sep)
                 for name in dict.fromkeys(names)}
        base = read_settings(config, None, sampler, date_column=date_column,
                             y_column=y_column, channel_columns=channel,
                             control_columns=control, panel_columns=panel, sep=sep)
        for combo in dict.fromkeys(forms or []):
            adstock, plus, saturation = combo.partition("+")
            if not plus or not adstock or not saturation:
                raise SpecError(f"--forms {combo!r}: give ADSTOCK+SATURATION, e.g. "
                                "delayed+hill")
            specs[combo] = base._replace(spec=form_candidate(base.spec, adstock, saturation))
        chosen = list(specs.values())[-1]
        check_out(out)
        frame = read_data(data, chosen.sep, query, source_table)
        with out_console.status("Fitting ...") as status:
            result = compare_specs(frame, {k: v.spec for k, v in specs.items()},
                                   holdout_periods=holdout,
                                   progress=lambda n: status.update(f"Fitting {n} ..."),
                                   **chosen.sampler)
        shown = result.table[[c for c in ("rank", "elpd_loo", "se", "elpd_diff", "dse",
                                          "holdout_mape", "in_sample_mape", "max_r_hat",
                                          "divergences") if c in result.table]]
        out_console.print(table(shown, "Model comparison (higher elpd_loo is better)"))
        say(result.recommendation)
        write_table(result.table, out / "comparison.csv")
        write_text(result.recommendation + "\n", out / "recommendation.txt")
        say(f"Wrote comparison.csv, recommendation.txt to {out}/")

    guard(body)


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
        out_console.print(table(checks, "Validation against the truth"))
        worst = report.worst_parameters(8)[["truth", "mean", "rel_error", "hdi_3%",
                                            "hdi_97%", "in_hdi_94"]]
        out_console.print(table(worst, "Parameters furthest from the truth"))
        out_console.print(table(report.roi[["truth", "mean", "rel_error", "hdi_3%",
                                            "hdi_97%", "in_hdi_94"]], "ROI against the truth"))
        verdict = "[green]passed[/]" if report.passed else \
            f"[red]failed[/] ({', '.join(c.name for c in report.failed)})"
        out_console.print(f"Validation {verdict}", highlight=False)
        if out is not None:
            from bayesmmm._files import atomic_write

            out.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(report.to_dict(), indent=1)
            atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
            say(f"Wrote {out}")
        return EXIT_OK if report.passed else EXIT_INVALID_DATA

    guard(body)


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
    p.add_argument("--target-accept", type=float, default=0.9,
                   help="NUTS target acceptance in (0, 1) for every library's sampler "
                   "(default 0.9, the reference benchmark's)")
    for name in ("chains", "tune", "draws"):
        p.add_argument(f"--peer-{name}", type=int,
                       help=f"--{name} for the peers only (default: --{name})")
    p.add_argument("--out", "-o", type=Path, default=Path("results"))
    return p


#: ``bench`` parses its own arguments (argparse), so Click must pass them all through.
BENCH_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True,
                  "help_option_names": []}


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
                            peer_draws=args.peer_draws, target_accept=args.target_accept)
        check_out(args.out)
        result = run_bench(opts, log=say)
        shown = ["dataset", "library", "sampler", "status", "draws", "runtime_s",
                 "ess_bulk_min", "ess_bulk_per_s", "max_r_hat", "divergences", "r2", "mape",
                 "coverage_94",
                 "roi_mean_abs_rel_error", "contribution_srmse", "peak_mib"]
        out_console.print(table(result.table[shown].set_index("dataset"), "Benchmark"))
        say(f"Wrote summary.csv, runtime_comparison.csv, ess_comparison.csv, "
            f"performance_metrics.csv, diagnostics_summary.csv, ppc_*.png and README.md to "
            f"{args.out}/")
        return EXIT_INVALID_DATA if result.failed else EXIT_OK

    guard(body)
