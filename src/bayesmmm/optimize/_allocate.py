"""Budget allocation: the optimal plan for a goal, reported over posterior draws."""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize as so

from bayesmmm._numbers import format_number as num
from bayesmmm.analysis import hdi_columns
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.optimize._bounds import BoundsInput, Box, resolve_bounds
from bayesmmm.optimize._goals import (
    ExpectedSales,
    FixedBudget,
    Goal,
    MeanMinusSd,
    Objective,
    SalesQuantile,
    TargetMarginalROI,
    TargetROI,
)
from bayesmmm.optimize._planner import DEFAULT_DRAWS, Planner
from bayesmmm.optimize._report import describe, ratio, shares
from bayesmmm.optimize._solve import (
    SEARCH_CAP,
    Solution,
    repair,
    solve_budget,
    solve_marginal,
)

__all__ = ["Allocation", "optimize_budget"]


@dataclass(frozen=True)
class Allocation:
    """An optimal budget allocation and how it compares with the historical one.

    Attributes
    ----------
    goal, objective
        What was asked.
    n_periods, gap : int
        The horizon.
    budget : float
        Total spend of the plan (all channels and geos, the whole horizon).
    channels : DataFrame
        One row per channel: ``historical`` (spend over ``n_periods`` at the historical
        rate), ``historical_at_budget`` (the historical mix scaled to ``budget``),
        ``optimal``, ``change_pct`` (optimal vs historical mix at this budget), ``lower``,
        ``upper``, incremental ``sales`` (mean and HDI over all posterior draws),
        ``roi`` (sales / spend), ``marginal_roi`` (sales of one more unit of spend, spread
        over the geos like the channel's spend), ``historical_sales`` (of the historical
        mix at this budget), and ``comparison`` / ``comparison_sales``: the mix the plan
        is compared with and its sales (the historical mix at this budget when the
        bounds allow it, else that mix moved into the bounds: see ``comparison``).
    cells : DataFrame or None
        The same per panel and channel (geo models).
    totals : dict
        ``budget``, ``sales`` mean and HDI, ``roi``, ``marginal_roi`` (of the channels
        not at a bound), ``historical_sales`` mean and HDI, ``comparison_sales`` mean
        and HDI, ``uplift`` (per-draw difference to the comparison mix) mean and HDI,
        ``uplift_pct``, ``prob_better`` (P(plan > comparison mix) over all draws) and
        ``objective`` (the optimised quantity on the draws used).
    spend : ndarray ``(n_geos, n_channels)``
    spend_per_period : ndarray ``(n_geos, n_periods, n_channels)``
    notes : tuple of str
        Things to know (channels held at 0, a solver that stopped early, a historical
        mix outside the bounds, ...).
    comparison : str
        What ``uplift`` and ``prob_better`` compare the plan with: ``"historical mix"``
        (scaled to the budget), or ``"historical mix moved into the bounds"`` when the
        bounds (or fixed channels) exclude the historical mix itself: a comparison with
        a plan nobody may choose would say nothing about this one.
    warnings : tuple of str
        Reasons to distrust the plan, said plainly: it does not beat the comparison mix
        on the full posterior (and why that can happen).
    """

    goal: Goal
    objective: Objective
    n_periods: int
    gap: int
    budget: float
    channels: pd.DataFrame
    cells: pd.DataFrame | None
    totals: dict[str, float]
    spend: np.ndarray
    spend_per_period: np.ndarray
    notes: tuple[str, ...] = ()
    success: bool = True
    message: str = ""
    seconds: float = 0.0
    n_draws: int = 0
    hdi_prob: float = 0.94
    panels: tuple[str, ...] = field(default=())
    comparison: str = "historical mix"
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The channel table with a ``total`` row."""
        t = self.totals
        low, high = hdi_columns(self.hdi_prob)
        total = {"historical": self.channels["historical"].sum(),
                 "historical_at_budget": self.budget, "optimal": self.budget,
                 "change_pct": 0.0, "lower": self.channels["lower"].sum(),
                 "upper": self.channels["upper"].sum(), "sales": t["sales"],
                 f"sales_{low}": t[f"sales_{low}"], f"sales_{high}": t[f"sales_{high}"],
                 "roi": t["roi"], "marginal_roi": t["marginal_roi"],
                 "historical_sales": t["historical_sales"], "comparison": self.budget,
                 "comparison_sales": t["comparison_sales"]}
        return pd.concat([self.channels, pd.DataFrame(total, index=pd.Index(["total"],
                                                                           name="channel"))])

    def summary(self) -> str:
        """The result in one paragraph of plain words."""
        t = self.totals
        low, high = hdi_columns(self.hdi_prob)
        versus = ("the historical mix at the same budget" if self.comparison == "historical mix"
                  else "the historical mix moved into the bounds (the historical mix itself "
                       "is outside them)")
        head = (f"Spending {num(t['budget'])} over {self.n_periods} periods as optimised is "
                f"expected to bring {num(t['sales'])} incremental sales ({self.hdi_prob:.0%} "
                f"HDI {num(t[f'sales_{low}'])} to {num(t[f'sales_{high}'])}), ROI "
                f"{num(t['roi'])}; ")
        if np.allclose(self.channels["optimal"], self.channels["comparison"], rtol=1e-6,
                       atol=1e-9 * max(self.budget, 1.0)):
            text = head + f"that is {versus} itself: no other plan does better."
        else:
            sign = "+" if t["uplift"] >= 0 else ""
            text = head + (f"that is {sign}{num(t['uplift'])} ({t['uplift_pct']:+.1f}%) vs "
                           f"{versus} (probability better {t['prob_better']:.0%}).")
        return " ".join([text, *(f"Caution: {w}" for w in self.warnings)])


def _objective_of(objective: Objective | None) -> Objective:
    objective = ExpectedSales() if objective is None else objective
    if not isinstance(objective, (ExpectedSales, SalesQuantile, MeanMinusSd)):
        raise SpecError(f"objective must be ExpectedSales(), SalesQuantile(q) or "
                        f"MeanMinusSd(k), got {objective!r}")
    return objective


def _goal_of(goal: Goal | float) -> Goal:
    if isinstance(goal, (FixedBudget, TargetROI, TargetMarginalROI)):
        return goal
    if isinstance(goal, numbers.Real) and not isinstance(goal, bool):
        return FixedBudget(float(goal))
    raise SpecError(f"goal must be FixedBudget(total), TargetROI(value), "
                    f"TargetMarginalROI(value) or a budget amount, got {goal!r}")


def optimize_budget(fit: Fit | AveragedFit, goal: Goal | float, *, n_periods: int,
                    bounds: BoundsInput = None, fixed: Sequence[str] = (),
                    objective: Objective | None = None, gap: int = 0,
                    pattern: str | Sequence[float] | np.ndarray = "flat",
                    n_draws: int | None = DEFAULT_DRAWS, seed: int = 0,
                    hdi_prob: float = 0.94) -> Allocation:
    """Allocate a media budget over channels (and geos) for ``n_periods`` future periods.

    Maximises the objective (by default the expected incremental sales of the plan over
    spending nothing, including its carry-over after the horizon) with SciPy's SLSQP on
    exact JAX gradients.

    Parameters
    ----------
    fit : Fit
    goal : FixedBudget, TargetROI, TargetMarginalROI or float
        A number means ``FixedBudget(number)``.
    n_periods : int
        Horizon length, in periods of the data.
    bounds : mapping of channel to Bound, str or (low, high), optional
        Per-channel limits: ``Bound.multiple(0.5, 2)`` (or ``(0.5, 2)`` or ``"0.5:2"``)
        of the historical spend over ``n_periods``; ``Bound.percent(30, 20)`` (or
        ``"-30%:+20%"``); ``Bound.absolute(1e5, 3e5)`` (or ``"100k:300kabs"``). Channels
        without a bound may take anything >= 0.
    fixed : sequence of str
        Channels held at their historical spend.
    objective : ExpectedSales, SalesQuantile or MeanMinusSd
        Risk attitude; default ``ExpectedSales()``.
    gap : int
        Periods of zero spend between the data's end and the plan.
    pattern : 'flat', 'historical' or weights
        Time pattern of spend inside the horizon (see :class:`Planner`).
    n_draws : int or None
        Posterior draws the optimizer uses (a subsample drawn with ``seed``; ``None``:
        all). The reported sales and HDIs use all draws.
    seed : int
    hdi_prob : float

    Returns
    -------
    Allocation

    Raises
    ------
    SpecError
        Unknown channels, infeasible bounds (the message names the numbers), a bad goal.
    """
    planner = Planner(fit, n_periods, gap=gap, pattern=pattern, n_draws=n_draws, seed=seed)
    box = resolve_bounds(planner, bounds, fixed)
    return allocate(planner, box, _goal_of(goal), _objective_of(objective), hdi_prob)


def allocate(planner: Planner, box: Box, goal: Goal, objective: Objective, hdi_prob: float,
             start: np.ndarray | None = None) -> Allocation:
    """Solve ``goal`` on a prepared planner and bounds, and report the plan."""
    started = time.perf_counter()
    notes = list(box.notes)
    if isinstance(goal, FixedBudget):
        sol = solve_budget(planner, box, goal.total, objective, start=start)
    elif isinstance(goal, TargetMarginalROI):
        sol = solve_marginal(planner, box, goal.value, objective)
        ref = planner.reference  # the search limit of solve_marginal (free cells' mean)
        capped = box.free & ~np.isfinite(box.high) & (
            sol.x >= 0.999 * SEARCH_CAP * np.maximum(ref, ref[box.free].mean()))
        for c in np.flatnonzero(capped.any(axis=0)):
            notes.append(f"channel {planner.channels[c]!r} stays above the target marginal ROI "
                         f"up to the search limit ({SEARCH_CAP:g}x its historical spend): its "
                         "curve barely saturates; give it an upper bound")
        at_floor = box.free & (sol.x <= box.low + 1e-9 * np.maximum(ref, 1.0))
        if box.free.any() and at_floor[box.free].all():
            notes.append(f"no channel returns {goal.value:g} per extra unit even at its lowest "
                         "allowed spend, so the plan spends only what the bounds and fixed "
                         "channels require; lower the target marginal ROI to spend more")
    else:
        sol = _solve_target_roi(planner, box, goal.value, objective, notes)
    if not sol.success:
        notes.append(f"the solver did not report convergence ({sol.message}); the plan is the "
                     "best found and never worse than the historical mix")
    return report(planner, box, goal, objective, sol, hdi_prob, notes,
                  time.perf_counter() - started)


def _solve_target_roi(planner: Planner, box: Box, target: float, objective: Objective,
                      notes: list[str]) -> Solution:
    """Bisect (Brent) on the budget until the optimal plan's ROI equals ``target``."""
    ref_total = planner.reference.sum()
    solutions: dict[float, Solution] = {}
    last: list[np.ndarray] = []

    def solve(budget: float) -> Solution:
        if budget not in solutions:
            start = last[-1] * budget / last[-1].sum() if last and last[-1].sum() > 0 else None
            solutions[budget] = solve_budget(planner, box, budget, objective, start=start)
            last.append(solutions[budget].x)
        return solutions[budget]

    def gap(log_b: float) -> float:
        b = math.exp(log_b)
        return solve(b).value / b - target

    lo = max(box.channel_low().sum(), 1e-6 * max(ref_total, 1.0))
    hi = box.channel_high().sum()
    if gap(math.log(lo)) < 0:
        # S-shaped curves (Hill with slope > 1): the ROI first rises with the budget, so
        # climb while it does and start the bracket at the first budget reaching the target
        best, roi = lo, solve(lo).value / lo
        while roi < target and best * 4 <= hi:
            b = best * 4
            r = solve(b).value / b
            if r <= roi:
                break
            best, roi = b, r
        if roi < target:
            raise SpecError(f"no budget reaches ROI {target:g}: the best optimal plan found "
                            f"returns {roi:.3g} per unit (budget {best:,.3g}; the bounds allow "
                            f"{lo:,.3g} .. {hi:,.3g}). Fix: lower the target to at most "
                            f"{roi:.3g} or loosen the lower bounds")
        lo = best
    if np.isfinite(hi):
        if gap(math.log(hi)) >= 0:
            notes.append(f"the ROI stays above {target:g} up to the largest budget the bounds "
                         f"allow ({hi:,.0f}); that budget is returned")
            return solve(hi)
    else:
        hi = max(ref_total, lo * 2)
        for _ in range(60):
            if gap(math.log(hi)) < 0:
                break
            lo, hi = hi, hi * 2
        else:
            raise SpecError(f"the ROI never falls to {target:g} (checked up to {hi:,.0f}): some "
                            "channel's curve does not saturate. Fix: give it an upper bound")
    log_b = so.brentq(gap, math.log(lo), math.log(hi), xtol=1e-9, maxiter=100)
    return solve(math.exp(log_b))


