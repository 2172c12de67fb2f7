"""Exploratory plots: the numbers in each figure are the data's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.data import MMMData, prepare
from bayesmmm.errors import SpecError
from bayesmmm.report import (
    eda_figures,
    plot_correlation,
    plot_data_correlation,
    plot_data_outliers,
    plot_data_sales,
    plot_data_sales_vs_spend,
    plot_data_seasonality,
    plot_data_spend,
    plot_data_total_spend,
    plot_outliers,
    plot_sales_vs_spend,
    plot_spend,
    plot_total_spend,
)
from tests.report._tables import panel_table


def _frame(data: MMMData) -> pd.DataFrame:
    df = data.to_frame()
    df["date"] = pd.to_datetime(df[data.date_column])
    return df


@pytest.mark.parametrize("freq", ["M", "Q"])
def test_aggregated_spend_sums_equal_the_weekly_sums(example_data: MMMData, freq: str) -> None:
    weekly = plot_data_spend(example_data)
    agg = plot_data_spend(example_data, freq)
    for ch in example_data.channel_names:
        np.testing.assert_allclose(agg.loc[agg["channel"] == ch, "spend"].sum(),
                                   weekly.loc[weekly["channel"] == ch, "spend"].sum())
    # each period independently: pandas' own grouping of the raw rows
    df = _frame(example_data)
    by_period = df.groupby(df["date"].dt.to_period(freq))["x1"].sum()
    x1 = agg[agg["channel"] == "x1"].set_index("period")["spend"]
    np.testing.assert_allclose(x1.to_numpy(), by_period.to_numpy())
    assert (x1.index == by_period.index.start_time).all()
    assert agg.groupby("channel")["n_periods"].sum().eq(example_data.n_times).all()


def test_weekly_spend_is_the_data_and_the_figure_shows_it(example_data: MMMData) -> None:
    frame = plot_data_spend(example_data)
    x2 = frame[frame["channel"] == "x2"]
    np.testing.assert_allclose(x2["spend"], example_data.media[:, 1])
    fig = plot_spend(example_data)
    trace = next(t for t in fig.data if t.name == "x2")
    np.testing.assert_allclose(np.asarray(trace.y, dtype=float), example_data.media[:, 1])
    bars = plot_spend(example_data, "M")
    assert {t.type for t in bars.data} == {"bar"}


def test_sales_total_and_scatter_pairs(example_data: MMMData) -> None:
    sales = plot_data_sales(example_data)
    np.testing.assert_allclose(sales["target"], example_data.y)
    monthly = plot_data_sales(example_data, "M")
    np.testing.assert_allclose(monthly["target"].sum(), example_data.y.sum())
    pairs = plot_data_sales_vs_spend(example_data)
    assert len(pairs) == example_data.n_times * example_data.n_channels
    x1 = pairs[pairs["channel"] == "x1"]
    np.testing.assert_allclose(x1["spend"], example_data.media[:, 0])
    np.testing.assert_allclose(x1["target"], example_data.y)
    r = np.corrcoef(example_data.media[:, 0], example_data.y)[0, 1]
    titles = [a.text for a in plot_sales_vs_spend(example_data).layout.annotations]
    assert f"x1 (r = {r:.2f})" in titles


def test_total_spend_and_shares(example_data: MMMData) -> None:
    frame = plot_data_total_spend(example_data)
    np.testing.assert_allclose(frame["spend"], example_data.media.sum(axis=0))
    assert frame["share"].sum() == pytest.approx(1.0)
    bar = plot_total_spend(example_data).data[0]
    np.testing.assert_allclose(np.asarray(bar.x, dtype=float), frame["spend"])


def test_correlation_matrix_is_pandas_corr(example_data: MMMData) -> None:
    corr = plot_data_correlation(example_data)
    df = bm.example_data()
    cols = ["y", "x1", "x2", "event_1", "event_2", "t"]
    expected = df.sort_values("date_week")[cols].corr()
    pd.testing.assert_frame_equal(corr, expected)
    heat = plot_correlation(example_data).data[0]
    np.testing.assert_allclose(np.asarray(heat.z, dtype=float), expected.to_numpy())
    assert list(heat.x) == cols


def test_seasonality_profile_is_the_mean_by_month_and_week(example_data: MMMData) -> None:
    df = _frame(example_data)
    month = plot_data_seasonality(example_data, "month")
    expected = df.groupby(df["date"].dt.month)["y"].mean()
    np.testing.assert_allclose(month["mean"], expected.to_numpy())
    assert month["n"].sum() == example_data.n_times and list(month["period_of_year"]) == list(
        range(1, 13))
    week = plot_data_seasonality(example_data, "week")
    assert week["period_of_year"].between(1, 53).all()
    assert (week["min"] <= week["mean"]).all() and (week["mean"] <= week["max"]).all()
    with pytest.raises(SpecError, match="Unknown seasonality grouping"):
        plot_data_seasonality(example_data, "day")


def _smooth_series(spike_at: int | None, n: int = 104) -> MMMData:
    t = np.arange(n)
    rng = np.random.default_rng(1)
    y = 1000 + 200 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 20, n)
    if spike_at is not None:
        y[spike_at] += 600
    df = pd.DataFrame({"date": pd.date_range("2021-01-04", periods=n, freq="7D")
                       .strftime("%Y-%m-%d"), "sales": y, "tv": rng.uniform(0, 10, n)})
    data, _ = prepare(df, date_column="date", y_column="sales", channel_columns=["tv"])
    return data


def test_outlier_rule_catches_an_injected_spike_and_nothing_else() -> None:
    clean = plot_data_outliers(_smooth_series(None))
    assert not clean["outlier"].any()
    spiked = plot_data_outliers(_smooth_series(40))
    assert spiked.index[spiked["outlier"]].tolist() == [40]
    assert spiked.loc[40, "robust_z"] > 3.5
    np.testing.assert_allclose(spiked["residual"], spiked["target"] - spiked["baseline"])
    fig = plot_outliers(_smooth_series(40))
    flagged = fig.data[2]
    np.testing.assert_allclose(np.asarray(flagged.y, dtype=float), [spiked.loc[40, "target"]])


def test_outlier_rule_survives_a_flat_series() -> None:
    n = 30
    y = np.full(n, 100.0)
    y[10] = 180.0
    df = pd.DataFrame({"date": pd.date_range("2021-01-04", periods=n, freq="7D")
                       .strftime("%Y-%m-%d"), "sales": y, "tv": np.linspace(0, 1, n)})
    data, _ = prepare(df, date_column="date", y_column="sales", channel_columns=["tv"])
    frame = plot_data_outliers(data)  # MAD is 0 here: the mean absolute deviation stands in
    assert frame.index[frame["outlier"]].tolist() == [10]
    with pytest.raises(SpecError, match="odd"):
        plot_data_outliers(data, window=4)


def test_panel_data_shows_the_total_or_one_cell(panel_data: MMMData) -> None:
    df = panel_table()
    total = plot_data_sales(panel_data)
    np.testing.assert_allclose(total["target"], df.groupby("date")["sales"].sum().to_numpy())
    spend = plot_data_total_spend(panel_data)
    np.testing.assert_allclose(spend["spend"], df[["tv", "search"]].sum().to_numpy())
    north = plot_data_spend(panel_data, panel="north")
    np.testing.assert_allclose(north.loc[north["channel"] == "tv", "spend"],
                               df.loc[df["geo"] == "north", "tv"].to_numpy())
    corr = plot_data_correlation(panel_data)
    summed = df.groupby("date").agg(sales=("sales", "sum"), tv=("tv", "sum"),
                                    search=("search", "sum"), promo=("promo", "mean"))
    pd.testing.assert_frame_equal(corr, summed.corr(), check_names=False)
    with pytest.raises(SpecError, match="Unknown panel 'west'"):
        plot_data_spend(panel_data, panel="west")
    figures = eda_figures(panel_data)
    assert "total of 2 panel cells" in figures["sales_over_time"].layout.title.text
    assert "panel north" in eda_figures(panel_data, panel="north")["outliers"].layout.title.text


def test_eda_figures_names_and_unknown_frequency(example_data: MMMData) -> None:
    figures = eda_figures(example_data)
    assert list(figures) == ["spend_over_time", "spend_monthly", "spend_quarterly",
                             "sales_over_time", "sales_vs_spend", "total_spend", "correlation",
                             "seasonality_by_week", "seasonality_by_month", "outliers"]
    with pytest.raises(SpecError, match="Unknown frequency"):
        plot_data_spend(example_data, "Y")
