"""Exploratory plots of the data, before any fit.

Each plot is a pair: ``plot_data_<name>`` returns the figure's numbers as a tidy
DataFrame (tested, and downloadable as CSV), and ``plot_<name>`` draws that frame as a
Plotly figure. Panel (geo) data: by default every plot shows the total over panel cells
(target and spend summed, controls averaged); ``panel="label"`` shows one cell.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bayesmmm.data import MMMData
from bayesmmm.errors import SpecError
from bayesmmm.report._figure import GREY, band, color, facet_grid, finish, panel_index

__all__ = ["eda_figures", "plot_correlation", "plot_data_correlation", "plot_data_outliers",
           "plot_data_sales", "plot_data_sales_vs_spend", "plot_data_seasonality",
           "plot_data_spend", "plot_data_total_spend", "plot_outliers", "plot_sales",
           "plot_sales_vs_spend", "plot_seasonality", "plot_spend", "plot_total_spend"]

_FREQS = {"W": "weekly", "M": "monthly", "Q": "quarterly"}


class _Series(NamedTuple):
    """One national-shaped view of the data: ``y`` ``(T,)``, ``media`` ``(T, C)``,
    ``controls`` ``(T, K)``."""

    dates: pd.DatetimeIndex
    y: np.ndarray
    media: np.ndarray
    controls: np.ndarray
    label: str


def _series(data: MMMData, panel: str | None) -> _Series:
    g = panel_index(data, panel)
    if g is not None:
        return _Series(data.dates, data.y_gt[g], data.media_gt[g], data.controls_gt[g],
                       f" — panel {panel}")
    label = f" (total of {data.n_geos} panel cells)" if data.is_panel else ""
    return _Series(data.dates, data.y_gt.sum(axis=0), data.media_gt.sum(axis=0),
                   data.controls_gt.mean(axis=0), label)


def _period_start(dates: pd.DatetimeIndex, freq: str | None) -> pd.DatetimeIndex:
    """Start of the calendar week (Monday) / month / quarter holding each date."""
    if freq is None:
        return dates
    if freq not in _FREQS:
        raise SpecError(f"Unknown frequency {freq!r}; expected one of {[None, *_FREQS]}")
    return pd.DatetimeIndex(dates.to_period(freq).start_time)


def _aggregate(dates: pd.DatetimeIndex, values: dict[str, np.ndarray], freq: str | None
               ) -> pd.DataFrame:
    """Sum each column per period; ``n_periods`` counts the rows summed (a short first
    or last month shows up as a small count)."""
    frame = pd.DataFrame(values)
    frame.insert(0, "period", _period_start(dates, freq))
    frame["n_periods"] = 1
    return frame.groupby("period", sort=True).sum().reset_index()


# -- spend and sales over time ------------------------------------------------------------
def plot_data_spend(data: MMMData, freq: str | None = None, panel: str | None = None
                    ) -> pd.DataFrame:
    """Spend per channel and period.

    Parameters
    ----------
    data : MMMData
    freq : {None, "W", "M", "Q"}
        None keeps the data's own periods; otherwise spend is summed per calendar week
        (starting Monday), month or quarter, each row going to the period holding its
        date.
    panel : str, optional
        One panel cell; default the total over cells.

    Returns
    -------
    DataFrame
        Long format: ``period``, ``channel``, ``spend``, ``n_periods`` (rows summed).
    """
    s = _series(data, panel)
    wide = _aggregate(s.dates, {c: s.media[:, i] for i, c in enumerate(data.channel_names)},
                      freq)
    return wide.melt(id_vars=["period", "n_periods"], var_name="channel",
                     value_name="spend")[["period", "channel", "spend", "n_periods"]]


def plot_spend(data: MMMData, freq: str | None = None, panel: str | None = None) -> go.Figure:
    """Spend per channel over time: lines at the data's own frequency, grouped bars when
    aggregated by ``freq`` (``"W"``, ``"M"``, ``"Q"``)."""
    frame = plot_data_spend(data, freq, panel)
    fig = go.Figure()
    for i, (name, part) in enumerate(frame.groupby("channel", sort=False)):
        if freq is None:
            fig.add_trace(go.Scatter(x=part["period"], y=part["spend"], mode="lines",
                                     name=str(name), line={"color": color(i)}))
        else:
            fig.add_trace(go.Bar(x=part["period"], y=part["spend"], name=str(name),
                                 marker={"color": color(i)}))
    every = _FREQS.get(freq or "", data.frequency or "per period")
    fig.update_layout(barmode="group")
    return finish(fig, f"Spend per channel, {every}{_series(data, panel).label}", "date",
                  "spend", dates=True)


def plot_data_sales(data: MMMData, freq: str | None = None, panel: str | None = None
                    ) -> pd.DataFrame:
    """The target per period (summed per week/month/quarter with ``freq``): columns
    ``period``, ``target``, ``n_periods``."""
    s = _series(data, panel)
    return _aggregate(s.dates, {"target": s.y}, freq)


def plot_sales(data: MMMData, freq: str | None = None, panel: str | None = None) -> go.Figure:
    """The target over time."""
    frame = plot_data_sales(data, freq, panel)
    fig = go.Figure(go.Scatter(x=frame["period"], y=frame["target"], mode="lines+markers",
                               name=data.y_column, line={"color": GREY},
                               marker={"size": 4, "color": GREY}))
    every = _FREQS.get(freq or "", data.frequency or "per period")
    return finish(fig, f"{data.y_column}, {every}{_series(data, panel).label}", "date",
                  data.y_column, dates=True)


# -- sales against spend, total spend -------------------------------------------------------
def plot_data_sales_vs_spend(data: MMMData, panel: str | None = None) -> pd.DataFrame:
    """Each period's target beside each channel's spend in that period: columns
    ``date``, ``channel``, ``spend``, ``target``."""
    s = _series(data, panel)
    frames = [pd.DataFrame({"date": s.dates, "channel": c, "spend": s.media[:, i],
                            "target": s.y}) for i, c in enumerate(data.channel_names)]
    return pd.concat(frames, ignore_index=True)


def plot_sales_vs_spend(data: MMMData, panel: str | None = None) -> go.Figure:
    """One scatter per channel: target against that channel's spend in the same period,
    with Pearson's r in the subplot title (a same-period association, not an effect)."""
    frame = plot_data_sales_vs_spend(data, panel)
    groups = list(frame.groupby("channel", sort=False))
    titles = [f"{name} (r = {_pearson(part['spend'], part['target']):.2f})"
              for name, part in groups]
    fig, cells = facet_grid(titles)
    for i, ((name, part), (row, col)) in enumerate(zip(groups, cells, strict=True)):
        fig.add_trace(go.Scatter(x=part["spend"], y=part["target"], mode="markers",
                                 name=str(name), marker={"color": color(i), "size": 5},
                                 showlegend=False), row=row, col=col)
    return finish(fig, f"{data.y_column} against spend{_series(data, panel).label}", "spend",
                  data.y_column, cells=cells)


