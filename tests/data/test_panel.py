"""Long-format (panel) tables: validation rules and arrays with a geo axis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmmm.data import prepare, validate
from bayesmmm.errors import DataValidationError


def panel(n_weeks: int = 60, geos: tuple[str, ...] = ("north", "south", "east")) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for i, g in enumerate(geos):
        frames.append(pd.DataFrame({
            "geo": g, "date": pd.date_range("2022-01-03", periods=n_weeks, freq="7D")
            .strftime("%Y-%m-%d"),
            "sales": rng.uniform(100, 200, n_weeks) * (i + 1),
            "tv": rng.uniform(0, 50, n_weeks), "search": rng.uniform(1, 20, n_weeks),
            "promo": (rng.uniform(size=n_weeks) < 0.2).astype(float)}))
    return pd.concat(frames, ignore_index=True)


KW = {"date_column": "date", "y_column": "sales", "channel_columns": ["tv", "search"],
      "control_columns": ["promo"], "panel_columns": ["geo"]}


def test_panel_arrays_have_a_geo_axis_sorted_by_panel_and_date() -> None:
    df = panel().sample(frac=1.0, random_state=1)  # shuffled rows
    data, report = prepare(df, **KW)
    assert report.ok and "unsorted_dates" in report.codes()
    assert data.panels == ("east", "north", "south")
    assert all(type(label) is str for label in data.panels)  # not numpy str_
    assert data.y.shape == (3, 60) and data.media.shape == (3, 60, 2)
    assert data.controls.shape == (3, 60, 1) and data.n_geos == 3
    north = df[df["geo"] == "north"].sort_values("date")
    np.testing.assert_allclose(data.y[1], north["sales"].to_numpy())
    np.testing.assert_allclose(data.media[1, :, 0], north["tv"].to_numpy())
    back = data.to_frame()
    assert list(back.columns[:3]) == ["geo", "date", "sales"] and len(back) == len(df)


def test_two_column_panel_key() -> None:
    df = panel(geos=("a", "b"))
    df["brand"] = np.where(np.arange(len(df)) % 2 == 0, "x", "y")  # breaks uniqueness
    report = validate(df, **{**KW, "panel_columns": ["brand", "geo"]})
    assert "unbalanced_panel" in report.codes() or "duplicate_dates" in report.codes()
    df2 = pd.concat([panel(geos=("a", "b")).assign(brand="x"),
                     panel(geos=("a", "b")).assign(brand="y")], ignore_index=True)
    data, _ = prepare(df2, **{**KW, "panel_columns": ["brand", "geo"]})
    assert data.panels == ("x | a", "x | b", "y | a", "y | b")


def test_duplicate_panel_dates_and_unbalanced_panels_are_errors() -> None:
    df = panel()
    dup = pd.concat([df, df.iloc[[5]]], ignore_index=True)
    report = validate(dup, **KW)
    problem = next(p for p in report.errors if p.code == "duplicate_dates")
    assert "north" in problem.message and "groupby(['geo', 'date']" in problem.fix
    short = df.drop(index=df.index[(df["geo"] == "south")][[3, 4]])
    report = validate(short, **KW)
    problem = next(p for p in report.errors if p.code == "unbalanced_panel")
    assert "1 of 3 panels" in problem.message and "south: 2 missing" in problem.message
    assert "reindex" in problem.fix


def test_missing_panel_value_and_zero_channel_in_one_panel() -> None:
    df = panel()
    df.loc[df["geo"] == "east", "tv"] = 0.0
    df.loc[7, "geo"] = None
    report = validate(df, **KW)
    assert any(p.code == "missing_values" and p.column == "geo" for p in report.errors)
    df = panel()
    df.loc[df["geo"] == "east", "tv"] = 0.0
    report = validate(df, **KW)
    warn = next(p for p in report.warnings if p.code == "zero_channel_in_panel")
    assert warn.column == "tv" and "east" in warn.message and report.ok


def test_missing_panel_column_is_named() -> None:
    with pytest.raises(DataValidationError, match="panel column not found; did you mean 'geo'"):
        prepare(panel(), **{**KW, "panel_columns": ["Geo "]})