def report(planner: Planner, box: Box, goal: Goal, objective: Objective, sol: Solution,
           hdi_prob: float, notes: list[str], seconds: float) -> Allocation:
    """Evaluate the optimal and the historical mix on all draws and tabulate."""
    x = sol.x
    budget = float(x.sum())
    ref = planner.reference
    hist = ref * (budget / ref.sum()) if ref.sum() > 0 else np.full_like(ref, budget / ref.size)
    comp, comparison = _comparison(planner, box, hist, budget, notes)
    opt_cells = planner.cells(planner.spend_per_period(x))
    hist_cells = planner.cells(planner.spend_per_period(hist))
    comp_cells = hist_cells if comp is hist else planner.cells(planner.spend_per_period(comp))
    marg = planner.marginal(x)
    w = shares(x, ref)
    chan = _table(x, hist, ref, box.low, box.high, opt_cells, hist_cells, (marg * w).sum(1),
                  hdi_prob, planner.channels, "channel", comp, comp_cells)
    for c, lo, hi in box.totals:
        chan.iloc[c, chan.columns.get_loc("lower")] = max(chan["lower"].iloc[c], lo)
        chan.iloc[c, chan.columns.get_loc("upper")] = min(chan["upper"].iloc[c], hi)
    cells = None
    if planner.panels:
        parts = []
        for g, name in enumerate(planner.panels):
            part = _table(x[g:g + 1], hist[g:g + 1], ref[g:g + 1], box.low[g:g + 1],
                          box.high[g:g + 1], opt_cells[:, g:g + 1], hist_cells[:, g:g + 1],
                          marg[:, g], hdi_prob, planner.channels, "channel", comp[g:g + 1],
                          comp_cells[:, g:g + 1])
            part.insert(0, "panel", name)
            parts.append(part)
        cells = pd.concat(parts)
    totals = _totals(x, box, opt_cells, hist_cells, comp_cells, marg, budget, hdi_prob)
    totals["objective"] = float(sol.value) if isinstance(goal, FixedBudget) else float("nan")
    same = np.allclose(x, comp, rtol=1e-6, atol=1e-9 * max(budget, 1.0))
    warnings = [] if same else _losing(totals, objective, planner, sol, comparison)
    return Allocation(goal, objective, planner.n_periods, planner.gap, budget, chan, cells,
                      totals, x, planner.spend_per_period(x), tuple(notes), sol.success,
                      sol.message, seconds, len(planner.draw_index), hdi_prob,
                      tuple(planner.panels), comparison, tuple(warnings))


