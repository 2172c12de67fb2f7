"""Result plots of a fitted MMM: fit, contributions, shares, ROI, curves and carry-over.

As for the exploratory plots, ``plot_data_<name>`` gives the numbers (tidy DataFrame)
and ``plot_<name>`` the Plotly figure. Geo models: ``panel=None`` shows the total over
panel cells (the posterior of the sum), ``panel="label"`` one cell. All amounts are in
original units (the target's and the spend's).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bayesmmm.analysis import component_draws, hdi, hdi_columns, mean_draws, noise_draws
from bayesmmm.model import AveragedFit, Fit, media_contributions
from bayesmmm.model._averaged import MIN_WEIGHT
from bayesmmm.report._figure import (
    GREY,
    band,
    color,
    component_color,
    facet_grid,
    finish,
    panel_index,
)
from bayesmmm.transforms import ADSTOCKS

__all__ = ["plot_actual_vs_fitted", "plot_adstock", "plot_contributions",
           "plot_data_actual_vs_fitted", "plot_data_adstock", "plot_data_contributions",
           "plot_data_roi", "plot_data_saturation", "plot_data_spend_vs_effect",
           "plot_data_waterfall", "plot_roi", "plot_saturation", "plot_spend_vs_effect",
           "plot_waterfall"]

_KINDS = {"intercept": "baseline", "trend": "trend", "seasonality": "seasonality"}
#: Upper bound on the elements of one batch of response-curve draws (memory, not speed).
_CURVE_BATCH_ELEMENTS = 20_000_000


def _gt(fit: Fit | AveragedFit, draws: np.ndarray) -> np.ndarray:
    """Draws with the geo axis: ``(n_samples, n_geos, ...)``."""
    return draws if fit.data.is_panel else draws[:, None]


def _pick(values_gt: np.ndarray, g: int | None, axis: int = 1) -> np.ndarray:
    """One geo (``g``) or the sum over geos of an array with a geo axis at ``axis``."""
    return np.take(values_gt, g, axis=axis) if g is not None else values_gt.sum(axis=axis)


def _where(fit: Fit | AveragedFit, panel: str | None) -> str:
    if panel is not None:
        return f" — panel {panel}"
    return f" (total of {fit.data.n_geos} panel cells)" if fit.data.is_panel else ""


def _kind(fit: Fit | AveragedFit, name: str) -> str:
    if name in fit.spec.channel_columns:
        return "channel"
    return _KINDS.get(name, "control")


# -- actual vs fitted -------------------------------------------------------------------
def plot_data_actual_vs_fitted(fit: Fit | AveragedFit, hdi_prob: float = 0.94,
                               panel: str | None = None, seed: int = 0) -> pd.DataFrame:
    """Observed target beside the posterior of the expected target and of new
    observations.

    Returns
    -------
    DataFrame
        ``date``, ``actual``, ``fitted`` (posterior mean of the expected target ``mu``),
        ``fitted_low``/``fitted_high`` (HDI of ``mu``), ``low``/``high`` (HDI of the
        posterior predictive: ``mu`` plus Normal noise with ``y_sigma``, drawn with
        ``seed``; for the total over panel cells, the noise of every cell is summed).
    """
    g = panel_index(fit.data, panel)
    mu = _gt(fit, mean_draws(fit))  # (S, G, T)
    sigma = noise_draws(fit)  # (S, G)
    noise = np.random.default_rng(seed).standard_normal(mu.shape) * sigma[:, :, None]
    mu_sel, pp_sel = _pick(mu, g), _pick(mu + noise, g)
    f_low, f_high = hdi(mu_sel, hdi_prob)
    low, high = hdi(pp_sel, hdi_prob)
    return pd.DataFrame({"date": fit.data.dates, "actual": _pick(fit.data.y_gt, g, axis=0),
                         "fitted": mu_sel.mean(axis=0), "fitted_low": f_low,
                         "fitted_high": f_high, "low": low, "high": high})


def plot_actual_vs_fitted(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None,
                          seed: int = 0) -> go.Figure:
    """Actual target (grey), fitted mean (blue) and the posterior predictive HDI (band);
    R² of the fitted mean in the title."""
    frame = plot_data_actual_vs_fitted(fit, hdi_prob, panel, seed)
    resid = frame["actual"] - frame["fitted"]
    ss_tot = float(((frame["actual"] - frame["actual"].mean()) ** 2).sum())
    r2 = 1 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else float("nan")
    fig = go.Figure([
        band(frame["date"], frame["low"].to_numpy(), frame["high"].to_numpy(), color(0),
             f"{hdi_prob:.0%} predictive interval", showlegend=True),
        go.Scatter(x=frame["date"], y=frame["actual"], mode="lines+markers", name="actual",
                   line={"color": GREY}, marker={"size": 4, "color": GREY}),
        go.Scatter(x=frame["date"], y=frame["fitted"], mode="lines", name="fitted (mean)",
                   line={"color": color(0), "width": 2})])
    return finish(fig, f"Actual vs fitted {fit.data.y_column}{_where(fit, panel)}: "
                  f"R² {r2:.3f}", "date", fit.data.y_column, dates=True)


# -- contributions ------------------------------------------------------------------------
def plot_data_contributions(fit: Fit | AveragedFit, panel: str | None = None) -> pd.DataFrame:
    """Posterior mean contribution of every component per period, long format:
    ``date``, ``component``, ``kind`` (baseline, trend, control, seasonality, channel),
    ``contribution``. Summed over components they give the fitted mean."""
    g = panel_index(fit.data, panel)
    frames = []
    for name, draws in component_draws(fit).items():
        mean = _pick(_gt(fit, draws).mean(axis=0), g, axis=0)
        frames.append(pd.DataFrame({"date": fit.data.dates, "component": name,
                                    "kind": _kind(fit, name), "contribution": mean}))
    return pd.concat(frames, ignore_index=True)


def signed_components(frame: pd.DataFrame, channels: list[str]) -> list[str]:
    """The baseline components of a :func:`plot_data_contributions` frame drawn as signed
    bands rather than stacked under the channels: seasonality (it swings around zero by
    construction) and any other part that is negative in some period."""
    out = []
    for name, part in frame.groupby("component", sort=False):
        if name in channels:
            continue
        if name == "seasonality" or (part["contribution"] < 0).any():
            out.append(str(name))
    return out


def plot_contributions(fit: Fit | AveragedFit, panel: str | None = None) -> go.Figure:
    """Contributions over time. Top: the baseline parts that are never negative
    (intercept, trend, events, ...) stacked from zero, the channels stacked on top of
    them, and the fitted mean (dashed). Below, as signed bands around zero: seasonality
    and any other part that is negative in some period (it adds above the line and
    takes away below it), so a negative season never pushes the media below the
    baseline. The stack plus the signed bands is the fitted mean."""
    frame = plot_data_contributions(fit, panel)
    channels = list(fit.spec.channel_columns)
    signed = signed_components(frame, channels)
    stacked = [c for c in frame["component"].unique() if c not in channels and c not in signed]
    controls = [c for c in frame["component"].unique() if _kind(fit, c) == "control"]
    rows = 2 if signed else 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True,
                        row_heights=[0.74, 0.26] if signed else None, vertical_spacing=0.08,
                        subplot_titles=["Baseline with the media on top",
                                        "Signed parts: above 0 they add, below 0 they take "
                                        "away"][:rows])

    def hue(name: str) -> str:
        kind = _kind(fit, name)
        index = channels.index(name) if kind == "channel" else \
            controls.index(name) if kind == "control" else 0
        return component_color(name, kind, index)

    for name in stacked + channels:
        part = frame[frame["component"] == name]
        fig.add_trace(go.Scatter(x=part["date"], y=part["contribution"], mode="lines",
                                 stackgroup="stack", name=name, legendgroup=name,
                                 line={"color": hue(name), "width": 0.5}), row=1, col=1)
    total = frame.groupby("date", sort=True)["contribution"].sum()
    fig.add_trace(go.Scatter(x=total.index, y=total.to_numpy(), mode="lines",
                             name="fitted (mean)", line={"color": "#000000", "dash": "dash"}),
                  row=1, col=1)
    for name in signed:
        part = frame[frame["component"] == name]
        fig.add_trace(go.Scatter(x=part["date"], y=part["contribution"], mode="lines",
                                 fill="tozeroy", name=f"{name} (signed)", legendgroup=name,
                                 line={"color": hue(name), "width": 1.2}), row=2, col=1)
    fig.update_layout(height=560 if signed else 420)
    return finish(fig, f"Contributions over time{_where(fit, panel)}", "date",
                  fit.data.y_column, cells=[(r, 1) for r in range(1, rows + 1)], dates=True)


def plot_data_waterfall(fit: Fit | AveragedFit, panel: str | None = None) -> pd.DataFrame:
    """Total contribution per component over the fitted period (posterior mean), with
    the running total: ``component``, ``kind``, ``contribution``, ``start``, ``end``.
    The last row (``component='total'``) is the fitted total."""
    frame = plot_data_contributions(fit, panel)
    totals = frame.groupby("component", sort=False).agg(
        kind=("kind", "first"), contribution=("contribution", "sum")).reset_index()
    end = totals["contribution"].cumsum().to_numpy()
    totals["start"], totals["end"] = end - totals["contribution"].to_numpy(), end
    last = pd.DataFrame({"component": ["total"], "kind": ["total"], "contribution": [end[-1]],
                         "start": [0.0], "end": [end[-1]]})
    return pd.concat([totals, last], ignore_index=True)


def plot_waterfall(fit: Fit | AveragedFit, panel: str | None = None) -> go.Figure:
    """Waterfall of the total contribution per component, ending at the fitted total."""
    frame = plot_data_waterfall(fit, panel)
    measure = ["total" if k == "total" else "relative" for k in frame["kind"]]
    fig = go.Figure(go.Waterfall(
        x=frame["component"].tolist(), y=frame["contribution"].to_numpy(), measure=measure,
        name="contribution", showlegend=False,
        increasing={"marker": {"color": color(2)}}, decreasing={"marker": {"color": color(1)}},
        totals={"marker": {"color": color(0)}}))
    return finish(fig, f"Contribution per component over the period{_where(fit, panel)}",
                  None, fit.data.y_column)


# -- shares and ROI --------------------------------------------------------------------------
def _level_table(table: pd.DataFrame, panel: str | None) -> pd.DataFrame:
    """One panel's rows of a ``level='panel'`` table, or the table itself."""
    if panel is not None:
        table = table[table["panel"] == panel].drop(columns="panel")
    return table


