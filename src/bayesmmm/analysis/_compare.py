"""Model comparison: PSIS-LOO (ArviZ) on the fitted periods and MAPE on held-out ones."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayesmmm.analysis._diagnostics import convergence
from bayesmmm.analysis._draws import mean_draws, noise_draws
from bayesmmm.analysis._predict import holdout_metrics, train_test_split
from bayesmmm.data import MMMData
from bayesmmm.errors import SpecError
from bayesmmm.model import Fit, ModelSpec, Site, fit, model_data

__all__ = ["Comparison", "compare_fits", "compare_specs", "log_likelihood"]


def log_likelihood(f: Fit) -> np.ndarray:
    """Pointwise log likelihood ``(n_chains, n_draws, n_geos * n_times)`` (original units)."""
    from scipy import stats

    mu = mean_draws(f, keep_geo=True)  # (S, G, T)
    sigma = noise_draws(f)  # (S, G)
    ll = stats.norm.logpdf(f.data.y_gt[None], mu, sigma[:, :, None])
    return ll.reshape(f.n_chains, f.n_draws, -1)


def _idata(f: Fit) -> Any:
    import arviz as az

    idata = az.from_dict(posterior={Site.Y_SIGMA: f.posterior[Site.Y_SIGMA]},
                         log_likelihood={"y": log_likelihood(f)})
    return idata


@dataclass
class Comparison:
    """Models ranked: ``table`` (one row per model) and a plain-words ``recommendation``."""

    table: pd.DataFrame
    recommendation: str
    fits: dict[str, Fit]


def _loo(idata: Any) -> Any:
    import arviz as az

    with warnings.catch_warnings():  # counted in the table (pareto_k_bad), said once
        warnings.simplefilter("ignore", UserWarning)
        return az.loo(idata, pointwise=True)


def compare_fits(fits: Mapping[str, Fit], test: Mapping[str, MMMData] | MMMData | None = None,
                 dropped: Mapping[str, str] | None = None) -> Comparison:
    """Rank fitted models by expected log predictive density (PSIS-LOO) and holdout MAPE.

    Only fits that are at least usable (:func:`convergence`: r_hat <= 1.05, at most 1%
    divergent draws) are ranked, since an unconverged fit's LOO says nothing about its
    model; the recommendation flags ranked fits that are not fully converged (r_hat >
    1.01 or any divergence) and single chains, whose convergence cannot be checked.
    Unranked fits keep a row with ``rank`` empty and the reason in ``why_not_ranked``;
    ``dropped`` adds rows for models that could not be fitted at all (name -> reason).

    Columns: ``rank``, ``elpd_loo``, ``se``, ``elpd_diff`` and ``dse`` (difference to the
    best and its standard error), ``weight`` (stacking), ``p_loo``, ``pareto_k_bad``
    (observations with Pareto k > 0.7: LOO is unreliable there), ``holdout_mape``,
    ``holdout_r2``, ``in_sample_mape``, ``max_r_hat``, ``divergences``, ``why_not_ranked``.
    """
    if len(fits) < 1 and not dropped:
        raise SpecError("compare needs at least one fitted model")
    rows: dict[str, dict[str, Any]] = {}
    idatas = {}
    for name, f in fits.items():
        status, r_hat, div, why = convergence(f)
        idatas[name] = _idata(f)
        loo = _loo(idatas[name])
        row: dict[str, Any] = {
            "elpd_loo": float(loo.elpd_loo), "se": float(loo.se), "p_loo": float(loo.p_loo),
            "pareto_k_bad": int((np.asarray(loo.pareto_k) > 0.7).sum()),
            "in_sample_mape": f.fit_metrics()["mape"], "max_r_hat": r_hat,
            "divergences": div, "convergence": status,
            "why_not_ranked": why if status == "unusable" else ""}
        t = test.get(name) if isinstance(test, Mapping) else test
        if t is not None:
            h = holdout_metrics(f, t)
            row.update(holdout_mape=h["mape"], holdout_r2=h["r2"])
        rows[name] = row
    for name, why in (dropped or {}).items():
        rows[name] = {"why_not_ranked": why}
    ranked = [n for n in fits if not rows[n]["why_not_ranked"]]
    if len(ranked) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = az_compare({n: idatas[n] for n in ranked})
        for n in ranked:
            rows[n].update(elpd_diff=float(table.loc[n, "elpd_diff"]),
                           dse=float(table.loc[n, "dse"]), weight=float(table.loc[n, "weight"]))
    elif ranked:
        rows[ranked[0]].update(elpd_diff=0.0, dse=0.0, weight=1.0)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    order = sorted(rows, key=lambda n: (n not in ranked, -rows[n].get("elpd_loo", -np.inf)))
    out = out.loc[order]
    out.insert(0, "rank", [float(i + 1) if n in ranked else np.nan
                           for i, n in enumerate(order)])
    return Comparison(out, _recommend(out.reset_index(), fits), dict(fits))


def az_compare(idatas: Mapping[str, Any]) -> pd.DataFrame:
    import arviz as az

    return az.compare(dict(idatas), ic="loo", method="stacking")


def _recommend(t: pd.DataFrame, fits: Mapping[str, Fit]) -> str:
    ranked = t[t["why_not_ranked"] == ""]
    if not len(ranked):
        return ("No model converged, so none can be recommended: " +
                "; ".join(f"'{m}': {w}" for m, w in zip(t["model"], t["why_not_ranked"],
                                                        strict=True)) +
                ". Rerun with more warm-up and draws (e.g. 4 chains x 2000 x 1000).")
    best = ranked.iloc[0]
    text = f"'{best['model']}' predicts best by PSIS-LOO (elpd {best['elpd_loo']:.1f})."
    if len(ranked) > 1:
        second = ranked.iloc[1]
        tied = second["elpd_diff"] < 2 * max(second["dse"], 1e-9)
        text += (f" '{second['model']}' is within two standard errors of it (difference "
                 f"{second['elpd_diff']:.1f} ± {second['dse']:.1f}), so the data cannot tell "
                 "them apart;" if tied else f" It beats '{second['model']}' by "
                 f"{second['elpd_diff']:.1f} ± {second['dse']:.1f}.")
        if tied and "holdout_mape" in ranked:
            pick = ranked.iloc[:2].sort_values("holdout_mape").iloc[0]
            text += f" prefer '{pick['model']}', which has the lower holdout MAPE " \
                    f"({pick['holdout_mape']:.1f}%)."
        elif tied:
            text += " prefer the simpler one or add a holdout, or average them: " \
                    "fit with forms='auto'."
    left = t[t["why_not_ranked"] != ""]
    if len(left):
        text += (" Not ranked: " + "; ".join(f"'{m}' ({w})" for m, w in
                                             zip(left["model"], left["why_not_ranked"],
                                                 strict=True)) + ".")
    single = ranked[ranked["convergence"] == "unknown"]["model"].tolist()
    if single:
        text += (" Convergence of " + ", ".join(f"'{m}'" for m in single) + " cannot be "
                 "checked with one chain: run 2 or more before trusting the ranking.")
    rough = ranked[ranked["convergence"] == "usable"]["model"].tolist()
    if rough:
        text += (" Not fully converged (r_hat > 1.01 or divergences): " +
                 ", ".join(f"'{m}'" for m in rough) +
                 "; rerun those with more warm-up and draws before trusting the ranking.")
    bad_k = ranked[ranked["pareto_k_bad"] > 0]
    if len(bad_k):
        text += (" LOO is unreliable for some observations (Pareto k > 0.7) in " +
                 ", ".join(f"'{m}' ({int(k)})" for m, k in
                           zip(bad_k["model"], bad_k["pareto_k_bad"], strict=True)) + ".")
    return text


def compare_specs(data: MMMData | pd.DataFrame | str, specs: Mapping[str, ModelSpec], *,
                  holdout_periods: int = 0,
                  progress: Callable[[str], None] | None = None,
                  **sampler: Any) -> Comparison:
    """Fit every spec on the same data (the first periods, when ``holdout_periods`` are
    held out) and rank them with :func:`compare_fits`. ``sampler`` goes to
    :func:`bayesmmm.fit` (chains, warmup, draws, seed, ...).

    A spec that cannot be fitted to these data (e.g. a control duplicating its trend) is
    not ranked, with the reason; a fit that does not converge is fitted once more with
    twice the warm-up, and left unranked if it still does not.
    """
    fits, tests, dropped = {}, {}, {}
    for name, spec in specs.items():
        if progress:
            progress(name)
        try:
            prepared = model_data(data, spec)
            train = prepared
            if holdout_periods:
                train, tests[name] = train_test_split(prepared, holdout_periods)
            f = fit(train, spec, progress=False, **sampler)
            if convergence(f)[0] == "unusable":
                warmup = 2 * int(sampler.get("warmup", 1000))
                if progress:
                    progress(f"{name} (again, warm-up {warmup})")
                f = fit(train, spec, progress=False, **{**sampler, "warmup": warmup})
        except SpecError as exc:
            dropped[name] = f"cannot be fitted: {exc}"
            continue
        fits[name] = f
    return compare_fits(fits, tests or None, dropped)
