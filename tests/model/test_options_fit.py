"""Every model option fits, and its pieces add up; panels of one cell are national."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.analysis import component_draws, mean_draws
from bayesmmm.model import model_data, preset_spec

from ..conftest import QUICK

TINY = {**QUICK, "chains": 1, "warmup": 150, "draws": 100}
COLS = {"date_column": "date_week", "y_column": "y", "channel_columns": ["x1", "x2"],
        "control_columns": ["event_1", "event_2", "t"]}


@pytest.mark.parametrize("options", [
    {"trend": "linear", "control_columns": ["event_1", "event_2"]},
    {"trend": "piecewise", "trend_changepoints": 3, "control_columns": ["event_1", "event_2"]},
    {"trend": "smooth", "control_columns": ["event_1", "event_2"]},
    {"media_prior": "spend_share"},
    {"media_prior": "roi", "priors": {"roi": bm.Prior("LogNormal", {"loc": 8.0, "scale": 1.0})}},
    {"adstock": {"x1": "weibull_cdf", "x2": "delayed"}, "saturation": {"x1": "hill"}},
    {"saturation_first": True, "saturation": "michaelis_menten"},
    {"holidays": ["US"], "events": {"black_friday": ["2019-11-29", "2020-11-27"]}},
    {"cost_per_unit": {"x1": 2.0}},
], ids=["linear", "piecewise", "smooth", "spend_share", "roi", "mixed_forms",
        "saturation_first", "calendar", "cost_per_unit"])
def test_option_fits_and_components_add_up(options: dict) -> None:
    spec = bm.ModelSpec(**{**COLS, **options})
    f = bm.fit(bm.example_data(), spec, seed=3, **TINY)
    comps = component_draws(f)
    assert np.isfinite(mean_draws(f)).all()
    np.testing.assert_allclose(sum(comps.values()), mean_draws(f), rtol=1e-6)
    assert f.fit_metrics()["r2"] > 0.85, options
    for c in spec.channel_columns:
        assert (comps[c] >= -1e-6).all()  # media never subtract
    if "trend" in options:
        assert "trend" in comps
    if "holidays" in options:
        assert "holiday_christmas_day" in f.data.control_names
        assert "event_black_friday" in comps
    if options.get("media_prior") == "roi":  # beta is derived so that the ROI is the draw
        roi = f.roi()
        ratio = comps["x1"].sum(axis=1) / f.data.media[:, 0].sum()
        np.testing.assert_allclose(ratio, f.posterior["roi"].reshape(-1, 2)[:, 0], rtol=1e-3)
        assert roi.loc["x1", "roi"] == pytest.approx(ratio.mean(), rel=1e-6)
    if "cost_per_unit" in options:  # ROI uses spend = units x cost
        assert f.roi().loc["x1", "spend"] == pytest.approx(2.0 * f.data.media[:, 0].sum())
    saved = bm.load_fit(f.save(f"/tmp/bayesmmm-test-{spec.trend}-{spec.media_prior}.nc"))
    pd.testing.assert_frame_equal(saved.roi(), f.roi())


def test_single_panel_cell_is_the_national_model() -> None:
    """One geo in long format gives exactly the national model's draws."""
    df = bm.example_data()
    spec = bm.ModelSpec(**COLS)
    national = bm.fit(df, spec, seed=5, **TINY)
    geo_spec = bm.ModelSpec(**COLS, panel_columns=["market"])
    one = bm.fit(df.assign(market="all"), geo_spec, seed=5, **TINY)
    assert set(one.posterior) == set(national.posterior)
    for k, v in national.posterior.items():
        np.testing.assert_allclose(one.posterior[k], v, rtol=1e-5, atol=1e-6)
    assert list(one.summary().index) == list(national.summary().index)


def test_preset_fits() -> None:
    # the preset's power trend replaces the example's time-index control t
    cols = {**COLS, "control_columns": ["event_1", "event_2"]}
    spec = preset_spec("hill_adstock", **cols)
    f = bm.fit(bm.example_data(), spec, seed=1, **TINY)
    s = f.summary()
    assert {"saturation_kappa[x1]", "saturation_slope[x2]", "trend_coef",
            "trend_exponent"} <= set(s.index)
    assert (f.posterior["intercept"] >= 0).all()  # HalfNormal intercept respected


@pytest.mark.parametrize("trend", ["linear", "power"])
def test_a_control_that_duplicates_the_trend_is_refused_before_fitting(trend: str) -> None:
    spec = bm.ModelSpec(**COLS, trend=trend)
    with pytest.raises(bm.SpecError, match=r"control 't' is a straight line in time .*"
                       r"Fix: drop 't' from control_columns, or set trend='none'"):
        bm.fit(bm.example_data(), spec, **TINY)


def test_data_of_another_layout_is_refused() -> None:
    spec = bm.ModelSpec(**COLS, panel_columns=["geo"])
    data = model_data(bm.example_data(), bm.ModelSpec(**COLS))
    with pytest.raises(bm.SpecError, match="the data is national but the spec's panel_columns"):
        model_data(data, spec)