def plot_data_spend_vs_effect(fit: Fit | AveragedFit, hdi_prob: float = 0.94,
                              panel: str | None = None) -> pd.DataFrame:
    """Each channel's share of spend and of the media effect (with its HDI):
    ``channel``, ``spend_share``, ``effect_share``, ``effect_low``, ``effect_high``."""
    panel_index(fit.data, panel)
    table = _level_table(fit.media_share(hdi_prob, level="panel" if panel else "total"), panel)
    low, high = hdi_columns(hdi_prob)
    return pd.DataFrame({"channel": table.index.astype(str),
                         "spend_share": table["spend_share"].to_numpy(),
                         "effect_share": table["mean"].to_numpy(),
                         "effect_low": table[low].to_numpy(),
                         "effect_high": table[high].to_numpy()})


def plot_spend_vs_effect(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None
                         ) -> go.Figure:
    """Share of spend beside share of effect per channel (effect with its HDI)."""
    frame = plot_data_spend_vs_effect(fit, hdi_prob, panel)
    fig = go.Figure([
        go.Bar(x=frame["channel"], y=frame["spend_share"], name="share of spend",
               marker={"color": GREY}),
        go.Bar(x=frame["channel"], y=frame["effect_share"], name="share of effect",
               marker={"color": color(0)},
               error_y={"type": "data", "array": frame["effect_high"] - frame["effect_share"],
                        "arrayminus": frame["effect_share"] - frame["effect_low"]})])
    fig.update_layout(barmode="group")
    fig.update_yaxes(tickformat=".0%")
    return finish(fig, f"Share of spend vs share of effect{_where(fit, panel)}", None, "share")


