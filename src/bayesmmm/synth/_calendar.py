"""Holidays by date arithmetic (no calendar service): which weeks contain which days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["HOLIDAYS", "easter_sunday", "holiday_weeks"]


def easter_sunday(year: int) -> dt.date:
    """Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * ell) // 433
    month = (h + ell - 7 * m + 90) // 25
    day = (h + ell - 7 * m + 33 * month + 19) % 32
    return dt.date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The ``n``-th ``weekday`` (Monday = 0) of a month."""
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _thanksgiving(year: int) -> dt.date:
    return _nth_weekday(year, 11, 3, 4)  # fourth Thursday of November


#: Holiday name -> its date in a given year.
HOLIDAYS: dict[str, Callable[[int], dt.date]] = {
    "new_year": lambda y: dt.date(y, 1, 1),
    "easter": easter_sunday,
    "independence_day": lambda y: dt.date(y, 7, 4),
    "labor_day": lambda y: _nth_weekday(y, 9, 0, 1),
    "thanksgiving": _thanksgiving,
    "black_friday": lambda y: _thanksgiving(y) + dt.timedelta(days=1),
    "christmas": lambda y: dt.date(y, 12, 25),
}


def holiday_weeks(dates: pd.DatetimeIndex, names: Sequence[str]) -> np.ndarray:
    """1.0 for each week (``date`` to ``date + 6 days``) that contains one of the holidays.

    Parameters
    ----------
    dates : DatetimeIndex, shape ``(n_times,)``
        First day of each week.
    names : sequence of str
        Keys of :data:`HOLIDAYS`.

    Returns
    -------
    ndarray, shape ``(n_times,)`` of 0.0 / 1.0
    """
    unknown = [n for n in names if n not in HOLIDAYS]
    if unknown:
        raise ValueError(f"Unknown holiday(s) {unknown}; expected some of {sorted(HOLIDAYS)}")
    years = range(dates.min().year, dates.max().year + 2)  # a late-December week holds 1 Jan
    days = pd.DatetimeIndex([pd.Timestamp(HOLIDAYS[n](y)) for n in names for y in years])
    start = dates.to_numpy()[:, None]
    hit = (days.to_numpy()[None, :] >= start) & (days.to_numpy()[None, :] < start
                                                  + np.timedelta64(7, "D"))
    return hit.any(axis=1).astype(float)
