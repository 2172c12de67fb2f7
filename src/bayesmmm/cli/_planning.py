"""Commands on a fitted model: budget optimisation, what-if questions, scenarios
(:mod:`bayesmmm.optimize`) and the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bayesmmm.cli._common import (
    FitFileArg,
    OutOpt,
    SeedOpt,
    check_out,
    guard,
    out_console,
    say,
    table,
    warn,
    write_csv,
)

__all__ = ["optimize", "report", "scenarios", "whatif"]

PeriodsOpt = Annotated[int, typer.Option(
    "--periods", help="Planning horizon in periods of the data (e.g. 13 weeks).")]
PlanGapOpt = Annotated[int, typer.Option(
    "--gap", help="Periods of zero spend between the data's end and the plan.")]
PatternOpt = Annotated[str, typer.Option(
    "--pattern", help="Spend over the horizon: flat, or historical (as in the last PERIODS "
    "periods).")]


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
        from bayesmmm.optimize import check_goal, goal_from, optimize_budget, parse_objective

        check_goal(budget, target_roi, target_mroi, spelling="flags")  # before loading
        risk = parse_objective(objective)
        limits = _parse_bounds(bounds)
        fitted = bm.load(fit_file)
        goal = goal_from(fitted, periods, budget=budget, target_roi=target_roi,
                         target_marginal_roi=target_mroi, spelling="flags")
        check_out(out)
        with out_console.status("Optimising ..."):
            alloc = optimize_budget(fitted, goal, n_periods=periods, bounds=limits,
                                    fixed=fix or [], objective=risk, gap=gap, pattern=pattern,
                                    n_draws=draws, seed=0 if seed is None else seed)
        frame = alloc.to_frame()
        columns = ["historical_at_budget", "optimal", "change_pct", "lower", "upper",
                   "sales", "roi", "marginal_roi"]
        if alloc.comparison != "historical mix":  # the historical mix breaks the bounds
            columns.insert(1, "comparison")
        out_console.print(table(frame[columns], f"Optimal allocation over {periods} periods "
                                                f"({risk.describe()})"))
        say(alloc.summary())
        for note in alloc.notes:
            warn("note", note)
        for warning in alloc.warnings:
            warn("warning", warning, "red")
        write_csv(frame, out / "allocation.csv")
        written = ["allocation.csv"]
        if alloc.cells is not None:
            write_csv(alloc.cells, out / "allocation_panels.csv")
            written.append("allocation_panels.csv")
        say(f"Wrote {', '.join(written)} to {out}/")

    guard(body)


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
        fitted = bm.load(fit_file)
        check_out(out)
        answer = analyze_channel(fitted, channel, amount, n_periods=periods, gap=gap,
                                 pattern=pattern, break_even=break_even)
        frame = answer.to_frame()
        out_console.print(table(frame.drop(index="recommendation"),
                                f"What if: {amount:+,.0f} on {channel} over {periods} periods"))
        say(answer.recommendation)
        write_csv(frame, out / "whatif.csv")
        say(f"Wrote whatif.csv to {out}/")

    guard(body)


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
        fitted = bm.load(fit_file)
        check_out(out)
        frame = compare_scenarios(
            fitted, items, n_periods=n_periods,
            gap=gap if gap is not None else options.get("gap", 0),
            pattern=pattern if pattern is not None else options.get("pattern", "flat"))
        low, high = [c for c in frame.columns if c.startswith("sales_hdi")][:2]
        shown = frame[["spend", "spend_change_pct", "sales", low, high, "sales_change_pct",
                       "roi", "incremental_roi", "prob_better"]]
        out_console.print(table(shown, f"Scenarios over {n_periods} periods (incremental "
                                       "sales of all media)"))
        write_csv(frame, out / "scenarios.csv")
        say(f"Wrote scenarios.csv to {out}/")

    guard(body)


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
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="Also print the report to a PDF beside it (OUT with .pdf), with a "
        "headless Chromium; skipped with a message where there is none.")] = False,
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
        fitted = bm.load(fit_file)
        check_out(out.parent)
        with out_console.status("Writing the report ..."):
            written = write_report(fitted, out, title=title, hdi_prob=hdi_prob,
                                   n_periods=periods, seed=0 if seed is None else seed)
        say(f"Verdict: {verdict(fitted).headline}")
        say(f"Wrote {written}")
        if pdf:
            _print_pdf(written)

    guard(body)


def _print_pdf(html_file: Path) -> None:
    from bayesmmm.report import find_chromium, write_pdf

    if find_chromium() is None:
        warn("note", "no PDF written: printing needs Chromium (apt-get install chromium, "
             "or set BAYESMMM_CHROMIUM to its path). The HTML report has a print layout: "
             "open it in a browser and print it to PDF.")
        return
    with out_console.status("Printing the PDF ..."):
        written = write_pdf(html_file, html_file.with_suffix(".pdf"))
    say(f"Wrote {written}")
