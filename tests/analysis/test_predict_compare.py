"""Holdout prediction carries adstock across the boundary; comparison ranks models."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmmm as bm
import bayesmmm.analysis
from bayesmmm.analysis import (
    compare_fits,
    compare_specs,
    holdout_metrics,
    log_likelihood,
    mean_draws,
    predict,
    predict_draws,
    train_test_split,
)
from bayesmmm.model import model_data

from ..conftest import QUICK


@pytest.fixture(scope="module")
def split_fit() -> tuple[bm.Fit, bm.MMMData, bm.MMMData]:
    spec = bm.example_spec()
    data = model_data(bm.example_data(), spec)
    train, test = train_test_split(data, 20)
    return bm.fit(train, spec, seed=2, **QUICK), train, test


def test_split_sizes_and_errors(split_fit: tuple) -> None:
    _, train, test = split_fit
    assert train.n_times == 159 and test.n_times == 20
    assert test.dates[0] > train.dates[-1]
    with pytest.raises(bm.SpecError, match="test_periods must be an integer in 1 .. 178"):
        train_test_split(model_data(bm.example_data(), bm.example_spec()), 179)


def test_in_sample_prediction_equals_the_fitted_mean(split_fit: tuple) -> None:
    f, train, _ = split_fit
    np.testing.assert_allclose(predict_draws(f, train)[:, 0], mean_draws(f), rtol=1e-5)


def test_forecast_carries_adstock_across_the_boundary(split_fit: tuple) -> None:
    """Predicting the test periods alone (history from the fit) equals predicting train +
    test in one go and keeping the tail: the carry-over of the last fitted weeks is in."""
    f, train, test = split_fit
    joined = train.with_arrays(dates=train.dates.append(test.dates),
                               y=np.concatenate([train.y_gt, test.y_gt], axis=1),
                               media=np.concatenate([train.media_gt, test.media_gt], axis=1),
                               controls=np.concatenate([train.controls_gt, test.controls_gt],
                                                       axis=1))
    tail = predict_draws(f, joined)[:, :, -test.n_times:]
    np.testing.assert_allclose(predict_draws(f, test), tail, rtol=1e-5)
    # and without the history the first test week would be lower (spend carried over)
    no_history = test.with_arrays(dates=test.dates)
    assert no_history.n_times == test.n_times


def test_holdout_metrics_and_table(split_fit: tuple) -> None:
    f, _, test = split_fit
    m = holdout_metrics(f, test)
    assert 0 < m["mape"] < 15 and m["r2"] > 0.6 and 0.5 <= m["coverage"] <= 1
    table = predict(f, test)
    assert list(table.columns) == ["date", "mean", "sd", "hdi_3%", "hdi_97%", "y"]
    assert len(table) == 20


def test_forecast_off_the_grid_is_refused(split_fit: tuple) -> None:
    f, _, test = split_fit
    shifted = test.with_arrays(dates=test.dates + np.timedelta64(3, "D"))
    with pytest.raises(bm.SpecError, match="not a period on or after the fitted data's grid"):
        predict_draws(f, shifted)


def test_compare_ranks_by_loo_and_explains(split_fit: tuple, example_fit: bm.Fit) -> None:
    f, _, test = split_fit
    ll = log_likelihood(f)
    assert ll.shape == (2, 300, 159) and np.isfinite(ll).all()
    # a deliberately poor model: no controls and no seasonality
    spec = bm.ModelSpec("date_week", "y", ["x1", "x2"], yearly_seasonality=0)
    poor = bm.fit(bm.example_data().iloc[:159], spec, seed=2, **QUICK)
    result = compare_fits({"classic": f, "poor": poor}, {"classic": test,
                                                         "poor": model_data(
                                                             bm.example_data().iloc[159:],
                                                             spec)})
    t = result.table
    assert list(t.index) == ["classic", "poor"] and t.loc["classic", "rank"] == 1
    assert t.loc["poor", "elpd_diff"] > 2 * t.loc["poor", "dse"]
    assert t.loc["classic", "holdout_mape"] < t.loc["poor", "holdout_mape"]
    assert "'classic' predicts best" in result.recommendation


def test_compare_ranks_only_usable_fits_and_says_why(example_fit: bm.Fit) -> None:
    """An unconverged fit keeps its row but no rank; a spec that cannot be fitted is
    listed with the reason; ArviZ's Pareto k warnings are counted, not printed."""
    import warnings

    rough = bm.fit(bm.example_data(), bm.example_spec().replace(saturation="hill"),
                   chains=2, warmup=15, draws=20, seed=3, progress=False)
    assert bayesmmm.analysis.convergence(rough)[0] == "unusable"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = compare_fits({"classic": example_fit, "rough": rough},
                              dropped={"carryover": "cannot be fitted: control 't' ..."})
    t = result.table
    assert list(t.index) == ["classic", "rough", "carryover"]
    assert t.loc["classic", "rank"] == 1 and np.isnan(t.loc["rough", "rank"])
    assert t.loc["rough", "why_not_ranked"] != ""
    assert "Not ranked: 'rough' (" in result.recommendation
    assert "'carryover' (cannot be fitted" in result.recommendation


def test_compare_specs_drops_a_spec_that_cannot_be_fitted() -> None:
    from bayesmmm.model import preset_spec

    cols = {"date_column": "date_week", "y_column": "y", "channel_columns": ["x1", "x2"],
            "control_columns": ["event_1", "event_2", "t"]}
    result = compare_specs(bm.example_data(), {"classic": bm.ModelSpec(**cols),
                                               "carryover": preset_spec("carryover", **cols)},
                           chains=2, warmup=200, draws=100, progress=None)
    assert "carryover" not in result.fits
    assert "control 't' is a straight line in time" in \
        result.table.loc["carryover", "why_not_ranked"]