def _pearson(x: pd.Series, y: pd.Series) -> float:
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def plot_data_total_spend(data: MMMData, panel: str | None = None) -> pd.DataFrame:
    """Total spend per channel over the whole period and its share: columns ``channel``,
    ``spend``, ``share``."""
    s = _series(data, panel)
    total = s.media.sum(axis=0)
    share = total / total.sum() if total.sum() > 0 else np.full_like(total, np.nan)
    return pd.DataFrame({"channel": list(data.channel_names), "spend": total, "share": share})


def plot_total_spend(data: MMMData, panel: str | None = None) -> go.Figure:
    """Total spend per channel as horizontal bars, labelled with the share."""
    frame = plot_data_total_spend(data, panel)
    fig = go.Figure(go.Bar(x=frame["spend"], y=frame["channel"], orientation="h",
                           marker={"color": [color(i) for i in range(len(frame))]},
                           text=[f"{v:.0%}" for v in frame["share"]], textposition="auto",
                           name="spend", showlegend=False))
    fig.update_yaxes(autorange="reversed")
    return finish(fig, f"Total spend per channel{_series(data, panel).label}", "spend", None)


# -- correlation, seasonality, outliers -----------------------------------------------------
def plot_data_correlation(data: MMMData, panel: str | None = None) -> pd.DataFrame:
    """Pearson correlations of the target, the channels and the controls over periods.

    Returns a square DataFrame (target first, then channels, then controls); a constant
    column has NaN correlations.
    """
    s = _series(data, panel)
    table = pd.DataFrame({data.y_column: s.y,
                          **{c: s.media[:, i] for i, c in enumerate(data.channel_names)},
                          **{c: s.controls[:, i] for i, c in enumerate(data.control_names)}})
    return table.corr(method="pearson")


