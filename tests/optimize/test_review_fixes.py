"""Edge cases found in review: S-shaped curves, channel totals at a bound, search-limit
notes and inputs given as NumPy scalars or malformed arrays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bayesmmm.errors import SpecError
from bayesmmm.model import Fit
from bayesmmm.optimize import (
    Bound,
    FixedBudget,
    Planner,
    TargetMarginalROI,
    TargetROI,
    analyze_channel,
    efficiency_frontier,
    evaluate_plan,
    optimize_budget,
)
from tests.optimize.conftest import hand_fit

P = 4


@pytest.fixture
def s_curves() -> Fit:
    """Two channels with S-shaped Hill curves (slope 3, half saturation at the scale):
    the ROI of the optimal plan first rises with the budget, then falls."""
    media = np.column_stack([np.full(52, 100.0), np.full(52, 200.0)])
    base = hand_fit(media, beta=[2.0, 3.0], lam=[1.0, 1.0])
    post = {k: v for k, v in base.posterior.items() if k != "saturation_lam"}
    post["saturation_kappa"] = np.ones((1, 1, 2), np.float32)
    post["saturation_slope"] = np.full((1, 1, 2), 3.0, np.float32)
    return Fit(dataclasses.replace(base.spec, saturation="hill"), base.data, base.scalers, post,
               base.sample_stats, {"hand_built": True})


def test_target_roi_on_s_shaped_curves(s_curves: Fit) -> None:
    # tiny budgets return almost nothing here, yet large ones return more than 2
    assert optimize_budget(s_curves, 8000.0, n_periods=P).totals["roi"] > 2.0
    alloc = optimize_budget(s_curves, TargetROI(2.0), n_periods=P)
    assert alloc.totals["roi"] == pytest.approx(2.0, rel=1e-6)
    assert alloc.budget > 8000.0
    assert optimize_budget(s_curves, 1.01 * alloc.budget, n_periods=P).totals["roi"] < 2.0
    with pytest.raises(SpecError, match="no budget reaches ROI 100.*at most"):
        optimize_budget(s_curves, TargetROI(100.0), n_periods=P)


def test_warm_started_optima_never_lose_to_the_historical_mix(s_curves: Fit) -> None:
    # the frontier starts each budget from the last optimum; at small budgets that puts
    # everything in one channel, a bad start for larger budgets on S-shaped curves
    frontier = efficiency_frontier(s_curves, n_periods=P, budgets=[100, 400, 4000, 8000])
    assert (frontier["uplift_pct"] >= -1e-9).all()
    cold = optimize_budget(s_curves, 4000.0, n_periods=P).totals["sales"]
    assert frontier["sales"].iloc[2] == pytest.approx(cold, rel=1e-6)


def test_plan_marginal_roi_leaves_out_channels_at_their_total_bound() -> None:
    rng = np.random.default_rng(2)
    media = rng.uniform(0.5, 1.0, (3, 52, 3)) * np.array([[[100, 50, 80]], [[30, 60, 20]],
                                                          [[70, 10, 90]]])
    fit = hand_fit(media, beta=[2.0, 1.5, 1.0], lam=[1.5, 2.0, 1.0])
    budget = float(Planner(fit, P).reference.sum())
    alloc = optimize_budget(fit, budget, n_periods=P, bounds={"c0": ":400abs"})
    assert alloc.spend[:, 0].sum() == pytest.approx(400.0)  # c0's total binds ...
    table = alloc.channels
    assert table.loc["c0", "marginal_roi"] > 2 * table.loc["c1", "marginal_roi"]  # ... dearly
    # the plan's marginal ROI is the one the unconstrained channels share
    assert alloc.totals["marginal_roi"] == pytest.approx(table.loc["c1", "marginal_roi"],
                                                         rel=1e-4)
    assert alloc.totals["marginal_roi"] == pytest.approx(table.loc["c2", "marginal_roi"],
                                                         rel=1e-4)


def test_search_limit_note_with_a_large_fixed_channel() -> None:
    # c0 barely saturates and is searched up to 100x its own spend; the fixed c1, 10,000x
    # larger, must not hide that it stopped at that limit
    media = np.column_stack([np.full(52, 1.0), np.full(52, 10000.0)])
    fit = hand_fit(media, beta=[1.0, 1.0], lam=[1e-4, 1.0], y_scale=1e6)
    alloc = optimize_budget(fit, TargetMarginalROI(0.5), n_periods=P, fixed=["c1"])
    assert alloc.spend[0, 0] == pytest.approx(100 * 4.0)
    assert any("'c0' stays above the target marginal ROI" in n for n in alloc.notes)


def test_numpy_scalars_are_numbers(flat_fit_two: Fit) -> None:
    ref = optimize_budget(flat_fit_two, 1500.0, n_periods=P).spend
    for budget in (np.int64(1500), np.float32(1500), FixedBudget(np.int64(1500))):
        assert optimize_budget(flat_fit_two, budget, n_periods=P).spend == pytest.approx(ref)
    assert Bound.absolute(np.int64(1), np.int64(5)).high == 5
    assert analyze_channel(flat_fit_two, "c0", np.int64(100), n_periods=P).spend_change == 100


def test_malformed_patterns_and_plans_are_spec_errors(flat_fit_two: Fit) -> None:
    for pattern in (np.ones((P, 3)), np.ones((2, P, 2))):
        with pytest.raises(SpecError, match=r"pattern weights .* got shape"):
            optimize_budget(flat_fit_two, 1500.0, n_periods=P, pattern=pattern)
    with pytest.raises(SpecError, match="plan spend for 'c0' must be a finite number.*'lots'"):
        evaluate_plan(flat_fit_two, {"c0": "lots"}, n_periods=P)  # type: ignore[dict-item]
    plan = np.ones((P, 2))
    plan[2, 1] = -5.0
    with pytest.raises(SpecError, match=r"first -5.0 \(period 2, channel 'c1'\)"):
        evaluate_plan(flat_fit_two, plan)


@pytest.fixture
def flat_fit_two() -> Fit:
    media = np.column_stack([np.full(52, 100.0), np.full(52, 200.0)])
    return hand_fit(media, beta=[2.0, 3.0], lam=[1.5, 0.8])
