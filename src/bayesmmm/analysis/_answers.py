"""Summary statistics, contributions, media shares and ROI of a fitted MMM."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmmm.analysis._draws import component_draws, hdi
from bayesmmm.model import PARAMETER_ORDER, Fit

__all__ = ["summary", "contributions", "media_share", "roi", "hdi_columns"]


def hdi_columns(prob: float) -> tuple[str, str]:
    """ArviZ's column names for an HDI: ``('hdi_3%', 'hdi_97%')`` for 0.94."""
    low = (1 - prob) / 2 * 100
    return f"hdi_{low:g}%", f"hdi_{100 - low:g}%"


def summary(fit: Fit, hdi_prob: float = 0.94) -> pd.DataFrame:
    """Posterior summary of every model parameter (ArviZ).

    Columns: mean, sd, hdi_3%, hdi_97%, ess_bulk, ess_tail, r_hat. Rows are named as
    PyMC-Marketing names them: ``intercept``, ``adstock_alpha[x1]``, ``saturation_lam[x1]``,
    ``saturation_beta[x1]``, ``gamma_control[event_1]``, ``gamma_fourier[sin_order_1]``,
    ``y_sigma``. Parameters are in the model's scaled units, like PyMC-Marketing's.
    """
    import arviz as az

    names = [n for n in PARAMETER_ORDER if n in fit.posterior]
    table = az.summary(fit.inference_data, var_names=names, hdi_prob=hdi_prob, round_to="none")
    low, high = hdi_columns(hdi_prob)
    return table[["mean", "sd", low, high, "ess_bulk", "ess_tail", "r_hat"]]


def _describe(draws: np.ndarray, prob: float) -> dict[str, np.ndarray]:
    low, high = hdi(draws, prob)
    names = hdi_columns(prob)
    return {"mean": draws.mean(axis=0), "sd": draws.std(axis=0), names[0]: low, names[1]: high}


def contributions(fit: Fit, hdi_prob: float = 0.94) -> pd.DataFrame:
    """Contribution of every component per period, original units, long format.

    Columns: date, component, kind (``baseline``, ``control``, ``seasonality``,
    ``channel``), mean, sd and the HDI bounds.
    """
    kinds = {"intercept": "baseline", "seasonality": "seasonality"}
    kinds.update({c: "control" for c in fit.spec.control_columns})
    kinds.update({c: "channel" for c in fit.spec.channel_columns})
    frames = []
    dates = fit.data.dates.strftime("%Y-%m-%d")
    for name, draws in component_draws(fit).items():
        stats = _describe(draws, hdi_prob)
        frames.append(pd.DataFrame({"date": dates, "component": name, "kind": kinds[name],
                                    **stats}))
    return pd.concat(frames, ignore_index=True)


def _channel_totals(fit: Fit) -> np.ndarray:
    """Total contribution over the fitted period, ``(n_samples, n_channels)``."""
    draws = component_draws(fit)
    return np.stack([draws[c].sum(axis=1) for c in fit.spec.channel_columns], axis=1)


def media_share(fit: Fit, hdi_prob: float = 0.94) -> pd.DataFrame:
    """Each channel's share of the total media effect, and its share of spend."""
    totals = _channel_totals(fit)
    share = totals / totals.sum(axis=1, keepdims=True)
    spend = fit.data.media.sum(axis=0)
    out = pd.DataFrame(_describe(share, hdi_prob), index=list(fit.spec.channel_columns))
    out.insert(0, "spend_share", spend / spend.sum())
    out.index.name = "channel"
    return out


def roi(fit: Fit, hdi_prob: float = 0.94) -> pd.DataFrame:
    """Return on investment per channel: incremental target / spend over the fitted period.

    Columns: spend, contribution (posterior mean), roi mean, sd and HDI bounds.
    The incremental effect is the channel's contribution under the model (removing the
    channel removes exactly that much of the mean).
    """
    totals = _channel_totals(fit)
    spend = fit.data.media.sum(axis=0)
    ratio = totals / spend
    stats = _describe(ratio, hdi_prob)
    out = pd.DataFrame({"spend": spend, "contribution": totals.mean(axis=0),
                        **{("roi" if k == "mean" else k): v for k, v in stats.items()}},
                       index=list(fit.spec.channel_columns))
    out.index.name = "channel"
    return out
