"""Result plots: each figure's numbers are the fit's answers, computed another way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.analysis import component_draws, hdi, mean_draws
from bayesmmm.errors import SpecError
from bayesmmm.report import (
    fit_figures,
    plot_actual_vs_fitted,
    plot_adstock,
    plot_contributions,
    plot_data_actual_vs_fitted,
    plot_data_adstock,
    plot_data_contributions,
    plot_data_roi,
    plot_data_saturation,
    plot_data_spend_vs_effect,
    plot_data_waterfall,
    plot_roi,
    plot_saturation,
    plot_waterfall,
)


def _flat(fit: bm.Fit, name: str) -> np.ndarray:
    v = fit.posterior[name]
    return v.reshape((-1,) + v.shape[2:])


def test_actual_vs_fitted_is_the_data_and_the_posterior_mean(tiny_fit: bm.Fit) -> None:
    frame = plot_data_actual_vs_fitted(tiny_fit)
    np.testing.assert_allclose(frame["actual"], tiny_fit.data.y)
    mu = mean_draws(tiny_fit)
    np.testing.assert_allclose(frame["fitted"], mu.mean(axis=0), rtol=1e-6)
    low, high = hdi(mu, 0.94)
    np.testing.assert_allclose(frame["fitted_low"], low, rtol=1e-6)
    # the predictive band holds the mean's band and most observations (noise included)
    assert (frame["low"] <= frame["fitted_low"] + 1e-6).mean() > 0.95
    assert ((frame["actual"] >= frame["low"]) & (frame["actual"] <= frame["high"])).mean() > 0.8
    fig = plot_actual_vs_fitted(tiny_fit)
    by_name = {t.name: t for t in fig.data}
    np.testing.assert_allclose(np.asarray(by_name["actual"].y, dtype=float), tiny_fit.data.y)
    np.testing.assert_allclose(np.asarray(by_name["fitted (mean)"].y, dtype=float),
                               mu.mean(axis=0), rtol=1e-6)


def test_stacked_contributions_sum_to_the_fitted_mean(tiny_fit: bm.Fit) -> None:
    frame = plot_data_contributions(tiny_fit)
    total = frame.groupby("date")["contribution"].sum().to_numpy()
    np.testing.assert_allclose(total, mean_draws(tiny_fit).mean(axis=0), rtol=1e-5)
    reference = tiny_fit.contributions()
    np.testing.assert_allclose(frame["contribution"], reference["mean"], rtol=1e-5)
    assert (frame["kind"] == reference["kind"]).all()
    fig = plot_contributions(tiny_fit)
    stacked = [t for t in fig.data if t.stackgroup]
    signed = [t for t in fig.data if t.fill == "tozeroy"]
    assert len(stacked) + len(signed) == frame["component"].nunique()
    np.testing.assert_allclose(sum(np.asarray(t.y, dtype=float) for t in stacked + signed),
                               total, rtol=1e-5)
    assert [t.name for t in stacked][-2:] == ["x1", "x2"]  # channels on top of the baseline


def test_media_stand_on_the_baseline_and_seasonality_is_its_own_band(tiny_fit: bm.Fit
                                                                      ) -> None:
    """Nothing negative in the stack, so the channels' bands start where the baseline
    parts end; seasonality (negative half the year) is a signed band of its own."""
    fig = plot_contributions(tiny_fit)
    stacked = [t for t in fig.data if t.stackgroup]
    assert all((np.asarray(t.y, dtype=float) >= 0).all() for t in stacked)
    names = [t.name for t in stacked]
    assert names.index("x1") > max(names.index(n) for n in ("intercept", "t", "event_1"))
    season = next(t for t in fig.data if t.name == "seasonality (signed)")
    values = np.asarray(season.y, dtype=float)
    assert season.fill == "tozeroy" and season.yaxis == "y2" and not season.stackgroup
    assert values.min() < 0 < values.max()
    colours = [t.line.color for t in stacked + [season]]
    assert len(set(colours)) == len(colours)  # every component its own colour


def test_waterfall_totals_are_the_contribution_sums(tiny_fit: bm.Fit) -> None:
    frame = plot_data_waterfall(tiny_fit)
    sums = tiny_fit.contributions().groupby("component", sort=False)["mean"].sum()
    body = frame.iloc[:-1].set_index("component")
    np.testing.assert_allclose(body["contribution"], sums.loc[body.index], rtol=1e-5)
    np.testing.assert_allclose(body["end"] - body["start"], body["contribution"])
    np.testing.assert_allclose(body["start"].iloc[1:], body["end"].iloc[:-1])
    last = frame.iloc[-1]
    assert last["component"] == "total"
    assert last["contribution"] == pytest.approx(mean_draws(tiny_fit).mean(axis=0).sum(),
                                                 rel=1e-5)
    trace = plot_waterfall(tiny_fit).data[0]
    assert list(trace.measure) == ["relative"] * len(body) + ["total"]


def test_roi_bars_are_fit_roi(tiny_fit: bm.Fit) -> None:
    frame = plot_data_roi(tiny_fit)
    table = tiny_fit.roi()
    np.testing.assert_allclose(frame["roi"], table["roi"])
    np.testing.assert_allclose(frame["low"], table["hdi_3%"])
    np.testing.assert_allclose(frame["high"], table["hdi_97%"])
    bar = plot_roi(tiny_fit).data[0]
    np.testing.assert_allclose(np.asarray(bar.y, dtype=float), table["roi"])
    np.testing.assert_allclose(np.asarray(bar.error_y.array, dtype=float),
                               table["hdi_97%"] - table["roi"])


def test_spend_vs_effect_is_media_share(tiny_fit: bm.Fit) -> None:
    frame = plot_data_spend_vs_effect(tiny_fit)
    share = tiny_fit.media_share()
    np.testing.assert_allclose(frame["spend_share"], share["spend_share"])
    np.testing.assert_allclose(frame["effect_share"], share["mean"])
    assert frame["spend_share"].sum() == pytest.approx(1.0)
    assert frame["effect_share"].sum() == pytest.approx(1.0, rel=1e-5)


def test_saturation_curve_at_current_spend_is_the_model_contribution(tiny_fit: bm.Fit
                                                                      ) -> None:
    frame = plot_data_saturation(tiny_fit, max_draws=None)
    data, scale = tiny_fit.data, tiny_fit.scalers
    beta, lam = _flat(tiny_fit, "saturation_beta"), _flat(tiny_fit, "saturation_lam")
    for c, name in enumerate(tiny_fit.spec.channel_columns):
        part = frame[frame["channel"] == name]
        now = part[part["is_current"]]
        assert len(now) == 1
        spend = data.media[:, c].mean()
        assert now["spend"].iloc[0] == pytest.approx(spend)
        # the classic model in closed form: y_scale * beta * tanh(lam * x / 2), x scaled
        # spend (normalised adstock of a constant spend is that spend)
        x = spend / scale.channel_scale[c]
        expected = (scale.y_scale * beta[:, c] * np.tanh(lam[:, c] * x / 2)).mean()
        assert now["contribution"].iloc[0] == pytest.approx(expected, rel=1e-4)
        assert part["contribution"].iloc[0] == pytest.approx(0.0, abs=1e-9)
        assert np.all(np.diff(part["contribution"].to_numpy()) >= -1e-6)  # non-decreasing
        assert (part["low"] <= part["contribution"] + 1e-9).all()
        assert part["spend"].max() >= 2 * spend - 1e-9
    fig = plot_saturation(tiny_fit)
    dashed = [t for t in fig.data if t.line.dash == "dash"]
    assert len(dashed) == 2 and dashed[0].x[0] == pytest.approx(data.media[:, 0].mean())


def test_saturation_steady_state_matches_a_long_constant_flight(tiny_fit: bm.Fit) -> None:
    """Independent route: the model's contributions of a constant spend series, once the
    carry-over has built up, at the last period."""
    from bayesmmm.analysis._draws import media_draws_gt

    frame = plot_data_saturation(tiny_fit, max_draws=None)
    now = frame[frame["is_current"]].set_index("channel")
    spend = tiny_fit.data.media.mean(axis=0)
    flight = np.broadcast_to(spend, (1, 3 * tiny_fit.spec.adstock_max_lag, len(spend)))
    last = media_draws_gt(tiny_fit, np.array(flight))[:, 0, -1].mean(axis=0)
    np.testing.assert_allclose(now.loc[list(tiny_fit.spec.channel_columns), "contribution"],
                               last, rtol=1e-4)


def test_adstock_weights_sum_to_one_and_follow_alpha(tiny_fit: bm.Fit) -> None:
    frame = plot_data_adstock(tiny_fit)
    l_max = tiny_fit.spec.adstock_max_lag
    np.testing.assert_allclose(frame.groupby("channel")["weight"].sum(), 1.0, rtol=1e-5)
    alpha = _flat(tiny_fit, "adstock_alpha")
    for c, name in enumerate(tiny_fit.spec.channel_columns):
        powers = alpha[:, c, None] ** np.arange(l_max)
        expected = (powers / powers.sum(axis=1, keepdims=True)).mean(axis=0)
        np.testing.assert_allclose(frame.loc[frame["channel"] == name, "weight"], expected,
                                   rtol=1e-4, atol=1e-7)
    assert (frame["low"] <= frame["weight"] + 1e-7).all()
    fig = plot_adstock(tiny_fit)
    assert [a.text for a in fig.layout.annotations] == ["x1 (geometric)", "x2 (geometric)"]


def test_panel_fit_total_and_cells(panel_fit: bm.Fit) -> None:
    fitted = plot_data_actual_vs_fitted(panel_fit)
    np.testing.assert_allclose(fitted["actual"], panel_fit.data.y_gt.sum(axis=0))
    mu = mean_draws(panel_fit)  # (S, G, T)
    np.testing.assert_allclose(fitted["fitted"], mu.sum(axis=1).mean(axis=0), rtol=1e-5)
    south = plot_data_actual_vs_fitted(panel_fit, panel="south")
    np.testing.assert_allclose(south["fitted"], mu[:, 1].mean(axis=0), rtol=1e-5)
    parts = sum(plot_data_contributions(panel_fit, panel=p)["contribution"].to_numpy()
                for p in panel_fit.data.panels)
    np.testing.assert_allclose(plot_data_contributions(panel_fit)["contribution"], parts,
                               rtol=1e-5, atol=1e-6)
    by_panel = panel_fit.roi(level="panel")
    north = plot_data_roi(panel_fit, panel="north")
    np.testing.assert_allclose(north["roi"], by_panel[by_panel["panel"] == "north"]["roi"])
    # the total curve at the current spend splits it over cells as they spend now, so it
    # is the sum of the cells' curves at their own current spend
    total = plot_data_saturation(panel_fit).query("is_current").set_index("channel")
    cells = [plot_data_saturation(panel_fit, panel=p).query("is_current").set_index("channel")
             for p in panel_fit.data.panels]
    np.testing.assert_allclose(total["contribution"], sum(c["contribution"] for c in cells),
                               rtol=1e-4)
    np.testing.assert_allclose(total["spend"], sum(c["spend"] for c in cells), rtol=1e-9)
    cell_weights = plot_data_adstock(panel_fit, panel="north")
    np.testing.assert_allclose(cell_weights.groupby("channel")["weight"].sum(), 1.0, rtol=1e-5)
    with pytest.raises(SpecError, match="Unknown panel"):
        plot_data_roi(panel_fit, panel="west")


def test_fit_figures_cover_every_result_plot(tiny_fit: bm.Fit) -> None:
    figures = fit_figures(tiny_fit)
    assert list(figures) == ["actual_vs_fitted", "contributions", "waterfall",
                             "spend_vs_effect", "roi", "saturation", "adstock",
                             "prior_posterior", "trace", "rank"]
    assert all(f.layout.title.text for f in figures.values())
    draws = component_draws(tiny_fit)
    assert set(pd.unique(plot_data_contributions(tiny_fit)["component"])) == set(draws)
