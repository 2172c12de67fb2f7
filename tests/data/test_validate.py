"""Validation: every rule, each asserted on the message a user reads."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bayesmmm.data import prepare, validate
from bayesmmm.errors import DataValidationError

COLS: dict[str, Any] = {"date_column": "date_week", "y_column": "y",
                        "channel_columns": ["x1", "x2"],
                        "control_columns": ["event_1", "event_2", "t"]}


def check(df: pd.DataFrame, **overrides: Any):  # type: ignore[no-untyped-def]
    return validate(df, **{**COLS, **overrides})


def only(report, code: str):  # type: ignore[no-untyped-def]
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, report.format()
    return found[0]


def test_clean_example_passes(example_df: pd.DataFrame) -> None:
    report = check(example_df)
    assert report.ok and report.errors == [], report.format()
    assert report.frequency == "weekly"


def test_validation_never_changes_the_data(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[3, "x1"] = -1.0
    df = df.iloc[::-1]
    before = df.copy()
    check(df)
    pd.testing.assert_frame_equal(df, before)


def test_misspelled_column_suggests_closest(example_df: pd.DataFrame) -> None:
    p = only(check(example_df, channel_columns=["x1", "X2"]), "missing_column")
    assert p.column == "X2" and p.severity == "error"
    assert "did you mean 'x2'" in p.message
    assert "df.rename(columns={'x2': 'X2'})" in p.fix


def test_missing_column_without_close_match(example_df: pd.DataFrame) -> None:
    p = only(check(example_df, y_column="revenue"), "missing_column")
    assert "target column not found" in p.message and "'date_week'" in p.message


def test_all_problems_reported_at_once(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[5, "x1"] = -2.0
    df["x2"] = df["x2"].astype(object)
    df.loc[7, "x2"] = "n/a"
    df.loc[9, "event_1"] = np.nan
    report = check(df, channel_columns=["x1", "x2", "tv"])
    assert {"negative_spend", "non_numeric", "missing_values", "missing_column"} <= set(
        report.codes())
    text = report.format()
    assert "Errors (fit refused)" in text and "4 error(s)" in text


@pytest.mark.parametrize(
    ("bad", "fmt"), [("02/04/2018", "%d/%m/%Y"), ("2018/04/02", "%Y/%m/%d")])
def test_dates_not_iso_get_a_format_fix(example_df: pd.DataFrame, bad: str, fmt: str) -> None:
    df = example_df.copy()
    df["date_week"] = pd.to_datetime(df["date_week"]).dt.strftime(fmt)
    p = only(check(df), "bad_date_format")
    assert p.count == len(df)
    assert f"format={fmt!r}" in p.fix and ".dt.strftime('%Y-%m-%d')" in p.fix
    assert bad in p.examples[0]


def test_unparseable_dates_listed(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[4, "date_week"] = "last tuesday"
    p = only(check(df), "bad_date_format")
    assert p.count == 1 and "'last tuesday' at row 4" in p.message


def test_missing_dates(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[2, "date_week"] = None
    p = only(check(df), "missing_dates")
    assert "1 empty dates" in p.message and "dropna" in p.fix


def test_duplicate_dates(example_df: pd.DataFrame) -> None:
    df = pd.concat([example_df, example_df.iloc[[10]]], ignore_index=True)
    p = only(check(df), "duplicate_dates")
    assert p.count == 2 and "2018-06-11" in p.message
    assert "groupby('date_week'" in p.fix


def test_gap_in_weeks(example_df: pd.DataFrame) -> None:
    df = example_df.drop(index=[20, 21]).reset_index(drop=True)
    p = only(check(df), "irregular_frequency")
    assert "2 periods are missing" in p.message and "+21 days" in p.message
    assert "asfreq('7D')" in p.fix


def test_dates_off_the_grid(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[30, "date_week"] = "2018-10-31"  # a Wednesday among Mondays
    p = only(check(df), "irregular_frequency")
    assert "not on one regular grid" in p.message


def test_unsorted_dates_warn_only(example_df: pd.DataFrame) -> None:
    report = check(example_df.sample(frac=1.0, random_state=1))
    p = only(report, "unsorted_dates")
    assert report.ok and p.severity == "warning" and "sort_values" in p.fix


def test_monthly_dates_are_regular() -> None:
    n = 60
    df = pd.DataFrame({"date": pd.date_range("2019-01-01", periods=n, freq="MS").strftime(
        "%Y-%m-%d"), "y": np.arange(n) + 10.0, "tv": np.random.default_rng(0).uniform(1, 2, n)})
    report = validate(df, date_column="date", y_column="y", channel_columns=["tv"])
    assert report.frequency == "monthly" and "irregular_frequency" not in report.codes()


def test_non_numeric_values(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["x1"] = df["x1"].map(lambda v: f"{v:.3f}").astype(object)
    df.loc[[3, 8], "x1"] = ["1,200", "$5"]
    p = only(check(df), "non_numeric")
    assert p.column == "x1" and p.count == 2
    assert "'1,200' at 2018-04-23" in p.message and "pd.to_numeric" in p.fix


def test_nan_values(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[[5, 6, 7], "x2"] = np.nan
    p = only(check(df), "missing_values")
    assert p.count == 3 and "2018-05-07" in p.message and "fillna(0)" in p.fix


def test_infinite_values(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["t"] = df["t"].astype(float)
    df.loc[11, "t"] = np.inf
    p = only(check(df), "infinite_values")
    assert p.column == "t" and "inf at 2018-06-18" in p.message


def test_negative_spend(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[[1, 2, 3], "x1"] = [-5.0, -2.0, -1.0]
    p = only(check(df), "negative_spend")
    assert p.count == 3 and "-5.0 at 2018-04-09" in p.message
    assert p.rule == "spend must be >= 0" and "clip(lower=0)" in p.fix


def test_all_zero_and_constant_channels(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["x1"] = 0.0
    df["x2"] = 3.0
    report = check(df)
    assert "all values are 0" in only(report, "zero_channel").message
    assert "every value is 3.0" in only(report, "constant_channel").message


def test_sparse_channel_warns(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["x2"] = 0.0
    df.loc[[10, 50, 90], "x2"] = 1.0
    p = only(check(df), "sparse_channel")
    assert p.severity == "warning" and "3 of 179 periods" in p.message


def test_channel_also_control(example_df: pd.DataFrame) -> None:
    p = only(check(example_df, control_columns=["event_1", "x1"]), "duplicate_role")
    assert p.column == "x1" and "both as channel and as control" in p.message


def test_target_missing_or_constant(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["y"] = 7.0
    assert "nothing to explain" in only(check(df), "constant_target").message
    assert only(check(example_df, y_column="sales"), "missing_column").column == "sales"


def test_constant_control(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["event_2"] = 0.0
    assert only(check(df), "constant_control").column == "event_2"


def test_too_few_rows(example_df: pd.DataFrame) -> None:
    p = only(check(example_df.iloc[:12]), "too_few_rows")
    assert "12 rows for 15 model parameters" in p.message


def test_few_rows_and_short_history_warn(example_df: pd.DataFrame) -> None:
    report = check(example_df.iloc[:40], control_columns=["t"])
    assert report.ok
    assert {"few_rows", "short_for_seasonality"} <= set(report.codes())


def test_adstock_longer_than_data(example_df: pd.DataFrame) -> None:
    p = only(check(example_df.iloc[:20], channel_columns=["x1"], control_columns=[],
                   yearly_seasonality=0, adstock_max_lag=25), "adstock_too_long")
    assert "adstock_max_lag=25" in p.message


def test_collinear_channels_warn(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["x2"] = df["x1"] * 2 + 0.001
    p = only(check(df), "collinear_channels")
    assert p.severity == "warning" and "correlation 1.000" in p.message


def test_prepare_raises_with_full_report(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[0, "x1"] = -1
    with pytest.raises(DataValidationError) as exc:
        prepare(df, **COLS)
    assert exc.value.report.codes() == ["negative_spend"]
    assert "[negative_spend] column 'x1'" in str(exc.value)


def test_prepare_sorts_a_copy(example_df: pd.DataFrame) -> None:
    shuffled = example_df.sample(frac=1.0, random_state=3)
    data, report = prepare(shuffled, **COLS)
    assert data.dates.is_monotonic_increasing
    np.testing.assert_array_equal(data.y, example_df["y"].to_numpy())
    assert report.codes() == ["unsorted_dates"]
    pd.testing.assert_frame_equal(data.to_frame()[["date_week", "y", "x1"]],
                                  example_df[["date_week", "y", "x1"]])


def test_report_to_dict(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[0, "x1"] = -1
    d = check(df).to_dict()
    assert d["ok"] is False and d["errors"][0]["code"] == "negative_spend"
    assert d["errors"][0]["fix"].startswith("df['x1']")


def test_dates_with_spaces_validate_and_prepare(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[3, "date_week"] = " 2018-04-23 "
    assert check(df).ok
    data, _ = prepare(df, **COLS)
    assert data.dates[3] == pd.Timestamp("2018-04-23")


def test_datetime_column_with_missing_value(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["date_week"] = pd.to_datetime(df["date_week"])
    df.loc[4, "date_week"] = pd.NaT
    p = only(check(df), "missing_dates")
    assert p.count == 1


def test_datetime_column_with_times_of_day(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["date_week"] = pd.to_datetime(df["date_week"]) + pd.Timedelta(hours=9)
    p = only(check(df), "dates_with_times")
    assert p.count == len(df) and ".dt.normalize()" in p.fix


def test_timezone_aware_weekly_dates_cross_dst(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["date_week"] = pd.to_datetime(df["date_week"]).dt.tz_localize("US/Eastern")
    report = check(df)
    assert report.ok and report.frequency == "weekly", report.format()
    data, _ = prepare(df, **COLS)
    assert data.dates[0] == pd.Timestamp("2018-04-02")


def test_non_string_column_names(example_df: pd.DataFrame) -> None:
    df = example_df.rename(columns={"x2": 2})
    report = check(df, channel_columns=["x1", "2"])
    assert report.ok, report.format()
    assert 2 in df.columns  # the user's frame keeps its names


def test_categorical_control_gets_a_one_hot_fix(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["events"] = np.where(np.arange(len(df)) % 10 == 0, "launch", "na")
    p = only(check(df, control_columns=["events"]), "categorical_column")
    assert "holds 2 categories ['na', 'launch']" in p.message
    assert "pd.get_dummies(df, columns=['events'], dtype=float)" in p.fix
    assert "--control events_launch" in p.fix
    fixed = pd.get_dummies(df, columns=["events"], dtype=float).drop(columns=["events_na"])
    assert check(fixed, control_columns=["events_launch"]).ok


# --- magnitudes float32 cannot carry ------------------------------------------------------


def test_one_absurd_spend_refused_with_a_mask_fix(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[5, "x1"] = 1e308
    p = only(check(df), "huge_values")
    assert p.column == "x1" and p.severity == "error" and "1e+308 at 2018-05-07" in p.message
    assert "df.loc[df['x1'].abs() > 1e+15, 'x1'] = np.nan" in p.fix
    with pytest.raises(DataValidationError, match="huge_values"):
        prepare(df, **COLS)


def test_target_in_absurd_units_gets_a_rescale_fix(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["y"] = df["y"] * 1e300
    p = only(check(df), "huge_values")
    assert p.column == "y" and p.count == len(df)
    assert p.fix.startswith("df['y'] = df['y'] / 1e")
    fixed = df.assign(y=eval(p.fix.split("=", 1)[1].split("#")[0], {"df": df}))
    assert check(fixed).ok and fixed["y"].abs().max() < 1e10


def test_a_target_of_the_largest_floats_is_refused_not_overflowed(
        example_df: pd.DataFrame) -> None:
    """Every value 1e308 (found by the fuzz run): the median of two such values must not
    overflow on its way to the fix."""
    df = example_df.iloc[: len(example_df) // 2 * 2].copy()  # even: two middle values
    df["y"] = 1e308
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        p = only(check(df), "huge_values")
    assert p.column == "y" and p.fix.startswith("df['y'] = df['y'] / 1e")


def test_rescale_fix_names_the_unit(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["x2"] = df["x2"] * 1e16 + 1e16  # every value above the bound
    p = only(check(df), "huge_values")
    assert "/ 1e9  # express x2 in billions" in p.fix


def test_subnormal_spend_refused_without_false_collinearity(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["x1"] = df["x1"] * 1e-320
    report = check(df)
    p = only(report, "tiny_values")
    assert p.column == "x1" and "underflow" in p.message and "* 1e300 * 1e" in p.fix
    assert "collinear_channels" not in report.codes()
    fixed = df.assign(x1=df["x1"] * 1e300 * 1e27)
    assert check(fixed).ok


def test_tiny_values_beside_ordinary_ones_refused(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["t"] = df["t"].astype(float)
    df.loc[[7, 9], "t"] = [5e-324, -1e-300]
    p = only(check(df), "tiny_values")
    assert p.column == "t" and p.count == 2 and "5e-324 at 2018-05-21" in p.message
    assert ".mask(" in p.fix


def test_ordinary_large_and_small_numbers_pass(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["y"] = df["y"] * 1e9  # sales in a currency with many digits
    df["x1"] = df["x1"] * 1e-9  # spend in billions
    df["t"] = df["t"].astype(float)
    df.loc[3, "t"] = 5.5e-17  # float noise beside values of order 1
    assert check(df).ok, check(df).format()


# --- decimal commas -------------------------------------------------------------------------


def test_decimal_comma_values_get_a_read_csv_fix(tmp_path: Path,
                                                 example_df: pd.DataFrame) -> None:
    path = tmp_path / "de.csv"
    example_df.to_csv(path, sep=";", decimal=",", index=False)
    df = pd.read_csv(path, sep=";")
    report = check(df)
    found = {p.column: p for p in report.problems if p.code == "decimal_comma"}
    assert set(found) == {"y", "x1", "x2", "event_1", "event_2"}  # 't' holds integers
    p = found["y"]
    assert p.count == len(df) and "'3984,662237343649' at 2018-04-02" in p.message
    assert "pd.read_csv(path, sep=';', decimal=',')" in p.fix
    assert "str.replace(',', '.'" in p.fix and "[,$€£ ]" not in p.fix
    assert report.codes() == ["decimal_comma"] * 5
    assert check(pd.read_csv(path, sep=";", decimal=",")).ok


def test_few_decimal_comma_values_are_not_categories() -> None:
    df = pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "y": ["1001,70", "1002,70"],
                       "tv": ["12,5", "13,5"]})
    report = validate(df, date_column="date", y_column="y", channel_columns=["tv"])
    assert "categorical_column" not in report.codes()
    assert [p.column for p in report.problems if p.code == "decimal_comma"] == ["y", "tv"]


def test_decimal_commas_beside_other_text(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["x1"] = df["x1"].map(lambda v: f"{v:.2f}".replace(".", ",")).astype(object)
    df.loc[4, "x1"] = "n/a"
    report = check(df)
    assert only(report, "decimal_comma").count == len(df) - 1
    p = only(report, "non_numeric")
    assert "'n/a' at 2018-04-30" in p.message and "[,$€£ ]" not in p.fix


def test_thousands_commas_keep_the_strip_fix(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["x1"] = df["x1"].astype(object)
    df.loc[[3, 8], "x1"] = ["1,200", "12,500"]
    p = only(check(df), "non_numeric")
    assert "str.replace(r'[,$€£ ]'" in p.fix


# --- dates: mixed calendars, yearly rows, the future, totals rows ---------------------------


def _table(dates: pd.DatetimeIndex, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(dates)
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "y": rng.uniform(100, 200, n),
                         "tv": rng.uniform(0, 50, n), "search": rng.uniform(1, 20, n)})


def test_mixed_daily_and_weekly_rows() -> None:
    daily = pd.date_range("2022-01-03", periods=300, freq="D")
    weekly = pd.date_range(daily[-1] + pd.Timedelta(days=2), periods=100, freq="7D")
    df = _table(daily.append(weekly))
    report = validate(df, date_column="date", y_column="y", channel_columns=["tv", "search"])
    p = only(report, "mixed_frequency")
    assert "mix daily and weekly" in p.message
    assert "+1 days, daily" in p.message and "+7 days, weekly" in p.message
    assert "2022-10-31 -> 2022-11-07" in p.message  # the weekly rows run on Mondays
    assert ".resample('W-MON', label='left', closed='left').sum(numeric_only=True)" in p.fix
    assert "irregular_frequency" not in report.codes() and "asfreq" not in report.format()
    namespace = {"df": df.copy(), "pd": pd}
    exec(p.fix.split("#")[0], namespace)
    fixed = namespace["df"]
    again = validate(fixed, date_column="date", y_column="y", channel_columns=["tv", "search"])
    assert again.frequency == "weekly" and "mixed_frequency" not in again.codes()
    assert fixed["tv"].sum() == pytest.approx(df["tv"].sum())


def test_mixed_weekly_and_monthly_resamples_to_months() -> None:
    monthly = pd.date_range("2020-01-01", periods=24, freq="MS")
    weekly = pd.date_range("2022-01-03", periods=30, freq="7D")
    df = _table(monthly.append(weekly))
    p = only(validate(df, date_column="date", y_column="y", channel_columns=["tv"]),
             "mixed_frequency")
    assert "weekly and monthly" in p.message and ".resample('MS')" in p.fix


def test_daily_data_with_a_missing_week_is_still_a_gap() -> None:
    dates = pd.date_range("2022-01-03", periods=400, freq="D")
    df = _table(dates.delete(range(100, 106)))
    report = validate(df, date_column="date", y_column="y", channel_columns=["tv"])
    p = only(report, "irregular_frequency")
    assert "6 periods are missing" in p.message and "mixed_frequency" not in report.codes()


def test_yearly_rows_refused() -> None:
    df = _table(pd.date_range("1995-01-01", periods=30, freq="YS"))
    report = validate(df, date_column="date", y_column="y", channel_columns=["tv"],
                      yearly_seasonality=0, adstock_max_lag=2)
    p = only(report, "yearly_data")
    assert "one row per year" in p.message and "1995 to 2024" in p.message
    assert "irregular_frequency" not in report.codes() and report.frequency == "yearly"


def test_dates_far_in_the_future_warn(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df["date_week"] = (pd.to_datetime(df["date_week"]) + pd.DateOffset(years=300)).dt.strftime(
        "%Y-%m-%d")
    report = check(df)
    p = only(report, "future_dates")
    assert p.severity == "warning" and report.ok and p.count == len(df)
    assert "more than a year after today" in p.message and "2318-04-02" in p.message


def test_a_mistyped_future_year_is_named(example_df: pd.DataFrame) -> None:
    df = example_df.copy()
    df.loc[178, "date_week"] = "2204-01-01"
    report = check(df)
    assert not report.ok
    assert "2204-01-01" in only(report, "future_dates").message


def _with_total(df: pd.DataFrame, label: object) -> pd.DataFrame:
    numbers = df.drop(columns="date_week")
    total = pd.DataFrame([numbers.sum().round(2)], columns=numbers.columns)
    total.insert(0, "date_week", label)
    return pd.concat([df, total], ignore_index=True)


@pytest.mark.parametrize("label", ["Total", "Grand total", None])
def test_total_row_named_and_left_out(example_df: pd.DataFrame, label: object) -> None:
    df = _with_total(example_df, label)
    report = check(df)
    p = only(report, "total_row")
    assert p.severity == "error" and "row 179" in p.message and "is a totals row" in p.message
    assert report.codes() == ["total_row"]  # no bad date, no collinearity, no missing date
    if label is None:
        assert "row 179 (no date) is a totals row, not a period; its numbers are the other " \
            "rows' sums" in p.message
        assert p.fix.startswith("df = df.drop(index=[179])")
    else:
        assert p.fix.startswith(f"df = df[~df['date_week'].isin([{label!r}])]")
    namespace = {"df": df}
    exec(p.fix.split("#")[0], namespace)
    assert check(namespace["df"]).ok


def test_an_undated_row_that_is_not_a_total_is_a_missing_date(example_df: pd.DataFrame
                                                               ) -> None:
    df = example_df.copy()
    df.loc[2, "date_week"] = None
    assert check(df).codes() == ["missing_dates"]


# --- duplicate column names in a DataFrame -------------------------------------------------


def test_duplicate_column_names_in_a_frame(example_df: pd.DataFrame) -> None:
    df = pd.concat([example_df, example_df[["x1"]] * 2], axis=1)
    assert list(df.columns).count("x1") == 2
    report = check(df)
    p = only(report, "duplicate_columns")
    assert p.column == "x1" and "positions 3, 9" in p.message
    assert "df.loc[:, ~df.columns.duplicated()]" in p.fix
    with pytest.raises(DataValidationError, match="duplicate_columns"):
        prepare(df, **COLS)