def plot_correlation(data: MMMData, panel: str | None = None) -> go.Figure:
    """Correlation heatmap (blue negative, red positive) with the values written in."""
    corr = plot_data_correlation(data, panel)
    z = corr.to_numpy()
    fig = go.Figure(go.Heatmap(z=z, x=list(corr.columns), y=list(corr.index), zmin=-1, zmax=1,
                               colorscale="RdBu", reversescale=True,
                               text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.2f}")(z),
                               texttemplate="%{text}", name="correlation"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=max(420, 40 * len(corr) + 160))
    return finish(fig, f"Correlations{_series(data, panel).label}")


def plot_data_seasonality(data: MMMData, by: str = "month", panel: str | None = None
                          ) -> pd.DataFrame:
    """Mean target per period of the year.

    Parameters
    ----------
    by : {"month", "week"}
        Calendar month (1-12) or ISO week of the year (1-53) of each period's date.

    Returns
    -------
    DataFrame
        ``period_of_year``, ``mean``, ``min``, ``max`` of the per-period target, and
        ``n`` (periods averaged; one per year for weekly data by week).
    """
    s = _series(data, panel)
    if by == "month":
        key = s.dates.month.to_numpy()
    elif by == "week":
        key = s.dates.isocalendar().week.to_numpy(dtype=int)
    else:
        raise SpecError(f"Unknown seasonality grouping {by!r}; expected one of ['month', "
                        "'week']")
    out = pd.DataFrame({"period_of_year": key, "target": s.y}).groupby("period_of_year")
    return out["target"].agg(["mean", "min", "max", "count"]).rename(
        columns={"count": "n"}).reset_index()


def plot_seasonality(data: MMMData, by: str = "month", panel: str | None = None) -> go.Figure:
    """Seasonality profile: mean target by month or ISO week, with the range over years
    as a band."""
    frame = plot_data_seasonality(data, by, panel)
    x = frame["period_of_year"].tolist()
    fig = go.Figure([
        band(x, frame["min"].to_numpy(), frame["max"].to_numpy(), color(0), "min-max",
             showlegend=True),
        go.Scatter(x=x, y=frame["mean"], mode="lines+markers", name="mean",
                   line={"color": color(0)}, marker={"size": 5, "color": color(0)})])
    label = "month" if by == "month" else "ISO week of the year"
    return finish(fig, f"Seasonality: mean {data.y_column} by {label}"
                  f"{_series(data, panel).label}", label, data.y_column)


