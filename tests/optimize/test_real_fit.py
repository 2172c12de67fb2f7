"""The optimize layer on a real (small) NUTS fit: consistent with the analysis layer."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.optimize import (
    Bound,
    TargetMarginalROI,
    analyze_channel,
    evaluate_plan,
    historical_spend,
    optimize_budget,
    response_curves,
)
from bayesmmm.synth import simulate_preset


@pytest.fixture(scope="module")
def small_fit() -> bm.Fit:
    sim = simulate_preset("small_business", seed=0)
    return bm.fit(sim.data, bm.ModelSpec(**sim.spec_kwargs), chains=2, warmup=200, draws=200,
                  seed=0, progress=False)


def test_curve_at_history_is_the_fitted_contribution(small_fit: bm.Fit) -> None:
    curves = response_curves(small_fit, multipliers=[0.0, 1.0], n_draws=None)
    at_one = curves.points.set_index("channel")
    roi = small_fit.roi()
    assert at_one["sales"].to_numpy() == pytest.approx(roi["contribution"].to_numpy(), rel=1e-4)
    assert at_one["spend"].to_numpy() == pytest.approx(roi["spend"].to_numpy())


def test_optimum_beats_history_with_bounds(small_fit: bm.Fit) -> None:
    budget = float(historical_spend(small_fit, 13).sum())
    channels = list(small_fit.spec.channel_columns)
    bounds = {c: Bound.percent(50, 50) for c in channels}
    alloc = optimize_budget(small_fit, budget, n_periods=13, bounds=bounds, seed=1)
    x = alloc.channels["optimal"].to_numpy()
    ref = alloc.channels["historical"].to_numpy()
    assert x.sum() == pytest.approx(budget, rel=1e-9)
    assert (x >= 0.5 * ref * (1 - 1e-9)).all() and (x <= 1.5 * ref * (1 + 1e-9)).all()
    assert alloc.totals["uplift"] >= 0
    assert alloc.totals["sales_hdi_3%"] < alloc.totals["sales"] < alloc.totals["sales_hdi_97%"]
    again = evaluate_plan(small_fit, alloc)
    assert again.table.loc["total", "plan_sales"] == pytest.approx(alloc.totals["sales"])


def test_marginal_target_and_what_if(small_fit: bm.Fit) -> None:
    alloc = optimize_budget(small_fit, TargetMarginalROI(1.0), n_periods=13)
    spent = alloc.channels["optimal"] > 0
    assert np.isfinite(alloc.budget) and spent.any()
    channel = small_fit.spec.channel_columns[0]
    w = analyze_channel(small_fit, channel, 0.1 * alloc.channels.loc[channel, "historical"],
                        n_periods=13)
    assert w.sales_hdi[0] <= w.sales <= w.sales_hdi[1]
    assert w.recommendation.split(".")[0] in ("Recommended", "Not recommended", "Uncertain")
