"""(f) A poor fit, and an ROI prior that fights the data."""

from __future__ import annotations

import math

import jax
import numpy as np

from bayesmmm.analysis._checks._common import (
    PRIOR_TAIL,
    ROI_LOG_SCALE,
    Z95,
    Finding,
    _ar1,
    _finding,
    _geo_columns,
    _num,
    _ols,
    _prewhiten,
    _roi_draws,
)
from bayesmmm.analysis._diagnostics import fit_metrics
from bayesmmm.analysis._draws import (
    component_draws,
    flat_params,
)
from bayesmmm.analysis._verdict import DW_LOW, MAPE_CARE, R2_CARE
from bayesmmm.model import Fit, Site, trend_basis
from bayesmmm.priors import Prior


# -- (f) poor fit and prior-data conflict ----------------------------------------------------
def fit_conflict_checks(fit: Fit) -> list[Finding]:
    """Fit quality with its likely cause, and (under ``media_prior='roi'``) per channel
    whether the ROI prior fights the data.

    Fit quality: R² < 0.5 or MAPE > 20% is ``care``, R² <= 0 ``bad`` (the report's
    verdict's thresholds). ROI prior conflict: the posterior mean ROI lies outside the
    prior's 1-99% quantiles, or the 95% interval of the ROI the data alone give lies
    entirely outside them. The data-alone ROI comes from a least-squares fit of the target
    on the fitted media contributions (their shapes kept, their sizes free) next to
    per-geo intercepts, seasonality and linear time, the controls and the model's trend
    basis (AR(1)-prewhitened): the ROI the same curves give without any prior.
    """
    conflicts = _roi_conflicts(fit) if not fit.structure.beta_sampled else []
    return [_quality(fit, [f for f in conflicts if f.status != "ok"]), *conflicts]


def _quality(fit: Fit, conflicts: list[Finding]) -> Finding:
    m = fit_metrics(fit)
    r2, mape, dw = m["r2"], m["mape"], m["durbin_watson"]
    status = "bad" if not r2 > 0 else "care" if (r2 < R2_CARE or not mape <= MAPE_CARE) \
        else "ok"
    if conflicts:
        cause = ("the ROI prior holds the effect of " + ", ".join(str(f.channel)
                 for f in conflicts) + " far from what the data show (see the ROI prior "
                 "conflict below); fix the prior first")
    elif dw < DW_LOW:
        cause = (f"the residuals are autocorrelated (Durbin-Watson {dw:.2f}): something "
                 "that changes slowly is missing. Fix: add a trend, more seasonality modes "
                 "or the missing control")
    else:
        cause = ("drivers of sales are missing. Fix: add controls (prices, promotions, "
                 "distribution, events) and look at the actual vs fitted plot for the "
                 "periods the model misses")
    return _finding(
        "fit quality", None, r2,
        f"R² >= {R2_CARE} and MAPE <= {MAPE_CARE:g}% (R² <= 0: do not use)", status,
        f"poor fit (R² {r2:.2f}, MAPE {mape:.1f}%)",
        f"The model explains {max(r2, 0.0):.0%} of the target's variation and is "
        f"{mape:.1f}% off on average, so contributions and ROIs rest on a poor fit. "
        f"Likely cause: {cause}.")


def _prior_quantiles(prior: Prior, n_channels: int, probs: tuple[float, ...]) -> np.ndarray:
    """Quantiles ``probs`` of a channel prior, ``(len(probs), n_channels)``, from 20,000
    draws with a fixed key (any family; deterministic)."""
    n = 20_000
    draws = np.asarray(prior.to_numpyro().sample(jax.random.PRNGKey(0), (n,)), dtype=float)
    draws = np.broadcast_to(draws.reshape(n, -1), (n, n_channels))
    return np.quantile(draws, probs, axis=0)


