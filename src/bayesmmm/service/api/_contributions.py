"""getContributions' table: per period as the library gives it, or summed per channel and
calendar period so that the answer stays small.

A sum over weeks is summed per posterior draw (:func:`bayesmmm.analysis.component_draws`),
and its interval is the HDI of those sums: adding up weekly bounds would give an interval
that is too wide. ``by='channel'`` keeps each channel and puts every other component
(intercept, trend, controls, seasonality) into one ``base`` row, summed per draw too.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["By", "Freq", "FREQS", "contribution_table"]

By = Literal["channel", "component"]
Freq = Literal["none", "W", "M", "Q", "Y"]
#: What each ``freq`` sums over, in words.
FREQS: dict[str, str] = {"none": "each period of the data", "W": "calendar week (Monday to "
                         "Sunday)", "M": "calendar month", "Q": "calendar quarter",
                         "Y": "calendar year"}


def _kinds(fitted: Any) -> dict[str, str]:
    """Each component's kind, as :func:`bayesmmm.analysis.contributions` names them."""
    kinds = {"intercept": "baseline", "seasonality": "seasonality", "trend": "trend"}
    kinds.update({c: "control" for c in fitted.data.control_names})
    kinds.update({c: "channel" for c in fitted.spec.channel_columns})
    return kinds


def _groups(fitted: Any, by: By) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The summed components, each ``(n_samples, n_geos, n_times)``, and their kinds."""
    from bayesmmm.analysis import component_draws

    draws = component_draws(fitted, keep_geo=True)
    kinds = _kinds(fitted)
    if by == "component":
        return dict(draws), kinds
    channels = list(fitted.spec.channel_columns)
    base = np.sum([v for k, v in draws.items() if k not in channels], axis=0)
    return {"base": base, **{c: draws[c] for c in channels}}, {
        "base": "base", **{c: "channel" for c in channels}}


def _by_period(fitted: Any, by: By, freq: Freq, level: str, hdi_prob: float) -> pd.DataFrame:
    from bayesmmm.analysis import hdi, hdi_columns

    groups, kinds = _groups(fitted, by)
    dates = pd.DatetimeIndex(fitted.data.dates)
    labels = (dates.strftime("%Y-%m-%d") if freq == "none"
              else dates.to_period(freq).astype(str))
    periods = list(dict.fromkeys(labels))
    where = [np.flatnonzero(labels == p) for p in periods]
    names = list(groups)
    cells: list[tuple[str | None, slice | int]] = [(None, slice(None))]
    if level == "panel" and fitted.data.is_panel:
        cells = [(str(name), g) for g, name in enumerate(fitted.data.panels)]
    low_name, high_name = hdi_columns(hdi_prob)
    frames = []
    for panel, g in cells:
        # (n_samples, n_periods, n_components): each draw summed over the cell's geos and
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
            first = [f"{dates[idx[0]]:%Y-%m-%d}" for idx in where]
            last = [f"{dates[idx[-1]]:%Y-%m-%d}" for idx in where]
            frame.insert(1, "start", np.repeat(first, len(names)))
            frame.insert(2, "end", np.repeat(last, len(names)))
            frame.insert(3, "n_periods", np.repeat([len(idx) for idx in where], len(names)))
        if panel is not None:
            frame.insert(0, "panel", panel)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def contribution_table(fitted: Any, by: By, freq: Freq, level: str,
                       hdi_prob: float) -> pd.DataFrame:
    """Contributions in original units of the target, period by period.

    ``by='component', freq='none'`` is :meth:`Fit.contributions` itself (rows ordered by
    date, then component); every other form sums posterior draws per channel (and one
    ``base`` of the rest) or per calendar period (``period``, with the first and last date
    of the data inside it, ``start`` and ``end``, and how many data periods it holds:
    the first and last may be partial).
    """
    if by == "component" and freq == "none":
        table = fitted.contributions(hdi_prob, level)
        keys = ["panel", "date"] if "panel" in table.columns else ["date"]
        if "panel" in table.columns:  # keep the cells in the library's order
            order = {p: i for i, p in enumerate(dict.fromkeys(table["panel"]))}
            table = table.assign(_cell=table["panel"].map(order))
            keys = ["_cell", "date"]
        table = table.sort_values(keys, kind="stable").drop(columns="_cell", errors="ignore")
        return table.reset_index(drop=True)
    return _by_period(fitted, by, freq, level, hdi_prob)
