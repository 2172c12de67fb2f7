"""Fit quality and convergence, in numbers and in plain words."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmmm.analysis._answers import summary
from bayesmmm.analysis._draws import mean_draws, noise_draws
from bayesmmm.model import FEW_GEOS, AveragedFit, Fit, Site

if TYPE_CHECKING:
    from bayesmmm.analysis._checks import Finding

__all__ = ["DIVERGENCE_USABLE", "ESS_BULK_MIN", "PARETO_K_GOOD", "PARETO_K_MAX", "R_HAT_MAX",
           "R_HAT_USABLE", "approximation_note", "convergence", "convergence_warnings",
           "divergence_tails", "fit_metrics", "fit_warnings"]

R_HAT_MAX = 1.01
ESS_BULK_MIN = 400
#: Looser lines for a fit whose answers can still be compared with others' (a model
#: search, a comparison) though not trusted on their own: its chains roughly agree, and
#: divergences are rare enough not to hide a region of the posterior.
R_HAT_USABLE = 1.05
DIVERGENCE_USABLE = 0.01


def convergence(fit: Fit) -> tuple[str, float, int, str]:
    """``(status, max r_hat, divergences, why)``: status ``converged`` (every r_hat <=
    1.01, no divergence), ``usable`` (r_hat <= 1.05, at most 1% divergent draws),
    ``unusable``, or ``unknown`` (one chain: no r_hat); ``why`` in plain words."""
    r_hat = float(summary(fit)["r_hat"].max())
    div = int(fit.sample_stats["diverging"].sum())
    share = div / fit.sample_stats["diverging"].size
    if share > DIVERGENCE_USABLE:
        return "unusable", r_hat, div, f"{div} divergent draws ({share:.1%})"
    if not np.isfinite(r_hat):
        return "unknown", r_hat, div, "one chain: convergence cannot be checked"
    if r_hat > R_HAT_USABLE:
        return "unusable", r_hat, div, f"not converged (r_hat {r_hat:.3f})"
    if r_hat > R_HAT_MAX or div:
        why = f"{div} divergent draws" if div else f"r_hat {r_hat:.3f} > {R_HAT_MAX}"
        return "usable", r_hat, div, f"not fully converged ({why})"
    return "converged", r_hat, div, ""


#: Divergent draws "sit" in a parameter's tail when their median lies in the outer
#: ``DIVERGENT_TAIL`` of its draws (at least ``DIVERGENT_MIN`` of them, to say so).
DIVERGENT_TAIL = 0.1
DIVERGENT_MIN = 3
#: A parameter whose 90% posterior interval keeps at least this share of its prior's
#: width is barely informed by the data.
BARELY_INFORMED = 0.5


def _prior_width(fit: Fit, name: str, index: int) -> float:
    """The 5-95% width of parameter ``name``'s prior (element ``index``); NaN when its
    prior is not the spec's own (a derived parameter)."""
    import jax

    try:
        d = fit.spec.prior(name).to_numpyro()
    except Exception:  # a parameter without a prior of its own in the spec
        return float("nan")
    draws = np.asarray(d.sample(jax.random.PRNGKey(0), (4000,)))
    draws = draws.reshape(4000, -1)[:, index if draws.ndim > 1 else 0]
    lo, hi = np.quantile(draws, [0.05, 0.95])
    return float(hi - lo)


def divergence_tails(fit: Fit, most: int = 3) -> list[dict[str, Any]]:
    """Where a fit's divergent draws sit, when they share the tail of channels' media
    parameters: the sampler failed in that region (the usual sign that the data say
    little about the channel's curve, so the sampler wanders into the prior's extremes,
    where a curve can turn into a step and the geometry is hard).

    Returns
    -------
    list of dict
        The ``most`` media parameters whose tail holds the divergent draws, the most
        extreme first: ``parameter`` (site), ``channel``, ``side`` (``"low"`` or
        ``"high"``), ``percentile`` (where the divergent draws' median lies among all
        draws, 0-1), ``divergent`` (their number) and ``prior_share`` (the 90% posterior
        width over the prior's: near 1, the data barely moved it; NaN when unknown).
        Empty without at least :data:`DIVERGENT_MIN` divergent draws or when they share
        no tail.
    """
    div = np.asarray(fit.sample_stats["diverging"], dtype=bool).reshape(-1)
    n = int(div.sum())
    if n < DIVERGENT_MIN or n == div.size:
        return []
    found: list[tuple[float, str, int, float, np.ndarray]] = []
    for name, values in fit.posterior.items():
        dims = fit.dims.get(name, [])
        if not name.startswith(("adstock_", "saturation_")) or len(dims) != 1:
            continue
        flat = np.asarray(values).reshape(div.size, -1)
        for j in range(flat.shape[1]):
            ranks = np.argsort(np.argsort(flat[:, j])) / max(div.size - 1, 1)
            p = float(np.median(ranks[div]))  # 0: the lowest draw, 1: the highest
            if min(p, 1 - p) <= DIVERGENT_TAIL:
                found.append((abs(p - 0.5), name, j, p, flat[:, j]))
    out: list[dict[str, Any]] = []
    for _, name, j, p, v in sorted(found, key=lambda t: -t[0])[:most]:
        labels = list(fit.coords.get(fit.dims[name][0], []))
        lo, hi = np.quantile(v, [0.05, 0.95])
        width = _prior_width(fit, name, j)
        out.append({"parameter": name, "channel": labels[j] if j < len(labels) else str(j),
                    "side": "low" if p < 0.5 else "high", "percentile": p, "divergent": n,
                    "prior_share": float((hi - lo) / width) if width > 0 else float("nan")})
    return out


