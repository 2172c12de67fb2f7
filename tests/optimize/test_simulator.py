"""The what-if simulator: its core's numbers are evaluate_plan's and analyze_channel's,
a slider moved changes what is shown, without widgets a table of preset moves says why,
and bad input is named.

Real fits read from the stored fit files (a two-geo NUTS fit and an averaged fit of two
structures), once per module.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.optimize import (
    Planner,
    Simulation,
    analyze_channel,
    evaluate_plan,
    historical_spend,
    simulate,
    simulator,
)

FITFILES = Path(__file__).resolve().parents[1] / "model" / "fitfiles"
PERIODS = 13


@pytest.fixture(scope="module")
def geo_fit() -> Fit:
    fit = bm.load(FITFILES / "geo_v2.nc")
    assert isinstance(fit, Fit) and fit.is_panel
    return fit


@pytest.fixture(scope="module")
def planner(geo_fit: Fit) -> Planner:
    return Planner(geo_fit, PERIODS, n_draws=None)


@pytest.fixture(scope="module")
def averaged_fit() -> AveragedFit:
    fit = bm.load(FITFILES / "averaged_v1.nc")
    assert isinstance(fit, AveragedFit)
    return fit


def _current(fit: Fit | AveragedFit) -> dict[str, float]:
    spend = historical_spend(fit, PERIODS).sum(0)
    return dict(zip(fit.spec.channel_columns, spend.tolist(), strict=True))


def _assert_matches_evaluate_plan(fit: Fit | AveragedFit, sim: Simulation) -> None:
    """The same plan as evaluate_plan's ``{channel: total}``, the same numbers."""
    now = _current(fit)
    plan = {c: now[c] * (1 + sim.changes[c] / 100) for c in now}
    ref = evaluate_plan(fit, plan, n_periods=PERIODS)
    for ours, theirs in [("current_spend", "current_spend"), ("plan_spend", "plan_spend"),
                         ("sales", "plan_sales"), ("sales_change", "difference"),
                         ("sales_change_hdi_3%", "difference_hdi_3%"),
                         ("sales_change_hdi_97%", "difference_hdi_97%"), ("roi", "plan_roi")]:
        np.testing.assert_allclose(sim.table[ours].to_numpy(),
                                   ref.table.loc[sim.table.index, theirs].to_numpy(),
                                   rtol=1e-9, atol=1e-9, err_msg=ours)
    assert sim.prob_better == ref.prob_better


def test_the_core_equals_evaluate_plan_on_a_geo_fit(geo_fit: Fit, planner: Planner) -> None:
    changes = {"tv": 20.0, "search": -50.0}
    sim = simulate(planner, changes)
    assert sim.changes == changes and sim.n_periods == PERIODS
    _assert_matches_evaluate_plan(geo_fit, sim)
    # a fit and a prepared planner give the same answer
    again = simulate(geo_fit, changes, n_periods=PERIODS)
    np.testing.assert_allclose(again.table.to_numpy(), sim.table.to_numpy(), rtol=1e-12)
    # the total row adds the channels up; the HDIs hold their means
    t = sim.table
    assert t.loc["total", "sales"] == pytest.approx(t.loc[["tv", "search"], "sales"].sum())
    assert t.loc["total", "change_pct"] == pytest.approx(
        100 * (t.loc["total", "plan_spend"] / t.loc["total", "current_spend"] - 1))
    for q in ("sales", "roi", "marginal_roi"):
        assert (t[f"{q}_hdi_3%"] <= t[q]).all() and (t[q] <= t[f"{q}_hdi_97%"]).all()
    low, high = sorted(t.loc[["tv", "search"], "marginal_roi"])
    assert low <= t.loc["total", "marginal_roi"] <= high


def test_marginal_roi_and_the_change_are_analyze_channels(geo_fit: Fit,
                                                          planner: Planner) -> None:
    now = _current(geo_fit)["tv"]
    what_if = analyze_channel(geo_fit, "tv", 0.3 * now, n_periods=PERIODS)
    moved = simulate(planner, {"tv": 30}).table.loc["tv"]
    assert moved["marginal_roi"] == pytest.approx(what_if.marginal_roi_after, rel=1e-9)
    assert moved["sales_change"] == pytest.approx(what_if.sales, rel=1e-9)
    assert (moved["sales_change_hdi_3%"], moved["sales_change_hdi_97%"]) == pytest.approx(
        what_if.sales_hdi, rel=1e-9)
    current = simulate(planner)
    assert current.table.loc["tv", "marginal_roi"] == pytest.approx(
        what_if.marginal_roi_before, rel=1e-9)
    assert np.isnan(current.prob_better) and "this is the current plan" in current.summary()
    assert (current.table["sales_change"] == 0).all()


def test_an_averaged_fit_is_simulated_on_its_mixture(averaged_fit: AveragedFit) -> None:
    changes = {"x1": 50.0}
    sim = simulate(averaged_fit, changes, n_periods=PERIODS)
    _assert_matches_evaluate_plan(averaged_fit, sim)
    assert 0 <= sim.prob_better <= 1


