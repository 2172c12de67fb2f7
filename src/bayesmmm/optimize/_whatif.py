"""What-if questions: one channel's spend changed, or a whole plan, vs the current plan.

The *current plan* continues the historical spend rate: every geo and channel spends
its mean spend per period over the fitted data, for ``n_periods`` periods.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd

from bayesmmm._numbers import format_number as num
from bayesmmm.analysis import hdi_columns
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.optimize._allocate import Allocation
from bayesmmm.optimize._planner import Planner, channel_index
from bayesmmm.optimize._report import describe, ratio, shares

__all__ = ["PlanComparison", "WhatIf", "analyze_channel", "evaluate_plan"]

PlanInput: TypeAlias = Allocation | Mapping[str, float] | pd.DataFrame | np.ndarray


@dataclass(frozen=True)
class WhatIf:
    """The answer to "what if we change this channel's spend by this much?".

    Attributes
    ----------
    channel : str
    spend_change : float
        Extra spend over the horizon (negative: a cut).
    n_periods : int
    current_spend : float
        The channel's spend over the horizon at the historical rate.
    sales : float
        Incremental sales of the change (posterior mean); ``sales_hdi`` its HDI.
    roi, roi_hdi : float, tuple
        Sales of the change per unit of spend changed.
    marginal_roi_before, marginal_roi_after : float
        Sales of one more unit of spend at the current and at the new level.
    prob_profitable : float
        Posterior probability that the change pays: ROI above ``break_even`` for an
        increase, below it for a cut (each unit saved loses less than ``break_even``).
    break_even : float
    recommendation : str
        The answer in plain words.
    """

    channel: str
    spend_change: float
    n_periods: int
    current_spend: float
    sales: float
    sales_hdi: tuple[float, float]
    roi: float
    roi_hdi: tuple[float, float]
    marginal_roi_before: float
    marginal_roi_after: float
    prob_profitable: float
    break_even: float
    recommendation: str
    hdi_prob: float = 0.94

    def to_frame(self) -> pd.DataFrame:
        """Two columns (quantity, value) for printing or CSV."""
        low, high = hdi_columns(self.hdi_prob)
        rows = {"channel": self.channel, "periods": self.n_periods,
                "current_spend": self.current_spend, "spend_change": self.spend_change,
                "new_spend": self.current_spend + self.spend_change,
                "incremental_sales": self.sales, f"incremental_sales_{low}": self.sales_hdi[0],
                f"incremental_sales_{high}": self.sales_hdi[1], "roi": self.roi,
                f"roi_{low}": self.roi_hdi[0], f"roi_{high}": self.roi_hdi[1],
                "marginal_roi_before": self.marginal_roi_before,
                "marginal_roi_after": self.marginal_roi_after,
                "prob_profitable": self.prob_profitable, "break_even_roi": self.break_even,
                "recommendation": self.recommendation}
        out = pd.DataFrame({"value": list(rows.values())}, index=pd.Index(list(rows),
                                                                          name="quantity"))
        return out


def _advice(w: dict[str, float], channel: str, change: float, be: float, periods: int,
            hdi_prob: float, low: float, high: float) -> str:
    grow = change > 0
    verb = f"Adding {num(change)} to" if grow else f"Cutting {num(-change)} from"
    what = (f"{verb} {channel!r} over {periods} periods is expected to "
            f"{'bring' if grow else 'lose'} {num(abs(w['sales']))} sales ({hdi_prob:.0%} HDI "
            f"{num(abs(low if grow else high))} to {num(abs(high if grow else low))}): "
            f"{num(w['roi'])} per unit of spend")
    p = w["prob"]
    if grow:
        verdict = ("Recommended" if p >= 0.8 else "Not recommended" if p <= 0.2 else
                   "Uncertain")
        why = f"probability that it pays (ROI > {be:g}) {p:.0%}"
        after = w["m_after"]
        tail = (f"At the new level the next unit still returns {num(after)}, above "
                "break-even: more may pay." if after > be else
                f"At the new level the next unit returns {num(after)}, below break-even: do "
                "not go further.")
    else:
        verdict = ("Recommended" if p >= 0.8 else "Not recommended" if p <= 0.2 else
                   "Uncertain")
        why = f"probability that each unit saved loses less than {be:g} in sales {p:.0%}"
        tail = (f"Before the cut the next unit returned {num(w['m_before'])}"
                f"{', below' if w['m_before'] < be else ', above'} break-even.")
    return f"{verdict}. {what}; {why}. {tail}"


def analyze_channel(fit: Fit | AveragedFit, channel: str, spend_increase: float, *, n_periods: int,
                    gap: int = 0, pattern: str | Sequence[float] | np.ndarray = "flat",
                    break_even: float = 1.0, hdi_prob: float = 0.94) -> WhatIf:
    """What would ``spend_increase`` more (or, if negative, less) on ``channel`` do?

    The change is added to the current plan (historical spend rate over ``n_periods``),
    split over geos in proportion to the channel's historical spend and over periods
    by ``pattern``; other channels are unchanged. Answers use all posterior draws.

    Parameters
    ----------
    fit : Fit
    channel : str
    spend_increase : float
        Currency over the horizon; negative for a cut (at most the current spend).
    n_periods, gap, pattern
        The horizon (see :func:`optimize_budget`).
    break_even : float
        The ROI at which a unit of spend pays for itself: 1 when sales are revenue in
        the spend's currency; 1 / margin when the target is profit-bearing revenue, etc.
    hdi_prob : float

    Returns
    -------
    WhatIf
    """
    c = channel_index(fit, channel)
    if isinstance(spend_increase, bool) or not isinstance(spend_increase, numbers.Real) \
            or not np.isfinite(spend_increase) or spend_increase == 0:
        raise SpecError(f"spend_increase must be a non-zero number, got {spend_increase!r}")
    planner = Planner(fit, n_periods, gap=gap, pattern=pattern, n_draws=None)
    ref = planner.reference
    split = shares(ref, ref)[:, c]
    new = ref.copy()
    new[:, c] = ref[:, c] + spend_increase * split
    if (new[:, c] < -1e-9 * max(ref[:, c].sum(), 1.0)).any():
        raise SpecError(f"cutting {-spend_increase:,.0f} from {channel!r} is more than its spend "
                        f"over {n_periods} periods ({ref[:, c].sum():,.0f}); cut at most that")
    new = np.maximum(new, 0.0)
    base = planner.cells(planner.spend_per_period(ref))[:, :, c].sum(1)
    after = planner.cells(planner.spend_per_period(new))[:, :, c].sum(1)
    diff = after - base
    roi = diff / spend_increase
    m_before = (planner.marginal(ref)[:, :, c] * split).sum(1).mean()
    m_after = (planner.marginal(new)[:, :, c] * split).sum(1).mean()
    sd = describe(diff, hdi_prob)
    rd = describe(roi, hdi_prob)
    low, high = hdi_columns(hdi_prob)
    prob = float((roi > break_even).mean() if spend_increase > 0 else (roi < break_even).mean())
    w = {"sales": float(sd["mean"]), "roi": float(rd["mean"]), "prob": prob,
         "m_after": float(m_after), "m_before": float(m_before)}
    text = _advice(w, channel, spend_increase, break_even, n_periods, hdi_prob,
                   float(sd[low]), float(sd[high]))
    return WhatIf(channel, float(spend_increase), n_periods, float(ref[:, c].sum()), w["sales"],
                  (float(sd[low]), float(sd[high])), w["roi"], (float(rd[low]), float(rd[high])),
                  float(m_before), float(m_after), prob, float(break_even), text, hdi_prob)


@dataclass(frozen=True)
class PlanComparison:
    """A spend plan against the current plan (historical rate), over all draws.

    ``table``: one row per channel and a ``total`` row: ``current_spend``,
    ``plan_spend``, ``current_sales``, ``plan_sales``, ``difference`` mean and HDI (per
    draw), ``current_roi``, ``plan_roi``. ``prob_better``: posterior probability that
    the plan brings more incremental sales in total.
    """

    table: pd.DataFrame
    prob_better: float
    n_periods: int


def _plan_array(planner: Planner, plan: PlanInput) -> np.ndarray:
    """Spend per geo, period and channel ``(G, P, C)`` of any accepted plan form."""
    ref = planner.reference
    shape = planner.pattern.shape
    if isinstance(plan, Allocation):
        arr = plan.spend_per_period
    elif isinstance(plan, Mapping):
        unknown = sorted(set(plan) - set(planner.channels))
        if unknown:
            raise SpecError(f"Unknown channel(s) {unknown} in the plan; expected names from "
                            f"{planner.channels}")
        x = ref.copy()
        w = shares(ref, ref)
        for name, amount in plan.items():
            if isinstance(amount, bool) or not isinstance(amount, numbers.Real) \
                    or not math.isfinite(amount) or amount < 0:
                raise SpecError(f"plan spend for {name!r} must be a finite number >= 0 (total "
                                f"over the horizon), got {amount!r}")
            c = planner.channels.index(name)
            x[:, c] = amount * w[:, c]
        arr = planner.spend_per_period(x)
    elif isinstance(plan, pd.DataFrame):
        arr = _frame_plan(planner, plan)
    else:
        arr = np.asarray(plan, dtype=float)
        if arr.ndim == 2:
            arr = arr[None]
    if arr.shape != shape:
        raise SpecError(f"the plan has shape {arr.shape} (geos, periods, channels) but the "
                        f"horizon needs {shape}; pass n_periods to match it")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        g, t, c = (int(i) for i in np.argwhere(bad)[0])
        where = f"panel {planner.panels[g]!r}, " if planner.panels else ""
        raise SpecError(f"plan spends must be finite numbers >= 0, got {int(bad.sum())} bad "
                        f"value(s), first {float(arr[g, t, c])!r} ({where}period {t}, channel "
                        f"{planner.channels[c]!r}). Fix: clip or fill them, e.g. "
                        "plan.clip(lower=0).fillna(0)")
    return arr


def _frame_plan(planner: Planner, frame: pd.DataFrame) -> np.ndarray:
    missing = [c for c in planner.channels if c not in frame.columns]
    if missing:
        raise SpecError(f"the plan table lacks channel column(s) {missing}; give one column "
                        "per channel and one row per period")
    if not planner.panels:
        return frame[planner.channels].to_numpy(dtype=float)[None]
    if "panel" not in frame.columns:
        raise SpecError("a geo model's plan table needs a 'panel' column (long format: one "
                        "row per panel and period)")
    out = []
    for name in planner.panels:
        rows = frame[frame["panel"].astype(str) == name]
        if rows.empty:
            raise SpecError(f"the plan table has no rows for panel {name!r}")
        out.append(rows[planner.channels].to_numpy(dtype=float))
    lengths = {len(o) for o in out}
    if len(lengths) != 1:
        raise SpecError(f"every panel needs the same number of periods in the plan, got "
                        f"{sorted(lengths)}")
    return np.stack(out)


def evaluate_plan(fit: Fit | AveragedFit, plan: PlanInput, *, n_periods: int | None = None,
                  gap: int = 0,
                  pattern: str | Sequence[float] | np.ndarray = "flat",
                  hdi_prob: float = 0.94) -> PlanComparison:
    """Compare any spend plan with the current plan (historical rate) over the horizon.

    Parameters
    ----------
    fit : Fit
    plan : Allocation, mapping, DataFrame or array
        An :class:`Allocation`; ``{channel: total spend over the horizon}`` (split over
        geos like the channel's history and over periods by ``pattern``; channels not
        named keep their current spend); a table with one row per period and one column
        per channel (geo models: long format with a ``panel`` column); or an array
        ``(n_geos, n_periods, n_channels)``.
    n_periods : int, optional
        Needed for a mapping; otherwise read from the plan.
    gap, pattern, hdi_prob
        As for :func:`optimize_budget`; ``pattern`` also spreads the current plan.

    Returns
    -------
    PlanComparison
    """
    if n_periods is None:
        if isinstance(plan, Allocation):
            n_periods = plan.n_periods
        elif isinstance(plan, pd.DataFrame):
            n_periods = len(plan) // max(len(fit.data.panels), 1) if fit.is_panel else len(plan)
        elif isinstance(plan, np.ndarray):
            n_periods = plan.shape[-2]
        else:
            raise SpecError("n_periods is needed when the plan gives totals per channel")
    if isinstance(plan, Allocation) and gap == 0:
        gap = plan.gap
    planner = Planner(fit, n_periods, gap=gap, pattern=pattern, n_draws=None)
    arr = _plan_array(planner, plan)
    cur = planner.spend_per_period(planner.reference)
    cur_cells = planner.cells(cur).sum(1)  # (S, C)
    new_cells = planner.cells(arr).sum(1)
    cur_spend, new_spend = cur.sum((0, 1)), arr.sum((0, 1))
    rows = {}
    for label, a, b, sa, sb in [
            *((name, cur_cells[:, c], new_cells[:, c], cur_spend[c], new_spend[c])
              for c, name in enumerate(planner.channels)),
            ("total", cur_cells.sum(1), new_cells.sum(1), cur_spend.sum(), new_spend.sum())]:
        d = describe(b - a, hdi_prob, "difference_")
        rows[label] = {"current_spend": float(sa), "plan_spend": float(sb),
                       "current_sales": float(a.mean()), "plan_sales": float(b.mean()),
                       "difference": float(d.pop("difference_mean")),
                       **{k: float(v) for k, v in d.items()},
                       "current_roi": float(ratio(a.mean(), sa)),
                       "plan_roi": float(ratio(b.mean(), sb))}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "channel"
    prob = float((new_cells.sum(1) > cur_cells.sum(1)).mean())
    return PlanComparison(table, prob, n_periods)
