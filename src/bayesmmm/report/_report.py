"""The one-file HTML report of a fit: data, fit quality, summary, contributions, ROI,
curves, the optimizer's recommendation and whether the model can be trusted.

Every table shows numbers taken as they are from the analysis and optimize layers; each
numeric cell carries its full-precision value in ``data-value`` (the text is rounded
for reading). Every section is a ``<section>`` with a stable id (:data:`SECTIONS`).
"""

from __future__ import annotations

import html
import numbers
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bayesmmm._files import atomic_write
from bayesmmm._numbers import format_number
from bayesmmm.analysis import Verdict, half_life, verdict
from bayesmmm.data import ValidationReport, validate
from bayesmmm.errors import BayesMMMError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.model._averaged import MIN_WEIGHT
from bayesmmm.optimize import FixedBudget, goal_from, optimize_budget, response_curves
from bayesmmm.report._html import figure_div, page_html
from bayesmmm.report._plots_diag import plot_prior_posterior, plot_rank, plot_trace
from bayesmmm.report._plots_eda import plot_data_total_spend, plot_spend, plot_total_spend
from bayesmmm.report._plots_fit import (
    plot_actual_vs_fitted,
    plot_adstock,
    plot_contributions,
    plot_data_waterfall,
    plot_roi,
    plot_saturation,
    plot_spend_vs_effect,
    plot_waterfall,
)
from bayesmmm.report._plots_plan import plot_allocation

__all__ = ["SECTIONS", "report_html", "write_report"]

#: ``(id, heading)`` of the report's sections, in order.
SECTIONS = (
    ("data", "Data and validation"),
    ("fit-quality", "Fit quality"),
    ("summary-statistics", "Summary statistics"),
    ("contributions", "Contributions"),
    ("roi", "ROI and media share"),
    ("curves", "Response curves and carry-over"),
    ("optimizer", "Recommended budget"),
    ("diagnostics", "Can the model be trusted?"),
)
#: Row labels of :func:`bayesmmm.analysis.fit_metrics` in the fit quality table.
_METRICS = {"r2": "R²", "mape": "MAPE %", "durbin_watson": "Durbin-Watson", "rmse": "RMSE",
            "coverage_94": "94% coverage"}
#: Default planning horizon of the recommendation (a quarter of weekly data).
DEFAULT_HORIZON = 13

_STYLE = """
section.part { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px;
               margin: 1.2rem 0; padding: 0.6rem 1.2rem 1rem; }
section.part h2 { font-size: 1.15rem; margin: 0.4rem 0 0.6rem; }
div.figure { margin: 0.8rem 0; }
div.scroll { overflow-x: auto; max-height: 32rem; overflow-y: auto; }
table.num { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
table.num caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
table.num th, table.num td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eef0f3; }
table.num td { text-align: right; font-variant-numeric: tabular-nums; }
table.num td.text { text-align: left; }
table.num th { text-align: left; background: #f3f4f6; position: sticky; top: 0; }
.verdict { padding: 0.6rem 1rem; border-radius: 6px; font-weight: 600; margin: 0.5rem 0; }
.verdict.ok { background: #dcfce7; color: #14532d; }
.verdict.care { background: #fef9c3; color: #713f12; }
.verdict.bad { background: #fee2e2; color: #7f1d1d; }
td.ok { color: #15803d; } td.care { color: #a16207; } td.bad { color: #b91c1c; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
p.note { color: #4b5563; font-size: 0.9rem; }
"""


# -- HTML pieces --------------------------------------------------------------------------
def _text(value: float, column: str) -> str:
    """A number as a person reads it; the column name says what kind of number it is."""
    if pd.isna(value):
        return "–"
    if column == "r_hat":
        return f"{value:.3f}"
    if column.startswith("ess") or column == "divergences":
        return f"{value:,.0f}"
    if "share" in column:
        return f"{value:.1%}"
    if column.endswith("_pct"):
        return f"{value:+.1f}%"
    return format_number(value)


def _cell(value: object, column: str) -> str:
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return f'<td data-value="{float(value)!r}">{html.escape(_text(float(value), column))}</td>'
    return f'<td class="text">{html.escape(str(value))}</td>'


