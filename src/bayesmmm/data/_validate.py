"""Validation of a marketing table: every problem at once, each with a fix.

Validation never changes the user's data. Each :class:`Problem` names the column,
shows the bad values (count and first examples), states the rule and gives a
pandas snippet that fixes it. Errors refuse the fit; warnings allow it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["Problem", "ValidationReport", "validate", "n_model_parameters"]

Severity = Literal["error", "warning"]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OTHER_DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y",
                       "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%y", "%m/%d/%y")
_N_EXAMPLES = 3
# A number written with a decimal comma, optionally with '.' or ' ' thousands groups:
# 12,5  1001,70  -0,25  1.234,56. Exactly three digits after a lone comma ('1,200') stay
# ambiguous (a thousands separator), so they are not taken for decimals.
DECIMAL_COMMA = re.compile(r"^-?\d{1,3}(?:[. ]\d{3})+,\d+$|^-?\d+,(?:\d{1,2}|\d{4,})$")


@dataclass(frozen=True)
class Problem:
    """One broken rule.

    Attributes
    ----------
    code : str
        Stable identifier (``"negative_spend"``), for programs and tests.
    severity : {"error", "warning"}
    column : str or None
        The column concerned (``None`` for table-wide problems).
    message : str
        What is wrong, with the count and first examples of bad values.
    rule : str
        The rule that was broken.
    fix : str
        A pandas snippet (or option) that fixes it.
    count : int
        How many values break the rule.
    examples : list
        The first few bad values, as strings.
    """

    code: str
    severity: Severity
    column: str | None
    message: str
    rule: str
    fix: str
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def format(self) -> str:
        where = f"column '{self.column}': " if self.column else ""
        return f"[{self.code}] {where}{self.message}\n    rule: {self.rule}\n    fix:  {self.fix}"


@dataclass
class ValidationReport:
    """All problems found in one table; ``ok`` when there is no error."""

    problems: list[Problem]
    n_rows: int
    frequency: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def format(self) -> str:
        lines = [
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s) in {self.n_rows} rows"
        ]
        for title, items in (("Errors (fit refused)", self.errors),
                             ("Warnings (fit allowed)", self.warnings)):
            if items:
                lines.append(f"{title}:")
                lines.extend("  " + p.format().replace("\n", "\n  ") for p in items)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "n_rows": self.n_rows,
            "frequency": self.frequency,
            "errors": [asdict(p) for p in self.errors],
            "warnings": [asdict(p) for p in self.warnings],
        }


def n_model_parameters(n_channels: int, n_controls: int, yearly_seasonality: int) -> int:
    """Free parameters of the classic model: intercept, sigma, 3 per channel, controls, Fourier."""
    return 2 + 3 * n_channels + n_controls + 2 * yearly_seasonality


class _Checker:
    """Collects problems while walking the table once per rule."""

    def __init__(self, df: pd.DataFrame, date_column: str) -> None:
        self.df = df
        self.date_column = date_column
        self.problems: list[Problem] = []
        self.labels: pd.Index = df.index  # replaced by dates once they parse
        self.frequency: str | None = None
        self.panel_columns: list[str] = []

    def add(self, code: str, severity: Severity, column: str | None, message: str, rule: str,
            fix: str, count: int = 0, examples: Sequence[str] = ()) -> None:
        self.problems.append(Problem(code, severity, column, message, rule, fix, count,
                                     list(examples)))

    def where(self, mask: np.ndarray, values: pd.Series | None = None) -> list[str]:
        """The first bad values as ``value at label`` strings."""
        idx = np.flatnonzero(mask)[:_N_EXAMPLES]
        out = []
        for i in idx:
            label = self.labels[i]
            label = (label.strftime("%Y-%m-%d") if isinstance(label, pd.Timestamp)
                     else f"row {label}")
            out.append(f"{_show(values.iloc[i])} at {label}" if values is not None else label)
        return out


def _show(value: Any) -> str:
    """A value as the user would write it (no ``np.float64(...)`` wrappers)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _suggest(name: str, columns: Sequence[str]) -> str | None:
    """The existing column the user most likely meant (case, spaces, '_' and '-' ignored)."""
    def norm(s: str) -> str:
        return re.sub(r"[^0-9a-z]", "", s.lower())

    normalised = {norm(c): c for c in columns}
    if norm(name) in normalised:
        return normalised[norm(name)]
    lower = {c.lower(): c for c in columns}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return lower[close[0]] if close else None


def _check_columns(c: _Checker, roles: dict[str, list[str]]) -> set[str]:
    """Missing, misspelled or doubly-used columns; returns the columns that exist."""
    columns = [str(col) for col in c.df.columns]
    present: set[str] = set()
    for role, names in roles.items():
        for name in names:
            if name in columns:
                present.add(name)
                continue
            guess = _suggest(name, columns)
            if guess is not None:
                msg = f"not found; did you mean '{guess}'?"
                fix = (f"df = df.rename(columns={{{guess!r}: {name!r}}})  "
                       f"# or pass {guess!r} as the {role} column")
            else:
                msg = f"not found among the table's columns {columns[:12]}"
                fix = f"pass one of the existing columns as the {role} column"
            c.add("missing_column", "error", name, f"the {role} column {msg}",
                  f"every {role} column named must exist in the table", fix)
    seen: dict[str, str] = {}
    for role, names in roles.items():
        for name in names:
            if name in seen:
                other = seen[name]
                c.add("duplicate_role", "error", name,
                      f"used both as {other} and as {role}" if other != role
                      else f"listed twice as {role}",
                      "a column plays one role only (date, target, channel or control)",
                      f"remove {name!r} from the {role} columns" if other != role
                      else f"list {name!r} once")
            else:
                seen[name] = role
    return present