def plot_data_roi(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None
                  ) -> pd.DataFrame:
    """ROI per channel with its HDI: ``channel``, ``roi``, ``low``, ``high``, ``spend``,
    ``contribution`` (as :func:`bayesmmm.analysis.roi`)."""
    panel_index(fit.data, panel)
    table = _level_table(fit.roi(hdi_prob, level="panel" if panel else "total"), panel)
    low, high = hdi_columns(hdi_prob)
    return pd.DataFrame({"channel": table.index.astype(str), "roi": table["roi"].to_numpy(),
                         "low": table[low].to_numpy(), "high": table[high].to_numpy(),
                         "spend": table["spend"].to_numpy(),
                         "contribution": table["contribution"].to_numpy()})


def plot_roi(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None) -> go.Figure:
    """ROI (incremental target per unit of spend) per channel with HDI error bars."""
    frame = plot_data_roi(fit, hdi_prob, panel)
    fig = go.Figure(go.Bar(
        x=frame["channel"], y=frame["roi"], name="ROI", showlegend=False,
        marker={"color": [color(i) for i in range(len(frame))]},
        error_y={"type": "data", "array": frame["high"] - frame["roi"],
                 "arrayminus": frame["roi"] - frame["low"]}))
    return finish(fig, f"ROI per channel with {hdi_prob:.0%} HDI{_where(fit, panel)}", None,
                  "ROI")


