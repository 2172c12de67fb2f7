"""Response curves, what-if questions, plan evaluation, scenarios and the frontier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesmmm.errors import SpecError
from bayesmmm.model import Fit
from bayesmmm.optimize import (
    Scenario,
    analyze_channel,
    bound_sensitivity,
    compare_scenarios,
    efficiency_frontier,
    evaluate_plan,
    historical_spend,
    load_scenarios,
    optimize_budget,
    response_curves,
    saturation_point,
)
from tests.optimize.conftest import hand_fit, logistic


@pytest.fixture
def flat_fit() -> Fit:
    """Constant spend, no carry-over: each channel's curve is analytic."""
    media = np.column_stack([np.full(52, 100.0), np.full(52, 40.0), np.zeros(52)])
    return hand_fit(media, beta=[2.0, 1.0, 1.0], lam=[1.5, 4.0, 1.0])


def test_response_curve_is_the_analytic_curve(flat_fit: Fit) -> None:
    grid = np.linspace(0, 3, 301)
    rc = response_curves(flat_fit, multipliers=grid, saturation_fraction=0.2)
    tv = rc.table[rc.table["channel"] == "c0"]
    m = tv["multiplier"].to_numpy()
    want = 52 * 2.0 * 1000.0 * logistic(1.5 * m)  # 52 periods at spend 100 = scale
    assert tv["sales"].to_numpy() == pytest.approx(want, rel=1e-7, abs=1e-9)
    slope = 2.0 * 1000.0 * 1.5 / 100.0 * 2 * np.exp(-1.5 * m) / (1 + np.exp(-1.5 * m)) ** 2
    assert tv["marginal_roi"].to_numpy() == pytest.approx(slope, rel=1e-6)
    assert tv.loc[tv["current"], "spend"].item() == pytest.approx(5200.0)
    # logistic: marginal / peak = sech^2(u / 2) = 0.2  <=>  u = 2 arccosh(sqrt 5)
    point = rc.points.set_index("channel")
    assert point.loc["c0", "saturation_multiplier"] == pytest.approx(
        2 * np.arccosh(np.sqrt(5)) / 1.5, rel=1e-3)
    assert point.loc["c1", "saturation_multiplier"] < point.loc["c0", "saturation_multiplier"]
    assert np.isnan(point.loc["c2", "saturation_multiplier"])  # never spent: no curve
    assert point.loc["c0", "sales"] == pytest.approx(flat_fit.roi().loc["c0", "contribution"],
                                                     rel=1e-6)


def test_saturation_point_definition() -> None:
    grid = np.linspace(0, 2, 5)
    assert saturation_point(grid, np.array([1.0, 0.6, 0.3, 0.1, 0.05]), 0.2) == \
        pytest.approx(1.25)
    # S-shaped: the peak is past zero
    assert saturation_point(grid, np.array([0.1, 1.0, 0.5, 0.15, 0.1]), 0.2) == \
        pytest.approx(1.5 - 0.5 * 0.05 / 0.35)
    assert np.isnan(saturation_point(grid, np.array([1.0, 0.9, 0.8, 0.7, 0.6]), 0.2))
    assert np.isnan(saturation_point(grid, np.zeros(5), 0.2))


def test_response_curves_per_panel() -> None:
    rng = np.random.default_rng(0)
    media = rng.uniform(0.5, 1.0, (2, 30, 2)) * 100
    fit = hand_fit(media, beta=[1.0, 2.0], lam=[1.0, 2.0])
    total = response_curves(fit, multipliers=[0, 1, 2])
    panel = response_curves(fit, multipliers=[0, 1, 2], level="panel")
    assert list(panel.points["panel"].unique()) == ["g0", "g1"]
    summed = panel.table.groupby(["channel", "multiplier"])["sales"].sum()
    assert total.table.set_index(["channel", "multiplier"])["sales"].to_numpy() == \
        pytest.approx(summed.to_numpy(), rel=1e-9)
    with pytest.raises(SpecError, match="level"):
        response_curves(fit, level="geo")


