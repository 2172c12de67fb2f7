"""The budget optimizer against known optima, oracles and its contract."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize as so

from bayesmmm.errors import SpecError
from bayesmmm.model import Fit
from bayesmmm.optimize import (
    Bound,
    ExpectedSales,
    FixedBudget,
    MeanMinusSd,
    Planner,
    TargetMarginalROI,
    TargetROI,
    optimize_budget,
)
from bayesmmm.optimize._bounds import resolve_bounds
from bayesmmm.optimize._solve import solve_budget
from tests.optimize.conftest import hand_fit, logistic

P = 4  # horizon of most tests


def _sales(x: float, beta: float, lam: float, scale: float, y: float = 1000.0) -> float:
    """Sales of spend ``x`` spread evenly over ``P`` periods, no carry-over."""
    return P * beta * y * logistic(lam * x / (P * scale))


def _marginal(x: float, beta: float, lam: float, scale: float, y: float = 1000.0) -> float:
    u = lam * x / (P * scale)
    return beta * y * lam / scale * 2 * np.exp(-u) / (1 + np.exp(-u)) ** 2


def _objective(planner: Planner, x: np.ndarray) -> float:
    """Expected incremental sales on the planner's draws."""
    return float(planner.cells(planner.spend_per_period(x), draws="used").sum((1, 2)).mean())


def test_equal_curves_split_the_budget_equally() -> None:
    # channel 1 ran at twice channel 0's level and has half its steepness per scaled unit,
    # so the two curves are identical in spend; the historical mix (1:2) is not optimal
    media = np.column_stack([np.full(52, 100.0), np.full(52, 200.0)])
    fit = hand_fit(media, beta=[2.0, 2.0], lam=[1.0, 2.0])
    alloc = optimize_budget(fit, FixedBudget(1500.0), n_periods=P)
    assert alloc.spend[0] == pytest.approx([750.0, 750.0], rel=1e-6)
    assert alloc.channels["historical_at_budget"].to_numpy() == pytest.approx([500.0, 1000.0])
    assert alloc.totals["uplift"] > 0


def test_concave_curves_meet_where_marginal_returns_are_equal(two_channels: Fit) -> None:
    budget = 1500.0
    s = two_channels.scalers.channel_scale_g[0]
    args = [(2.0, 1.5, s[0]), (3.0, 0.8, s[1])]
    x0 = so.brentq(lambda x: _marginal(x, *args[0]) - _marginal(budget - x, *args[1]),
                   1e-9, budget - 1e-9, xtol=1e-12)
    alloc = optimize_budget(two_channels, budget, n_periods=P)
    assert alloc.spend[0] == pytest.approx([x0, budget - x0], rel=1e-6)
    mroi = alloc.channels["marginal_roi"].to_numpy()
    assert mroi[0] == pytest.approx(mroi[1], rel=1e-6)
    assert mroi[0] == pytest.approx(_marginal(x0, *args[0]) / 1.0, rel=1e-6)
    best = _sales(x0, *args[0]) + _sales(budget - x0, *args[1])
    assert alloc.totals["sales"] == pytest.approx(best, rel=1e-7)  # lam 0.8 is float32


def test_never_worse_than_history_nor_random_plans(five_channels: Fit) -> None:
    planner = Planner(five_channels, 6, n_draws=None)
    ref = planner.reference
    budget = 1.3 * ref.sum()
    bounds = {c: (0.3, 3.0) for c in five_channels.spec.channel_columns}
    alloc = optimize_budget(five_channels, budget, n_periods=6, bounds=bounds, n_draws=None)
    best = _objective(planner, alloc.spend)
    assert best >= _objective(planner, ref * budget / ref.sum())
    assert alloc.totals["uplift"] > 0 and alloc.totals["prob_better"] > 0.5
    rng = np.random.default_rng(0)
    share = ref[0] / ref.sum()
    feasible = []
    while len(feasible) < 200:
        x = budget * rng.dirichlet(8 * share / share.min())
        if ((x >= 0.3 * ref[0]) & (x <= 3.0 * ref[0])).all():
            feasible.append(x)
    values = [_objective(planner, x[None]) for x in feasible]
    assert best >= max(values)
    assert best > np.median(values)


