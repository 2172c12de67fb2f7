"""What every check shares: thresholds, the Finding type, residual regressions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
from scipy import stats

from bayesmmm.analysis._draws import (
    component_draws,
    media_param_draws,
)
from bayesmmm.model import Fit, spend_of
from bayesmmm.model._mean import adstock_weights
from bayesmmm.transforms import lag_stack

# -- thresholds ------------------------------------------------------------------------------
#: Family-wise false-positive rate of the residual-pattern test over all channels
#: (Bonferroni: each channel is tested at MISSPEC_ALPHA / n_channels), so a correctly
#: specified model stays silent at least 99 times in 100 whatever its number of channels.
MISSPEC_ALPHA = 0.01
#: Smallest share of the leftover (residual) variation the pattern must explain to be
#: reported: on long series a tiny, harmless misfit is "significant"; a pattern below 5%
#: of the noise variance moves the fit by less than a quarter of the noise sd.
MISSPEC_MIN_SHARE = 0.05
#: Lags (periods) of the adstocked spend used as timing features: a carry-over that peaks
#: later or lasts longer than the fitted one leaves residuals that follow past spend.
MISSPEC_LAGS = (1, 2)
#: Quantiles of the (non-zero) adstocked spend at which the shape features bend.
MISSPEC_KNOTS = (0.25, 0.5, 0.75)
#: A lag-1 residual autocorrelation estimate is clipped to this size before prewhitening,
#: so that a near-unit-root estimate cannot blow up the transformed series.
RHO_MAX = 0.9

#: The wider prior's width relative to the prior in force (sd, or scale on the log scale).
WIDER = 2.0
#: A shift of the ROI mean of at least this many posterior sds under the wider prior means
#: the answer rests noticeably on the prior: a different reasonable prior would move the
#: headline number by more than half its uncertainty.
SENSITIVITY_CARE = 0.5
#: When the Pareto k is too high to reweight, a first-order shift below this many sds
#: (a fifth of SENSITIVITY_CARE) still shows the ROI barely reacts to the prior's width.
SENSITIVITY_FIRST_ORDER = 0.1
#: Step (in log width) of the numerical derivative of the log prior for the first order.
_EPS = 0.05
#: Above this Pareto k the importance weights are unreliable (Vehtari et al. 2024; with
#: fewer draws the bound 1 - 1/log10(S) is lower and applies instead): cannot tell.
PARETO_K_MAX = 0.7

#: Multiple correlation (R) of a channel's spend with seasonality + a linear trend above
#: which the data can hardly separate the channel's effect from the season's (the issue's
#: rule; at R = 0.8 only 36% of the spend's variation is the channel's own).
CONFOUNDING_R = 0.8
#: Fourier modes used for the confounding check when the model itself has no seasonality.
CONFOUNDING_MODES = 2
#: In an earlier measurement one lift test narrowed such a channel's ROI interval ~2x.
LIFT_NARROWING = 2

#: Fit quality (R2_CARE, MAPE_CARE, DW_LOW) is held to the verdict's thresholds
#: (bayesmmm.analysis._verdict).
#: An ROI prior fights the data when the posterior mean ROI, or the whole 95% interval
#: of the ROI the data alone give (a linear fit on the model's own media curves), lies
#: outside the prior's central 1 - 2 x PRIOR_TAIL range (1% to 99% quantiles; for a
#: LogNormal about 2.3 prior sds from the centre on the log scale).
PRIOR_TAIL = 0.01
#: Width (log scale) of the suggested LogNormal ROI prior when the prior in force is not
#: LogNormal (Meridian's default width).
ROI_LOG_SCALE = 0.9
#: z of the two-sided 95% interval of the data-alone ROI.
Z95 = 1.96

#: The placebo's ROI interval "reaches 0" when its lower 94% HDI bound is below this
#: fraction of the smallest real channel's ROI mean: beta >= 0, so an HDI never goes below
#: 0, and a lower bound within 10% of the weakest real channel's ROI is indistinguishable
#: from no effect at that scale. Under an ROI prior (which puts no mass at 0) the bound may
#: also sit as low as the prior's PLACEBO_PRIOR_LOW quantile.
PLACEBO_ZERO_SHARE = 0.1
PLACEBO_PRIOR_LOW = 0.03
#: The interval judged: the HDI the summaries and ROI tables report by default.
PLACEBO_HDI = 0.94
#: Placebo spend: blocks of max(l_max, PLACEBO_MIN_BLOCK) periods of the source channel's
#: spend in random order (flights and bursts keep their shape, their timing is lost); of
#: PLACEBO_TRIES orders, the one least correlated with every real channel is used.
PLACEBO_MIN_BLOCK = 4
PLACEBO_TRIES = 20
#: The placebo refit is judged only if its max r_hat is at most this: the question (does
#: an interval reach 0?) is coarse, so the "usable" bound of short runs (2 x 500 x 500)
#: applies rather than R_HAT_MAX, which short check runs rarely meet.
PLACEBO_R_HAT = 1.05


@dataclass(frozen=True)
class Finding:
    """One check's result.

    Attributes
    ----------
    check : str
        Which check (``misspecification``, ``prior sensitivity``, ``confounding``,
        ``fit quality``, ``roi prior conflict``, ``placebo``).
    channel : str or None
        The channel it is about (None: the whole model).
    value : float
        The measured number (see ``rule``); NaN when it cannot be told.
    rule : str
        What ``value`` is held to.
    status : str
        ``ok``, ``care`` or ``bad``.
    problem, advice : str
        A few words naming the problem, and what it means and what to do; empty when ok.
    """

    check: str
    channel: str | None
    value: float
    rule: str
    status: str
    problem: str = ""
    advice: str = ""


def _finding(check: str, channel: str | None, value: float, rule: str, status: str,
             problem: str = "", advice: str = "") -> Finding:
    if status == "ok":
        problem = advice = ""
    return Finding(check, channel, float(value), rule, status, problem, advice)


def _num(v: float) -> str:
    """A number as a person writes it: 4,712 / 48.3 / 1.87 / 0.031."""
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if a >= 0.1 else f"{v:.2g}"


def _p(p: float) -> str:
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"



# -- shared pieces ---------------------------------------------------------------------------
def _roi_draws(fit: Fit) -> np.ndarray:
    """ROI per draw over the fitted period, ``(n_samples, n_channels)`` (NaN: no spend)."""
    draws = component_draws(fit, keep_geo=True)
    totals = np.stack([draws[c].reshape(len(draws[c]), -1).sum(axis=1)
                       for c in fit.spec.channel_columns], axis=1)
    spend = spend_of(fit.spec, fit.data).reshape(-1, len(fit.spec.channel_columns)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(totals / np.where(spend > 0, spend, np.nan))


def _adstocked(fit: Fit) -> np.ndarray:
    """Each channel's scaled spend carried over with the posterior-mean weights,
    ``(n_geos, n_times, n_channels)``."""
    params = {k: jnp.asarray(v) for k, v in media_param_draws(fit).items()}
    n = len(next(iter(params.values())))
    w = np.asarray(adstock_weights(fit.structure, params, (n,), fit.data.n_geos)).mean(axis=0)
    scaled = fit.data.media_gt / fit.scalers.channel_scale_g[:, None, :]
    lagged = np.asarray(lag_stack(jnp.asarray(scaled, jnp.float32), fit.spec.adstock_max_lag))
    return np.einsum("lgtc,gcl->gtc", lagged, w)


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """``a`` ``(G, T)`` delayed by ``k`` periods within each geo (NaN before the start)."""
    out = np.full_like(a, np.nan, dtype=float)
    out[:, k:] = a[:, :a.shape[1] - k]
    return out


def _geo_columns(a: np.ndarray) -> list[np.ndarray]:
    """One column per geo: ``a`` ``(G, T)`` in that geo's rows, 0 elsewhere."""
    out = []
    for g in range(a.shape[0]):
        col = np.zeros_like(a, dtype=float)
        col[g] = a[g]
        out.append(col)
    return out


