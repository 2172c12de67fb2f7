"""Holidays and events as control columns: right periods, right counts, offline.

Expected weeks are worked out by hand from a calendar, not from the code under test.
"""

from __future__ import annotations

import re
import socket
from typing import Any

import holidays
import numpy as np
import pandas as pd
import pytest

from bayesmmm.data import event_features, holiday_countries, holiday_features
from bayesmmm.errors import SpecError

# Mondays 2022-01-03 ... 2023-12-25: 104 weeks covering 2022-01-03 to 2023-12-31.
MONDAYS = pd.date_range("2022-01-03", "2023-12-25", freq="W-MON")
COUNTRIES = ["US", "GB", "DE", "FR", "BR", "IN", "JP", "AU", "CA"]
COLUMN = re.compile(r"^holiday_[a-z0-9]+(_[a-z0-9]+)*$")


def _nonzero(column: pd.Series) -> dict[str, int]:
    return {d.strftime("%Y-%m-%d"): int(v) for d, v in column[column != 0].items()}


# --- holidays: where they land ---------------------------------------------------------


def test_us_weekly_thanksgiving_and_christmas_in_their_weeks() -> None:
    x = holiday_features(MONDAYS, "US")
    # Thanksgiving: Thu 2022-11-24 and Thu 2023-11-23 -> the weeks starting Mon 11-21, 11-20.
    assert _nonzero(x["holiday_thanksgiving_day"]) == {"2022-11-21": 1, "2023-11-20": 1}
    # Christmas 2022 is a Sunday (week of Mon 12-19), observed Mon 12-26 (its own week);
    # Christmas 2023 is a Monday (week of 12-25).
    assert _nonzero(x["holiday_christmas_day"]) == {
        "2022-12-19": 1, "2022-12-26": 1, "2023-12-25": 1}
    assert x.index.equals(MONDAYS)


def test_week_anchor_end_shifts_the_week() -> None:
    # The same Mondays as the LAST day of Tue..Mon weeks.
    x = holiday_features(MONDAYS, "US", week_anchor="end")
    assert _nonzero(x["holiday_thanksgiving_day"]) == {"2022-11-28": 1, "2023-11-27": 1}
    # Sun 2022-12-25 and its observed Mon 12-26 share the week ending Mon 12-26.
    assert _nonzero(x["holiday_christmas_day"]) == {"2022-12-26": 2, "2023-12-25": 1}


def test_sunday_start_weeks_hold_christmas_and_its_observed_day() -> None:
    sundays = pd.date_range("2022-12-04", "2023-01-08", freq="W-SUN")
    x = holiday_features(sundays, "US")
    assert _nonzero(x["holiday_christmas_day"]) == {"2022-12-25": 2}
    # New Year 2023 is a Sunday, observed Monday 01-02: both in the week of 2023-01-01.
    assert _nonzero(x["holiday_new_year_s_day"]) == {"2023-01-01": 2}


def test_daily_is_zero_one_on_the_day() -> None:
    days = pd.date_range("2022-12-20", "2023-01-05", freq="D")
    x = holiday_features(days, "US", frequency="daily")
    assert set(np.unique(x.to_numpy())) <= {0, 1}
    assert _nonzero(x["holiday_christmas_day"]) == {"2022-12-25": 1, "2022-12-26": 1}
    assert _nonzero(x["holiday_new_year_s_day"]) == {"2023-01-01": 1, "2023-01-02": 1}


@pytest.mark.parametrize("freq", ["MS", "ME"], ids=["month_start", "month_end"])
def test_monthly_counts_days_in_the_calendar_month(freq: str) -> None:
    months = pd.date_range("2022-01-01", "2023-12-31", freq=freq)
    x = holiday_features(months, "US", frequency="monthly")
    christmas = x["holiday_christmas_day"]
    # December 2022: the 25th and the observed 26th; December 2023: the 25th only.
    assert christmas.tolist() == [0] * 11 + [2] + [0] * 11 + [1]
    assert x["holiday_independence_day"][x.index.month == 7].tolist() == [1, 1]