def test_bounds_and_budget_met_exactly(five_channels: Fit) -> None:
    planner = Planner(five_channels, 6)
    ref = planner.reference[0]
    bounds = {"c0": Bound.absolute(50.0, 400.0), "c1": "-20%:+20%", "c2": (0.5, 3.0),
              "c3": ":1.5"}
    budget = 0.9 * ref.sum()
    alloc = optimize_budget(five_channels, budget, n_periods=6, bounds=bounds, fixed=["c4"])
    x = alloc.spend[0]
    low = np.array([50.0, 0.8 * ref[1], 0.5 * ref[2], 0.0, ref[4]])
    high = np.array([400.0, 1.2 * ref[1], 3.0 * ref[2], 1.5 * ref[3], ref[4]])
    assert (x >= low * (1 - 1e-9)).all() and (x <= high * (1 + 1e-9)).all()
    assert x.sum() == pytest.approx(budget, rel=1e-9)
    assert x[4] == pytest.approx(ref[4], rel=1e-12)
    assert alloc.channels["lower"].to_numpy() == pytest.approx(low)
    assert alloc.spend_per_period.sum() == pytest.approx(budget, rel=1e-9)


def test_interior_channels_share_one_marginal_roi(five_channels: Fit) -> None:
    # KKT conditions of a concave problem: channels strictly inside their bounds share
    # one marginal ROI; one held at its upper bound returns more, one at its lower less
    alloc = optimize_budget(five_channels, 2500.0, n_periods=6, n_draws=None,
                            bounds={"c1": (0, 0.3), "c3": (0.2, 3)})
    table = alloc.channels
    at_low = table["optimal"] <= table["lower"] + 1e-6
    at_high = table["optimal"] >= table["upper"] - 1e-6
    interior = ~at_low & ~at_high
    assert interior.sum() >= 2 and at_high["c1"] and at_low["c3"]
    m = table.loc[interior, "marginal_roi"].to_numpy()
    assert m.max() - m.min() < 1e-5 * m.mean()
    assert alloc.totals["marginal_roi"] == pytest.approx(m.mean(), rel=1e-5)
    assert (table.loc[at_high, "marginal_roi"] > m.mean()).all()
    assert (table.loc[at_low, "marginal_roi"] < m.mean()).all()


def test_zero_historical_spend_channel_is_held_and_reported() -> None:
    media = np.column_stack([np.full(52, 100.0), np.zeros(52), np.full(52, 50.0)])
    fit = hand_fit(media, beta=[2.0, 5.0, 1.0], lam=[1.0, 3.0, 2.0])
    alloc = optimize_budget(fit, 900.0, n_periods=P, bounds={"c1": (0.5, 2.0)})
    assert alloc.spend[0, 1] == 0.0
    assert alloc.spend.sum() == pytest.approx(900.0, rel=1e-9)
    assert any("'c1' has no historical spend" in n for n in alloc.notes)
    assert np.isnan(alloc.channels.loc["c1", "roi"])
    assert np.isfinite(alloc.channels[["sales", "optimal"]].to_numpy()).all()
    held = optimize_budget(fit, 900.0, n_periods=P, bounds={"c1": "100:300abs"})
    assert held.spend[0, 1] == pytest.approx(100.0)
    assert held.spend.sum() == pytest.approx(900.0, rel=1e-9)


@pytest.mark.parametrize(("bounds", "budget", "words"), [
    ({"c0": (1.5, 2.0), "c1": (1.5, 2.0)}, 1200.0,
     ["lower bounds add up to 1,800", "c1 1,200", "budget 1,200", "at least 1,800"]),
    ({"c0": (0, 0.5), "c1": (0, 0.5)}, 1200.0,
     ["upper bounds add up to 600", "budget 1,200", "at most 600"]),
    ({"c0": "500:600abs", "c1": "900:1kabs"}, 1200.0, ["lower bounds add up to 1,400"]),
], ids=["lower", "upper", "absolute"])
def test_infeasible_bounds_name_the_numbers(two_channels: Fit, bounds: dict, budget: float,
                                            words: list[str]) -> None:
    with pytest.raises(SpecError, match="infeasible bounds") as info:
        optimize_budget(two_channels, budget, n_periods=P, bounds=bounds)
    for w in words:
        assert w in str(info.value)


def test_bad_inputs_are_spec_errors(two_channels: Fit) -> None:
    with pytest.raises(SpecError, match="Unknown channel"):
        optimize_budget(two_channels, 100.0, n_periods=P, bounds={"tv": (0, 1)})
    with pytest.raises(SpecError, match="Unknown channel"):
        optimize_budget(two_channels, 100.0, n_periods=P, fixed=["tv"])
    with pytest.raises(SpecError, match="n_periods"):
        optimize_budget(two_channels, 100.0, n_periods=0)
    with pytest.raises(SpecError, match="goal"):
        optimize_budget(two_channels, "lots", n_periods=P)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="nothing to optimise"):
        optimize_budget(two_channels, 1200.0, n_periods=P, fixed=["c0", "c1"])
    with pytest.raises(SpecError, match="pattern"):
        optimize_budget(two_channels, 100.0, n_periods=P, pattern="weekly")