def plot_data_outliers(data: MMMData, window: int = 13, threshold: float = 3.5,
                       panel: str | None = None) -> pd.DataFrame:
    r"""Flag periods whose target departs from its local level.

    Rule: each period's ``baseline`` is a robust local line through the ``window - 1``
    nearest *other* periods (a window of ``window`` periods centred on it, shifted
    inwards at the ends): the Theil-Sen slope (median of pairwise slopes) and the
    median intercept, evaluated at the period. Leaving the period out keeps a spike
    from pulling its own baseline; the line keeps trends and seasonal slopes, even at
    the ends, from looking like outliers. The residual ``r = target - baseline`` gets
    the robust z-score :math:`z = 0.6745 (r - \tilde r) / \mathrm{MAD}(r)` (Iglewicz
    and Hoaglin; :math:`\tilde r` the median, MAD the median absolute deviation over all
    periods), and a period is an outlier when :math:`|z| >` ``threshold``. When more
    than half the residuals are equal (MAD = 0), 1.2533 times the mean absolute
    deviation stands in for MAD / 0.6745.

    Returns
    -------
    DataFrame
        ``date``, ``target``, ``baseline``, ``residual``, ``robust_z``, ``outlier``.
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 3 \
            or window % 2 == 0:
        raise SpecError(f"window must be an odd number >= 3, got {window!r}")
    s = _series(data, panel)
    baseline = _local_level(s.y, window)
    resid = s.y - baseline
    z = _robust_z(resid)
    return pd.DataFrame({"date": s.dates, "target": s.y, "baseline": baseline,
                         "residual": resid, "robust_z": z, "outlier": np.abs(z) > threshold})


def _local_level(y: np.ndarray, window: int) -> np.ndarray:
    """Theil-Sen line through the ``window - 1`` nearest other points, at each point."""
    n = len(y)
    w = min(window, n)
    if w < 3:
        return y.astype(float).copy()
    t = np.arange(n)
    start = np.clip(t - w // 2, 0, n - w)
    idx = start[:, None] + np.arange(w)[None, :]  # (n, w), holds t itself
    others = idx[idx != t[:, None]].reshape(n, w - 1)
    x, v = others - t[:, None], y[others]  # positions relative to the point
    i, j = np.triu_indices(w - 1, k=1)
    slope = np.median((v[:, j] - v[:, i]) / (x[:, j] - x[:, i]), axis=1)
    return np.median(v - slope[:, None] * x, axis=1)


def _robust_z(r: np.ndarray) -> np.ndarray:
    centred = r - np.median(r)
    mad = np.median(np.abs(centred))
    if mad > 0:
        return 0.6745 * centred / mad
    mean_ad = np.mean(np.abs(centred))
    return centred / (1.2533 * mean_ad) if mean_ad > 0 else np.zeros_like(r)


def plot_outliers(data: MMMData, window: int = 13, threshold: float = 3.5,
                  panel: str | None = None) -> go.Figure:
    """The target, its local level (dashed) and flagged outliers (red circles)."""
    frame = plot_data_outliers(data, window, threshold, panel)
    flagged = frame[frame["outlier"]]
    fig = go.Figure([
        go.Scatter(x=frame["date"], y=frame["target"], mode="lines", name=data.y_column,
                   line={"color": GREY}),
        go.Scatter(x=frame["date"], y=frame["baseline"], mode="lines",
                   name=f"local level ({window} periods)",
                   line={"color": color(0), "dash": "dash"}),
        go.Scatter(x=flagged["date"], y=flagged["target"], mode="markers",
                   name=f"outlier (|robust z| > {threshold:g}): {len(flagged)}",
                   marker={"color": "#D62728", "size": 9, "symbol": "circle-open"})])
    return finish(fig, f"Outliers in {data.y_column}{_series(data, panel).label}", "date",
                  data.y_column, dates=True)


def eda_figures(data: MMMData, panel: str | None = None) -> dict[str, go.Figure]:
    """Every exploratory plot, by file-friendly name, in reading order.

    The weekly seasonality profile is left out for monthly (or coarser) data, and the
    monthly spend view for monthly data.
    """
    fine = data.frequency in ("weekly", "daily") or (
        data.frequency is None and len(data.dates) > 1
        and np.median(np.diff(data.dates.to_numpy())) <= np.timedelta64(7, "D"))
    out = {"spend_over_time": plot_spend(data, None, panel)}
    if data.frequency != "monthly":
        out["spend_monthly"] = plot_spend(data, "M", panel)
    out["spend_quarterly"] = plot_spend(data, "Q", panel)
    out["sales_over_time"] = plot_sales(data, None, panel)
    out["sales_vs_spend"] = plot_sales_vs_spend(data, panel)
    out["total_spend"] = plot_total_spend(data, panel)
    out["correlation"] = plot_correlation(data, panel)
    if fine:
        out["seasonality_by_week"] = plot_seasonality(data, "week", panel)
    out["seasonality_by_month"] = plot_seasonality(data, "month", panel)
    out["outliers"] = plot_outliers(data, panel=panel)
    return out