def table_html(frame: pd.DataFrame, table_id: str, caption: str = "") -> str:
    """``frame`` as an HTML table (index as the first column, escaped text, numbers
    rounded for reading with the exact value in ``data-value``)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>"
                   for c in [frame.index.name or "", *frame.columns])
    rows = "".join(
        f"<tr><th>{html.escape(str(idx))}</th>"
        + "".join(_cell(v, str(c)) for c, v in zip(frame.columns, row, strict=True)) + "</tr>"
        for idx, row in zip(frame.index, frame.itertuples(index=False), strict=True))
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<div class="scroll"><table class="num" id="{html.escape(table_id)}">{cap}'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def _figure(fig: go.Figure, name: str) -> str:
    return f'<div class="figure">{figure_div(fig, name)}</div>'


def _para(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def _items(lines: list[str], list_id: str) -> str:
    return (f'<ul id="{list_id}">' + "".join(f"<li>{html.escape(x)}</li>" for x in lines)
            + "</ul>")


def _facts(pairs: list[tuple[str, str]]) -> str:
    return ('<dl class="facts">' + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>"
                                           for k, v in pairs) + "</dl>")


def _verdict_box(v: Verdict, box_id: str) -> str:
    return (f'<div class="verdict {v.status}" id="{box_id}" data-status="{v.status}">'
            f"Verdict: {html.escape(v.headline)}</div>")


# -- sections -------------------------------------------------------------------------------
def _data_section(fit: Fit | AveragedFit, report: ValidationReport) -> str:
    data = fit.data
    facts = [("periods", f"{data.n_times} ({data.frequency or 'unknown frequency'})"),
             ("dates", f"{data.dates[0]:%Y-%m-%d} to {data.dates[-1]:%Y-%m-%d}"),
             ("target", data.y_column), ("channels", ", ".join(data.channel_names)),
             ("controls", ", ".join(data.control_names) or "none")]
    if data.is_panel:
        facts.append(("panels", f"{data.n_geos} cells ({', '.join(data.panel_columns)}): "
                                + ", ".join(data.panels)))
    spend = plot_data_total_spend(data).set_index("channel")
    parts = [_facts(facts), table_html(spend, "table-spend", "Total spend per channel")]
    if data.is_panel:
        cells = pd.DataFrame(data.media_gt.sum(axis=1), index=pd.Index(data.panels, name="panel"),
                             columns=list(data.channel_names))
        cells.insert(0, data.y_column, data.y_gt.sum(axis=1))
        parts.append(table_html(cells, "table-panels", "Totals per panel cell"))
    state = "passed" if report.ok else "failed"
    parts.append(_para(f"Validation {state}: {len(report.errors)} error(s), "
                       f"{len(report.warnings)} warning(s) in {report.n_rows} rows."))
    if report.problems:
        problems = pd.DataFrame([{"check": p.code, "severity": p.severity,
                                  "column": p.column or "", "message": p.message, "fix": p.fix}
                                 for p in report.problems]).set_index("check")
        parts.append(table_html(problems, "table-validation", "Validation problems"))
    parts += [_figure(plot_total_spend(data), "total_spend"),
              _figure(plot_spend(data), "spend_over_time")]
    return "".join(parts)


def _quality_section(fit: Fit | AveragedFit, hdi_prob: float) -> str:
    metrics = pd.DataFrame({"value": fit.fit_metrics()}).rename(index=_METRICS).rename_axis(
        "metric")
    note = ("Computed on the fitted data: R² and MAPE of the posterior-mean prediction, "
            "Durbin-Watson of its residuals (2 = no autocorrelation), and the share of "
            "observations inside the 94% posterior predictive interval.")
    return (table_html(metrics, "table-fit-metrics", "Fit on the fitted data")
            + _para(note, "note") + _figure(plot_actual_vs_fitted(fit, hdi_prob),
                                            "actual_vs_fitted"))


def _summary_section(fit: Fit | AveragedFit, hdi_prob: float) -> str:
    note = ("Posterior of every parameter in the model's scaled units (as PyMC-Marketing "
            "reports them): mean, standard deviation, highest-density interval, effective "
            "sample sizes and r_hat.")
    return _para(note, "note") + table_html(fit.summary(hdi_prob), "table-summary")


def _contribution_section(fit: Fit | AveragedFit) -> str:
    totals = plot_data_waterfall(fit).set_index("component")
    fitted = float(totals.loc["total", "contribution"])
    table = totals.drop(index="total")[["kind", "contribution"]]
    table["share"] = table["contribution"] / fitted
    return (table_html(table, "table-contributions", "Total contribution over the period "
                       "(posterior mean)")
            + _figure(plot_contributions(fit), "contributions")
            + _figure(plot_waterfall(fit), "waterfall"))


def _roi_section(fit: Fit | AveragedFit, hdi_prob: float) -> str:
    return (table_html(fit.roi(hdi_prob), "table-roi", "ROI: incremental target per unit of "
                       "spend over the fitted period")
            + _figure(plot_roi(fit, hdi_prob), "roi")
            + table_html(fit.media_share(hdi_prob), "table-media-share",
                         "Share of spend vs share of the media effect")
            + _figure(plot_spend_vs_effect(fit, hdi_prob), "spend_vs_effect"))


def _curves_section(fit: Fit | AveragedFit, hdi_prob: float, seed: int) -> str:
    points = response_curves(fit, seed=seed, hdi_prob=hdi_prob).points
    keys = ["panel", "channel"] if "panel" in points.columns else ["channel"]
    note = ("At the historical spend: incremental sales over the fitted period, the marginal "
            "ROI of one more unit of spend, and the saturation point (where the marginal ROI "
            "falls to a fifth of its peak; empty if not reached within the curve's range).")
    carry = ("Carry-over in periods: the half-life is the lag at which the effect of one "
             "period's spend has fallen to half its peak, the peak lag the lag of its "
             "largest effect (0: the period of spend), each with its HDI; beyond_window is "
             "the share of draws whose half-life passes the adstock window "
             f"({fit.spec.adstock_max_lag} periods), which then cuts the effect short.")
    return (table_html(points.set_index(keys), "table-curves", "Response at current spend")
            + _para(note, "note") + _figure(plot_saturation(fit, hdi_prob), "saturation")
            + table_html(half_life(fit, hdi_prob), "table-carryover",
                         "Adstock half-life and peak lag (periods)")
            + _para(carry, "note") + _figure(plot_adstock(fit, hdi_prob), "adstock"))


def _optimizer_section(fit: Fit | AveragedFit, n_periods: int, seed: int, hdi_prob: float) -> str:
    goal = goal_from(fit, n_periods)  # no goal given: the historical budget
    budget = goal.total if isinstance(goal, FixedBudget) else float("nan")
    try:
        plan = optimize_budget(fit, goal, n_periods=n_periods, seed=seed, hdi_prob=hdi_prob)
    except BayesMMMError as exc:
        return _para(f"No recommendation: the optimizer could not run ({exc}).")
    shown = plan.to_frame()[["historical_at_budget", "optimal", "change_pct", "sales",
                             "roi", "marginal_roi"]]
    intro = (f"The historical budget for {n_periods} periods ({format_number(budget)}, spent "
             "at the "
             "average rate of the fitted data) allocated to maximise the expected "
             "incremental sales, each channel free between zero and the whole budget.")
    return (_para(intro, "note") + _para(plan.summary()) + _items(list(plan.notes), "plan-notes")
            + table_html(shown, "table-allocation", "Current mix vs optimal")
            + _figure(plot_allocation(plan), "allocation"))


def _diagnostics_section(fit: Fit | AveragedFit, v: Verdict) -> str:
    first = fit.fits[fit.top] if isinstance(fit, AveragedFit) else fit
    options = first.meta.get("options", {})
    facts = [("sampler", str(first.meta.get("sampler", "nuts"))),
             ("chains x draws", f"{first.n_chains} x {first.n_draws} (warm-up "
                                f"{options.get('warmup', '?')})"),
             ("target_accept", str(options.get("target_accept", "?")))]
    if isinstance(fit, AveragedFit):
        facts.insert(0, ("structures", fit.carried_by()))
    reasons = v.reasons or ["Every check passed: the chains agree, there are enough "
                            "effective draws, no divergences, and the model fits the data."]
    table = v.to_frame()[["value", "rule", "status"]]
    rows = table_html(table, "table-checks", "Checks")
    for status in ("ok", "care", "bad"):  # colour the status cells
        rows = rows.replace(f'<td class="text">{status}</td>', f'<td class="{status}">'
                            f"{status}</td>")
    return (_verdict_box(v, "verdict") + _items(reasons, "reasons") + rows + _facts(facts)
            + "".join(_sampler_figures(label, member) for label, member in _members(fit)))


def _members(fit: Fit | AveragedFit) -> list[tuple[str, Fit]]:
    """The fits whose draws the diagnostics show: an averaged fit's members that carry
    weight, largest first, or the fit itself (label "")."""
    if not isinstance(fit, AveragedFit):
        return [("", fit)]
    order = sorted(fit.fits, key=lambda k: -fit.weights[k])
    return [(k, fit.fits[k]) for k in order if fit.weights[k] >= MIN_WEIGHT]


def _sampler_figures(label: str, fit: Fit) -> str:
    """Trace, rank and prior-vs-posterior plots of one fit (of one member, headed by its
    label, in an averaged fit)."""
    suffix = "_" + re.sub(r"[^A-Za-z0-9_-]", "_", label) if label else ""
    head = f"<h3>{html.escape(label)}</h3>" if label else ""
    return (head + _figure(plot_trace(fit), f"trace{suffix}")
            + _figure(plot_rank(fit), f"rank{suffix}")
            + _figure(plot_prior_posterior(fit), f"prior_posterior{suffix}"))


# -- the page -------------------------------------------------------------------------------
def report_html(fit: Fit | AveragedFit, *, title: str | None = None, hdi_prob: float = 0.94,
                n_periods: int | None = None, validation: ValidationReport | None = None,
                seed: int = 0) -> str:
    """The report of ``fit`` as one self-contained HTML document (plotly.js inlined, no
    network needed to open it).

    Parameters
    ----------
    fit : Fit
    title : str, optional
        Default ``"Marketing mix model: <target>"``.
    hdi_prob : float
        Width of the credible intervals in tables and plots.
    n_periods : int, optional
        Horizon of the budget recommendation; default 13 periods, or the length of the
        data if shorter.
    validation : ValidationReport, optional
        The report of the table the fit came from; default: the fit's data validated
        again with the fit's columns and options.
    seed : int
        Seed of the optimizer's and the curves' posterior subsamples.
    """
    data = fit.data
    horizon = n_periods if n_periods is not None else min(DEFAULT_HORIZON, data.n_times)
    if validation is None:
        validation = validate(data.to_frame(), **{**fit.spec.data_kwargs(),
                                                  "control_columns": data.control_names})
    judged = verdict(fit)
    bodies = {
        "data": _data_section(fit, validation),
        "fit-quality": _quality_section(fit, hdi_prob),
        "summary-statistics": _summary_section(fit, hdi_prob),
        "contributions": _contribution_section(fit),
        "roi": _roi_section(fit, hdi_prob),
        "curves": _curves_section(fit, hdi_prob, seed),
        "optimizer": _optimizer_section(fit, horizon, seed, hdi_prob),
        "diagnostics": _diagnostics_section(fit, judged),
    }
    sections = "".join(f'<section class="part" id="{sid}"><h2>{html.escape(heading)}</h2>'
                       f"{bodies[sid]}</section>" for sid, heading in SECTIONS)
    where = f" in {data.n_geos} panel cells" if data.is_panel else ""
    header = (_para(f"{data.n_times} periods{where}, {data.dates[0]:%Y-%m-%d} to "
                    f"{data.dates[-1]:%Y-%m-%d}; channels {', '.join(data.channel_names)}.")
              + (_para(f"Model-averaged answers ({fit.carried_by()}): every number and "
                       "plot below is the stacking mixture of these structures.")
                 if isinstance(fit, AveragedFit) else "")
              + _verdict_box(judged, "verdict-top")
              + "<nav>" + " ".join(f'<a href="#{sid}">{html.escape(h)}</a>'
                                   for sid, h in SECTIONS) + "</nav>")
    return page_html(title or f"Marketing mix model: {data.y_column}", header, sections,
                     _STYLE)


def write_report(fit: Fit | AveragedFit, path: str | Path, *, title: str | None = None,
                 hdi_prob: float = 0.94, n_periods: int | None = None,
                 validation: ValidationReport | None = None, seed: int = 0) -> Path:
    """Write :func:`report_html` of ``fit`` to ``path`` atomically (a failure leaves no
    partial file, nor a changed old one); the options are those of :func:`report_html`."""
    text = report_html(fit, title=title, hdi_prob=hdi_prob, n_periods=n_periods,
                       validation=validation, seed=seed)
    return atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))
