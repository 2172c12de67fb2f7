"""Peer adapters for the benchmark child: PyMC-Marketing and Google Meridian.

Imported by ``_child.py`` in the peer's own interpreter (never by BayesMMM itself).
PyMC-Marketing's models come from the repository's ``benchmarks/fit_speed.py``
(national classic MMM) and ``benchmarks/geo_speed.py`` (geo model with BayesMMM's
hierarchy and per-geo scaling); Meridian's is built here. Each adapter fits, summarises
(the clock stops there), then reduces the posterior to the child's outputs.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from _child import Skip, spend_totals, stop_clock, summarise, write_outputs  # type: ignore[import-not-found]


def fit(t0: float, a: argparse.Namespace, spec: dict[str, Any], out: Path) -> dict[str, Any]:
    if a.library == "pymc-marketing":
        return fit_pymc(t0, a, spec, out)
    if a.library == "meridian":
        return fit_meridian(t0, a, spec, out)
    raise Skip(f"unknown library {a.library!r}")


# --- PyMC-Marketing -------------------------------------------------------------------------


def _adapters(folder: Path | None) -> tuple[Any, Any]:
    """``benchmarks/fit_speed.py`` and ``geo_speed.py`` (the latter may be absent)."""
    if folder is None or not (folder / "fit_speed.py").is_file():
        raise Skip(f"peer adapter benchmarks/fit_speed.py not found (looked in {folder}); "
                   "run from a source checkout of bayesmmm")
    sys.path.insert(0, str(folder))
    import fit_speed  # type: ignore[import-not-found]

    try:
        import geo_speed  # type: ignore[import-not-found]
    except ImportError:
        geo_speed = None
    return fit_speed, geo_speed


def _pymc_names(idata: Any, panel: bool) -> tuple[list[str], dict[str, str]]:
    """The peer's free parameters and their BayesMMM names."""
    post = idata.posterior
    if not panel:
        names = ["intercept", "adstock_alpha", "saturation_lam", "saturation_beta",
                 "gamma_control", "gamma_fourier", "y_sigma"]
        return [n for n in names if n in post], {}
    rename = {"intercept_contribution": "intercept",
              "gamma_control": "gamma_control_geo", "gamma_control_mu": "gamma_control"}
    for p in ("adstock_alpha", "saturation_lam", "saturation_beta"):
        rename.update({f"{p}_raw_mu_raw": p, p: f"{p}_geo", f"{p}_raw_sigma": f"{p}_sigma"})
    names = [n for n in (*rename, "gamma_control_sigma", "gamma_fourier", "y_sigma", "delta")
             if n in post]
    return names, rename


