"""Holidays and one-off events as control columns, computed offline.

Public holidays come from the ``holidays`` package, which derives them from rules
(fixed dates, Easter, lunar calendars, observance shifts) shipped with the package:
nothing is downloaded. Each holiday or event becomes one column whose value is the
number of its days inside each period of the data, so a week holding Christmas Day
and its observed Monday counts 2.

A period is the span of days a row of the data stands for:

* ``"daily"``: the date itself;
* ``"weekly"`` (and ``"every N days"``): the 7 (N) days starting at the date when
  ``week_anchor="start"``, or ending at it when ``week_anchor="end"``;
* ``"monthly"``: the calendar month of the date.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, TypeAlias

import holidays
import numpy as np
import pandas as pd

from bayesmmm.errors import SpecError

__all__ = ["event_features", "holiday_countries", "holiday_features"]

FREQUENCIES = ("daily", "weekly", "monthly", "every N days")
WEEK_ANCHORS = ("start", "end")

_EVERY_N_DAYS = re.compile(r"^every (\d+) days?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Suffixes the holidays package puts on a holiday moved to another day; the moved
# day is the same holiday to a buyer, so it joins the holiday's column.
_MOVED_SUFFIX = re.compile(
    r"\s*\((?:observed|estimated|observed, estimated|in lieu|substitute day"
    r"|substituted from [^)]*)\)\s*$",
    re.IGNORECASE,
)
# Names people type for a country instead of its ISO code.
_COMMON_ALIASES = {"UK": "GB", "EN": "GB", "ENGLAND": "GB", "USA": "US", "AMERICA": "US"}

DateLike: TypeAlias = str | dt.date | pd.Timestamp | np.datetime64
EventDays: TypeAlias = Sequence[DateLike | tuple[DateLike, DateLike]]


# --- periods ---------------------------------------------------------------------------


def _as_dates(dates: Any) -> pd.DatetimeIndex:
    try:
        index = pd.DatetimeIndex(dates)
    except (TypeError, ValueError) as exc:
        raise SpecError(
            f"dates could not be read as dates ({exc}). "
            "Fix: pass a pd.DatetimeIndex, e.g. pd.DatetimeIndex(df['date'])."
        ) from None
    if len(index) == 0:
        raise SpecError("dates is empty; there are no periods to build features for. "
                        "Fix: pass the date column of the data.")
    if index.hasnans:
        raise SpecError(f"dates has {int(index.isna().sum())} missing values (NaT); every "
                        "period needs a date. Fix: drop or fill the rows without a date.")
    return index


def _period_days(frequency: str) -> int | None:
    """Days per period for fixed-length frequencies; ``None`` for monthly."""
    if frequency == "daily":
        return 1
    if frequency == "weekly":
        return 7
    if frequency == "monthly":
        return None
    match = _EVERY_N_DAYS.match(frequency)
    if match and int(match.group(1)) >= 1:
        return int(match.group(1))
    raise SpecError(
        f"unknown frequency {frequency!r}; expected one of {list(FREQUENCIES)} "
        "(N a positive whole number). Fix: pass the frequency validation reported, "
        "e.g. frequency='weekly'."
    )


def _periods(dates: pd.DatetimeIndex, frequency: str,
             week_anchor: str) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (inclusive) of every period, as ``datetime64[D]`` arrays."""
    if week_anchor not in WEEK_ANCHORS:
        raise SpecError(
            f"unknown week_anchor {week_anchor!r}; expected one of {list(WEEK_ANCHORS)}: "
            "'start' if a weekly date is the first day of its week, 'end' if the last. "
            "Fix: week_anchor='start'."
        )
    length = _period_days(frequency)
    naive = dates.tz_localize(None) if dates.tz is not None else dates
    days = naive.normalize().values.astype("datetime64[D]")
    if length is None:
        starts = days.astype("datetime64[M]").astype("datetime64[D]")
        ends = (days.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
        return starts, ends
    span = np.timedelta64(length - 1, "D")
    if week_anchor == "start":
        return days, days + span
    return days - span, days


def _count_days(starts: np.ndarray, ends: np.ndarray, days: Iterable[dt.date]) -> np.ndarray:
    """How many of ``days`` (deduplicated) fall inside each period."""
    sorted_days = np.unique(np.array(sorted(set(days)), dtype="datetime64[D]"))
    if len(sorted_days) == 0:
        return np.zeros(len(starts), dtype=np.int64)
    counts = (np.searchsorted(sorted_days, ends, side="right")
              - np.searchsorted(sorted_days, starts, side="left"))
    return counts.astype(np.int64)


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")


def _ordered_frame(index: pd.DatetimeIndex, columns: dict[str, np.ndarray],
                   first_day: dict[str, np.datetime64]) -> pd.DataFrame:
    order = sorted(columns, key=lambda name: (first_day[name], name))
    frame = pd.DataFrame({name: columns[name] for name in order}, index=index)
    return frame if order else pd.DataFrame(index=index)


# --- holidays --------------------------------------------------------------------------


@cache
def _supported() -> tuple[str, ...]:
    return tuple(sorted(holidays.list_supported_countries(include_aliases=False)))


def holiday_countries() -> list[str]:
    """Country codes :func:`holiday_features` accepts.

    Returns
    -------
    list of str
        ISO 3166-1 alpha-2 codes (``"US"``, ``"GB"``, ``"DE"`` ...), sorted.
    """
    return list(_supported())


@cache
def _country_names() -> dict[str, str]:
    """Lower-case English country name (and alpha-3 code) -> alpha-2 code."""
    names: dict[str, str] = {}
    registry = getattr(getattr(holidays, "registry", None), "COUNTRIES", {})
    for module, entry in registry.items():
        if len(entry) < 2:
            continue
        code = entry[1]
        names[module.replace("_", " ")] = code
        for alias in entry[2:]:
            if isinstance(alias, str) and len(alias) == 3 and alias.isupper():
                names[alias.lower()] = code
    return names


def _country_suggestions(code: str) -> list[str]:
    supported = _supported()
    names = _country_names()
    key = code.strip().lower().replace("_", " ")
    found: list[str] = []
    if code.strip().upper() in _COMMON_ALIASES:
        found.append(_COMMON_ALIASES[code.strip().upper()])
    if key in names:
        found.append(names[key])
    by_code = difflib.get_close_matches(code.strip().upper(), supported, n=6, cutoff=0.5)
    by_name = [names[n] for n in difflib.get_close_matches(key, list(names), n=3, cutoff=0.75)]
    # Longer than a code: more likely a misspelt country name than a mistyped code.
    found += by_name + by_code if len(key) > 3 else by_code + by_name
    return list(dict.fromkeys(c for c in found if c in supported))


def _check_country(code: Any) -> str:
    supported = _supported()
    if isinstance(code, str) and code.strip().upper() in supported:
        return code.strip().upper()
    shown = code if isinstance(code, str) else repr(code)
    close = _country_suggestions(code) if isinstance(code, str) else []
    first = f"Did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    example = close[0] if close else "US"
    raise SpecError(
        f"unknown holiday country {shown!r}. {first}Supported ISO 3166-1 alpha-2 codes"
        f"{' (close matches first)' if close else ''}: "
        f"{', '.join(list(dict.fromkeys([*close, *supported])))}. "
        f"Fix: pass one of these codes, e.g. country={example!r}."
    )


def _subdivision_for(countries: list[str], multiple: bool,
                     subdivision: str | Mapping[str, str] | None) -> dict[str, str | None]:
    if subdivision is None:
        return dict.fromkeys(countries)
    if isinstance(subdivision, str):
        if multiple:
            raise SpecError(
                f"subdivision={subdivision!r} is ambiguous with several countries "
                f"{countries}. Fix: pass a mapping, e.g. subdivision={{'{countries[0]}': "
                f"{subdivision!r}}}."
            )
        return {countries[0]: subdivision}
    chosen = {str(k).strip().upper(): v for k, v in subdivision.items()}
    extra = sorted(set(chosen) - set(countries))
    if extra:
        raise SpecError(f"subdivision names countries {extra} that are not in country="
                        f"{countries}. Fix: key the mapping by codes from country.")
    return {c: chosen.get(c) for c in countries}


def _country_calendar(code: str, subdiv: str | None, years: range) -> holidays.HolidayBase:
    base = holidays.country_holidays(code)
    languages = tuple(base.supported_languages or ())
    # Ask for English names explicitly: the default follows the process locale, and
    # column names must not change with the machine.
    english = [lang for lang in languages if lang.startswith("en")]
    language = "en_US" if "en_US" in languages else (english[0] if english else None)
    try:
        return holidays.country_holidays(code, subdiv=subdiv, years=years, language=language)
    except NotImplementedError:
        options = list(base.subdivisions or ())
        raise SpecError(
            f"unknown subdivision {subdiv!r} for country {code!r}; expected one of "
            f"{options or 'none (this country has no subdivisions)'}. "
            f"Fix: pass one of these, or subdivision=None for national holidays."
        ) from None


def _holiday_days(calendar: holidays.HolidayBase, first: np.datetime64,
                  last: np.datetime64) -> dict[str, set[dt.date]]:
    """Holiday slug -> its days inside ``[first, last]``, moved days merged in."""
    lo, hi = first.astype(dt.date), last.astype(dt.date)
    days: dict[str, set[dt.date]] = {}
    for day in sorted(calendar):
        if not lo <= day <= hi:
            continue
        for name in calendar.get_list(day):
            slug = _slug(_MOVED_SUFFIX.sub("", name)) or _slug(name)
            if slug:
                days.setdefault(slug, set()).add(day)
    return days


def holiday_features(
    dates: pd.DatetimeIndex,
    country: str | Sequence[str],
    *,
    frequency: str = "weekly",
    subdivision: str | Mapping[str, str] | None = None,
    week_anchor: str = "start",
) -> pd.DataFrame:
    """Public holidays as control columns: days of each holiday in each period.

    Holidays are computed offline from the rules in the ``holidays`` package, with
    English names. A holiday moved to another day ("Christmas Day (observed)", "...
    (in lieu)", "... (estimated)") counts towards the holiday itself; a day off the
    package names on its own (Japan's "Substitute Holiday") keeps its own column. Only
    holidays with at least one day inside some period become columns.

    Parameters
    ----------
    dates : DatetimeIndex, shape ``(n_times,)``
        One date per period of the data, in any order.
    country : str or sequence of str
        ISO 3166-1 alpha-2 code (``"US"``) or several (``["US", "CA"]``); see
        :func:`holiday_countries`.
    frequency : {"weekly", "daily", "monthly", "every N days"}, default "weekly"
        What one row stands for, as :func:`~bayesmmm.data.validate` reports it.
    subdivision : str or mapping of str to str, optional
        A state or province (``"CA"`` for California) adding its own holidays. With
        several countries, a mapping ``{"US": "CA"}``.
    week_anchor : {"start", "end"}, default "start"
        Whether a weekly (every N days) date is the first or the last day of its period.
        Ignored for daily and monthly data.

    Returns
    -------
    DataFrame, shape ``(n_times, n_holidays)``
        Index ``dates``. One integer column per holiday, ``holiday_<slug>`` (slug: the
        lower-case ASCII name with other characters as ``_``, e.g.
        ``holiday_christmas_day``); with a sequence of countries, ``holiday_<code>_<slug>``
        (``holiday_us_christmas_day``). Columns are ordered by the holiday's first day in
        the data, then by name; none is all zero.

    Raises
    ------
    SpecError
        Unknown country (close matches are suggested), subdivision, frequency or
        week_anchor.

    Examples
    --------
    >>> weeks = pd.date_range("2023-01-02", periods=52, freq="W-MON")
    >>> x = holiday_features(weeks, "US")
    >>> int(x.loc["2023-12-25", "holiday_christmas_day"])
    1
    """
    index = _as_dates(dates)
    starts, ends = _periods(index, frequency, week_anchor)
    multiple = not isinstance(country, str)
    codes = [country] if isinstance(country, str) else list(country)
    if not codes:
        raise SpecError("country is empty. Fix: pass a code such as country='US'.")
    countries = list(dict.fromkeys(_check_country(c) for c in codes))
    subdivisions = _subdivision_for(countries, multiple, subdivision)
    first, last = starts.min(), ends.max()
    # One year either side: an observed day can fall in a neighbouring year
    # (New Year's Day on a Saturday is observed on 31 December).
    years = range(first.astype(dt.date).year - 1, last.astype(dt.date).year + 2)
    columns: dict[str, np.ndarray] = {}
    first_day: dict[str, np.datetime64] = {}
    for code in countries:
        calendar = _country_calendar(code, subdivisions[code], years)
        prefix = f"holiday_{code.lower()}_" if multiple else "holiday_"
        for slug, days in _holiday_days(calendar, first, last).items():
            counts = _count_days(starts, ends, days)
            if counts.any():
                name = prefix + slug
                columns[name] = counts
                first_day[name] = np.datetime64(min(days), "D")
    return _ordered_frame(index, columns, first_day)


# --- events ----------------------------------------------------------------------------


def _parse_day(event: str, value: Any) -> np.datetime64:
    fix = ("Fix: write days as 'YYYY-MM-DD' strings or Timestamps, ranges as "
           "(start, end) tuples, e.g. {'black_friday': ['2023-11-24'], "
           "'summer_sale': [('2023-07-01', '2023-07-14')]}.")
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise SpecError(f"event {event!r}: {value!r} is not a date in ISO format "
                        f"(YYYY-MM-DD). {fix}")
    if not isinstance(value, str | dt.date | np.datetime64):
        raise SpecError(f"event {event!r}: {value!r} ({type(value).__name__}) is not a "
                        f"date or a (start, end) range. {fix}")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise SpecError(f"event {event!r}: {value!r} is not a valid date. {fix}") from None
    if pd.isna(stamp):
        raise SpecError(f"event {event!r}: {value!r} is not a date. {fix}")
    return np.datetime64(stamp.date(), "D")


def _event_days(event: str, spec: Any) -> tuple[set[dt.date], list[str]]:
    """All days of one event, and how the user wrote them (for messages)."""
    if isinstance(spec, str | dt.date | np.datetime64):
        spec = [spec]
    if isinstance(spec, tuple) or not isinstance(spec, Sequence):
        raise SpecError(
            f"event {event!r}: {spec!r} must be a list of days and (start, end) ranges. "
            f"Fix: wrap it in a list, e.g. {{{event!r}: [('2023-07-01', '2023-07-14')]}} "
            f"for a range or {{{event!r}: ['2022-11-25', '2023-11-24']}} for single days."
        )
    if not spec:
        raise SpecError(f"event {event!r} has no days. Fix: list its days, e.g. "
                        f"{{{event!r}: ['2023-11-24']}}, or leave the event out.")
    days: set[dt.date] = set()
    shown: list[str] = []
    for item in spec:
        if isinstance(item, tuple | list):
            if len(item) != 2:
                raise SpecError(f"event {event!r}: range {item!r} needs exactly two ends "
                                f"(start, end). Fix: e.g. ('2023-07-01', '2023-07-14').")
            start, end = _parse_day(event, item[0]), _parse_day(event, item[1])
            if end < start:
                raise SpecError(f"event {event!r}: range {item!r} ends ({end}) before it "
                                f"starts ({start}). Fix: write it as (start, end), "
                                f"e.g. ({str(end)!r}, {str(start)!r}).")
            span = np.arange(start, end + 1, dtype="datetime64[D]")
            days.update(span.astype(dt.date).tolist())
            shown.append(f"{start}..{end}")
        else:
            day = _parse_day(event, item)
            days.add(day.astype(dt.date))
            shown.append(str(day))
    return days, shown


def event_features(
    dates: pd.DatetimeIndex,
    events: Mapping[str, EventDays],
    *,
    frequency: str = "weekly",
    week_anchor: str = "start",
) -> pd.DataFrame:
    """Marketing or business events as control columns: event days in each period.

    Parameters
    ----------
    dates : DatetimeIndex, shape ``(n_times,)``
        One date per period of the data, in any order.
    events : mapping of str to list
        Event name -> its days: ISO date strings (``"2023-11-24"``), Timestamps or
        dates, and inclusive ``(start, end)`` ranges, e.g.
        ``{"black_friday": ["2022-11-25", "2023-11-24"],
        "summer_sale": [("2023-07-01", "2023-07-14")]}``. Days repeated or covered by
        overlapping ranges count once; days outside the data are ignored.
    frequency : {"weekly", "daily", "monthly", "every N days"}, default "weekly"
        What one row stands for, as :func:`~bayesmmm.data.validate` reports it.
    week_anchor : {"start", "end"}, default "start"
        Whether a weekly (every N days) date is the first or the last day of its period.

    Returns
    -------
    DataFrame, shape ``(n_times, n_events)``
        Index ``dates``; one integer column ``event_<slug>`` per event, in the order
        given, holding the number of the event's days inside each period (a 14-day sale
        starting on a Saturday gives weekly values 2, 7, 5).

    Raises
    ------
    SpecError
        A date that cannot be read, a range ending before it starts, two events with
        the same column name, or an event with no day inside any period (its column
        would be all zero, so its effect could not be estimated).
    """
    index = _as_dates(dates)
    starts, ends = _periods(index, frequency, week_anchor)
    if not isinstance(events, Mapping):
        raise SpecError(f"events must be a mapping of event name -> days, got "
                        f"{type(events).__name__}. Fix: e.g. {{'black_friday': "
                        f"['2023-11-24']}}.")
    columns: dict[str, np.ndarray] = {}
    named: dict[str, str] = {}
    for event, spec in events.items():
        slug = _slug(str(event))
        if not slug:
            raise SpecError(f"event name {event!r} has no letters or digits to name a "
                            f"column after. Fix: rename it, e.g. 'launch'.")
        column = f"event_{slug}"
        if column in columns:
            raise SpecError(f"events {named[column]!r} and {event!r} both become column "
                            f"{column!r}. Fix: merge their days under one name or "
                            f"rename one.")
        days, shown = _event_days(str(event), spec)
        counts = _count_days(starts, ends, days)
        if not counts.any():
            listed = ", ".join(shown[:5]) + (f" (+{len(shown) - 5} more)" if len(shown) > 5
                                             else "")
            raise SpecError(
                f"event {event!r} ({listed}) has no day inside the data's periods, which "
                f"cover {starts.min()} to {ends.max()} ({frequency}, {len(index)} rows); "
                f"its column would be all zero and its effect cannot be estimated. "
                f"Fix: correct its dates or leave the event out."
            )
        columns[column] = counts
        named[column] = str(event)
    return pd.DataFrame(columns, index=index) if columns else pd.DataFrame(index=index)
