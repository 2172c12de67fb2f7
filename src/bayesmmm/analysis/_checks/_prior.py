"""(c) Prior sensitivity of each ROI, by Pareto-smoothed importance reweighting."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np
import pandas as pd

from bayesmmm.analysis._checks._common import (
    _EPS,
    PARETO_K_MAX,
    SENSITIVITY_CARE,
    SENSITIVITY_FIRST_ORDER,
    WIDER,
    Finding,
    _finding,
    _num,
    _roi_draws,
)
from bayesmmm.analysis._draws import (
    flat_params,
)
from bayesmmm.model import Fit, Site, spend_of
from bayesmmm.priors import Prior


# -- (c) prior sensitivity -------------------------------------------------------------------
def _media_site(fit: Fit) -> str:
    """The site carrying the media prior: ``roi`` under an ROI prior, else the beta."""
    return Site.BETA if fit.structure.beta_sampled else Site.ROI


def _wider(prior: Prior, factor: float = WIDER) -> Prior | None:
    """``prior`` with its spread multiplied by ``factor`` (location kept); None when the
    family has no such notion here."""
    p = dict(prior.params)

    def times(v: Any, k: float) -> Any:
        return tuple(x * k for x in v) if isinstance(v, tuple) else v * k

    if prior.dist in ("Normal", "HalfNormal", "LogNormal", "Laplace", "HalfCauchy",
                      "StudentT", "TruncatedNormal"):
        p["scale"] = times(p["scale"], factor)
    elif prior.dist == "Exponential":
        p["rate"] = times(p["rate"], 1 / factor)
    elif prior.dist == "Gamma":  # same mean, sd x factor
        p["concentration"] = times(p["concentration"], factor ** -2)
        p["rate"] = times(p["rate"], factor ** -2)
    else:
        return None
    return Prior(prior.dist, p)


def _log_prior(fit: Fit, prior: Prior, draws: np.ndarray) -> np.ndarray:
    """Log density of the media prior at ``draws`` ``(S, C)``, as the model applies it
    (``spend_share`` scales a HalfNormal by each channel's share of spend)."""
    d = prior.to_numpyro()
    if fit.structure.beta_sampled and fit.structure.media_prior == "spend_share":
        spend = spend_of(fit.spec, fit.data).reshape(-1, draws.shape[1]).sum(axis=0)
        scale = np.asarray(prior.params["scale"]) * draws.shape[1] * spend / spend.sum()
        d = type(d)(jnp.asarray(scale, jnp.float32))
    return np.asarray(d.log_prob(jnp.asarray(draws, jnp.float32)), dtype=float)


def _reff(log_w: np.ndarray, n_chains: int) -> float:
    """Relative efficiency (ESS / S) of the importance ratios, for the PSIS tail length."""
    import arviz as az

    w = np.exp(log_w - log_w.max()).reshape(n_chains, -1)
    ess = float(az.ess(w))
    return float(np.clip(ess / w.size, 0.05, 1.0)) if math.isfinite(ess) else 1.0


def prior_sensitivity(fit: Fit, factor: float = WIDER) -> pd.DataFrame:
    """How far each channel's ROI would move under a media prior ``factor`` times wider.

    The media prior is ``saturation_beta``'s (``roi``'s under ``media_prior='roi'``).
    For each channel alone, the draws are reweighted by the ratio of the wider prior to
    the prior in force at that channel's value (Pareto-smoothed importance sampling,
    ``arviz.psislw``; no refit), and the reweighted ROI mean is compared with the
    posterior's.

    Returns
    -------
    DataFrame
        One row per channel: ``roi`` (posterior mean), ``roi_wider`` (under the wider
        prior), ``shift_sd`` (their difference in posterior sds; NaN, "cannot tell", when
        ``pareto_k`` exceeds ``k_max`` = min(:data:`PARETO_K_MAX`, 1 - 1/log10(S))),
        ``pareto_k``, ``k_max`` and ``first_order_sd``: the shift a first-order
        expansion in the log of the prior's width predicts, ``log(factor) x Cov(ROI,
        d log prior / d log width) / sd(ROI)`` (needs no weights).
    """
    import arviz as az

    site = _media_site(fit)
    prior = fit.structure.prior(site)
    channels = fit.spec.channel_columns
    roi = _roi_draws(fit)
    n = len(roi)
    k_max = min(PARETO_K_MAX, 1 - 1 / math.log10(n)) if n > 10 else 0.0
    wide, up, down = (_wider(prior, f) for f in (factor, math.exp(_EPS), math.exp(-_EPS)))
    rows = {}
    draws = np.asarray(flat_params(fit)[site], dtype=float).reshape(n, len(channels))
    base = _log_prior(fit, prior, draws)
    for c, name in enumerate(channels):
        mean, sd = float(np.mean(roi[:, c])), float(np.std(roi[:, c]))
        row = {"roi": mean, "roi_wider": math.nan, "shift_sd": math.nan,
               "pareto_k": math.nan, "k_max": k_max, "first_order_sd": math.nan}
        if wide is not None and up is not None and down is not None and sd > 0:
            log_ratio = _log_prior(fit, wide, draws)[:, c] - base[:, c]
            lw, k = az.psislw(log_ratio, reff=_reff(log_ratio, fit.n_chains))
            moved = float(np.sum(np.exp(lw) * roi[:, c]))
            slope = (_log_prior(fit, up, draws)[:, c]
                     - _log_prior(fit, down, draws)[:, c]) / (2 * _EPS)
            row.update(roi_wider=moved, pareto_k=float(np.asarray(k)),
                       first_order_sd=math.log(factor) * float(
                           np.cov(roi[:, c], slope)[0, 1]) / sd)
            if row["pareto_k"] <= k_max:
                row["shift_sd"] = (moved - mean) / sd
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "channel"
    return out


def prior_sensitivity_checks(fit: Fit, factor: float = WIDER) -> list[Finding]:
    """Does each channel's ROI rest on the media prior? One finding per channel.

    From :func:`prior_sensitivity`: ``care`` when the ROI mean moves by at least
    :data:`SENSITIVITY_CARE` posterior sds under the ``factor`` times wider prior.
    When the Pareto k is too high to read that off the draws ("cannot tell"), ``care``
    unless the first-order estimate is below :data:`SENSITIVITY_FIRST_ORDER` sd (the ROI
    barely reacts to the prior's width, and the high k comes from parameters that do not
    move it, e.g. beta and lam trading off along a ridge). ``value`` is the shift in
    posterior sds (NaN: cannot tell).
    """
    site = _media_site(fit)
    wide = _wider(fit.structure.prior(site), factor)
    table = prior_sensitivity(fit, factor)
    rule = (f"|shift| < {SENSITIVITY_CARE} posterior sd under a {factor:g}x wider {site} "
            f"prior (Pareto k <= {PARETO_K_MAX}; above it: first-order shift < "
            f"{SENSITIVITY_FIRST_ORDER} sd)")
    refit = f" (e.g. priors={{'{site}': {_prior_code(wide)}}})" if wide is not None else ""
    out = []
    for name, row in table.iterrows():
        name = str(name)
        shift, k, first = float(row["shift_sd"]), float(row["pareto_k"]), \
            float(row["first_order_sd"])
        if math.isfinite(shift):
            status = "care" if abs(shift) >= SENSITIVITY_CARE else "ok"
            out.append(_finding(
                "prior sensitivity", name, shift, rule, status,
                f"{name}'s ROI rests on the prior ({shift:+.1f} sd under a wider prior)",
                f"With a {factor:g}x wider {site} prior {name}'s ROI mean would move from "
                f"{_num(row['roi'])} to {_num(row['roi_wider'])} ({shift:+.1f} posterior "
                f"sd; Pareto k {k:.2f}): the data alone do not pin it down, the prior does. "
                f"Fix: add a lift test for {name}, or a prior from earlier studies you "
                "trust, before acting on this ROI."))
            continue
        if not math.isfinite(k):
            out.append(_finding(
                "prior sensitivity", name, math.nan, rule, "care",
                f"cannot tell how much {name}'s ROI rests on the prior",
                f"The {site} prior ({_prior_code(fit.structure.prior(site))}) has no width "
                f"this check knows how to widen. Fix: refit with a wider prior and compare "
                f"{name}'s ROI, or add a lift test for it."))
            continue
        quiet = math.isfinite(first) and abs(first) < SENSITIVITY_FIRST_ORDER
        out.append(_finding(
            "prior sensitivity", name, math.nan, rule, "ok" if quiet else "care",
            f"cannot tell how much {name}'s ROI rests on the prior (Pareto k {k:.2f})",
            f"With a {factor:g}x wider {site} prior the posterior of {name} would differ too "
            f"much from this one to be read off these draws (Pareto k {k:.2f} > "
            f"{row['k_max']:.2f}); a first-order estimate moves its ROI by {first:+.1f} "
            f"posterior sd, so the prior may matter. Fix: refit with the wider prior"
            f"{refit} and compare {name}'s ROI, or add a lift test for it."))
    return out


def _prior_code(prior: Prior) -> str:
    def fmt(v: Any) -> str:
        return "[" + ", ".join(f"{x:.3g}" for x in v) + "]" if isinstance(v, tuple) \
            else f"{v:.3g}"

    inner = ", ".join(f"'{k}': {fmt(v)}" for k, v in prior.params.items())
    return f"Prior('{prior.dist}', {{{inner}}})"
