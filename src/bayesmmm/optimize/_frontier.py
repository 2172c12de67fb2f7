"""How the optimum moves: the efficiency frontier over budgets, and bound sensitivity."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayesmmm.analysis import hdi_columns
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.optimize._allocate import _objective_of, allocate
from bayesmmm.optimize._bounds import BoundsInput, resolve_bounds
from bayesmmm.optimize._goals import Bound, FixedBudget, Objective, parse_bound
from bayesmmm.optimize._planner import DEFAULT_DRAWS, Planner, channel_index

__all__ = ["bound_sensitivity", "efficiency_frontier"]

_DEFAULT_MULTIPLES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def _row(alloc: object, channels: list[str], hdi_prob: float) -> dict[str, float]:
    low, high = hdi_columns(hdi_prob)
    t = alloc.totals  # type: ignore[attr-defined]
    row = {"budget": t["budget"], "sales": t["sales"], f"sales_{low}": t[f"sales_{low}"],
           f"sales_{high}": t[f"sales_{high}"], "roi": t["roi"],
           "marginal_roi": t["marginal_roi"], "historical_sales": t["historical_sales"],
           "uplift_pct": t["uplift_pct"]}
    spend = alloc.channels["optimal"]  # type: ignore[attr-defined]
    row.update({f"spend:{c}": float(spend[c]) for c in channels})
    return row


def efficiency_frontier(fit: Fit | AveragedFit, *, n_periods: int,
                        budgets: Sequence[float] | None = None,
                        bounds: BoundsInput = None, fixed: Sequence[str] = (),
                        objective: Objective | None = None, gap: int = 0,
                        pattern: str | Sequence[float] | np.ndarray = "flat",
                        n_draws: int | None = DEFAULT_DRAWS, seed: int = 0,
                        hdi_prob: float = 0.94) -> pd.DataFrame:
    """The optimal plan at each budget: expected sales and ROI vs budget.

    ``budgets`` default to 0.25, 0.5, 0.75, 1, 1.25, 1.5 and 2 times the historical
    spend over ``n_periods`` (those outside what the bounds allow are dropped). Each
    optimisation starts from the previous optimum. Other arguments as for
    :func:`optimize_budget`.

    Returns one row per budget: ``budget``, ``multiple`` (of historical spend),
    optimal ``sales`` mean and HDI, ``roi``, ``marginal_roi``, ``historical_sales``
    (the historical mix at that budget), ``uplift_pct`` and the optimal spend per
    channel (``spend:<channel>``).
    """
    planner = Planner(fit, n_periods, gap=gap, pattern=pattern, n_draws=n_draws, seed=seed)
    box = resolve_bounds(planner, bounds, fixed)
    objective = _objective_of(objective)
    ref_total = float(planner.reference.sum())
    if budgets is None:
        lo, hi = box.channel_low().sum(), box.channel_high().sum()
        budgets = [m * ref_total for m in _DEFAULT_MULTIPLES if lo <= m * ref_total <= hi]
        if not budgets:
            raise SpecError(f"no default budget fits the bounds (they allow {lo:,.0f} .. "
                            f"{hi:,.0f}); pass budgets")
    rows, start = [], None
    for b in sorted(float(v) for v in budgets):
        alloc = allocate(planner, box, FixedBudget(b), objective, hdi_prob, start=start)
        start = alloc.spend
        row = _row(alloc, planner.channels, hdi_prob)
        row["multiple"] = b / ref_total if ref_total > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    return out[["budget", "multiple", *[c for c in out.columns if c not in ("budget", "multiple")]]]


def bound_sensitivity(fit: Fit | AveragedFit, channel: str, *, budget: float, n_periods: int,
                      values: Sequence[float] = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0),
                      side: str = "upper", bounds: BoundsInput = None,
                      fixed: Sequence[str] = (), objective: Objective | None = None,
                      gap: int = 0, pattern: str | Sequence[float] | np.ndarray = "flat",
                      n_draws: int | None = DEFAULT_DRAWS, seed: int = 0,
                      hdi_prob: float = 0.94) -> pd.DataFrame:
    """The optimum at a fixed budget as one bound of ``channel`` moves.

    ``values`` are multiples of the channel's historical spend over ``n_periods`` for
    its ``side`` ('upper' or 'lower') bound; the other side and all other channels keep
    ``bounds``. Infeasible values are reported with NaN sales. The column
    ``sales_per_unit`` is the change of optimal sales per unit the bound moved since
    the previous row (the bound's shadow price).
    """
    if side not in ("upper", "lower"):
        raise SpecError(f"Unknown side {side!r}; expected one of ['lower', 'upper']")
    c = channel_index(fit, channel)
    planner = Planner(fit, n_periods, gap=gap, pattern=pattern, n_draws=n_draws, seed=seed)
    objective = _objective_of(objective)
    given = dict(bounds or {})
    current = given.get(channel)
    base = parse_bound(current) if isinstance(current, str) else current
    if isinstance(base, tuple):
        base = Bound.multiple(*base)
    if base is not None and not isinstance(base, Bound):
        raise SpecError(f"bounds for {channel!r} must be a Bound, a string or a pair")
    if base is not None and base.kind != "multiple":
        raise SpecError("bound_sensitivity varies multiples of historical spend; give "
                        f"{channel!r} a multiple bound (or none)")
    ref_c = float(planner.reference[:, c].sum())
    rows, start = [], None
    for v in sorted(float(x) for x in values):
        low = base.low if base is not None else None
        high = base.high if base is not None else None
        low, high = (low, v) if side == "upper" else (v, high)
        row: dict[str, float] = {"multiple": v, "bound": v * ref_c}
        try:
            box = resolve_bounds(planner, {**given, channel: Bound.multiple(low, high)}, fixed)
            alloc = allocate(planner, box, FixedBudget(budget), objective, hdi_prob, start=start)
        except SpecError:
            rows.append({**row, "sales": np.nan, "channel_spend": np.nan, "roi": np.nan})
            continue
        start = alloc.spend
        rows.append({**row, "sales": alloc.totals["sales"],
                     "channel_spend": float(alloc.channels["optimal"].iloc[c]),
                     "roi": alloc.totals["roi"]})
    out = pd.DataFrame(rows)
    out["sales_per_unit"] = out["sales"].diff() / out["bound"].diff()
    return out