def _oracle(hist: np.ndarray, x: float, gap: int, alpha: float, lam: float, beta: float,
            l_max: int, y: float = 1000.0) -> tuple[float, float]:
    """Sales of plan ``x`` by direct convolution: (with the tail after the horizon,
    without it)."""
    s = hist.max()
    w = alpha ** np.arange(l_max)
    w /= w.sum()
    tail = hist[-(l_max - 1):] / s
    n = gap + P + l_max - 1
    on = np.concatenate([tail, np.zeros(gap), np.full(P, x / P / s), np.zeros(l_max - 1)])
    off = np.concatenate([tail, np.zeros(n)])

    def contrib(series: np.ndarray) -> np.ndarray:
        ad = np.array([sum(w[k] * series[t - k] for k in range(l_max) if t >= k)
                       for t in range(len(series))])
        return beta * y * logistic(lam * ad)

    diff = (contrib(on) - contrib(off))[l_max - 1:]
    return float(diff.sum()), float(diff[:gap + P].sum())


@pytest.mark.parametrize("gap", [0, 2])
def test_carry_over_counts_the_tail_and_excludes_history(gap: int) -> None:
    rng = np.random.default_rng(1)
    hist = rng.uniform(50, 150, 40)
    alpha, lam, beta, l_max = 0.75, 1.25, 2.0, 6  # exact in float32, like the oracle
    fit = hand_fit(hist[:, None], beta=[beta], lam=[lam], alpha=alpha, l_max=l_max)
    planner = Planner(fit, P, gap=gap)
    zero = planner.cells(np.zeros((1, P, 1)))
    assert np.abs(zero).max() == 0.0  # the history's own carry-over is not the plan's
    got = float(planner.cells(planner.spend_per_period(np.array([[400.0]]))).sum())
    full, horizon_only = _oracle(hist, 400.0, gap, alpha, lam, beta, l_max)
    assert got == pytest.approx(full, rel=1e-9)
    assert full > horizon_only * 1.05  # the tail after the horizon is a real share
    # the history feeds the plan: a warm channel (recent spend) saturates sooner
    cold = hist.copy()
    cold[-(l_max - 1):] = 0.0
    cold_fit = hand_fit(cold[:, None], beta=[beta], lam=[lam], alpha=alpha, l_max=l_max)
    cold_sales = Planner(cold_fit, P, gap=gap).cells(
        np.full((1, P, 1), 100.0 * cold_fit.scalers.channel_scale_g[0, 0] / hist.max()))
    if gap < l_max - 1:
        assert float(cold_sales.sum()) > got


def test_target_roi_returns_the_budget_at_that_roi(two_channels: Fit) -> None:
    hist = optimize_budget(two_channels, 1200.0, n_periods=P)
    target = 0.8 * hist.totals["roi"]
    alloc = optimize_budget(two_channels, TargetROI(target), n_periods=P)
    assert alloc.totals["roi"] == pytest.approx(target, rel=1e-6)
    assert alloc.budget > 1200.0
    more = optimize_budget(two_channels, 1.01 * alloc.budget, n_periods=P)
    assert more.totals["roi"] < target


def test_target_roi_unreachable(two_channels: Fit) -> None:
    with pytest.raises(SpecError, match="no budget reaches ROI"):
        optimize_budget(two_channels, TargetROI(1e6), n_periods=P)


def test_target_marginal_roi_equalises_at_the_target(five_channels: Fit) -> None:
    alloc = optimize_budget(five_channels, TargetMarginalROI(2.0), n_periods=6, n_draws=None)
    table = alloc.channels
    spent = table["optimal"] > 1e-6
    assert spent.sum() >= 3
    assert table.loc[spent, "marginal_roi"].to_numpy() == pytest.approx(2.0, rel=1e-4)
    assert (table.loc[~spent, "marginal_roi"] <= 2.0 + 1e-6).all()


def test_target_marginal_roi_above_every_channel_says_so(five_channels: Fit) -> None:
    alloc = optimize_budget(five_channels, TargetMarginalROI(1e6), n_periods=6, n_draws=None)
    assert alloc.channels["optimal"].to_numpy().max() < 1e-6
    assert any("lower the target marginal ROI" in note for note in alloc.notes)
    spending = optimize_budget(five_channels, TargetMarginalROI(2.0), n_periods=6, n_draws=None)
    assert not any("lower the target marginal ROI" in note for note in spending.notes)


