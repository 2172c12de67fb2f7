"""Contributions summed over calendar periods: each sum is the posterior of the sum (its
mean is the sum of the means; its interval is narrower than the summed bounds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.analysis import contributions_by_period

FITFILE = "tests/model/fitfiles/example_v2.nc"


@pytest.fixture(scope="module")
def fit() -> bm.Fit:
    return bm.load_fit(FITFILE)


def test_monthly_sums_add_up_the_weekly_table(fit: bm.Fit) -> None:
    weekly = fit.contributions()
    monthly = contributions_by_period(fit, "M")
    assert list(monthly.columns) == ["period", "start", "end", "n_periods", "component",
                                     "kind", "mean", "sd", "hdi_3%", "hdi_97%"]
    months = pd.DatetimeIndex(weekly["date"]).to_period("M").astype(str)
    expected = weekly.assign(period=months).groupby(["period", "component"])["mean"].sum()
    got = monthly.set_index(["period", "component"])["mean"]
    assert got.sort_index().to_numpy() == pytest.approx(
        expected.reindex(got.sort_index().index).to_numpy(), rel=1e-4, abs=1e-3)
    x1 = monthly[monthly["component"] == "x1"]
    assert x1["n_periods"].sum() == fit.data.n_times
    # the sum's interval is not the sum of the weekly bounds: narrower on the whole
    weekly_x1 = weekly[weekly["component"] == "x1"].assign(period=months[weekly["component"]
                                                                          == "x1"])
    summed_bounds = weekly_x1.groupby("period")["hdi_97%"].sum() - \
        weekly_x1.groupby("period")["hdi_3%"].sum()
    width = (x1.set_index("period")["hdi_97%"] - x1.set_index("period")["hdi_3%"])
    assert width.sum() < summed_bounds.sum()


def test_the_total_and_by_channel(fit: bm.Fit) -> None:
    total = contributions_by_period(fit, "total", by="channel")
    assert list(total["component"]) == ["base", "x1", "x2"]
    assert (total["period"] == "total").all() and (total["n_periods"] == fit.data.n_times).all()
    roi = fit.roi()
    for channel in ("x1", "x2"):
        row = total.set_index("component").loc[channel]
        assert row["mean"] == pytest.approx(roi.loc[channel, "contribution"], rel=1e-5)
    fitted = fit.contributions().groupby("component")["mean"].sum().sum()
    assert total["mean"].sum() == pytest.approx(fitted, rel=1e-4)


def test_each_period_of_the_data_and_bad_arguments(fit: bm.Fit) -> None:
    each = contributions_by_period(fit, "none")
    assert "date" in each.columns and "n_periods" not in each.columns
    assert len(each) == fit.data.n_times * each["component"].nunique()
    for bad in ({"freq": "D"}, {"freq": "M", "by": "kind"}, {"freq": "M", "level": "geo"}):
        with pytest.raises(bm.SpecError):
            contributions_by_period(fit, **bad)  # type: ignore[arg-type]
    assert np.isfinite(each["mean"]).all()