def fit_pymc(t0: float, a: argparse.Namespace, spec: dict[str, Any],
             out: Path) -> dict[str, Any]:
    if a.sampler not in ("nutpie", "pymc", "numpyro", "blackjax"):
        raise Skip(f"pymc-marketing has no sampler {a.sampler!r}")
    try:
        import pymc_marketing  # noqa: F401
        if a.sampler == "nutpie":
            import nutpie  # noqa: F401
    except ImportError as exc:
        raise Skip(f"not installed in {sys.executable}: {exc}; pip install "
                   "'bayesmmm[bench]' or pass --peer-python") from None
    import numpy as np
    import pandas as pd

    fit_speed, geo_speed = _adapters(a.benchmarks)
    panel = bool(spec.get("panel_columns"))
    y_col, date = spec["y_column"], spec["date_column"]
    df = pd.read_csv(a.data, parse_dates=[date])
    channels = list(spec["channel_columns"])
    kwargs = dict(progressbar=False, random_seed=a.seed, nuts_sampler=a.sampler,
                  chains=a.chains, tune=a.tune, draws=a.draws,
                  target_accept=a.target_accept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if panel:
            if geo_speed is None:
                raise Skip("geo data needs the peer adapter benchmarks/geo_speed.py, which is "
                           "not there")
            mmm = geo_speed.peer_model(spec, df)
            idata = mmm.fit(df.drop(columns=[y_col]), df[y_col], **kwargs)
        else:
            mmm = fit_speed._peer_model(spec)
            columns = [date, *channels, *spec["control_columns"]]
            idata = mmm.fit(df[columns], df[y_col], **kwargs)
    names, rename = _pymc_names(idata, panel)
    table = summarise(idata, names, rename)
    clock = stop_clock(t0)
    # the multidimensional MMM names Fourier modes sin_1 ...; BayesMMM sin_order_1 ...
    table = table.rename(index=lambda n: re.sub(r"\b(sin|cos)_(\d+)\]", r"\1_order_\2]", n))
    idata.to_netcdf(str(out / "idata.nc"))  # first: a later step's failure keeps the fit
    if panel:
        geo = spec["panel_columns"][0]
        scale = mmm.get_scales_as_xarray()["target_scale"]
        contrib, mu = _pymc_panel_means(idata.posterior, scale, geo)
        geos = contrib.coords[geo].values
    else:
        post = idata.posterior
        contrib = post["channel_contribution_original_scale"].transpose(
            "chain", "draw", "date", "channel").expand_dims("geo", axis=2)
        mu = post["y_original_scale"].expand_dims("geo", axis=2)
        geos = ()
    c = contrib.values.reshape(-1, *contrib.shape[2:])  # (S, G, T, C)
    roi = c.sum(axis=(1, 2)) / spend_totals(df, channels)
    write_outputs(out, table, c.mean(axis=0), mu.values.reshape(-1, *mu.shape[2:]), roi, geos)
    stats = idata.sample_stats
    # PyMC's own clock around its sampler call: warm-up and draws (nutpie's compilation
    # happens before it starts)
    sampler_s = idata.posterior.attrs.get("sampling_time")
    return {**clock, "divergences": int(stats["diverging"].sum()),
            "steps_per_draw": float(stats["n_steps"].mean()) if "n_steps" in stats else None,
            "seconds_sampler": float(sampler_s) if sampler_s is not None else None,
            "target_accept": a.target_accept,
            "artifact": "idata.nc", "versions": {"pymc-marketing": pymc_marketing.__version__},
            "n_samples": int(np.prod(idata.posterior.sizes["chain"]
                                     * idata.posterior.sizes["draw"]))}


def _pymc_panel_means(post: Any, scale: Any, geo: str) -> tuple[Any, Any]:
    """Channel contributions ``(chain, draw, geo, date, channel)`` and the expected target
    ``(chain, draw, geo, date)`` in original units. The multidimensional MMM keeps no
    ``mu``: it is the sum of its contribution variables (a trend effect, if any, is left
    out, so R² and MAPE would be those of the model without it)."""
    contrib = post["channel_contribution"] * scale
    mu = post["intercept_contribution"] + post["channel_contribution"].sum("channel")
    for name, dim in (("control_contribution", "control"),
                      ("yearly_seasonality_contribution", None)):
        if name in post:
            mu = mu + (post[name].sum(dim) if dim else post[name])
    order = ("chain", "draw", geo, "date")
    return (contrib.transpose(*order, "channel"),
            (mu * scale).transpose(*order))


# --- Meridian ---------------------------------------------------------------------------------


def _fourier(dates: Any, n_modes: int) -> dict[str, Any]:
    """Yearly Fourier columns as BayesMMM and PyMC-Marketing build them."""
    import numpy as np

    t = dates.dt.dayofyear.to_numpy() / 365.25
    cols = {}
    for k in range(1, n_modes + 1):
        cols[f"sin_order_{k}"] = np.sin(2 * math.pi * k * t)
    for k in range(1, n_modes + 1):
        cols[f"cos_order_{k}"] = np.cos(2 * math.pi * k * t)
    return cols


def fit_meridian(t0: float, a: argparse.Namespace, spec: dict[str, Any],
                 out: Path) -> dict[str, Any]:
    if a.sampler != "tfp":
        raise Skip(f"meridian has no sampler {a.sampler!r} (it samples with TFP's NUTS: tfp)")
    try:
        import meridian
        from meridian.analysis import analyzer
        from meridian.data import data_frame_input_data_builder as builder
        from meridian.model import model, prior_distribution
        from meridian.model import spec as mspec
    except Exception as exc:  # TensorFlow can fail with more than ImportError
        raise Skip(f"not installed: {type(exc).__name__}: {exc}") from None
    import numpy as np
    import pandas as pd
    from meridian import backend

    date, y_col = spec["date_column"], spec["y_column"]
    channels, controls = list(spec["channel_columns"]), list(spec["control_columns"])
    panel = list(spec.get("panel_columns") or [])
    df = pd.read_csv(a.data, parse_dates=[date])
    fourier = _fourier(df[date], int(spec.get("yearly_seasonality") or 0))
    df = df.assign(**fourier)
    df[date] = df[date].dt.strftime("%Y-%m-%d")
    geo = panel[0] if panel else "geo"
    b = builder.DataFrameInputDataBuilder(kpi_type="revenue", default_geo_column=geo,
                                          default_time_column=date)
    b = b.with_kpi(df, kpi_col=y_col)
    if controls or fourier:
        b = b.with_controls(df, control_cols=[*controls, *fourier])
    b = b.with_media(df, media_cols=channels, media_spend_cols=channels,
                     media_channels=channels)
    if panel:
        b = b.with_population(df.assign(population=1.0), population_col="population")
    data = b.build()
    prior = prior_distribution.PriorDistribution(
        alpha_m=backend.tfd.Beta(backend.np_float_dtype(1.0), backend.np_float_dtype(3.0),
                               name="alpha_m"))
    model_spec = mspec.ModelSpec(prior=prior, max_lag=int(spec["adstock_max_lag"]) - 1,
                                 knots=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mmm = model.Meridian(input_data=data, model_spec=model_spec)
        started = time.perf_counter()
        # TFP's windowed-adaptive NUTS reads the target from its dual-averaging step-size
        # adaptation (its own default: 0.85); Meridian's JAX backend (its default since
        # 2.x) compiles with the keywords as a static argument, which must hash
        mmm.sample_posterior(n_chains=a.chains, n_adapt=a.tune, n_burnin=0, n_keep=a.draws,
                             seed=a.seed, dual_averaging_kwargs=_StaticKwargs(
                                 target_accept_prob=a.target_accept))
        sampler_s = time.perf_counter() - started
    idata = mmm.inference_data
    post = idata.posterior
    names = [n for n in post.data_vars if "time" not in post[n].dims]
    table = summarise(idata, names, {"alpha_m": "adstock_alpha"})
    clock = stop_clock(t0)
    table = table.rename(index=lambda n: n.replace("_dim_0", ""))
    idata.to_netcdf(str(out / "idata.nc"))  # first: a later step's failure keeps the fit
    an = analyzer.Analyzer(mmm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = np.asarray(an.incremental_outcome(aggregate_geos=False, aggregate_times=False))
        mu = np.asarray(an.expected_outcome(aggregate_geos=False, aggregate_times=False))
    inc = inc.reshape(-1, *inc.shape[2:])  # (S, G, T, C)
    roi = inc.sum(axis=(1, 2)) / spend_totals(df, channels)
    geos = [str(g) for g in mmm.input_data.geo.values] if panel else ()
    write_outputs(out, table, inc.mean(axis=0), mu.reshape(-1, *mu.shape[2:]), roi, geos)
    stats = idata.sample_stats
    return {**clock, "seconds_sampler": sampler_s, "target_accept": a.target_accept,
            "divergences": int(stats["diverging"].sum()) if "diverging" in stats else None,
            "steps_per_draw": float(stats["n_steps"].mean()) if "n_steps" in stats else None,
            "artifact": "idata.nc", "versions": {"google-meridian": meridian.__version__,
                                                 "meridian-backend": _meridian_backend()}}


class _StaticKwargs(dict):  # type: ignore[type-arg]
    """Keyword arguments that JAX accepts as a static (hashed) argument."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


def _meridian_backend() -> str:
    import os

    return os.environ.get("MERIDIAN_BACKEND") or "jax (default)"