def test_risk_averse_objective_trades_mean_for_spread(five_channels: Fit) -> None:
    bounds = {c: (0, 4) for c in five_channels.spec.channel_columns}
    kw = {"n_periods": 6, "n_draws": None, "bounds": bounds}
    mean_plan = optimize_budget(five_channels, 900.0, **kw)
    safe_plan = optimize_budget(five_channels, 900.0, objective=MeanMinusSd(2.0), **kw)
    planner = Planner(five_channels, 6, n_draws=None)

    def stats(x: np.ndarray) -> tuple[float, float]:
        s = planner.cells(planner.spend_per_period(x), draws="used").sum((1, 2))
        return float(s.mean()), float(s.std())

    m1, s1 = stats(mean_plan.spend)
    m2, s2 = stats(safe_plan.spend)
    assert m2 - 2 * s2 >= m1 - 2 * s1 - 1e-9 * m1
    assert m1 >= m2 - 1e-9 * m1
    assert s2 <= s1


def test_methods_and_gradients_agree(five_channels: Fit) -> None:
    planner = Planner(five_channels, 6)
    box = resolve_bounds(planner, {c: (0.2, 5) for c in five_channels.spec.channel_columns})
    budget = float(planner.reference.sum())
    values = {}
    for method, gradient in [("SLSQP", "jax"), ("augmented-lagrangian", "jax"),
                             ("SLSQP", "finite-difference")]:
        sol = solve_budget(planner, box, budget, ExpectedSales(), method=method,
                           gradient=gradient)
        assert sol.x.sum() == pytest.approx(budget, rel=1e-9)
        values[method, gradient] = sol.value
    ref = values["SLSQP", "jax"]
    assert values["augmented-lagrangian", "jax"] == pytest.approx(ref, rel=1e-7)
    assert values["SLSQP", "finite-difference"] == pytest.approx(ref, rel=1e-5)


def test_historical_pattern_follows_the_last_periods() -> None:
    media = np.column_stack([np.arange(1.0, 53.0), np.full(52, 10.0)])
    fit = hand_fit(media, beta=[1.0, 1.0], lam=[1.0, 1.0])
    planner = Planner(fit, P, pattern="historical")
    last = np.arange(49.0, 53.0)
    assert planner.pattern[0, :, 0] == pytest.approx(last / last.sum())
    assert planner.pattern[0, :, 1] == pytest.approx(np.full(P, 0.25))
    with pytest.raises(SpecError, match="needs the last 60 periods"):
        Planner(fit, 60, pattern="historical")


def test_geo_panel_cells_and_channel_totals() -> None:
    rng = np.random.default_rng(2)
    media = rng.uniform(0.5, 1.0, (3, 52, 3)) * np.array([[[100, 50, 80]], [[30, 60, 20]],
                                                          [[70, 10, 90]]])
    fit = hand_fit(media, beta=[2.0, 1.5, 1.0], lam=[1.5, 2.0, 1.0])
    planner = Planner(fit, P)
    budget = float(planner.reference.sum())
    alloc = optimize_budget(fit, budget, n_periods=P, bounds={"c0": "100:250abs"})
    assert alloc.cells is not None and len(alloc.cells) == 9
    assert alloc.spend.sum() == pytest.approx(budget, rel=1e-9)
    assert 100 - 1e-6 <= alloc.spend[:, 0].sum() <= 250 + 1e-6
    assert alloc.channels.loc["c0", "upper"] == pytest.approx(250.0)
    m = planner.marginal(alloc.spend, draws="used").mean(0)
    box = resolve_bounds(planner, {"c0": "100:250abs"})
    interior = (alloc.spend > box.low + 1e-6) & (alloc.spend < box.high - 1e-6)
    interior[:, 0] &= not np.isclose(alloc.spend[:, 0].sum(), 250.0)
    assert m[interior].max() - m[interior].min() < 1e-4 * m[interior].mean()


def test_priced_channels_are_optimised_in_currency() -> None:
    # the same curve in media units, but channel 1's units cost 2: in currency its curve
    # is stretched twice as wide, so at the optimum s'(x0) = s'(x1 / 2) / 2
    media = np.column_stack([np.full(52, 100.0), np.full(52, 100.0)])
    fit = hand_fit(media, beta=[2.0, 2.0], lam=[1.5, 1.5], cost={"c1": 2.0})
    assert Planner(fit, P).reference[0] == pytest.approx([400.0, 800.0])
    budget = 1200.0
    x0 = so.brentq(lambda x: _marginal(x, 2.0, 1.5, 100.0)
                   - _marginal((budget - x) / 2, 2.0, 1.5, 100.0) / 2, 1e-9, budget - 1e-9,
                   xtol=1e-12)
    alloc = optimize_budget(fit, budget, n_periods=P)
    assert alloc.spend[0] == pytest.approx([x0, budget - x0], rel=1e-6)
    assert alloc.channels.loc["c1", "historical"] == pytest.approx(800.0)