def test_what_if_matches_the_analytic_increment(flat_fit: Fit) -> None:
    w = analyze_channel(flat_fit, "c0", 200.0, n_periods=4)
    # current: 4 x 100; the increase spreads evenly: 4 x 150 per period
    want = 4 * 2.0 * 1000.0 * (logistic(1.5 * 1.5) - logistic(1.5))
    assert w.sales == pytest.approx(want, rel=1e-7)
    assert w.roi == pytest.approx(want / 200.0, rel=1e-7)
    assert w.current_spend == pytest.approx(400.0)
    assert w.marginal_roi_after < w.marginal_roi_before
    assert w.prob_profitable == 1.0 and w.recommendation.startswith("Recommended")
    assert "'c0'" in w.recommendation and "200" in w.recommendation
    frame = w.to_frame()
    assert frame.loc["incremental_sales", "value"] == pytest.approx(want, rel=1e-7)


def test_what_if_break_even_and_cuts(flat_fit: Fit) -> None:
    dear = analyze_channel(flat_fit, "c0", 200.0, n_periods=4, break_even=1e6)
    assert dear.prob_profitable == 0.0 and dear.recommendation.startswith("Not recommended")
    cut = analyze_channel(flat_fit, "c0", -200.0, n_periods=4)
    assert cut.sales < 0 and cut.roi > 0
    assert cut.recommendation.startswith("Not recommended")  # each saved unit loses > 1
    with pytest.raises(SpecError, match="more than its spend"):
        analyze_channel(flat_fit, "c0", -500.0, n_periods=4)
    with pytest.raises(SpecError, match="Unknown channel"):
        analyze_channel(flat_fit, "tv", 10.0, n_periods=4)
    with pytest.raises(SpecError, match="non-zero"):
        analyze_channel(flat_fit, "c0", 0.0, n_periods=4)


def test_what_if_on_a_channel_never_spent(flat_fit: Fit) -> None:
    w = analyze_channel(flat_fit, "c2", 100.0, n_periods=4)
    assert np.isfinite(w.sales) and w.current_spend == 0.0


def test_evaluate_plan_forms_agree(flat_fit: Fit) -> None:
    totals = {"c0": 600.0, "c1": 100.0}
    by_map = evaluate_plan(flat_fit, totals, n_periods=4)
    frame = pd.DataFrame({"c0": [150.0] * 4, "c1": [25.0] * 4, "c2": [0.0] * 4})
    by_frame = evaluate_plan(flat_fit, frame)
    assert by_frame.table.loc["total", "plan_sales"] == pytest.approx(
        by_map.table.loc["total", "plan_sales"], rel=1e-12)
    current = by_map.table.loc["c0"]
    assert current["current_spend"] == pytest.approx(400.0)
    assert current["difference"] == pytest.approx(
        analyze_channel(flat_fit, "c0", 200.0, n_periods=4).sales, rel=1e-9)
    assert all(dtype == np.float64 for dtype in by_map.table.dtypes)  # .round() works
    unchanged = evaluate_plan(flat_fit, {}, n_periods=4)
    assert unchanged.table["difference"].abs().max() == 0.0
    with pytest.raises(SpecError, match="n_periods"):
        evaluate_plan(flat_fit, totals)
    with pytest.raises(SpecError, match="lacks channel"):
        evaluate_plan(flat_fit, frame.drop(columns="c2"))


def test_evaluate_an_allocation(flat_fit: Fit) -> None:
    budget = float(historical_spend(flat_fit, 4).sum())
    alloc = optimize_budget(flat_fit, budget, n_periods=4)
    result = evaluate_plan(flat_fit, alloc)
    assert result.table.loc["total", "plan_sales"] == pytest.approx(alloc.totals["sales"],
                                                                    rel=1e-9)
    assert result.table.loc["total", "difference"] >= 0 and result.prob_better in (0.0, 1.0)


