"""Holidays of the simulated calendar: which weeks contain which days.

The dates come from the ``holidays`` package (the United States' federal calendar, as
observed on the day itself) and ``dateutil`` (Western Easter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd
from dateutil.easter import easter

__all__ = ["HOLIDAYS", "holiday_weeks"]


@lru_cache(maxsize=256)
def _us_day(name: str, year: int) -> dt.date:
    """The date of the United States holiday called ``name`` (as the ``holidays``
    package names it) in ``year``, not moved to an observed weekday."""
    days = holidays.country_holidays("US", years=year, observed=False).get_named(
        name, lookup="exact")
    if len(days) != 1:  # pragma: no cover - the package renamed a holiday
        raise LookupError(f"the holidays package has {len(days)} US holidays called "
                          f"{name!r} in {year}")
    return days[0]


def _us(name: str) -> Callable[[int], dt.date]:
    return lambda year: _us_day(name, year)


def _black_friday(year: int) -> dt.date:
    return _us_day("Thanksgiving Day", year) + dt.timedelta(days=1)


#: Holiday name -> its date in a given year.
HOLIDAYS: dict[str, Callable[[int], dt.date]] = {
    "new_year": _us("New Year's Day"),
    "easter": easter,
    "independence_day": _us("Independence Day"),
    "labor_day": _us("Labor Day"),
    "thanksgiving": _us("Thanksgiving Day"),
    "black_friday": _black_friday,
    "christmas": _us("Christmas Day"),
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
