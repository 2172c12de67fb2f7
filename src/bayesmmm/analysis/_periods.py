"""Contributions summed over calendar periods (weeks, months, quarters, years, the whole
fit), each sum with its own posterior interval.

A sum over periods is taken per posterior draw (:func:`component_draws`) and its interval
is the HDI of those sums: adding up per-period bounds would give an interval far too
wide. ``by="channel"`` keeps each channel and puts every other component (intercept,
trend, controls, seasonality) into one ``base`` row, also summed per draw.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from bayesmmm.analysis._answers import hdi_columns
from bayesmmm.analysis._draws import component_draws, hdi
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit, Site

__all__ = ["PERIODS", "contributions_by_period"]

#: What each ``freq`` of :func:`contributions_by_period` sums over, in words.
PERIODS: dict[str, str] = {
    "none": "each period of the data", "W": "calendar week (Monday to Sunday)",
    "M": "calendar month", "Q": "calendar quarter", "Y": "calendar year",
    "total": "the whole fitted period"}


def _kinds(fit: Fit | AveragedFit) -> dict[str, str]:
    """Each component's kind, as :func:`bayesmmm.analysis.contributions` names them."""
    kinds = {Site.INTERCEPT: "baseline", "seasonality": "seasonality", "trend": "trend"}
    kinds.update({c: "control" for c in fit.data.control_names})
    kinds.update({c: "channel" for c in fit.spec.channel_columns})
    return kinds


def _groups(fit: Fit | AveragedFit, by: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The summed components, each ``(n_samples, n_geos, n_times)``, and their kinds."""
    draws = component_draws(fit, keep_geo=True)
    kinds = _kinds(fit)
    if by == "component":
        return dict(draws), {k: kinds.get(k, k) for k in draws}
    channels = list(fit.spec.channel_columns)
    base = np.sum([v for k, v in draws.items() if k not in channels], axis=0)
    return {"base": base, **{c: draws[c] for c in channels}}, {
        "base": "base", **{c: "channel" for c in channels}}


def contributions_by_period(fit: Fit | AveragedFit, freq: str = "M", *,
                            by: Literal["component", "channel"] = "component",
                            level: str = "total", hdi_prob: float = 0.94) -> pd.DataFrame:
    """Each component's contribution summed over calendar periods, original units.

    Parameters
    ----------
    fit : Fit or AveragedFit
    freq : str
        ``"W"``, ``"M"``, ``"Q"``, ``"Y"`` (calendar periods), ``"total"`` (the whole fitted
        period) or ``"none"`` (each period of the data); see :data:`PERIODS`.
    by : str
        ``"component"`` (every component) or ``"channel"`` (each channel and one ``base``
        of the rest).
    level : str
        ``"total"`` (all panel cells together) or ``"panel"`` (one block per cell, with a
        ``panel`` column).
    hdi_prob : float

    Returns
    -------
    DataFrame
        One row per (panel,) period and component: ``period`` (``date`` for ``"none"``),
        ``start`` and ``end`` (the first and last date of the data inside it) and
        ``n_periods`` (data periods inside it: the first and last may be partial; not for
        ``"none"``), ``component``, ``kind``, ``mean``, ``sd`` and the HDI of the sum.
    """
    if freq not in PERIODS:
        raise SpecError(f"freq {freq!r}: choose one of {', '.join(PERIODS)}")
    if by not in ("component", "channel"):
        raise SpecError(f"by {by!r}: choose 'component' or 'channel'")
    if level not in ("total", "panel"):
        raise SpecError(f"level {level!r}: choose 'total' or 'panel'")
    groups, kinds = _groups(fit, by)
    dates = pd.DatetimeIndex(fit.data.dates)
    if freq == "none":
        labels = np.asarray(dates.strftime("%Y-%m-%d"))
    elif freq == "total":
        labels = np.full(len(dates), "total")
    else:
        labels = np.asarray(dates.to_period(freq).astype(str))
    periods = list(dict.fromkeys(labels))
    where = [np.flatnonzero(labels == p) for p in periods]
    names = list(groups)
    cells: list[tuple[str | None, slice | int]] = [(None, slice(None))]
    if level == "panel" and fit.data.is_panel:
        cells = [(str(name), g) for g, name in enumerate(fit.data.panels)]
    low_name, high_name = hdi_columns(hdi_prob)
    frames = []
    for panel, g in cells:
        # (n_samples, n_times, n_components): each draw summed over the cell's geos, then
        # over the data periods inside each calendar period
        per_time = np.stack([groups[k][:, g].sum(axis=1) if isinstance(g, slice)
                             else groups[k][:, g] for k in names], axis=-1)
        summed = np.stack([per_time[:, idx].sum(axis=1) for idx in where], axis=1)
        low, high = hdi(summed, hdi_prob)
        frame = pd.DataFrame({
            "period": np.repeat(periods, len(names)),
            "component": names * len(periods),
            "kind": [kinds[k] for k in names] * len(periods),
            "mean": summed.mean(axis=0).ravel(), "sd": summed.std(axis=0).ravel(),
            low_name: np.asarray(low).ravel(), high_name: np.asarray(high).ravel()})
        if freq == "none":
            frame = frame.rename(columns={"period": "date"})
        else:
            reps = len(names)
            frame.insert(1, "start", np.repeat([f"{dates[i[0]]:%Y-%m-%d}" for i in where], reps))
            frame.insert(2, "end", np.repeat([f"{dates[i[-1]]:%Y-%m-%d}" for i in where], reps))
            frame.insert(3, "n_periods", np.repeat([len(i) for i in where], reps))
        if panel is not None:
            frame.insert(0, "panel", panel)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