def test_daily_weekly_monthly_agree_on_totals() -> None:
    days = pd.date_range("2022-01-03", "2023-12-31", freq="D")
    daily = holiday_features(days, "GB", frequency="daily")
    weekly = holiday_features(MONDAYS, "GB")
    by_week = daily.groupby(np.arange(len(days)) // 7).sum()
    np.testing.assert_array_equal(by_week.to_numpy(), weekly.to_numpy())
    assert list(daily.columns) == list(weekly.columns)


def test_several_countries_are_prefixed() -> None:
    x = holiday_features(MONDAYS, ["US", "GB"])
    assert all(c.startswith(("holiday_us_", "holiday_gb_")) for c in x.columns)
    assert {"holiday_us_thanksgiving_day", "holiday_gb_boxing_day",
            "holiday_us_christmas_day", "holiday_gb_christmas_day"} <= set(x.columns)
    us = holiday_features(MONDAYS, "US")
    renamed = x.filter(like="holiday_us_").rename(columns=lambda c: c.replace("_us_", "_", 1))
    pd.testing.assert_frame_equal(renamed, us)


def test_observed_days_merge_into_their_holiday() -> None:
    raw = holidays.country_holidays("US", years=2022, language="en_US")
    assert "observed" in raw.get(pd.Timestamp("2022-12-26").date(), "").lower()  # premise
    x = holiday_features(MONDAYS, "US")
    assert not [c for c in x.columns if "observed" in c]
    assert x.loc["2022-12-26", "holiday_christmas_day"] == 1


def test_only_holidays_in_range_and_none_all_zero() -> None:
    x = holiday_features(pd.date_range("2023-11-01", "2023-11-30", freq="D"), "US",
                         frequency="daily")
    assert list(x.columns) == ["holiday_veterans_day", "holiday_thanksgiving_day"]


def test_columns_ordered_by_first_day_then_name() -> None:
    x = holiday_features(MONDAYS, "US")
    assert x.columns[0] == "holiday_martin_luther_king_jr_day"  # 2022-01-17
    assert x.columns[-1] == "holiday_new_year_s_day"  # first inside the data: 2023-01-01


@pytest.mark.parametrize("country", COUNTRIES)
def test_contract_every_listed_country(country: str) -> None:
    x = holiday_features(MONDAYS, country)
    assert x.index.equals(MONDAYS)
    assert len(x.columns) >= 5
    assert all(COLUMN.match(c) for c in x.columns), list(x.columns)
    assert x.columns.is_unique
    assert (x.to_numpy() >= 0).all() and (x.sum() > 0).all()
    assert all(np.issubdtype(t, np.integer) for t in x.dtypes)
    pd.testing.assert_frame_equal(x, holiday_features(MONDAYS, country))


def test_subdivision_adds_regional_holidays() -> None:
    national = holiday_features(MONDAYS, "DE")
    bavaria = holiday_features(MONDAYS, "DE", subdivision="BY")
    assert "holiday_epiphany" in bavaria.columns
    assert "holiday_epiphany" not in national.columns
    with pytest.raises(SpecError, match=r"'ZZ'.*'BY'"):
        holiday_features(MONDAYS, "DE", subdivision="ZZ")


def test_holiday_countries_lists_iso_codes() -> None:
    codes = holiday_countries()
    assert set(COUNTRIES) <= set(codes)
    assert codes == sorted(codes) and all(len(c) == 2 and c.isupper() for c in codes)


# --- holidays: errors ------------------------------------------------------------------


@pytest.mark.parametrize(("bad", "first"), [("UK", "GB"), ("Germany", "DE"), ("USA", "US")])
def test_unknown_country_suggests_the_close_match_first(bad: str, first: str) -> None:
    with pytest.raises(SpecError) as info:
        holiday_features(MONDAYS, bad)
    message = str(info.value)
    assert repr(bad) in message
    assert f"Did you mean {first!r}" in message
    assert "Fix:" in message and "US" in message and "JP" in message


def test_unknown_country_inside_a_list() -> None:
    with pytest.raises(SpecError, match="'XX'"):
        holiday_features(MONDAYS, ["US", "XX"])


@pytest.mark.parametrize(("kwargs", "listed"), [
    ({"frequency": "fortnightly"}, "'weekly'"),
    ({"week_anchor": "middle"}, "'start', 'end'"),
], ids=["frequency", "week_anchor"])
def test_bad_option_lists_choices(kwargs: dict[str, Any], listed: str) -> None:
    with pytest.raises(SpecError, match=listed):
        holiday_features(MONDAYS, "US", **kwargs)
    with pytest.raises(SpecError, match=listed):
        event_features(MONDAYS, {"a": ["2023-01-02"]}, **kwargs)


# --- events ----------------------------------------------------------------------------


def test_events_single_days_and_ranges_split_across_weeks() -> None:
    x = event_features(MONDAYS, {
        "Black Friday": ["2022-11-25", "2023-11-24"],
        # Thu 07-06 .. Wed 07-12: 4 days in the week of 07-03, 3 in the week of 07-10.
        "summer_sale": [("2023-07-06", "2023-07-12")],
        # Sat 07-01 .. Fri 07-14: 2 + 7 + 5 days.
        "long_sale": [(pd.Timestamp("2023-07-01"), pd.Timestamp("2023-07-14"))],
    })
    assert list(x.columns) == ["event_black_friday", "event_summer_sale", "event_long_sale"]
    assert _nonzero(x["event_black_friday"]) == {"2022-11-21": 1, "2023-11-20": 1}
    assert _nonzero(x["event_summer_sale"]) == {"2023-07-03": 4, "2023-07-10": 3}
    assert _nonzero(x["event_long_sale"]) == {"2023-06-26": 2, "2023-07-03": 7, "2023-07-10": 5}
    assert x.index.equals(MONDAYS)


def test_event_week_anchor_end_and_daily() -> None:
    ends = event_features(MONDAYS, {"sale": [("2023-07-06", "2023-07-12")]}, week_anchor="end")
    # Tue..Mon weeks: 07-06..07-10 end on Mon 07-10 (5 days), 07-11..07-12 on 07-17 (2).
    assert _nonzero(ends["event_sale"]) == {"2023-07-10": 5, "2023-07-17": 2}
    days = pd.date_range("2023-07-01", "2023-07-31", freq="D")
    daily = event_features(days, {"sale": [("2023-07-06", "2023-07-12")]}, frequency="daily")
    assert daily["event_sale"].sum() == 7 and set(daily["event_sale"]) == {0, 1}


def test_repeated_days_count_once_and_days_outside_are_ignored() -> None:
    x = event_features(MONDAYS, {"promo": ["2023-07-06", ("2023-07-05", "2023-07-07"),
                                           "2019-07-06"]})
    assert _nonzero(x["event_promo"]) == {"2023-07-03": 3}


def test_event_outside_the_data_names_it_and_the_range() -> None:
    with pytest.raises(SpecError) as info:
        event_features(MONDAYS, {"ok": ["2023-01-02"], "old_launch": ["2019-05-01"]})
    message = str(info.value)
    assert "'old_launch'" in message and "2019-05-01" in message
    assert "2022-01-03" in message and "2023-12-31" in message


@pytest.mark.parametrize("bad", ["2023-13-01", "24/11/2023", "soon", None, 3.5],
                         ids=["month_13", "not_iso", "word", "none", "number"])
def test_unreadable_event_date_names_event_and_value(bad: object) -> None:
    with pytest.raises(SpecError) as info:
        event_features(MONDAYS, {"launch": ["2023-01-02", bad]})
    message = str(info.value)
    assert "'launch'" in message and repr(bad) in message and "Fix:" in message


def test_range_ending_before_it_starts() -> None:
    with pytest.raises(SpecError, match=r"'sale'.*2023-07-14.*before.*Fix"):
        event_features(MONDAYS, {"sale": [("2023-07-14", "2023-07-01")]})


def test_bare_tuple_is_refused_as_ambiguous() -> None:
    with pytest.raises(SpecError, match="wrap it in a list"):
        event_features(MONDAYS, {"sale": ("2023-07-01", "2023-07-14")})  # type: ignore[dict-item]


def test_two_events_with_one_column_name() -> None:
    with pytest.raises(SpecError, match="'event_black_friday'"):
        event_features(MONDAYS, {"Black Friday": ["2023-11-24"], "black_friday": ["2022-11-25"]})


# --- offline ---------------------------------------------------------------------------


def test_works_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted")

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)
    with pytest.raises(OSError):
        socket.socket()  # the guard is in place
    # Countries not used elsewhere in this file, so their rules load under the guard.
    x = holiday_features(MONDAYS, ["NZ", "MX"], subdivision={"NZ": "AUK"})
    assert "holiday_mx_constitution_day" in x.columns and x.sum().gt(0).all()
    assert holiday_features(MONDAYS, "IT").shape[1] > 5
    assert event_features(MONDAYS, {"sale": ["2023-07-06"]}).to_numpy().sum() == 1