def _tails_words(tails: list[dict[str, Any]]) -> str:
    """The plain-words sentences of :func:`divergence_tails`."""
    where = " and ".join(f"the {t['side']} end of {t['channel']}'s {t['parameter']}"
                         for t in tails)
    text = f" The divergent draws sit at {where}"
    barely = [t for t in tails if np.isfinite(t["prior_share"])
              and t["prior_share"] >= BARELY_INFORMED]
    if not barely:
        channels = ", ".join(dict.fromkeys(str(t["channel"]) for t in tails))
        return (text + f": look at the curves of {channels} there (plots 'saturation' and "
                "'adstock'), or raise target_accept (e.g. --target-accept 0.95).")
    channel, name, share = barely[0]["channel"], barely[0]["parameter"], barely[0]["prior_share"]
    return (text + f"; the data barely inform {channel}'s {name} (its 90% interval keeps "
            f"{share:.0%} of the prior's width): {channel}'s response curve is weakly "
            "identified on these data and its ROI leans on the prior. Fix: a lift test for "
            f"{channel} (lift_tests in the spec), a saturation form with fewer free shapes "
            "(logistic), or --target-accept 0.95.")


def fit_metrics(fit: Fit | AveragedFit) -> dict[str, float]:
    """Posterior predictive fit on the fitted data.

    Returns
    -------
    dict
        ``r2`` (of the posterior-mean prediction), ``mape`` (percent, over periods with
        y != 0), ``durbin_watson`` of the residuals (2 = no autocorrelation; < 1.5 hints at
        missing structure), ``rmse`` and ``coverage_94`` (share of observations inside the
        94% posterior predictive interval, noise included).
    """
    y = fit.data.y_gt.reshape(-1)  # geo models: every (geo, period) is one observation
    mu = mean_draws(fit, keep_geo=True).reshape(-1, len(y))
    pred = mu.mean(axis=0)
    resid = y - pred
    ss_res = float(np.sum(resid**2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    nonzero = y != 0
    mape = float(np.mean(np.abs(resid[nonzero] / y[nonzero])) * 100)
    by_geo = resid.reshape(fit.data.n_geos, -1)  # Durbin-Watson within each geo's series
    dw = float(np.sum(np.diff(by_geo, axis=1) ** 2) / ss_res) if ss_res > 0 else float("nan")
    sigma = noise_draws(fit)  # (S, G)
    sigma = np.repeat(sigma, fit.data.n_times, axis=1)
    rng = np.random.default_rng(0)
    pp = mu + rng.standard_normal(mu.shape) * sigma
    low, high = np.quantile(pp, [0.03, 0.97], axis=0)
    coverage = float(np.mean((y >= low) & (y <= high)))
    return {"r2": 1 - ss_res / ss_tot, "mape": mape, "durbin_watson": dw,
            "rmse": float(np.sqrt(ss_res / len(y))), "coverage_94": coverage}


def fit_warnings(fit: Fit | AveragedFit) -> list[str]:
    """Every warning about a fit in plain words: convergence (:func:`convergence_warnings`)
    and identification (:func:`bayesmmm.analysis.identification_checks`: a shape the
    forms miss, an ROI resting on its prior, spend that follows the season, an ROI prior
    that fights the data, a poor fit), each with its fix. An averaged fit's are its
    members', each named, and where structures that predict equally well disagree on an
    ROI (:func:`bayesmmm.analysis.structure_checks`), the range to report."""
    from bayesmmm.analysis._checks import identification_checks, structure_checks

    if isinstance(fit, AveragedFit):
        members = [f"{label}: {w}" for label, member in fit.fits.items()
                   if fit.weights[label] > 0 for w in fit_warnings(member)]
        return members + [_sentence(f) for f in structure_checks(fit) if f.status != "ok"]
    out = convergence_warnings(fit)
    out += [_sentence(f) for f in identification_checks(fit) if f.status != "ok"]
    return out


def _sentence(finding: Finding) -> str:
    """A finding as one warning: its problem, capitalised, then its advice."""
    return f"{finding.problem[:1].upper()}{finding.problem[1:]}. {finding.advice}"


#: Pareto k-hat of an approximate fit's importance weights: up to this the corrected draws
#: are close to exact; up to PARETO_K_MAX usable (with care); above, the approximation
#: misses part of the posterior and its answers may be biased (Vehtari et al. 2024).
PARETO_K_GOOD = 0.5
PARETO_K_MAX = 0.7


def approximation_note(fit: Fit) -> str:
    """How far an approximate fit (``method='advi'``) can be trusted, in plain words."""
    info = fit.meta["approximation"]
    k, ess = float(info["pareto_k"]), float(info["importance_ess"])
    head = (f"This is an approximate fit (ADVI, {info.get('paths_kept', info['paths'])} "
            f"path(s); Pareto k-hat {k:.2f}, importance ESS {ess:.0f}): ")
    if k <= PARETO_K_GOOD:
        return head + ("its draws are close to the exact posterior's. Good for exploring; "
                       "confirm with method='nuts' before final decisions.")
    if k <= PARETO_K_MAX:
        return head + ("usable for exploring, but intervals may be off. Run method='nuts' "
                       "before planning on it.")
    return head + ("the normal approximation misses part of the posterior, so answers may "
                   "be biased. Do not plan on it: run method='nuts'.")


def convergence_warnings(fit: Fit | AveragedFit) -> list[str]:
    """Plain-words warnings: r_hat > 1.01, any divergence, ess_bulk < 400, draws cut
    short by a time limit. An averaged fit's are its members', each named."""
    if isinstance(fit, AveragedFit):
        return [f"{label}: {w}" for label, member in fit.fits.items()
                for w in convergence_warnings(member)]
    if "approximation" in fit.meta:
        return [approximation_note(fit)]
    out = []
    table = summary(fit)
    if fit.meta.get("stopped_early"):
        options = fit.meta.get("options", {})
        out.append(
            f"Sampling stopped at the time limit ({options.get('time_limit')} s) after "
            f"{fit.n_draws} of {options.get('draws')} draws per chain. Judge the fit by the "
            "checks below, or allow more time (time_limit) or ask for fewer draws.")
    if fit.n_chains < 2:
        out.append("With one chain, convergence (r_hat) cannot be checked: the chain may be "
                   "stuck without any sign. Run at least 2 chains (4 recommended).")
    bad_rhat = table[table["r_hat"] > R_HAT_MAX]
    if len(bad_rhat):
        worst = bad_rhat["r_hat"].idxmax()
        out.append(
            f"The chains disagree for {len(bad_rhat)} parameter(s) (r_hat > {R_HAT_MAX}; worst "
            f"{worst} = {bad_rhat['r_hat'].max():.3f}), so the results are not reliable yet. "
            "Run more warm-up and draws (e.g. --warmup 2000 --draws 2000).")
    n_div = int(fit.sample_stats["diverging"].sum())
    if n_div:
        total = fit.sample_stats["diverging"].size
        tails = divergence_tails(fit)
        out.append(
            f"{n_div} of {total} draws ended in a divergence: the sampler could not explore "
            "part of the posterior, so intervals may be biased."
            + (_tails_words(tails) if tails else
               " Raise target_accept (e.g. --target-accept 0.95) or reconsider "
               "priors/channels."))
    low_ess = table[table["ess_bulk"] < ESS_BULK_MIN]
    if len(low_ess):
        worst = low_ess["ess_bulk"].idxmin()
        out.append(
            f"Only {low_ess['ess_bulk'].min():.0f} effective draws for {worst} (want >= "
            f"{ESS_BULK_MIN}; {len(low_ess)} parameter(s) below): estimates are noisy. "
            "Run more draws or chains.")
    if out and (advice := few_geos_advice(fit)):
        out.append(advice)
    return out


def few_geos_advice(fit: Fit) -> str:
    """For a fit with trouble on a panel of :data:`FEW_GEOS` geos or fewer that pools
    the curves' shapes or the controls (``geo_shared`` given explicitly: ``"auto"`` shares
    them there): share them (docs/benchmarks.md, session 25: on ``growing_business``, 2
    geos, 560 divergent draws -> 0)."""
    structure = fit.structure
    if not structure.panel or structure.n_geos > FEW_GEOS:
        return ""
    pooled = [name for name, _ in structure.pooled if name != Site.BETA]
    if not pooled:
        return ""
    return (f"This panel has {structure.n_geos} geos, so each pooled parameter's spread across "
            f"geos rests on {structure.n_geos} values: its prior decides it, and the sampler "
            "meets a funnel. Fix: share the curves' shapes and the controls across geos "
            f"(geo_shared='auto', the default, does on {FEW_GEOS} geos or fewer; here "
            f"geo_shared={pooled}); each geo keeps its own saturation_beta.")
