"""(a) Residual patterns: does a channel's adstocked spend still explain the residuals?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmmm.analysis._checks._common import (
    MISSPEC_ALPHA,
    MISSPEC_KNOTS,
    MISSPEC_LAGS,
    MISSPEC_MIN_SHARE,
    Finding,
    _adstocked,
    _ar1,
    _f_test,
    _finding,
    _geo_columns,
    _p,
    _prewhiten,
    _shift,
)
from bayesmmm.analysis._draws import (
    component_draws,
    mean_draws,
    noise_draws,
)
from bayesmmm.model import Fit


# -- (a) residual patterns -------------------------------------------------------------------
def residual_patterns(fit: Fit) -> pd.DataFrame:
    """How much of the residual variation follows each channel's spend.

    The posterior-mean residuals (standardised by each geo's noise sd) are regressed on
    features of the channel's adstocked, scaled spend ``x`` (posterior-mean carry-over):
    shape features (``x`` and hinges ``max(x - k, 0)`` at the quartiles of its non-zero
    values) and timing features (``x`` delayed by :data:`MISSPEC_LAGS` periods), next to
    a nuisance of per-geo intercepts and the channel's own fitted contribution per geo
    (so that a wrong size of the effect, e.g. a prior holding it down, is not mistaken
    for a wrong shape). The F-tests run on AR(1)-prewhitened series (the residuals'
    lag-1 autocorrelation ``rho``, Cochrane-Orcutt), so autocorrelated residuals do not
    inflate them.

    Returns
    -------
    DataFrame
        One row per channel: ``p_value`` (all features), ``share`` (of the residual
        variation they explain), ``p_shape``, ``p_timing`` (each family given the
        other) and ``rho``.
    """
    y = fit.data.y_gt
    sigma = noise_draws(fit).mean(axis=0)  # (G,)
    resid = (y - mean_draws(fit, keep_geo=True).mean(axis=0)) / sigma[:, None]
    rho = _ar1(resid)
    x_all = _adstocked(fit)
    comps = component_draws(fit, keep_geo=True)
    ones = np.ones_like(resid)
    rows = {}
    for c, name in enumerate(fit.spec.channel_columns):
        x = x_all[..., c]
        pos = x[x > 1e-9]
        knots = np.unique(np.quantile(pos, MISSPEC_KNOTS)) if len(pos) else np.array([])
        shape = [x, *(np.maximum(x - k, 0.0) for k in knots)]
        timing = [_shift(x, k) for k in MISSPEC_LAGS]
        base = [*_geo_columns(ones), *_geo_columns(comps[name].mean(axis=0))]
        yy, xx = _prewhiten(resid, base + shape + timing, rho)
        shape_idx = np.arange(len(base), len(base) + len(shape))
        time_idx = np.arange(len(base) + len(shape), xx.shape[1])
        p, share = _f_test(yy, xx, np.r_[shape_idx, time_idx])
        rows[name] = {"p_value": p, "share": share, "p_shape": _f_test(yy, xx, shape_idx)[0],
                      "p_timing": _f_test(yy, xx, time_idx)[0], "rho": rho}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "channel"
    return out


def misspecification_checks(fit: Fit, alpha: float = MISSPEC_ALPHA) -> list[Finding]:
    """Do the residuals still follow a channel's spend? One finding per channel.

    A channel is flagged (``care``) when the F-test of :func:`residual_patterns` gives
    ``p < alpha / n_channels`` (Bonferroni: a family-wise false-positive rate ``alpha``)
    and the pattern explains at least :data:`MISSPEC_MIN_SHARE` of the residual
    variation. ``value`` is the p-value.
    """
    table = residual_patterns(fit)
    n = len(table)
    rule = (f"p >= {alpha:g}/{n} (Bonferroni) or pattern < {MISSPEC_MIN_SHARE:.0%} of "
            "residual variation")
    out = []
    for name, row in table.iterrows():
        name = str(name)
        p, share = float(row["p_value"]), float(row["share"])
        if not (p < alpha / n and share >= MISSPEC_MIN_SHARE):
            out.append(_finding("misspecification", name, p, rule, "ok"))
            continue
        p_shape, p_time = float(row["p_shape"]), float(row["p_timing"])
        out.append(_finding(
            "misspecification", name, p, rule, "care",
            f"residuals follow {name}'s spend (p = {_p(p)})",
            f"After the fit, the leftover sales still move with {name}'s spend (the pattern "
            f"explains {share:.0%} of the unexplained variation; p = {_p(p)}): the "
            f"{_forms(fit, name)} forms miss {name}'s response "
            f"{_which(p_shape, p_time)}, so its ROI may be biased and its interval too "
            f"narrow. Fix: try other adstock/saturation forms with `bayesmmm compare` "
            f"({_suggest(p_shape, p_time)}), or check {name}'s ROI with a lift test."))
    return out


def _forms(fit: Fit, channel: str) -> str:
    return (f"{fit.spec.adstock_forms[channel]} adstock + "
            f"{fit.spec.saturation_forms[channel]} saturation")


def _which(p_shape: float, p_time: float) -> str:
    if p_time < p_shape / 10:
        return "timing (how its effect builds up and fades)"
    if p_shape < p_time / 10:
        return "shape (how its effect grows with spend)"
    return "timing and shape"


def _suggest(p_shape: float, p_time: float) -> str:
    timing = "a carry-over that peaks later or lasts longer: delayed, weibull_pdf"
    shape = "another saturation: hill, michaelis_menten"
    if p_time < p_shape / 10:
        return timing
    if p_shape < p_time / 10:
        return shape
    return f"{timing}; {shape}"
