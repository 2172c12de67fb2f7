"""A first guess of each column's role (date, target, channel, control, panel) from a
table's header and values, for the dashboard's column mapping and for ``inspectData``.

The guess is a starting point a person confirms; it never reaches a fit unconfirmed.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pandas as pd

__all__ = ["guess_roles", "describe_columns"]

_DATE_WORDS = ("date", "week", "day", "month", "period", "time", "ds")
_TARGET_NAMES = ("y", "target", "kpi", "sales", "revenue", "turnover", "conversions",
                 "conversion", "orders", "units", "volume", "income", "bookings", "signups",
                 "leads", "gmv")
_CHANNEL_WORDS = ("spend", "cost", "impression", "imps", "impr", "click", "grp", "trp",
                  "media", "tv", "radio", "search", "social", "display", "video", "ooh",
                  "print", "email", "facebook", "meta", "google", "youtube", "tiktok",
                  "affiliate", "programmatic", "sem", "banner", "podcast", "influencer")
_CALENDAR = {"dayofyear", "day_of_year", "doy", "weekofyear", "week_of_year", "month",
             "year", "quarter", "dayofweek", "day_of_week", "weekday", "week_number"}
_PANEL_WORDS = ("geo", "region", "market", "country", "state", "city", "dma", "panel",
                "store", "territory", "area")
_X_CHANNEL = re.compile(r"^x\d+$", re.IGNORECASE)  # PyMC-Marketing's example naming


def _tokens(name: str) -> list[str]:
    """``'TV_Spend'`` / ``'tvSpend'`` -> ``['tv', 'spend']``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def _has_word(name: str, words: tuple[str, ...]) -> bool:
    return any(t.startswith(w) for t in _tokens(name) for w in words)


def _date_share(values: pd.Series) -> float:
    """Share of non-empty values that read as dates (numbers never count)."""
    text = values.dropna()
    if text.empty or pd.api.types.is_numeric_dtype(text) or pd.api.types.is_bool_dtype(text):
        return 0.0
    if pd.api.types.is_datetime64_any_dtype(text):
        return 1.0
    text = text.astype(str).head(500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return float(parsed.notna().mean())


def _kind(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "number"
    if pd.api.types.is_numeric_dtype(values):
        return "number"
    if _date_share(values) >= 0.5:
        return "date"
    numeric = pd.to_numeric(values.dropna().astype(str).head(500), errors="coerce")
    if len(numeric) and numeric.notna().mean() >= 0.9:
        return "number"
    return "text"


def _pick_date(df: pd.DataFrame, kinds: dict[str, str]) -> str | None:
    dated = [c for c in df.columns if kinds[c] == "date"]
    named = [c for c in dated if _has_word(c, _DATE_WORDS)]
    return (named or dated or [None])[0]


def _pick_target(numbers: list[str]) -> str | None:
    for name in numbers:  # an exact name first, then a name containing the word
        if str(name).lower() in _TARGET_NAMES:
            return name
    for name in numbers:
        if _has_word(name, _TARGET_NAMES[1:]):  # not 'y' inside other words
            return name
    return None


def guess_roles(df: pd.DataFrame) -> dict[str, Any]:
    """Guess which column is which.

    Returns
    -------
    dict
        ``date_column`` and ``y_column`` (``None`` when nothing fits), ``channel_columns``,
        ``control_columns``, ``panel_columns`` and ``unused`` (lists of names).
    """
    columns = [str(c) for c in df.columns]
    frame = df.set_axis(columns, axis=1)
    kinds = {c: _kind(frame[c]) for c in columns}
    date = _pick_date(frame, kinds)
    numbers = [c for c in columns if kinds[c] == "number" and c != date]
    target = _pick_target(numbers)
    channels = [c for c in numbers if c != target
                and (_X_CHANNEL.match(c) or _has_word(c, _CHANNEL_WORDS))]
    calendar = [c for c in numbers if c.lower() in _CALENDAR]
    controls = [c for c in numbers if c not in (target, *channels, *calendar)]
    texts = [c for c in columns if kinds[c] == "text"]
    panels = [c for c in texts if _has_word(c, _PANEL_WORDS)]
    if date is not None and not panels:  # repeated dates: the text columns tell cells apart
        repeated = frame[date].duplicated().any()
        panels = [c for c in texts if repeated and frame[c].nunique() < len(frame)]
    used = {date, target, *channels, *controls, *panels}
    return {"date_column": date, "y_column": target, "channel_columns": channels,
            "control_columns": controls, "panel_columns": panels,
            "unused": [c for c in columns if c not in used]}


def describe_columns(df: pd.DataFrame, n_examples: int = 3) -> list[dict[str, Any]]:
    """Per column: ``name``, ``kind`` (date, number, text), ``n_missing`` and the first
    values as text (``examples``)."""
    out = []
    for column in df.columns:
        values = df[column]
        out.append({"name": str(column), "kind": _kind(values),
                    "n_missing": int(values.isna().sum()),
                    "examples": [str(v) for v in values.dropna().head(n_examples)]})
    return out