def _missing_dates(c: _Checker, missing: np.ndarray) -> None:
    col = c.date_column
    c.add("missing_dates", "error", col, f"{int(missing.sum())} empty dates "
          f"(first at {', '.join(c.where(missing))})", "every row needs a date",
          f"df = df.dropna(subset=[{col!r}])  # or fill in the missing dates",
          int(missing.sum()), c.where(missing))


def _check_dates(c: _Checker, keys: pd.Series | None = None) -> pd.Series | None:
    """Date format, duplicates, order and frequency; returns parsed dates or None.

    ``keys`` (panel data) holds each row's panel label: dates must then be unique within
    a panel, and the frequency is read from the distinct dates.
    """
    col = c.date_column
    raw = c.df[col]
    if pd.api.types.is_datetime64_any_dtype(raw):
        dates = pd.to_datetime(raw)
        if dates.dt.tz is not None:  # calendar dates are local: drop the zone, keep the day
            dates = dates.dt.tz_localize(None)
        missing = dates.isna().to_numpy()
        if missing.any():
            _missing_dates(c, missing)
            return None
        timed = (dates != dates.dt.normalize()).to_numpy()
        if timed.any():
            ex = c.where(timed, raw)
            c.add("dates_with_times", "error", col,
                  f"{int(timed.sum())} dates carry a time of day (first: {', '.join(ex)})",
                  "one row per day, week or month, dated at midnight",
                  f"df[{col!r}] = df[{col!r}].dt.normalize()  # after aggregating to one row "
                  "per period", int(timed.sum()), ex)
            return None
    else:
        text = raw.astype("string").str.strip()
        missing = text.isna().to_numpy()
        if missing.any():
            _missing_dates(c, missing)
        bad = (~text.fillna("").str.match(_ISO_DATE)).to_numpy() & ~missing
        dates = pd.to_datetime(text.where(~bad), format="%Y-%m-%d", errors="coerce")
        bad |= dates.isna().to_numpy() & ~missing
        if bad.any():
            ex = c.where(bad, raw)
            fmt = next((f for f in _OTHER_DATE_FORMATS
                        if pd.to_datetime(text[~missing], format=f, errors="coerce").notna().all()),
                       None)
            if fmt is not None:
                fix = (f"df[{col!r}] = pd.to_datetime(df[{col!r}], format={fmt!r})"
                       ".dt.strftime('%Y-%m-%d')")
                hint = f"; they look like {fmt!r}"
            else:
                fix = (f"df[{col!r}] = pd.to_datetime(df[{col!r}], format='...')"
                       ".dt.strftime('%Y-%m-%d')  # put the format your dates use")
                hint = ""
            c.add("bad_date_format", "error", col,
                  f"{int(bad.sum())} values are not dates in %Y-%m-%d format{hint} "
                  f"(first: {', '.join(ex)})", "dates must be ISO dates like 2024-01-29",
                  fix, int(bad.sum()), ex)
            return None
        if missing.any():
            return None
    c.labels = pd.DatetimeIndex(dates)
    _check_future(c, dates)
    if keys is not None:
        return _check_panel_dates(c, keys, dates)
    dup = dates.duplicated(keep=False).to_numpy()
    if dup.any():
        ex = sorted({d.strftime("%Y-%m-%d") for d in dates[dup]})[:_N_EXAMPLES]
        c.add("duplicate_dates", "error", col,
              f"{int(dup.sum())} rows share a date with another row (first: {', '.join(ex)})",
              "one row per period (for several geos use the long format with a geo column)",
              f"df = df.groupby({col!r}, as_index=False).sum()  # if the rows are parts of one "
              f"period; else df = df.drop_duplicates(subset=[{col!r}])",
              int(dup.sum()), ex)
        return None
    if not dates.is_monotonic_increasing:
        c.add("unsorted_dates", "warning", col,
              "rows are not in date order; the fit uses them sorted by date",
              "rows should run from the earliest to the latest period",
              f"df = df.sort_values({col!r}).reset_index(drop=True)")
    _check_frequency(c, dates.sort_values().reset_index(drop=True))
    return dates