def test_moving_a_slider_changes_what_is_shown(geo_fit: Fit, planner: Planner) -> None:
    widgets = pytest.importorskip("ipywidgets")
    view = simulator(geo_fit, PERIODS, widgets=True, range_pct=(-100, 150), step_pct=5)
    assert view.note is None and view.presets is None
    assert isinstance(view.widget, widgets.VBox)
    assert set(view.sliders) == {"tv", "search"}
    tv = view.sliders["tv"]
    assert (tv.value, tv.min, tv.max, tv.step, tv.continuous_update) == (0, -100, 150, 5, False)
    output = view.widget.children[-1]
    first = output.value
    assert "this is the current plan" in first and "<table" in first

    tv.value = 50
    assert view.simulation.changes == {"tv": 50.0, "search": 0.0}
    assert output.value != first and "+50%" in output.value
    expected = simulate(planner, {"tv": 50})
    np.testing.assert_allclose(view.simulation.table.to_numpy(), expected.table.to_numpy(),
                               rtol=1e-12)
    assert f"{expected.prob_better:.0%}" in output.value

    view.sliders["search"].value = -100  # a channel stopped: no ROI, shown as a dash
    stopped = view.simulation.table.loc["search"]
    assert stopped["plan_spend"] == 0 and np.isnan(stopped["roi"])
    assert np.isfinite(stopped["marginal_roi"])  # the first unit's return
    assert "–" in view.simulation.to_display().loc["search", "ROI (94% HDI)"]

    view.reset()
    assert output.value == first and view.simulation.changes == {"tv": 0.0, "search": 0.0}
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_the_env_var_forces_the_table_of_preset_moves(geo_fit: Fit, planner: Planner,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAYESMMM_NO_WIDGETS", "1")
    view = simulator(geo_fit, PERIODS, channels=["search"], moves=(-50, 0, 20))
    assert view.widget is None and view.sliders == {}
    assert view.note is not None and "BAYESMMM_NO_WIDGETS=1" in view.note
    presets = view.presets
    assert presets is not None
    assert list(presets.index) == [("search", -50.0), ("search", 0.0), ("search", 20.0)]
    row = simulate(planner, {"search": 20}).table.loc["search"]
    np.testing.assert_allclose(presets.loc[("search", 20.0), row.index].to_numpy(dtype=float),
                               row.to_numpy(), rtol=1e-12)
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"].startswith("note: showing preset moves instead of sliders")
    for column in ("expected sales (94% HDI)", "vs current (94% HDI)", "ROI (94% HDI)",
                   "marginal ROI (94% HDI)", "P(more sales)"):
        assert column in bundle["text/html"]
    assert repr(view) == bundle["text/plain"]


def test_without_ipywidgets_the_table_says_how_to_get_sliders(
        geo_fit: Fit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAYESMMM_NO_WIDGETS", raising=False)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # as if not installed
    view = simulator(geo_fit, PERIODS, moves=(-20, 20))
    assert view.widget is None and view.presets is not None and len(view.presets) == 4
    assert view.note is not None
    assert "needs ipywidgets (the 'notebook' extra)" in view.note
    assert "pip install 'bayesmmm[notebook]'" in view.note
    with pytest.raises(ImportError, match=r"pip install 'bayesmmm\[notebook\]'"):
        simulator(geo_fit, PERIODS, widgets=True)


@pytest.mark.parametrize(("changes", "message"), [
    ({"radio": 10}, r"Unknown channel\(s\) \['radio'\].*\['tv', 'search'\]"),
    ({"tv": -150}, r"-150% for 'tv' would make its spend negative .*>= -100%"),
    ({"tv": "lots"}, r"change for 'tv' must be a finite percent.*'lots'"),
    ({"tv": float("nan")}, r"change for 'tv' must be a finite percent.*nan"),
    ([("tv", 10)], r"changes must map channel names"),
], ids=["unknown-channel", "negative-spend", "not-a-number", "nan", "not-a-mapping"])
def test_bad_changes_are_named(planner: Planner, changes: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        simulate(planner, changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"channels": ["radio"]}, r"Unknown channel\(s\) \['radio'\]"),
    ({"channels": "tv"}, r"channels must be a non-empty list.*'tv'"),
    ({"range_pct": (-150, 100)}, r"range_pct must run from a change >= -100.*-150"),
    ({"range_pct": (10, 100)}, r"with 0 \(the current plan\) inside.*\(10, 100\)"),
    ({"step_pct": 0}, r"step_pct must be a number above 0.*got 0"),
    ({"moves": (-20, -120)}, r"-120% for 'tv' would make its spend negative"),
], ids=["unknown-channel", "channels-str", "range-below", "range-without-0", "step",
        "move"])
def test_bad_simulator_settings_are_named(geo_fit: Fit, kwargs: dict[str, object],
                                          message: str) -> None:
    with pytest.raises(SpecError, match=message):
        simulator(geo_fit, PERIODS, widgets=False, **kwargs)  # type: ignore[arg-type]
