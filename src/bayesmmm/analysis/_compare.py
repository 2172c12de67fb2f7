"""Model comparison: PSIS-LOO (ArviZ) on the fitted periods and MAPE on held-out ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

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


def compare_fits(fits: Mapping[str, Fit], test: Mapping[str, MMMData] | MMMData | None = None
                 ) -> Comparison:
    """Rank fitted models by expected log predictive density (PSIS-LOO) and holdout MAPE.

    Columns: ``rank``, ``elpd_loo``, ``se``, ``elpd_diff`` and ``dse`` (difference to the
    best and its standard error), ``p_loo``, ``pareto_k_bad`` (observations with Pareto
    k > 0.7: LOO is unreliable there), ``holdout_mape``, ``holdout_r2``, ``in_sample_mape``,
    ``max_r_hat``, ``divergences``.
    """
    import arviz as az

    if len(fits) < 1:
        raise SpecError("compare needs at least one fitted model")
    idatas = {name: _idata(f) for name, f in fits.items()}
    table = az.compare(idatas, ic="loo", method="stacking") if len(fits) > 1 else None
    rows = []
    for name, f in fits.items():
        loo = az.loo(idatas[name], pointwise=True)
        row = {"model": name, "elpd_loo": float(loo.elpd_loo), "se": float(loo.se),
               "p_loo": float(loo.p_loo),
               "pareto_k_bad": int((np.asarray(loo.pareto_k) > 0.7).sum()),
               "in_sample_mape": f.fit_metrics()["mape"],
               "max_r_hat": float(f.summary()["r_hat"].max()),
               "divergences": int(f.sample_stats["diverging"].sum())}
        t = test.get(name) if isinstance(test, Mapping) else test
        if t is not None:
            h = holdout_metrics(f, t)
            row.update(holdout_mape=h["mape"], holdout_r2=h["r2"])
        if table is not None:
            row.update(elpd_diff=float(table.loc[name, "elpd_diff"]),
                       dse=float(table.loc[name, "dse"]), weight=float(table.loc[name, "weight"]))
        else:
            row.update(elpd_diff=0.0, dse=0.0, weight=1.0)
        rows.append(row)
    out = pd.DataFrame(rows).sort_values("elpd_loo", ascending=False).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return Comparison(out.set_index("model"), _recommend(out), dict(fits))


def _recommend(t: pd.DataFrame) -> str:
    best = t.iloc[0]
    text = f"'{best['model']}' predicts best by PSIS-LOO (elpd {best['elpd_loo']:.1f})."
    if len(t) > 1:
        second = t.iloc[1]
        tied = second["elpd_diff"] < 2 * max(second["dse"], 1e-9)
        text += (f" '{second['model']}' is within two standard errors of it (difference "
                 f"{second['elpd_diff']:.1f} ± {second['dse']:.1f}), so the data cannot tell "
                 "them apart;" if tied else f" It beats '{second['model']}' by "
                 f"{second['elpd_diff']:.1f} ± {second['dse']:.1f}.")
        if tied and "holdout_mape" in t:
            pick = t.iloc[:2].sort_values("holdout_mape").iloc[0]
            text += f" prefer '{pick['model']}', which has the lower holdout MAPE " \
                    f"({pick['holdout_mape']:.1f}%)."
        elif tied:
            text += " prefer the simpler one or add a holdout."
    problems = t[(t["max_r_hat"] > 1.01) | (t["divergences"] > 0)]
    if len(problems):
        text += (" Not converged (r_hat > 1.01 or divergences): " +
                 ", ".join(f"'{m}'" for m in problems["model"]) +
                 "; rerun those with more warm-up before trusting the ranking.")
    bad_k = t[t["pareto_k_bad"] > 0]
    if len(bad_k):
        text += (" LOO is unreliable for some observations (Pareto k > 0.7) in " +
                 ", ".join(f"'{m}'" for m in bad_k["model"]) + ".")
    return text


def compare_specs(data: MMMData | pd.DataFrame | str, specs: Mapping[str, ModelSpec], *,
                  holdout_periods: int = 0,
                  progress: Callable[[str], None] | None = None,
                  **sampler: Any) -> Comparison:
    """Fit every spec on the same data (the first periods, when ``holdout_periods`` are
    held out) and rank them with :func:`compare_fits`. ``sampler`` goes to
    :func:`bayesmmm.fit` (chains, warmup, draws, seed, ...)."""
    fits, tests = {}, {}
    for name, spec in specs.items():
        if progress:
            progress(name)
        prepared = model_data(data, spec)
        if holdout_periods:
            train, tests[name] = train_test_split(prepared, holdout_periods)
        else:
            train = prepared
        fits[name] = fit(train, spec, progress=False, **sampler)
    return compare_fits(fits, tests or None)
