"""Summary statistics, contributions, media shares and ROI of a fitted MMM."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmmm.analysis._draws import component_draws, hdi
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.model._design import spend_of

__all__ = ["summary", "contributions", "media_share", "roi", "hdi_columns"]


def hdi_columns(prob: float) -> tuple[str, str]:
    """ArviZ's column names for an HDI: ``('hdi_3%', 'hdi_97%')`` for 0.94."""
    low = (1 - prob) / 2 * 100
    return f"hdi_{low:g}%", f"hdi_{100 - low:g}%"


def summary(fit: Fit | AveragedFit, hdi_prob: float = 0.94) -> pd.DataFrame:
    """Posterior summary of every model parameter (ArviZ).

    Columns: mean, sd, hdi_3%, hdi_97%, ess_bulk, ess_tail, r_hat. Rows are named as
    PyMC-Marketing names them: ``intercept``, ``adstock_alpha[x1]``, ``saturation_lam[x1]``,
    ``saturation_beta[x1]``, ``gamma_control[event_1]``, ``gamma_fourier[sin_order_1]``,
    ``y_sigma``. Parameters are in the model's scaled units, like PyMC-Marketing's.
    An averaged fit's parameters mean different things in each structure: one block per
    member with weight, led by ``model`` and ``weight`` columns.
    """
    import arviz as az

    if isinstance(fit, AveragedFit):
        blocks = []
        for label, member in fit.fits.items():
            block = summary(member, hdi_prob)
            block.insert(0, "weight", fit.weights[label])
            block.insert(0, "model", label)
            blocks.append(block)
        return pd.concat(blocks).sort_values("weight", ascending=False, kind="stable")

    names = fit.parameter_names()
    table = az.summary(fit.inference_data, var_names=names, hdi_prob=hdi_prob, round_to="none")
    low, high = hdi_columns(hdi_prob)
    return table[["mean", "sd", low, high, "ess_bulk", "ess_tail", "r_hat"]]


def _describe(draws: np.ndarray, prob: float) -> dict[str, np.ndarray]:
    low, high = hdi(draws, prob)
    names = hdi_columns(prob)
    return {"mean": draws.mean(axis=0), "sd": draws.std(axis=0), names[0]: low, names[1]: high}


def _levels(fit: Fit | AveragedFit, level: str) -> list[tuple[str | None, slice | int]]:
    """``[(panel label or None, geo index)]`` for ``level`` 'total' or 'panel'."""
    if level not in ("total", "panel"):
        raise ValueError(f"Unknown level {level!r}; expected one of ['panel', 'total']")
    if level == "panel" and fit.data.is_panel:
        return [(name, g) for g, name in enumerate(fit.data.panels)]
    return [(None, slice(None))]


def _with_panel(frame: pd.DataFrame, panel: str | None) -> pd.DataFrame:
    if panel is not None:
        frame.insert(0, "panel", panel)
    return frame


def contributions(fit: Fit | AveragedFit, hdi_prob: float = 0.94,
                  level: str = "total") -> pd.DataFrame:
    """Contribution of every component per period, original units, long format.

    Columns: date, component, kind (``baseline``, ``trend``, ``control``,
    ``seasonality``, ``channel``), mean, sd and the HDI bounds. For geo models,
    ``level='total'`` sums over panel cells (the posterior of the sum) and
    ``level='panel'`` gives one block per cell with a leading ``panel`` column.
    """
    kinds = {"intercept": "baseline", "seasonality": "seasonality", "trend": "trend"}
    kinds.update({c: "control" for c in fit.data.control_names})
    kinds.update({c: "channel" for c in fit.spec.channel_columns})
    frames = []
    dates = fit.data.dates.strftime("%Y-%m-%d")
    draws_gt = component_draws(fit, keep_geo=True)
    for panel, g in _levels(fit, level):
        for name, draws in draws_gt.items():
            d = draws[:, g].sum(axis=1) if isinstance(g, slice) else draws[:, g]
            stats = _describe(d, hdi_prob)
            frames.append(_with_panel(pd.DataFrame(
                {"date": dates, "component": name, "kind": kinds[name], **stats}), panel))
    return pd.concat(frames, ignore_index=True)


def _channel_totals(fit: Fit | AveragedFit, g: slice | int = slice(None)) -> np.ndarray:
    """Total contribution over the fitted period, ``(n_samples, n_channels)``."""
    draws = component_draws(fit, keep_geo=True)
    return np.stack([draws[c][:, g].reshape(len(draws[c]), -1).sum(axis=1)
                     for c in fit.spec.channel_columns], axis=1)


def _spend(fit: Fit | AveragedFit, g: slice | int = slice(None)) -> np.ndarray:
    """Total spend per channel (units x cost for priced channels)."""
    spend = spend_of(fit.spec, fit.data)[g]
    return spend.reshape(-1, spend.shape[-1]).sum(axis=0)


def media_share(fit: Fit | AveragedFit, hdi_prob: float = 0.94,
                level: str = "total") -> pd.DataFrame:
    """Each channel's share of the total media effect, and its share of spend."""
    frames = []
    for panel, g in _levels(fit, level):
        totals = _channel_totals(fit, g)
        share = totals / totals.sum(axis=1, keepdims=True)
        spend = _spend(fit, g)
        out = pd.DataFrame(_describe(share, hdi_prob), index=list(fit.spec.channel_columns))
        out.insert(0, "spend_share", spend / spend.sum())
        out.index.name = "channel"
        frames.append(_with_panel(out, panel))
    return pd.concat(frames) if len(frames) > 1 else frames[0]


def roi(fit: Fit | AveragedFit, hdi_prob: float = 0.94, level: str = "total") -> pd.DataFrame:
    """Return on investment per channel: incremental target / spend over the fitted period.

    Columns: spend, contribution (posterior mean), roi mean, sd and HDI bounds.
    The incremental effect is the channel's contribution under the model (removing the
    channel removes exactly that much of the mean). Geo models: ``level='panel'`` gives
    one row per panel cell and channel (a channel without spend in a cell has ROI NaN).
    """
    frames = []
    for panel, g in _levels(fit, level):
        totals = _channel_totals(fit, g)
        spend = _spend(fit, g)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = totals / np.where(spend > 0, spend, np.nan)
        stats = _describe(ratio, hdi_prob)
        out = pd.DataFrame({"spend": spend, "contribution": totals.mean(axis=0),
                            **{("roi" if k == "mean" else k): v for k, v in stats.items()}},
                           index=list(fit.spec.channel_columns))
        out.index.name = "channel"
        frames.append(_with_panel(out, panel))
    return pd.concat(frames) if len(frames) > 1 else frames[0]
