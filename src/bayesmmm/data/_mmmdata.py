"""Typed arrays the model consumes, built from a validated table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesmmm.data._load import load_table
from bayesmmm.data._validate import ValidationReport, validate
from bayesmmm.errors import DataValidationError

__all__ = ["MMMData", "prepare"]


@dataclass(frozen=True)
class MMMData:
    """A national marketing table as arrays, sorted by date.

    Attributes
    ----------
    dates : DatetimeIndex, shape ``(n_times,)``
    y : ndarray, shape ``(n_times,)``
        Target in original units.
    media : ndarray, shape ``(n_times, n_channels)``
        Spend per channel in original units.
    controls : ndarray, shape ``(n_times, n_controls)``
    channel_names, control_names : tuple of str
    date_column, y_column : str
    frequency : str or None
        ``"weekly"``, ``"daily"``, ``"monthly"`` or ``"every N days"``.
    """

    dates: pd.DatetimeIndex
    y: np.ndarray
    media: np.ndarray
    controls: np.ndarray
    channel_names: tuple[str, ...]
    control_names: tuple[str, ...]
    date_column: str
    y_column: str
    frequency: str | None = None

    @property
    def n_times(self) -> int:
        return len(self.dates)

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)

    def to_frame(self) -> pd.DataFrame:
        """The table back as a DataFrame (dates as ``%Y-%m-%d`` strings)."""
        out = {self.date_column: self.dates.strftime("%Y-%m-%d"), self.y_column: self.y}
        out.update({c: self.media[:, i] for i, c in enumerate(self.channel_names)})
        out.update({c: self.controls[:, i] for i, c in enumerate(self.control_names)})
        return pd.DataFrame(out)


def prepare(
    source: str | pd.DataFrame,
    *,
    date_column: str,
    y_column: str,
    channel_columns: Sequence[str],
    control_columns: Sequence[str] = (),
    adstock_max_lag: int = 8,
    yearly_seasonality: int = 2,
    sep: str | None = None,
) -> tuple[MMMData, ValidationReport]:
    """Load (if a path), validate and convert a table to :class:`MMMData`.

    Raises
    ------
    DataLoadError
        The source is not a table.
    DataValidationError
        Validation found errors; ``exc.report`` lists all of them.
    """
    df = load_table(source, sep=sep)
    report = validate(df, date_column=date_column, y_column=y_column,
                      channel_columns=channel_columns, control_columns=control_columns,
                      adstock_max_lag=adstock_max_lag, yearly_seasonality=yearly_seasonality)
    if not report.ok:
        raise DataValidationError(report)
    df = df.rename(columns=str)
    raw = df[date_column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        dates = raw.dt.tz_localize(None) if raw.dt.tz is not None else raw
    else:  # validated: ISO dates, possibly with surrounding spaces
        dates = pd.to_datetime(raw.astype("string").str.strip(), format="%Y-%m-%d")
    order = np.argsort(dates.to_numpy(), kind="stable")

    def block(cols: Sequence[str]) -> np.ndarray:
        if not cols:
            return np.zeros((len(df), 0))
        return np.column_stack([pd.to_numeric(df[c]).to_numpy(dtype=float) for c in cols])[order]

    data = MMMData(
        dates=pd.DatetimeIndex(dates.to_numpy()[order]),
        y=pd.to_numeric(df[y_column]).to_numpy(dtype=float)[order],
        media=block(channel_columns),
        controls=block(control_columns),
        channel_names=tuple(channel_columns),
        control_names=tuple(control_columns),
        date_column=date_column,
        y_column=y_column,
        frequency=report.frequency,
    )
    return data, report