def test_scenarios_side_by_side(flat_fit: Fit) -> None:
    table = compare_scenarios(flat_fit, [Scenario("more", {"default": 50}),
                                         Scenario("less", {"default": "-50%"}),
                                         Scenario("shift", {"c0": -20, "c1": "+50%"})],
                              n_periods=4)
    assert list(table.index) == ["current", "more", "less", "shift"]
    assert table.loc["current", "sales_change"] == 0.0
    assert table.loc["more", "spend_change_pct"] == pytest.approx(50.0)
    assert table.loc["more", "spend:c0"] == pytest.approx(600.0)
    assert table.loc["more", "sales"] > table.loc["current", "sales"] > table.loc["less", "sales"]
    assert table.loc["more", "prob_better"] == 1.0 and table.loc["less", "prob_better"] == 0.0
    assert table.loc["shift", "spend:c1"] == pytest.approx(240.0)
    with pytest.raises(SpecError, match="unknown channel"):
        compare_scenarios(flat_fit, [Scenario("x", {"tv": 10})], n_periods=4)
    with pytest.raises(SpecError, match="unique"):
        compare_scenarios(flat_fit, [Scenario("current")], n_periods=4)
    with pytest.raises(SpecError, match="more than 100%"):
        Scenario("x", {"c0": -150})


def test_load_scenarios(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("n_periods: 13\ngap: 1\nscenarios:\n  aggressive: {default: +30%}\n"
                    "  digital-first: {c0: -30%, c1: 40}\n")
    items, options = load_scenarios(path)
    assert options == {"n_periods": 13, "gap": 1}
    assert [s.name for s in items] == ["aggressive", "digital-first"]
    assert items[1].changes == {"c0": -30.0, "c1": 40.0}
    bare = tmp_path / "b.yaml"
    bare.write_text("up: {default: 10}\n")
    assert load_scenarios(bare)[0][0].changes == {"default": 10.0}
    for text, message in [("- a\n- b\n", "mapping"), ("x: [1, 2]\n", "must map"),
                          ("x: {c0: lots}\n", "not a percent"), ("x: {c0: [\n", "parsed")]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(SpecError, match=message):
            load_scenarios(bad)
    with pytest.raises(SpecError, match="does not exist"):
        load_scenarios(tmp_path / "none.yaml")


def test_frontier_is_concave(two_channels: Fit) -> None:
    front = efficiency_frontier(two_channels, n_periods=4)
    assert list(front["multiple"]) == pytest.approx([0.25, 0.5, 0.75, 1, 1.25, 1.5, 2])
    sales, roi = front["sales"].to_numpy(), front["roi"].to_numpy()
    assert (np.diff(sales) > 0).all() and (np.diff(roi) < 0).all()
    assert (np.diff(front["marginal_roi"].to_numpy()) < 0).all()
    assert (front["sales"] >= front["historical_sales"] * (1 - 1e-12)).all()
    spend = front[["spend:c0", "spend:c1"]].sum(axis=1).to_numpy()
    assert spend == pytest.approx(front["budget"].to_numpy(), rel=1e-9)


def test_bound_sensitivity_prices_the_bound(two_channels: Fit) -> None:
    out = bound_sensitivity(two_channels, "c0", budget=1200.0, n_periods=4,
                            values=[0.25, 0.5, 1.0, 3.0, 4.0])
    assert (np.diff(out["sales"].to_numpy()) >= -1e-9).all()
    assert out["channel_spend"].iloc[0] == pytest.approx(0.25 * 400.0)
    # a loose bound stops binding: its shadow price falls to 0
    assert out["sales_per_unit"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    lower = bound_sensitivity(two_channels, "c0", budget=1200.0, n_periods=4, side="lower",
                              values=[0.0, 10.0])
    assert np.isnan(lower["sales"].iloc[-1])  # 10x the history is more than the budget