def _outside(box: Box, x: np.ndarray) -> list[str]:
    """The channels whose spend in ``x`` breaks the box (cells or channel totals), each
    with its spend and the allowed range, for a note."""
    tol = 1e-9 * np.maximum(np.abs(x), 1.0)
    bad = (x < box.low - tol) | (x > box.high + tol)
    out = []
    for c, name in enumerate(box.channels):
        spend, lo, hi = x[:, c].sum(), box.channel_low()[c], box.channel_high()[c]
        total_bad = spend < lo - 1e-9 * max(lo, 1.0) or spend > hi + 1e-9 * max(hi, 1.0)
        if bad[:, c].any() or total_bad:
            top = "no upper bound" if not np.isfinite(hi) else f"{hi:,.4g}"
            out.append(f"{name!r} would spend {spend:,.4g}, its bounds allow {lo:,.4g} .. {top}")
    return out


def _comparison(planner: Planner, box: Box, hist: np.ndarray, budget: float,
                notes: list[str]) -> tuple[np.ndarray, str]:
    """The mix the plan is compared with: the historical mix at ``budget`` if the bounds
    allow it, else the nearest mix they allow (it clipped into the bounds and moved back
    to the budget, which is also where the optimizer starts), with a note saying so."""
    outside = _outside(box, hist)
    if not outside:
        return hist, "historical mix"
    near = repair(hist.copy(), box, budget)
    notes.append("the historical mix scaled to this budget is outside the bounds ("
                 + "; ".join(outside) + "), so the plan is compared with the nearest mix the "
                 "bounds allow: the historical mix moved into the bounds (also where the "
                 "optimizer starts). Fix: widen those bounds to compare with the historical "
                 "mix itself")
    return near, "historical mix moved into the bounds"