def _check_future(c: _Checker, dates: pd.Series) -> None:
    """Dates over a year after today. A warning, not an error: synthetic or deliberately
    shifted (anonymised) dates are legitimate and fit fine, while a typo ('2204' for '2024')
    breaks the regular spacing, which the frequency check refuses; this message says why."""
    limit = pd.Timestamp.today().normalize() + pd.Timedelta(days=366)
    future = (dates > limit).to_numpy()
    if not future.any():
        return
    col = c.date_column
    ex = c.where(future)
    c.add("future_dates", "warning", col,
          f"{int(future.sum())} dates lie more than a year after today (first at "
          f"{', '.join(ex)}); sales cannot have been observed then",
          "dates should be past periods (at most a year ahead)",
          f"correct mistyped years, e.g. df.loc[pd.to_datetime(df[{col!r}]) > "
          f"'{limit:%Y-%m-%d}', {col!r}]; nothing to do if the dates are synthetic or "
          "shifted on purpose", int(future.sum()), ex)


def _check_panel_dates(c: _Checker, keys: pd.Series, dates: pd.Series) -> pd.Series | None:
    """Panel rules: one row per (panel, date), and every panel covers the same dates."""
    col = c.date_column
    frame = pd.DataFrame({"key": keys.to_numpy(), "date": dates.to_numpy()})
    dup = frame.duplicated(keep=False).to_numpy()
    if dup.any():
        ex = [f"{k} {pd.Timestamp(d).strftime('%Y-%m-%d')}"
              for k, d in frame[dup].drop_duplicates().head(_N_EXAMPLES).to_numpy()]
        cols = c.panel_columns + [col]
        c.add("duplicate_dates", "error", col,
              f"{int(dup.sum())} rows share a panel and date with another row "
              f"(first: {', '.join(ex)})", "one row per panel and period",
              f"df = df.groupby({cols!r}, as_index=False).sum()  # if the rows are parts of "
              f"one period; else df = df.drop_duplicates(subset={cols!r})", int(dup.sum()), ex)
        return None
    all_dates = pd.Series(np.sort(frame["date"].unique()))
    counts = frame.groupby("key")["date"].nunique()
    short = counts[counts < len(all_dates)]
    if len(short):
        ex = []
        for key in short.index[:_N_EXAMPLES]:
            have = set(frame.loc[frame["key"] == key, "date"])
            first = next(d for d in all_dates if d not in have)
            ex.append(f"{key}: {len(all_dates) - counts[key]} missing "
                      f"(first {pd.Timestamp(first).strftime('%Y-%m-%d')})")
        cols = c.panel_columns
        c.add("unbalanced_panel", "error", col,
              f"{len(short)} of {len(counts)} panels lack some of the {len(all_dates)} dates "
              f"(first: {'; '.join(ex)})", "every panel must have a row for every date",
              f"full = pd.MultiIndex.from_product([*(df[k].unique() for k in {cols!r}), "
              f"df[{col!r}].unique()], names={[*cols, col]!r}); df = df.set_index("
              f"{[*cols, col]!r}).reindex(full).reset_index()  # then fill the new rows "
              "knowingly", int(len(short)), ex)
    if not frame.sort_values(["key", "date"], kind="stable").index.equals(frame.index):
        c.add("unsorted_dates", "warning", col,
              "rows are not sorted by panel and date; the fit uses them sorted",
              "rows should run by panel, then from the earliest to the latest period",
              f"df = df.sort_values({[*c.panel_columns, col]!r}).reset_index(drop=True)")
    _check_frequency(c, all_dates)
    return dates


# Spacings (in days) of the calendars a table can use; the first one a step falls in names it.
_SPACINGS = (("daily", 1, 1), ("weekly", 7, 7), ("monthly", 28, 31), ("quarterly", 89, 92),
             ("yearly", 365, 366))
_RESAMPLE = {"weekly": "W-{day}", "monthly": "MS", "quarterly": "QS", "yearly": "YS"}


def _spacing(days: int) -> str | None:
    return next((name for name, low, high in _SPACINGS if low <= days <= high), None)