# -- response curves and carry-over ----------------------------------------------------------
def _flat(fit: Fit, names: list[str], max_draws: int | None) -> dict[str, np.ndarray]:
    """Posterior draws of ``names``, chains merged, thinned evenly to ``max_draws``."""
    out = {k: fit.posterior[k].reshape((-1,) + fit.posterior[k].shape[2:]) for k in names}
    n = fit.n_chains * fit.n_draws
    if max_draws is not None and n > max_draws:
        keep = np.linspace(0, n - 1, max_draws).round().astype(int)
        out = {k: v[keep] for k, v in out.items()}
    return out


def plot_data_saturation(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None,
                         n_points: int = 60, max_draws: int | None = 1000) -> pd.DataFrame:
    """Response curves: the contribution per period when a channel's spend is held at a
    constant level per period (the steady state after the carry-over has built up).

    Spend runs from 0 to twice the current spend (or the largest spend of any period,
    if larger); the current spend (the mean per period over the fitted data) is one of
    the points. For the total over panel cells, a total spend is split over the cells
    in proportion to their current spend and the cells' contributions are summed.
    Curves use the model's own transforms (:func:`bayesmmm.model.media_contributions`)
    on ``max_draws`` evenly thinned posterior draws.

    Returns
    -------
    DataFrame
        ``channel``, ``spend`` (per period), ``contribution`` (posterior mean, per
        period), ``low``, ``high`` (HDI), ``current_spend``, ``is_current``.
    """
    spec, data = fit.spec, fit.data
    g = panel_index(data, panel)
    cost = np.array([spec.cost_per_unit.get(c, 1.0) for c in spec.channel_columns])
    spend_gt = data.media_gt * cost  # (G, T, C)
    mean_g = spend_gt.mean(axis=1)  # (G, C)
    if g is None:
        current, peak = mean_g.sum(axis=0), spend_gt.sum(axis=0).max(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(current > 0, mean_g / current, 1.0 / data.n_geos)
    else:
        current, peak = mean_g[g], spend_gt[g].max(axis=0)
        share = np.zeros_like(mean_g)
        share[g] = 1.0
    top = np.maximum(np.maximum(2 * current, peak), 1e-12)
    grid = np.sort(np.concatenate([np.linspace(0, 1, n_points)[:, None] * top, current[None]]),
                   axis=0)  # (N, C), the current spend included
    scaled = grid[None] * share[:, None, :] / cost / fit.scalers.channel_scale_g[:, None, :]
    curves = _steady_state(fit, scaled, max_draws)  # (S, G, N, C), original units
    curves = _pick(curves, g)  # (S, N, C)
    low, high = hdi(curves, hdi_prob)
    frames = []
    for c, name in enumerate(spec.channel_columns):
        frames.append(pd.DataFrame({
            "channel": name, "spend": grid[:, c], "contribution": curves[:, :, c].mean(axis=0),
            "low": low[:, c], "high": high[:, c], "current_spend": current[c],
            "is_current": grid[:, c] == current[c]}))
    out = pd.concat(frames, ignore_index=True)
    # the current spend appears once per channel even if it coincides with a grid point
    first = ~out.duplicated(["channel", "spend"], keep="first")
    return out[first].reset_index(drop=True)


def _steady_state(fit: Fit | AveragedFit, scaled: np.ndarray, max_draws: int | None
                  ) -> np.ndarray:
    """Contribution per period of constant scaled media ``(G, N, C)`` per draw,
    ``(S, G, N, C)`` in original units. An averaged fit's are its members' through their
    own transforms, each for its share of the mixture's draws."""
    if isinstance(fit, AveragedFit):
        total = fit.n_draws
        return np.concatenate([
            _steady_state(part, scaled, None if max_draws is None
                          else max(1, round(max_draws * part.n_draws / total)))
            for part in fit.parts])
    names = [k for k in fit.posterior if k.startswith(("adstock_", "saturation_"))]
    params = _flat(fit, names, max_draws)
    n_s = len(next(iter(params.values())))
    lagged = jnp.broadcast_to(jnp.asarray(scaled, jnp.float32),
                              (fit.spec.adstock_max_lag, *scaled.shape))
    size = max(1, _CURVE_BATCH_ELEMENTS // max(lagged.size, 1))
    parts = []
    for start in range(0, n_s, size):
        batch = {k: jnp.asarray(v[start:start + size]) for k, v in params.items()}
        parts.append(np.asarray(media_contributions(fit.spec, lagged, batch)))
    return np.concatenate(parts) * fit.scalers.y_scale_g[None, :, None, None]


def plot_saturation(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None,
                    n_points: int = 60) -> go.Figure:
    """All channels' response curves in one plot, each with its HDI band and its
    current spend per period as a dashed vertical line."""
    frame = plot_data_saturation(fit, hdi_prob, panel, n_points)
    fig = go.Figure()
    for i, (name, part) in enumerate(frame.groupby("channel", sort=False)):
        hue = color(i)
        fig.add_trace(band(part["spend"], part["low"].to_numpy(), part["high"].to_numpy(),
                           hue, f"{name} {hdi_prob:.0%} HDI", legendgroup=str(name)))
        fig.add_trace(go.Scatter(x=part["spend"], y=part["contribution"], mode="lines",
                                 name=str(name), legendgroup=str(name),
                                 line={"color": hue, "width": 2}))
        now = float(part["current_spend"].iloc[0])
        top = float(part["high"].max())
        fig.add_trace(go.Scatter(x=[now, now], y=[0.0, top], mode="lines",
                                 name=f"{name} current spend", legendgroup=str(name),
                                 showlegend=False, line={"color": hue, "dash": "dash"}))
    return finish(fig, f"Response curves (contribution per period at constant spend)"
                  f"{_where(fit, panel)}", "spend per period",
                  f"{fit.data.y_column} per period")


def _channel_draws(fit: Fit, name: str, channel: str, g: int | None) -> np.ndarray:
    """Draws ``(n_samples,)`` of a channel parameter: the panel cell's value if the model
    has one, else the population (national) value."""
    k = fit.spec.channels_with(name).index(channel)
    geo = fit.posterior.get(f"{name}_geo")
    values = geo[..., g, k] if g is not None and geo is not None else fit.posterior[name][..., k]
    return np.asarray(values).reshape(-1)


def plot_data_adstock(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None
                      ) -> pd.DataFrame:
    """Carry-over weights per channel and lag (the share of a period's spend acting
    ``lag`` periods later when the spec normalises them): ``channel``, ``lag``,
    ``weight`` (posterior mean), ``low``, ``high``. Geo models show the population
    weights unless ``panel`` names a cell."""
    g = panel_index(fit.data, panel)
    l_max = fit.spec.adstock_max_lag
    frames = []
    for c in fit.spec.channel_columns:
        w = _adstock_draws(fit, c, g)
        low, high = hdi(w, hdi_prob)
        frames.append(pd.DataFrame({"channel": c, "lag": np.arange(l_max),
                                    "weight": w.mean(axis=0), "low": low, "high": high}))
    return pd.concat(frames, ignore_index=True)


def _adstock_draws(fit: Fit | AveragedFit, channel: str, g: int | None) -> np.ndarray:
    """A channel's carry-over weights per draw, ``(S, l_max)``; an averaged fit's are its
    members' (each its own form) for their shares of the mixture's draws."""
    if isinstance(fit, AveragedFit):
        return np.concatenate([_adstock_draws(p, channel, g) for p in fit.parts])
    l_max, spec = fit.spec.adstock_max_lag, fit.spec
    form = ADSTOCKS.get(spec.adstock_forms[channel])
    kw = {p: jnp.asarray(_channel_draws(fit, f"adstock_{p}", channel, g))[:, None]
          for p in form.params}
    w = np.asarray(form.weights(l_max, spec.adstock_normalize, **kw)).reshape(-1, l_max)
    return np.broadcast_to(w, (fit.n_chains * fit.n_draws, l_max))


def _adstock_label(fit: Fit | AveragedFit, channel: str) -> str:
    if isinstance(fit, AveragedFit):
        forms = dict.fromkeys(f.spec.adstock_forms[channel] for k, f in fit.fits.items()
                              if fit.weights[k] >= MIN_WEIGHT)
        return f"{channel} (averaged: {', '.join(forms)})"
    return f"{channel} ({fit.spec.adstock_forms[channel]})"


def plot_adstock(fit: Fit | AveragedFit, hdi_prob: float = 0.94, panel: str | None = None
                 ) -> go.Figure:
    """Carry-over weights by lag, one subplot per channel, with HDI bands."""
    frame = plot_data_adstock(fit, hdi_prob, panel)
    groups = list(frame.groupby("channel", sort=False))
    fig, cells = facet_grid([_adstock_label(fit, str(name)) for name, _ in groups],
                            shared_y=True)
    for i, ((name, part), (row, col)) in enumerate(zip(groups, cells, strict=True)):
        fig.add_trace(band(part["lag"], part["low"].to_numpy(), part["high"].to_numpy(),
                           color(i), f"{name} HDI"), row=row, col=col)
        fig.add_trace(go.Scatter(x=part["lag"], y=part["weight"], mode="lines+markers",
                                 name=str(name), showlegend=False,
                                 line={"color": color(i)}, marker={"size": 5,
                                                                   "color": color(i)}),
                      row=row, col=col)
    return finish(fig, f"Adstock: carry-over weight by lag ({hdi_prob:.0%} HDI)"
                  f"{_where(fit, panel)}", "lag (periods)", "weight", cells=cells)