def _losing(totals: dict[str, float], objective: Objective, planner: Planner,
            sol: Solution, comparison: str) -> list[str]:
    """Say plainly when the plan does not beat the comparison mix on the full posterior,
    and the likely reason."""
    if totals["uplift"] >= 0 and totals["prob_better"] >= 0.5:
        return []
    why = []
    if not isinstance(objective, ExpectedSales):
        why.append(f"the objective is the {objective.describe()}, not the mean: the plan "
                   "trades expected sales for less downside")
    if len(planner.draw_index) < planner.n_draws_total:
        why.append(f"the optimizer used {len(planner.draw_index)} of the "
                   f"{planner.n_draws_total} posterior draws (raise n_draws, CLI --draws)")
    if not sol.success:
        why.append("the solver did not converge")
    reason = "; ".join(why) if why else "the posterior is too uncertain to tell the two apart"
    return [f"the plan is expected to bring {totals['uplift']:+,.4g} "
            f"({totals['uplift_pct']:+.1f}%) vs the {comparison} over all posterior draws, "
            f"better in only {totals['prob_better']:.0%} of them ({reason}); it is no clear "
            f"improvement on the {comparison}"]


def _table(x: np.ndarray, hist: np.ndarray, ref: np.ndarray, low: np.ndarray,
           high: np.ndarray, opt_cells: np.ndarray, hist_cells: np.ndarray,
           marginal: np.ndarray, hdi_prob: float, channels: list[str], name: str,
           comp: np.ndarray, comp_cells: np.ndarray) -> pd.DataFrame:
    spend = x.sum(0)
    hist_c = hist.sum(0)
    sales = opt_cells.sum(1)
    stats = describe(sales, hdi_prob, "sales_")
    out = pd.DataFrame({
        "historical": ref.sum(0), "historical_at_budget": hist_c, "optimal": spend,
        "change_pct": 100 * (ratio(spend, hist_c) - 1), "lower": low.sum(0),
        "upper": high.sum(0), "sales": stats.pop("sales_mean"), **stats,
        "roi": ratio(sales.mean(0), spend), "marginal_roi": marginal.mean(0),
        "historical_sales": hist_cells.sum(1).mean(0), "comparison": comp.sum(0),
        "comparison_sales": comp_cells.sum(1).mean(0)}, index=pd.Index(channels, name=name))
    return out