def _data_roi(fit: Fit) -> tuple[np.ndarray, np.ndarray]:
    """The ROI the data alone give each channel with the fit's media curves: point
    estimates and standard errors ``(n_channels,)`` (see :func:`fit_conflict_checks`)."""
    data, structure = fit.data, fit.structure
    channels = fit.spec.channel_columns
    comps = component_draws(fit, keep_geo=True)
    g_n, t_n = data.n_geos, data.n_times
    ones = np.ones((g_n, t_n))
    time = np.broadcast_to(np.linspace(-1.0, 1.0, t_n), (g_n, t_n))
    cols = [*_geo_columns(ones), *_geo_columns(time)]
    for f in structure.fourier(data.dates).T:
        cols += _geo_columns(np.broadcast_to(f, (g_n, t_n)))
    if structure.trend != "none":
        basis = trend_basis(structure.trend, np.arange(t_n), t_n, fit.spec.trend_changepoints)
        for b in basis.T:
            cols += _geo_columns(np.broadcast_to(b, (g_n, t_n)))
    cols += [data.controls_gt[..., k] for k in range(len(data.control_names))]
    n_base = len(cols)
    cols += [comps[c].mean(axis=0) for c in channels]
    y = data.y_gt
    x = np.stack(cols, axis=-1)
    coef, _, _, _ = _ols(y.reshape(-1), x.reshape(-1, x.shape[-1]))
    resid = y - x @ coef
    yy, xx = _prewhiten(y, cols, _ar1(resid))
    coef, rss, rank, inv = _ols(yy, xx)
    cov = inv * rss / max(len(yy) - rank, 1)
    b = coef[n_base:]
    se = np.sqrt(np.clip(np.diag(cov)[n_base:], 0.0, None))
    roi = np.nanmean(_roi_draws(fit), axis=0)
    return b * roi, np.abs(se * roi)


def _roi_conflicts(fit: Fit) -> list[Finding]:
    channels = fit.spec.channel_columns
    prior = fit.structure.prior(Site.ROI)
    low, high = _prior_quantiles(prior, len(channels), (PRIOR_TAIL, 1 - PRIOR_TAIL))
    post = np.asarray(flat_params(fit)[Site.ROI], dtype=float).reshape(-1, len(channels))
    post_mean = post.mean(axis=0)
    est, se = _data_roi(fit)
    d_low, d_high = est - Z95 * se, est + Z95 * se
    rule = (f"the data-alone ROI (value), its 95% interval and the posterior ROI mean not "
            f"outside the prior's {PRIOR_TAIL:.0%}-{1 - PRIOR_TAIL:.0%} quantiles")
    # the suggested prior's centre: the data-alone ROI where it conflicts (its upper 95%
    # bound when the estimate is not positive), else the posterior mean
    on_data = np.where(est > 0, est, np.where(d_high > 0, d_high, post_mean))
    fix = _roi_prior_fix(prior, np.where((d_low > high) | (d_high < low), on_data, post_mean))
    out = []
    for c, name in enumerate(channels):
        data_out = bool(d_low[c] > high[c] or d_high[c] < low[c])
        post_out = bool(post_mean[c] > high[c] or post_mean[c] < low[c])
        value = float(est[c])
        if not (data_out or post_out):
            out.append(_finding("roi prior conflict", name, value, rule, "ok"))
            continue
        if data_out:
            said = (f"the data alone put {name}'s ROI at {_num(est[c])} (95% interval "
                    f"{_num(max(d_low[c], 0.0))} to {_num(d_high[c])}), but the prior allows "
                    f"{_num(low[c])} to {_num(high[c])}, and the posterior ROI is "
                    f"{_num(post_mean[c])}")
        else:
            said = (f"{name}'s posterior ROI ({_num(post_mean[c])}) sits in the far tail of "
                    f"its prior ({PRIOR_TAIL:.0%}-{1 - PRIOR_TAIL:.0%} range {_num(low[c])} "
                    f"to {_num(high[c])})")
        out.append(_finding(
            "roi prior conflict", name, value, rule, "care",
            f"the ROI prior fights the data for {name}",
            f"The ROI prior fights the data: {said}. The prior is not on the data's scale "
            f"(ROI is sales per unit of spend, in the data's units), so it distorts {name}'s "
            f"contribution and the fit. Fix: a ROI prior on the data's scale, "
            f"priors={{'roi': {fix}}}, or media_prior='default'."))
    return out


def _roi_prior_fix(prior: Prior, centre: np.ndarray) -> str:
    """A LogNormal ROI prior centred on ``centre`` (per channel), as code to paste."""
    scale = prior.params["scale"] if prior.dist == "LogNormal" else ROI_LOG_SCALE
    locs = [round(math.log(v), 2) for v in centre]
    loc = f"{locs[0]}" if len(set(locs)) == 1 else "[" + ", ".join(map(str, locs)) + "]"
    scale_s = f"{scale:g}" if not isinstance(scale, tuple) else \
        "[" + ", ".join(f"{s:g}" for s in scale) + "]"
    about = " and ".join(_num(v) for v in centre)
    return (f"Prior('LogNormal', {{'loc': {loc}, 'scale': {scale_s}}}) "
            f"(log of ROI {about})")