def _check_frequency(c: _Checker, dates: pd.Series) -> None:
    col = c.date_column
    if len(dates) < 3:
        return
    steps = dates.diff().dt.days.iloc[1:].to_numpy()
    monthly = np.all((steps >= 28) & (steps <= 31))
    if monthly:
        days_ok = (dates.dt.day == dates.iloc[0].day).all() or dates.dt.is_month_end.all()
        if days_ok:
            c.frequency = "monthly"
            return
    if np.all((steps >= 365) & (steps <= 366)):
        # An error, not a warning: with one row per year every row falls on the same day of
        # the year, so the yearly-seasonality terms are constant (confounded with the
        # intercept), and adstock would carry spend over whole years. No fit can be trusted.
        c.frequency = "yearly"
        c.add("yearly_data", "error", col,
              f"one row per year ({len(dates)} rows, {dates.iloc[0]:%Y} to "
              f"{dates.iloc[-1]:%Y}); a marketing-mix model needs weekly, daily or monthly "
              "periods", "periods must be days, weeks or months",
              "export the data by week (or month) from the source; yearly totals cannot "
              "separate media effects from the trend", len(dates))
        return
    if _mixed_frequency(c, dates, steps):
        return
    step = int(pd.Series(steps).mode().iloc[0])
    c.frequency = {1: "daily", 7: "weekly"}.get(step, f"every {step} days")
    irregular = steps != step
    if irregular.any():
        gaps = steps[irregular]
        starts = dates.iloc[:-1].to_numpy()[irregular]
        ex = [f"{pd.Timestamp(s).strftime('%Y-%m-%d')} -> +{int(g)} days"
              for s, g in zip(starts[:_N_EXAMPLES], gaps[:_N_EXAMPLES], strict=False)]
        n_missing = int(sum(max(g // step - 1, 0) for g in gaps))
        off_grid = bool(np.any(gaps % step))
        what = ("dates are not on one regular grid" if off_grid
                else f"{n_missing} periods are missing")
        c.add("irregular_frequency", "error", col,
              f"{what}: the usual step is {step} days but {int(irregular.sum())} steps differ "
              f"(first: {', '.join(ex)})",
              "periods must be evenly spaced with no gaps (daily, weekly or monthly)",
              f"df[{col!r}] = pd.to_datetime(df[{col!r}]); df = df.set_index({col!r})"
              f".asfreq('{step}D').reset_index()  # adds the missing rows as NaN: fill them "
              "knowingly (spend 0 only if nothing was spent)",
              int(irregular.sum()), ex)


def _mixed_frequency(c: _Checker, dates: pd.Series, steps: np.ndarray) -> bool:
    """Runs of two calendars in one table (daily rows, then weekly ones): name both and
    resample to the coarser one, rather than call the finer one's gaps missing periods."""
    names = [_spacing(int(s)) for s in steps]
    runs: dict[str, int] = {}  # calendar -> index of the first step of its first run of two
    for i in range(len(names) - 1):
        if names[i] is not None and names[i] == names[i + 1]:
            runs.setdefault(names[i], i)  # type: ignore[arg-type]
    if len(runs) < 2:
        return False
    order = [name for name, *_ in _SPACINGS if name in runs]
    coarse = order[-1]
    ex = []
    for name in order:
        i = runs[name]
        ex.append(f"{dates.iloc[i]:%Y-%m-%d} -> {dates.iloc[i + 1]:%Y-%m-%d} "
                  f"(+{int(steps[i])} days, {name})")
    col = c.date_column
    i = runs[coarse]
    rule = _RESAMPLE.get(coarse, "W-MON").format(day=f"{dates.iloc[i]:%a}".upper())
    left = ", label='left', closed='left'" if coarse == "weekly" else ""
    c.frequency = None
    c.add("mixed_frequency", "error", col,
          f"rows mix {' and '.join(order)} spacing (e.g. {'; '.join(ex)})",
          "every row must cover one period of the same length",
          f"df[{col!r}] = pd.to_datetime(df[{col!r}]); df = df.set_index({col!r})"
          f".resample({rule!r}{left}).sum(numeric_only=True).reset_index()  # {coarse} "
          "totals; use .mean() for prices and other rates", int(len(steps)), ex)
    return True


def _numeric(c: _Checker, col: str, role: str) -> pd.Series | None:
    """The column as floats, or None after reporting non-numeric / missing / inf values."""
    raw = c.df[col]
    if pd.api.types.is_bool_dtype(raw):
        raw = raw.astype(float)
    values = pd.to_numeric(raw, errors="coerce")
    missing = raw.isna().to_numpy()
    non_num = values.isna().to_numpy() & ~missing
    ok = True
    if non_num.any() and _decimal_commas(c, col, raw, non_num, role):
        return None
    if non_num.mean() > 0.5 and raw.nunique() <= 20:
        _categorical(c, col, raw, role)
        return None
    if non_num.any():
        ex = c.where(non_num, raw)
        c.add("non_numeric", "error", col,
              f"{int(non_num.sum())} values are not numbers (first: {', '.join(ex)})",
              f"{role} values must be numbers",
              f"df[{col!r}] = pd.to_numeric(df[{col!r}].astype(str).str.replace(r'[,$€£ ]', '', "
              "regex=True))  # strips thousands separators and currency signs",
              int(non_num.sum()), ex)
        ok = False
    if missing.any():
        ex = c.where(missing)
        fill = "0)  # only if a blank means no spend" if role == "channel" else \
            f"df[{col!r}].interpolate())  # or drop those rows"
        c.add("missing_values", "error", col,
              f"{int(missing.sum())} missing (NaN) values (first at {', '.join(ex)})",
              f"{role} values must not be missing",
              f"df[{col!r}] = df[{col!r}].fillna({fill}", int(missing.sum()), ex)
        ok = False
    inf = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
    if inf.any():
        ex = c.where(inf, values)
        c.add("infinite_values", "error", col,
              f"{int(inf.sum())} infinite values (first: {', '.join(ex)})",
              f"{role} values must be finite",
              f"df[{col!r}] = df[{col!r}].replace([np.inf, -np.inf], np.nan)  # then fill them",
              int(inf.sum()), ex)
        ok = False
    if not ok:
        return None
    values = values.astype(float)
    return values if _check_magnitude(c, col, values, role) else None


def _decimal_commas(c: _Checker, col: str, raw: pd.Series, non_num: np.ndarray,
                    role: str) -> bool:
    """Text like '1001,70' (a European export read without ``decimal=','``): stripping the
    comma, as for thousands separators, would multiply the values by 10 ** decimals.
    True when found (other text in the column is then reported without that fix)."""
    text = raw.astype("string").str.strip().str.strip('"')
    comma = non_num & text.str.match(DECIMAL_COMMA).fillna(False).to_numpy(dtype=bool)
    if not comma.any():
        return False
    ex = c.where(comma, raw)
    thousands = ", thousands='.'" if text[comma].str.contains(".", regex=False).any() else ""
    c.add("decimal_comma", "error", col,
          f"{int(comma.sum())} values are written with a decimal comma (first: "
          f"{', '.join(ex)}), so they were read as text",
          f"{role} values must be numbers with a decimal point",
          f"read the file with pd.read_csv(path, sep=';', decimal=','{thousands}) and pass the "
          f"DataFrame (or save it again as CSV), or convert the column: df[{col!r}] = "
          f"pd.to_numeric(df[{col!r}].astype(str).str.replace('.', '', regex=False)"
          ".str.replace(',', '.', regex=False))", int(comma.sum()), ex)
    other = non_num & ~comma
    if other.any():
        ex = c.where(other, raw)
        c.add("non_numeric", "error", col,
              f"{int(other.sum())} values are not numbers (first: {', '.join(ex)})",
              f"{role} values must be numbers",
              f"correct these cells; after reading with decimal=',' any left are blanked by "
              f"df[{col!r}] = pd.to_numeric(df[{col!r}], errors='coerce')  # then fill them "
              "knowingly", int(other.sum()), ex)
    return True


# Magnitude bounds. The model scales each column in float64 but keeps some quantities in
# original units in float32 (the target's scale, each channel's total spend, control means)
# and multiplies two of them (e.g. an ROI-scaled total spend against the target's scale).
# float32 holds |x| from 1.2e-38 (smallest normal number) to 3.4e38 with 7 significant
# digits. With every column's largest |value| in [1e-15, 1e15], the product of two such
# values summed over up to 1e8 rows stays below 3.4e38, and the product of two of the
# smallest scales (1e-30) stays a normal float32. Within a column, a non-zero value below
# 1e-30 x the column's largest is not representable once the column is scaled to [-1, 1]
# and multiplied by a coefficient (it becomes subnormal or 0); such values are rounding
# noise or corrupt cells. No currency needs more than 1e15 per period (a week of the
# largest economy's GDP in its weakest currency is below it).
_MAX_MAGNITUDE = 1e15
_MIN_SCALE = 1e-15
_MAX_RATIO = 1e30
_UNITS = {3: "thousands", 6: "millions", 9: "billions", 12: "trillions"}


def _power_of_ten(exponent: int) -> str:
    """``10 ** exponent`` as a float literal that does not overflow (1e300 * 1e20)."""
    parts = []
    while exponent > 300:
        parts.append("1e300")
        exponent -= 300
    parts.append(f"1e{exponent}")
    return " * ".join(parts)


def _check_magnitude(c: _Checker, col: str, x: pd.Series, role: str) -> bool:
    """Numbers the model's float32 arithmetic can carry (bounds above); False when not."""
    size = np.abs(x.to_numpy(dtype=float))
    nonzero = size > 0
    if not nonzero.any():
        return True
    largest = float(size.max())
    huge = size > _MAX_MAGNITUDE
    if huge.any():
        ex = c.where(huge, x)
        # the median relative to the largest: averaging two middle values near 1e308
        # would overflow
        typical = float(np.median(size[nonzero] / largest)) * largest
        if typical > _MAX_MAGNITUDE / 1e3:  # most values are huge: the unit is too small
            exponent = int(np.ceil(np.log10(largest))) - 9  # largest to <= 1e9
            exponent += -exponent % 3
            unit = _UNITS.get(exponent, f"units of 1e{exponent}")
            fix = (f"df[{col!r}] = df[{col!r}] / {_power_of_ten(exponent)}  # express "
                   f"{col} in {unit}")
        else:  # a few absurd cells among ordinary values
            fix = (f"df.loc[df[{col!r}].abs() > {_MAX_MAGNITUDE:g}, {col!r}] = np.nan  # "
                   "then correct or fill these cells")
        c.add("huge_values", "error", col,
              f"{int(huge.sum())} values exceed {_MAX_MAGNITUDE:g} in magnitude (first: "
              f"{', '.join(ex)}); numbers this large overflow the model's float32 arithmetic",
              f"{role} values must satisfy |value| <= {_MAX_MAGNITUDE:g}", fix,
              int(huge.sum()), ex)
        return False
    if largest < _MIN_SCALE:
        exponent = 6 - int(np.floor(np.log10(largest)))
        c.add("tiny_values", "error", col,
              f"the largest value is {_show(x.iloc[int(size.argmax())])}; numbers this small "
              "underflow the model's float32 arithmetic",
              f"a {role} column's largest |value| must be >= {_MIN_SCALE:g}",
              f"df[{col!r}] = df[{col!r}] * {_power_of_ten(exponent)}  # express {col} in "
              "smaller units", int(nonzero.sum()))
        return False
    tiny = nonzero & (size < largest / _MAX_RATIO)
    if tiny.any():
        ex = c.where(tiny, x)
        c.add("tiny_values", "error", col,
              f"{int(tiny.sum())} non-zero values are over {_MAX_RATIO:g} times smaller than "
              f"the column's largest ({largest:g}) (first: {', '.join(ex)}); float32 cannot "
              "hold them once the column is scaled",
              f"non-zero {role} values must be >= the column's largest |value| / "
              f"{_MAX_RATIO:g}",
              f"df[{col!r}] = df[{col!r}].mask(df[{col!r}].abs() < df[{col!r}].abs().max() / "
              f"{_MAX_RATIO:g}, 0.0)  # rounding noise -> 0", int(tiny.sum()), ex)
        return False
    return True


def _categorical(c: _Checker, col: str, raw: pd.Series, role: str) -> None:
    """A text column with few distinct values: categories to one-hot encode, not numbers."""
    counts = raw.astype("string").value_counts()
    levels = [str(v) for v in counts.index]
    dummies = [f"{col}_{v}" for v in levels[1:]]  # the most frequent level is the baseline
    flags = " ".join(f"--{role} {d}" for d in dummies)
    c.add("categorical_column", "error", col,
          f"holds {len(levels)} categories {levels[:6]}, not numbers",
          f"{role} values must be numbers; encode categories as 0/1 columns",
          f"df = pd.get_dummies(df, columns=[{col!r}], dtype=float).drop(columns="
          f"[{f'{col}_{levels[0]}'!r}])  # baseline {levels[0]!r}; then use {flags}",
          int(len(raw)), levels[:_N_EXAMPLES])


def _check_channel(c: _Checker, col: str, x: pd.Series) -> None:
    neg = (x < 0).to_numpy()
    if neg.any():
        ex = c.where(neg, x)
        c.add("negative_spend", "error", col,
              f"{int(neg.sum())} negative values (first: {', '.join(ex)})",
              "spend must be >= 0", f"df[{col!r}] = df[{col!r}].clip(lower=0)",
              int(neg.sum()), ex)
        return
    if (x == 0).all():
        c.add("zero_channel", "error", col, "all values are 0, so its effect cannot be estimated",
              "a channel needs some spend", f"drop {col!r} from the channel columns")
    elif x.nunique() == 1:
        c.add("constant_channel", "error", col,
              f"every value is {_show(x.iloc[0])}, so its effect cannot be told apart from "
              "the intercept",
              "a channel's spend must vary over time", f"drop {col!r} from the channel columns")
    elif (x == 0).mean() >= 0.9:
        c.add("sparse_channel", "warning", col,
              f"{int((x > 0).sum())} of {len(x)} periods have spend; its effect will be uncertain",
              "a channel should have spend in more than 10% of periods",
              f"consider merging {col!r} with a similar channel")


def validate(
    data: pd.DataFrame,
    *,
    date_column: str,
    y_column: str,
    channel_columns: Sequence[str],
    control_columns: Sequence[str] = (),
    adstock_max_lag: int = 8,
    yearly_seasonality: int = 2,
    panel_columns: Sequence[str] = (),
) -> ValidationReport:
    """Check a marketing table against every rule; never modifies ``data``.

    Parameters
    ----------
    data : DataFrame
        One row per period (national), or per panel and period (long format: a geo
        column, or several such as brand and region, named by ``panel_columns``).
    date_column, y_column : str
        The period's date (``%Y-%m-%d``) and the target (sales) column.
    channel_columns : sequence of str
        Media spend columns (>= 0).
    control_columns : sequence of str
        Other explanatory columns (prices, events, a trend ...).
    adstock_max_lag, yearly_seasonality : int
        Model options the row-count rule depends on.
    panel_columns : sequence of str
        Columns whose values together name a panel cell (e.g. ``["geo"]`` or
        ``["brand", "region"]``); empty for a national table.

    Returns
    -------
    ValidationReport
        ``report.ok`` is False when any error was found; ``report.format()`` explains.

    Notes
    -----
    Beyond names, types and missing values, the rules cover what breaks a fit quietly:
    magnitudes the model's float32 arithmetic cannot carry (``huge_values`` above 1e15,
    ``tiny_values``), numbers written with decimal commas, a spreadsheet's totals row,
    duplicate column names, and calendars (gaps, mixed daily / weekly rows, one row per
    year; dates over a year ahead only warn).
    """
    df = data.rename(columns=str)  # a view with string names; the user's frame is untouched
    c = _Checker(df, date_column)
    if df.columns.duplicated().any():
        _duplicate_columns(c)
    if len(channel_columns) == 0:
        c.add("no_channels", "error", None, "no channel columns were given",
              "the model needs at least one media channel",
              "pass channel_columns=['tv', 'search', ...] (CLI: --channel tv --channel search)")
    roles = {"date": [date_column], "target": [y_column], "channel": list(channel_columns),
             "control": list(control_columns), "panel": list(panel_columns)}
    present = _check_columns(c, roles)
    if len(df) == 0:
        c.add("empty_table", "error", None, "the table has no rows",
              "one row per period (and panel)", "pass the table with its data rows")
        return ValidationReport(c.problems, 0, None)
    if date_column in present:
        numeric = [col for col in (y_column, *channel_columns, *control_columns)
                   if col in present and col != date_column]
        _drop_total_rows(c, numeric)
    keys = _panel_keys(c, list(panel_columns), present) if panel_columns else None
    if date_column in present and (keys is not None or not panel_columns):
        _check_dates(c, keys)
    if y_column in present:
        y = _numeric(c, y_column, "target")
        if y is not None and y.nunique() <= 1:
            c.add("constant_target", "error", y_column,
                  f"every value is {_show(y.iloc[0])}; there is nothing to explain",
                  "the target must vary over time", "check that the right column is the target")
        elif y is not None and (y < 0).any():
            neg = (y < 0).to_numpy()
            c.add("negative_target", "warning", y_column,
                  f"{int(neg.sum())} negative values (first: {', '.join(c.where(neg, y))})",
                  "sales are usually >= 0", "check that negative sales are intended (returns?)",
                  int(neg.sum()), c.where(neg, y))
    media = {}
    for col in channel_columns:
        if col in present and col not in (date_column, y_column):
            x = _numeric(c, col, "channel")
            if x is not None:
                _check_channel(c, col, x)
                if keys is not None:
                    _check_per_panel(c, col, x, keys)
                media[col] = x
    for col in control_columns:
        if col in present and col not in (date_column, y_column):
            z = _numeric(c, col, "control")
            if z is not None and z.nunique() <= 1:
                c.add("constant_control", "error", col,
                      f"every value is {_show(z.iloc[0])}; it cannot be told apart from "
                      "the intercept",
                      "a control must vary over time", f"drop {col!r} from the control columns")
    if keys is not None:  # collinearity of the national totals
        media = {k: v.groupby(c.labels).sum() for k, v in media.items()} \
            if isinstance(c.labels, pd.DatetimeIndex) else {}
    _check_collinear(c, media)
    n_panels = int(keys.nunique()) if keys is not None else 1
    _check_size(c, len(c.df) // max(n_panels, 1), len(channel_columns), len(control_columns),
                adstock_max_lag, yearly_seasonality)
    return ValidationReport(c.problems, len(df), c.frequency)


def _duplicate_columns(c: _Checker) -> None:
    """Two columns with one name (a DataFrame allows it; so do 2 and '2' once named as
    strings): a role could read either. The checks go on with each name's first column."""
    names = [str(n) for n in c.df.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    for name in repeated:
        at = [i for i, n in enumerate(names) if n == name]
        new_names = [f"{name}_{k}" for k in range(2, len(at) + 1)]
        c.add("duplicate_columns", "error", name,
              f"{len(at)} columns share this name (positions "
              f"{', '.join(str(i + 1) for i in at)})", "column names must be unique",
              f"df = df.loc[:, ~df.columns.duplicated()]  # if the copies are equal; else "
              f"rename them first, e.g. to {[name, *new_names]!r}", len(at))
    c.df = c.df.loc[:, ~c.df.columns.duplicated()]


# The label of a totals row in the date column (English, German, Dutch, French, Italian,
# Spanish spreadsheets), optionally followed by more words ('Total 2023', 'Grand total').
_TOTAL_LABEL = re.compile(r"^\s*(grand\s+)?(total|totals|sum|summe|gesamt|totaal|totale|somme|"
                          r"suma)\b", re.IGNORECASE)


def _drop_total_rows(c: _Checker, numeric: list[str]) -> None:
    """A spreadsheet's totals row: its date cell is a label ('Total') or empty, and its
    numbers are the other rows' sums. Named once, then left out of every other check (its
    date is not a bad date, and its huge values would fake collinearity between channels)."""
    raw = c.df[c.date_column]
    if len(c.df) < 4:
        return
    text = raw.astype("string").str.strip()
    labelled = text.fillna("").str.match(_TOTAL_LABEL).to_numpy()
    if pd.api.types.is_datetime64_any_dtype(raw):
        undated = raw.isna().to_numpy()
    else:
        undated = (text.isna() | ~text.fillna("").str.contains(r"\d")).to_numpy()
    candidates = np.flatnonzero(labelled | undated)
    if not 0 < len(candidates) <= 3:
        return
    rest = np.ones(len(c.df), bool)
    rest[candidates] = False
    values = pd.DataFrame({col: pd.to_numeric(c.df[col], errors="coerce") for col in numeric},
                          index=c.df.index)
    totals = []
    with np.errstate(over="ignore", invalid="ignore"):  # absurd values are refused later
        sums = values[rest].sum()
        for i in candidates:
            row = values.iloc[i]
            checked = row.notna() & (sums != 0) & np.isfinite(sums)
            is_sum = checked.sum() >= 2 and bool(np.allclose(row[checked], sums[checked],
                                                             rtol=1e-3, atol=0))
            if labelled[i] or is_sum:
                totals.append((i, is_sum))
    if not totals:
        return
    rows = [c.df.index[i] for i, _ in totals]
    labels = [raw.iloc[i] for i, _ in totals]
    col = c.date_column
    shown = [f"row {r} ({_show(v) if pd.notna(v) else 'no date'})" for r, v in zip(rows, labels,
                                                                                  strict=True)]
    one = len(rows) == 1
    sums = "; its numbers are" if one else "; their numbers are"
    what = f"{sums} the other rows' sums" if all(s for _, s in totals) else ""
    if all(isinstance(v, str) for v in labels):
        fix = f"df = df[~df[{col!r}].isin({sorted(set(labels))!r})]  # drop the totals"
    else:
        fix = f"df = df.drop(index={rows!r})  # drop the totals"
    c.add("total_row", "error", col,
          f"{', '.join(shown)} {'is a totals row' if one else 'are totals rows'}, not "
          f"{'a period' if one else 'periods'}{what}",
          "one row per period; no totals or summary rows", fix, len(rows), shown)
    keep = np.ones(len(c.df), bool)
    keep[[i for i, _ in totals]] = False
    c.df = c.df[keep]
    c.labels = c.df.index


def panel_labels(df: pd.DataFrame, panel_columns: Sequence[str]) -> pd.Series:
    """Each row's panel label: the panel columns' values joined by ``' | '``."""
    parts = [df[col].astype("string").str.strip() for col in panel_columns]
    label = parts[0]
    for part in parts[1:]:
        label = label + " | " + part
    return label


def _panel_keys(c: _Checker, panel_columns: list[str], present: set[str]) -> pd.Series | None:
    if any(col not in present for col in panel_columns):
        return None
    c.panel_columns = panel_columns
    ok = True
    for col in panel_columns:
        missing = c.df[col].isna().to_numpy()
        if missing.any():
            ex = c.where(missing)
            c.add("missing_values", "error", col,
                  f"{int(missing.sum())} rows have no panel value (first at {', '.join(ex)})",
                  "every row must name its panel (geo)",
                  f"df = df.dropna(subset=[{col!r}])  # or fill in the panel",
                  int(missing.sum()), ex)
            ok = False
    return panel_labels(c.df, panel_columns) if ok else None


def _check_per_panel(c: _Checker, col: str, x: pd.Series, keys: pd.Series) -> None:
    """A channel that never runs in some panel: allowed, but its effect there is prior-only."""
    totals = x.groupby(keys.to_numpy()).apply(lambda v: float(np.abs(v).sum()))
    zero = [str(k) for k, v in totals.items() if v == 0]
    if zero and len(zero) < len(totals):
        c.add("zero_channel_in_panel", "warning", col,
              f"no spend in {len(zero)} of {len(totals)} panels (first: {', '.join(zero[:3])}); "
              "its effect there comes from the other panels only",
              "a channel should have spend in every panel it is modelled in",
              "nothing to do if the channel truly did not run there")


def _check_collinear(c: _Checker, media: dict[str, pd.Series]) -> None:
    names = [n for n, x in media.items() if x.nunique() > 1]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            r = float(np.corrcoef(media[a], media[b])[0, 1])
            if abs(r) > 0.95:
                c.add("collinear_channels", "warning", a,
                      f"spend of '{a}' and '{b}' moves together (correlation {r:.3f}); the model "
                      "cannot split the effect between them reliably",
                      "channels should vary independently (|correlation| <= 0.95)",
                      f"df['{a}_{b}'] = df[{a!r}] + df[{b!r}]  # and model the sum as one channel")


def _check_size(c: _Checker, n_rows: int, n_channels: int, n_controls: int, l_max: int,
                n_fourier: int) -> None:
    k = n_model_parameters(n_channels, n_controls, n_fourier)
    if n_rows <= k:
        c.add("too_few_rows", "error", None,
              f"{n_rows} rows for {k} model parameters ({n_channels} channels x 3, {n_controls} "
              f"controls, {2 * n_fourier} seasonality terms, intercept, noise)",
              "there must be more periods than parameters",
              "add more periods, or use fewer channels / controls / yearly_seasonality modes",
              n_rows)
    elif n_rows < 4 * k:
        c.add("few_rows", "warning", None,
              f"{n_rows} rows for {k} parameters; estimates will lean on the priors",
              "at least 4 periods per parameter is advisable",
              "add more history, or reduce channels / controls / seasonality modes", n_rows)
    if l_max >= n_rows:
        c.add("adstock_too_long", "error", None,
              f"adstock_max_lag={l_max} is not shorter than the {n_rows} periods",
              "adstock_max_lag must be < the number of periods",
              "pass a smaller adstock_max_lag (CLI: --adstock-max-lag 4)")
    periods_per_year = {"daily": 365, "weekly": 52, "monthly": 12}.get(c.frequency or "", 0)
    if n_fourier > 0 and periods_per_year and n_rows < periods_per_year:
        c.add("short_for_seasonality", "warning", None,
              f"{n_rows} {c.frequency} periods cover less than one year; yearly seasonality "
              "is guessed from part of a cycle",
              "yearly seasonality needs at least one full year",
              "pass yearly_seasonality=0 (CLI: --yearly-seasonality 0) or add history")