def _totals(x: np.ndarray, box: Box, opt_cells: np.ndarray, hist_cells: np.ndarray,
            comp_cells: np.ndarray, marg: np.ndarray, budget: float, hdi_prob: float
            ) -> dict[str, float]:
    sales = opt_cells.sum((1, 2))
    hist = hist_cells.sum((1, 2))
    comp = comp_cells.sum((1, 2))
    uplift = sales - comp
    tol = 1e-6 * np.maximum(np.abs(x), 1.0)
    interior = box.free & (x > box.low + tol) & (x < box.high - tol)
    for c, lo, hi in box.totals:  # a channel at its total's bound has its own price
        s = x[:, c].sum()
        if s <= lo + 1e-6 * max(abs(lo), 1.0) or s >= hi - 1e-6 * max(abs(hi), 1.0):
            interior[:, c] = False
    m = marg.mean(0)
    mroi = float(np.average(m[interior], weights=x[interior])) if interior.any() else math.nan
    out: dict[str, float] = {"budget": budget}
    for key, draws in (("sales", sales), ("historical_sales", hist),
                       ("comparison_sales", comp), ("uplift", uplift)):
        stats = describe(draws, hdi_prob, f"{key}_")
        out.update({(key if k == f"{key}_mean" else k): float(v) for k, v in stats.items()})
    out["roi"] = float(ratio(sales.mean(), np.asarray(budget)))
    out["marginal_roi"] = mroi
    out["uplift_pct"] = float(100 * ratio(uplift.mean(), comp.mean()))
    out["prob_better"] = float((uplift > 0).mean())
    return out
