"""Typed arrays the model consumes, built from a validated table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayesmmm.data._sources import read_source
from bayesmmm.data._validate import ValidationReport, panel_labels, validate
from bayesmmm.errors import DataValidationError

__all__ = ["MMMData", "prepare"]


@dataclass(frozen=True)
class MMMData:
    """A marketing table as arrays, sorted by (panel and) date.

    National tables have no geo axis; panel tables (long format: a geo column, or
    several such as brand x region) have a leading ``n_geos`` axis. The ``*_gt``
    properties always give the geo axis (size 1 for national data).

    Attributes
    ----------
    dates : DatetimeIndex, shape ``(n_times,)``
    y : ndarray, shape ``(n_times,)`` or ``(n_geos, n_times)``
        Target in original units.
    media : ndarray, shape ``(n_times, n_channels)`` or ``(n_geos, n_times, n_channels)``
        Spend (or units, see ``ModelSpec.cost_per_unit``) per channel, original units.
    controls : ndarray, shape ``(n_times, n_controls)`` or ``(n_geos, n_times, n_controls)``
    channel_names, control_names : tuple of str
    date_column, y_column : str
    frequency : str or None
        ``"weekly"``, ``"daily"``, ``"monthly"`` or ``"every N days"``.
    panels : tuple of str
        Panel labels (values of the panel columns joined by ``' | '``); empty if national.
    panel_columns : tuple of str
        The columns that name a panel (``("geo",)``, ``("brand", "region")``).
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
    panels: tuple[str, ...] = ()
    panel_columns: tuple[str, ...] = ()

    @property
    def n_times(self) -> int:
        return len(self.dates)

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)

    @property
    def is_panel(self) -> bool:
        return bool(self.panels)

    @property
    def n_geos(self) -> int:
        return max(len(self.panels), 1)

    @property
    def y_gt(self) -> np.ndarray:
        """Target, ``(n_geos, n_times)``."""
        return self.y if self.is_panel else self.y[None]

    @property
    def media_gt(self) -> np.ndarray:
        """Media, ``(n_geos, n_times, n_channels)``."""
        return self.media if self.is_panel else self.media[None]

    @property
    def controls_gt(self) -> np.ndarray:
        """Controls, ``(n_geos, n_times, n_controls)``."""
        return self.controls if self.is_panel else self.controls[None]

    def with_arrays(self, *, dates: pd.DatetimeIndex | None = None, **arrays_gt: np.ndarray
                    ) -> MMMData:
        """A copy with some of ``y``/``media``/``controls`` replaced (given with the geo
        axis, as the ``*_gt`` properties) and optionally new dates."""
        new = {k: (v if self.is_panel else v[0]) for k, v in arrays_gt.items()}
        kw = {f: getattr(self, f) for f in self.__dataclass_fields__}
        kw.update(new)
        if dates is not None:
            kw["dates"] = dates
        return MMMData(**kw)

    def to_frame(self) -> pd.DataFrame:
        """The table back as a DataFrame (dates as ``%Y-%m-%d`` strings; long format with
        the panel columns first for panel data)."""
        frames = []
        for g in range(self.n_geos):
            out: dict[str, object] = {}
            if self.is_panel:
                values = self.panels[g].split(" | ")
                out.update({col: values[i] for i, col in enumerate(self.panel_columns)})
            out[self.date_column] = self.dates.strftime("%Y-%m-%d")
            out[self.y_column] = self.y_gt[g]
            out.update({c: self.media_gt[g, :, i] for i, c in enumerate(self.channel_names)})
            out.update({c: self.controls_gt[g, :, i] for i, c in enumerate(self.control_names)})
            frames.append(pd.DataFrame(out))
        return pd.concat(frames, ignore_index=True)


def prepare(
    source: str | pd.DataFrame,
    *,
    date_column: str,
    y_column: str,
    channel_columns: Sequence[str],
    control_columns: Sequence[str] = (),
    adstock_max_lag: int = 8,
    yearly_seasonality: int = 2,
    panel_columns: Sequence[str] = (),
    sep: str | None = None,
) -> tuple[MMMData, ValidationReport]:
    """Read (if a path or source URL: :func:`~bayesmmm.data.read_source`), validate and
    convert a table to :class:`MMMData`. A database needs its query: read it with
    ``read_source(url, query=...)`` and pass the DataFrame.

    Raises
    ------
    DataLoadError
        The source is not a table, or cannot be read.
    DataValidationError
        Validation found errors; ``exc.report`` lists all of them.
    """
    df = read_source(source, sep=sep)
    report = validate(df, date_column=date_column, y_column=y_column,
                      channel_columns=channel_columns, control_columns=control_columns,
                      adstock_max_lag=adstock_max_lag, yearly_seasonality=yearly_seasonality,
                      panel_columns=panel_columns)
    if not report.ok:
        raise DataValidationError(report)
    df = df.rename(columns=str)
    raw = df[date_column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        dates = raw.dt.tz_localize(None) if raw.dt.tz is not None else raw
    else:  # validated: ISO dates, possibly with surrounding spaces
        dates = pd.to_datetime(raw.astype("string").str.strip(), format="%Y-%m-%d")
    if panel_columns:
        return _prepare_panel(df, pd.DatetimeIndex(dates), report, date_column, y_column,
                              tuple(channel_columns), tuple(control_columns),
                              tuple(panel_columns)), report
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


def _prepare_panel(df: pd.DataFrame, dates: pd.DatetimeIndex, report: ValidationReport,
                   date_column: str, y_column: str, channels: tuple[str, ...],
                   controls: tuple[str, ...], panel_columns: tuple[str, ...]) -> MMMData:
    """Long format (validated, balanced) to ``(n_geos, n_times, ...)`` arrays."""
    keys = panel_labels(df, panel_columns).to_numpy(dtype=str)
    panels = tuple(str(k) for k in dict.fromkeys(sorted(keys)))
    all_dates = pd.DatetimeIndex(np.sort(dates.unique()))
    g_idx = np.searchsorted(np.asarray(panels), keys)
    t_idx = all_dates.get_indexer(dates)

    def cube(cols: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(panels), len(all_dates), len(cols)))
        for k, col in enumerate(cols):
            out[g_idx, t_idx, k] = pd.to_numeric(df[col]).to_numpy(dtype=float)
        return out

    return MMMData(dates=all_dates, y=cube([y_column])[..., 0], media=cube(channels),
                   controls=cube(controls), channel_names=channels, control_names=controls,
                   date_column=date_column, y_column=y_column, frequency=report.frequency,
                   panels=panels, panel_columns=panel_columns)