def _ar1(resid: np.ndarray) -> float:
    """Lag-1 autocorrelation of ``resid`` ``(G, T)`` within geos (NaNs ignored), clipped."""
    a, b = resid[:, 1:], resid[:, :-1]
    ok = np.isfinite(a) & np.isfinite(b)
    den = float(np.sum(b[ok] ** 2))
    rho = float(np.sum(a[ok] * b[ok]) / den) if den > 0 else 0.0
    return float(np.clip(rho, -RHO_MAX, RHO_MAX))


def _prewhiten(y: np.ndarray, cols: list[np.ndarray], rho: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Quasi-differences ``z_t - rho z_{t-1}`` of the target and columns (each
    ``(G, T)``), stacked over geos; rows with a missing value are dropped. Under AR(1)
    residuals this makes the errors independent (Cochrane-Orcutt), so F-tests and
    standard errors hold."""
    def diff(z: np.ndarray) -> np.ndarray:
        return (z[:, 1:] - rho * z[:, :-1]).reshape(-1)

    yy = diff(y)
    x = np.column_stack([diff(c) for c in cols])
    keep = np.isfinite(yy) & np.all(np.isfinite(x), axis=1)
    return yy[keep], x[keep]


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float, int, np.ndarray]:
    """Least squares: coefficients, residual sum of squares, rank of ``x`` and
    ``(x'x)^+``. Columns are scaled to unit length first, so that columns in very
    different units (sales, spend shares, dummies) cannot hide one another in the rank."""
    norm = np.linalg.norm(x, axis=0)
    norm = np.where(norm > 0, norm, 1.0)
    xs = x / norm
    coef, *_ = np.linalg.lstsq(xs, y, rcond=None)
    e = y - xs @ coef
    inv = np.linalg.pinv(xs.T @ xs) / np.outer(norm, norm)
    return coef / norm, float(e @ e), int(np.linalg.matrix_rank(xs)), inv


def _f_test(y: np.ndarray, x: np.ndarray, test: np.ndarray) -> tuple[float, float]:
    """F-test that the columns ``test`` (indices) of ``x`` add nothing to the others:
    p-value, and the share of the reduced model's residual variation they explain."""
    rest = np.setdiff1d(np.arange(x.shape[1]), test)
    _, rss_r, k_r, _ = _ols(y, x[:, rest])
    _, rss_f, k_f, _ = _ols(y, x)
    q, df = k_f - k_r, len(y) - k_f
    if q <= 0 or df <= 0 or rss_r <= 0:
        return 1.0, 0.0
    f = ((rss_r - rss_f) / q) / (rss_f / df) if rss_f > 0 else math.inf
    return float(stats.f.sf(f, q, df)), (rss_r - rss_f) / rss_r


