"""Whole-fit speed of BayesMMM's geo-hierarchical model against PyMC-Marketing with nutpie.

What is measured
----------------
As in ``fit_speed.py`` (whose helpers this script imports): each fit runs in a fresh
Python subprocess, the clock starts just before the first third-party import and stops
once the posterior summary table (mean, sd, HDI, ESS, R-hat) has been computed, so
reading the CSV, building, compiling, sampling and summarising are all inside it.
Columns: wall seconds, the smallest ``ess_bulk`` and the largest ``r_hat`` over every
parameter in the summary (population values, geo spreads and per-geo values), ESS/s
(smallest ESS bulk per wall second), divergences, mean leapfrog steps per draw, peak
resident memory of the fitting process and the size of the saved fit file (written
after the clock stops: ``Fit.save`` for BayesMMM, ``MMM.save`` for the peer).

Datasets: the synthetic presets ``medium_business`` (156 weeks x 8 geos x 8 channels
x 4 controls, all channels geometric + logistic) and ``large_business`` (208 x 50 x 30
x 10, a linear trend, channels over every registered adstock/saturation form), from
``bayesmmm.synth.simulate_preset(name, --data-seed)``; their CSV and spec files are
written under ``benchmarks/results/data/``.

Rows per dataset:

* ``bayesmmm true-forms``: ``bayesmmm.fit`` with the preset's own per-channel forms;
* ``bayesmmm classic``: every channel geometric adstock + logistic saturation: the
  like-for-like row against the peer;
* ``pymc-nutpie classic``: ``pymc_marketing.mmm.multidimensional.MMM(dims=("geo",))``
  fitted with ``nuts_sampler="nutpie"``.

Each row is a cold fit (a fresh ``BAYESMMM_CACHE_DIR`` / PyTensor compile directory);
``--warm`` repeats it reusing that cache. ESS/s ratios compare BayesMMM with the peer
measured in the same run (cold with cold, warm with warm); the peer may run at reduced
settings (``--peer-chains/--peer-warmup/--peer-draws``), which every table states.

The two geo models, and every difference between them
-----------------------------------------------------
Shared: per-geo max scaling of each channel and of the target (the peer's
``scaling={"channel": {"method": "max", "dims": ()}, "target": ...}`` reduces over the
date only, i.e. one scale per geo and channel; its default reduces over the geos too);
normalised geometric adstock with the same ``l_max``; logistic saturation;
``intercept ~ Normal(0, 2)``, ``y_sigma ~ HalfNormal(2)`` and ``gamma_fourier ~
Laplace(0, 1)`` per geo; unscaled controls. Channel parameters are partially pooled with
the same non-centred structure on both sides: a population value ``p`` with the national
prior (alpha ~ Beta(1, 3), lam ~ Gamma(3, 1), beta ~ HalfNormal(2)), a spread
``sigma ~ HalfNormal(0.3)`` per channel and ``p_geo = T(T^-1(p) + sigma * z)``,
``z ~ Normal(0, 1)``, with T = sigmoid for alpha and exp for lam and beta (built with
``pymc_extras`` ``Prior(..., centered=False, transform=...)``). Controls are pooled as in
BayesMMM: ``gamma_geo = gamma + (sigma / sd_k) z`` with ``gamma ~ Normal(0, 2)`` and
``sigma ~ HalfNormal(0.3)`` in units of the control's standard deviation ``sd_k`` over all
geos and weeks (the peer's ``sigma`` prior is ``HalfNormal(0.3 / sd_k)``: the same).
``large_business``'s linear trend: BayesMMM's per-geo ``trend_slope ~ Normal(0, 1)`` on
``t / (T - 1)``; the peer's ``LinearTrendEffect(LinearTrend(n_changepoints=1))`` with
``delta ~ Normal(0, 1)`` per geo on days / max days: the same line.

Differences: (1) BayesMMM samples in its own basis (every component centred over time,
the intercept recovered by a unit-Jacobian shift, controls standardised): the same
posterior, other geometry. (2) The peer's scales are ``max`` (not ``max |x|``): equal
for these non-negative data. (3) The peer's summary covers the corresponding variables
(``adstock_alpha_raw_mu_raw`` is the population alpha, ``*_raw_sigma`` the spread,
``adstock_alpha`` the geo values, ``intercept_contribution``, ``gamma_control_mu/_sigma``,
``gamma_control``, ``gamma_fourier``, ``y_sigma``, ``delta``); bulk ESS and R-hat are rank
based, so a monotone reparametrisation does not change them. (4) After sampling,
PyMC-Marketing computes every deterministic (including ``channel_contribution``, date x
geo x channel per draw) inside ``fit``; that is part of its fit as a user runs it and is
inside the clock (its time is reported as ``deterministics_s``). (5) The
``true-forms`` row has no peer counterpart: PyMC-Marketing's MMM takes one adstock and
one saturation for all channels.

Nothing is asserted: the script prints a table per dataset and the ESS/s ratios and exits
0 unless a BayesMMM fit fails. A peer fit that exceeds ``--timeout`` is reported as timed
out; when PyMC-Marketing or nutpie cannot be imported only BayesMMM is measured.
``GEO_SPEED_KEEP_FITS=DIR`` keeps each BayesMMM fit in ``DIR`` (its per-parameter
diagnostics; the printed rows name the worst-ESS and worst-r_hat parameters).
``GEO_SPEED_PROGRESS=FILE`` appends each BayesMMM fit's progress to ``FILE`` (seconds since
the clock started, phase, iterations done), one line per compiled chunk of 50 iterations.
``GEO_SPEED_CENTRING=none`` fits BayesMMM with ``bm.fit(..., centring="none")`` (default
``auto``, the library's default since session 25); the rows record which.

Run it with an interpreter that has both libraries (``pip install 'bayesmmm[bench]'``)::

    .venv-bench/bin/python benchmarks/geo_speed.py --quick        # 1 chain x 100 x 100
    .venv-bench/bin/python benchmarks/geo_speed.py --datasets medium_business \\
        --peer-chains 2 --peer-warmup 500 --peer-draws 500
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_speed import (  # noqa: E402  (the benchmarks folder is not a package)
    BASE_ENV,
    PEER_MISSING,
    Settings,
    _log,
    peer_missing,
    peer_row,
    versions,
)
from fit_speed import child_main as fit_speed_child  # noqa: E402
from fit_speed import run_child as fit_speed_run  # noqa: E402

DATASETS = ("medium_business", "large_business")
LABELS = ("bayesmmm true-forms", "bayesmmm classic", "pymc-nutpie classic")
OURS = LABELS[:2]
PEER = LABELS[2]
MARKER = "GEO_SPEED_RESULT "
RESULTS = Path(__file__).resolve().parent / "results"
GEO_SIGMA = 0.3  # HalfNormal scale of BayesMMM's geo spreads (unconstrained space)


# --- child side: one fit per process ------------------------------------------------------


def _fit_file_mib(save: Any) -> float:
    """Size of the file written by ``save(path)``, MiB (the clock has already stopped)."""
    with tempfile.TemporaryDirectory(prefix="geo-speed-fit-") as folder:
        path = Path(folder) / "fit.nc"
        save(path)
        return path.stat().st_size / 2**20


def _progress_log(t0: float) -> Any:
    """With ``GEO_SPEED_PROGRESS=FILE``, a callback appending ``seconds phase done/total``
    to FILE after each compiled chunk (a large run takes hours: its rate can be read, and
    the run judged, while it runs); otherwise ``False`` (no progress output)."""
    path = os.environ.get("GEO_SPEED_PROGRESS")
    if not path:
        return False

    def log(phase: str, done: int, total: int) -> None:
        with open(path, "a") as f:
            f.write(f"{time.perf_counter() - t0:.1f} {phase} {done}/{total}\n")

    return log


def fit_bayesmmm(t0: float, csv: Path, spec: dict[str, Any], s: Settings) -> dict[str, Any]:
    """Fit BayesMMM's geo model; the clock stops after the summary of all parameters."""
    import pandas as pd

    import bayesmmm as bm

    data = pd.read_csv(csv)
    fit = bm.fit(data, bm.ModelSpec.from_dict(spec), chains=s.chains, warmup=s.warmup,
                 draws=s.draws, target_accept=s.target_accept, seed=s.seed,
                 centring=os.environ.get("GEO_SPEED_CENTRING", "auto"),
                 progress=_progress_log(t0))
    table = fit.summary()
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "min_ess_bulk": float(table["ess_bulk"].min()),
            "min_ess_parameter": str(table["ess_bulk"].idxmin()),
            "max_r_hat": float(table["r_hat"].max()),
            # one chain (--quick) has no r_hat: NaN throughout
            "max_r_hat_parameter": (str(table["r_hat"].idxmax())
                                    if table["r_hat"].notna().any() else None),
            "n_r_hat_above_1_01": int((table["r_hat"] > 1.01).sum()),
            "divergences": int(fit.sample_stats["diverging"].sum()),
            "steps_per_draw": float(fit.sample_stats["num_steps"].mean()),
            "seconds_warmup": fit.meta.get("seconds_warmup"),
            "seconds_sampling": fit.meta.get("seconds_sampling"),
            "centring": fit.meta["options"]["centring"], "n_parameters": len(table),
            **_saved_fit(fit, csv, s)}


def _saved_fit(fit: Any, csv: Path, s: Settings) -> dict[str, Any]:
    """The fit file's size; with ``GEO_SPEED_KEEP_FITS=DIR`` the file is kept there (a large
    run takes an hour: its per-parameter diagnostics should not be lost with the process)."""
    folder = os.environ.get("GEO_SPEED_KEEP_FITS")
    if not folder:
        return {"fit_file_mib": _fit_file_mib(fit.save)}
    path = Path(folder) / f"{Path(csv).stem}_{s.chains}x{s.warmup}x{s.draws}_seed{s.seed}.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    fit.save(path)
    return {"fit_file_mib": path.stat().st_size / 2**20, "fit_path": str(path)}


def _register_logit() -> None:
    """``logit`` for ``Prior(transform=...)``: PyTensor's xtensor math lacks it."""
    import pytensor.xtensor.math as xmath
    from pymc_extras.prior import register_tensor_transform

    register_tensor_transform("logit", lambda x: xmath.log(x) - xmath.log1p(-x))


def peer_priors(control_sd: list[float]) -> dict[str, Any]:
    """BayesMMM's geo priors in PyMC-Marketing's ``model_config`` (see the module doc)."""
    from pymc_extras.prior import Prior

    _register_logit()

    def pooled(population: Any, inverse: str) -> Any:
        spread = Prior("HalfNormal", sigma=GEO_SIGMA, dims="channel")
        return Prior("Normal", mu=population, sigma=spread, dims=("geo", "channel"),
                     centered=False, transform=inverse)

    config = {
        "adstock_alpha": pooled(Prior("Beta", alpha=1, beta=3, dims="channel",
                                      transform="logit"), "sigmoid"),
        "saturation_lam": pooled(Prior("Gamma", alpha=3, beta=1, dims="channel",
                                       transform="log"), "exp"),
        "saturation_beta": pooled(Prior("HalfNormal", sigma=2, dims="channel",
                                        transform="log"), "exp"),
    }
    if control_sd:
        scale = [GEO_SIGMA / sd for sd in control_sd]
        config["gamma_control"] = Prior(
            "Normal", mu=Prior("Normal", mu=0, sigma=2, dims="control"),
            sigma=Prior("HalfNormal", sigma=scale, dims="control"), dims=("geo", "control"),
            centered=False)
    return config


def peer_model(spec: dict[str, Any], df: Any) -> Any:
    """PyMC-Marketing's multidimensional MMM with BayesMMM's geo structure."""
    import warnings

    import numpy as np
    from pymc_extras.prior import Prior
    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM

    (geo,) = spec["panel_columns"]
    controls = list(spec["control_columns"])
    sd = df[controls].to_numpy(float).std(axis=0) if controls else np.zeros(0)
    per_geo = {"method": "max", "dims": ()}  # reduce over date only: one scale per geo
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "xtensor module is experimental" and the like
        mmm = MMM(date_column=spec["date_column"], target_column=spec["y_column"],
                  channel_columns=list(spec["channel_columns"]), control_columns=controls or None,
                  dims=(geo,), scaling={"channel": per_geo, "target": per_geo},
                  adstock=GeometricAdstock(l_max=spec["adstock_max_lag"],
                                           normalize=spec["adstock_normalize"]),
                  saturation=LogisticSaturation(),
                  yearly_seasonality=spec["yearly_seasonality"] or None,
                  model_config=peer_priors([float(x) if x > 0 else 1.0 for x in sd]))
    if spec["trend"] == "linear":
        from pymc_marketing.mmm.additive_effect import LinearTrendEffect
        from pymc_marketing.mmm.linear_trend import LinearTrend

        delta = Prior("Normal", mu=0, sigma=1, dims=(geo, "changepoint"))
        trend = LinearTrend(n_changepoints=1, include_intercept=False, dims=(geo,),
                            priors={"delta": delta})
        mmm.mu_effects.append(LinearTrendEffect(trend=trend, prefix="trend"))
    elif spec["trend"] != "none":
        raise ValueError(f"peer model: trend {spec['trend']!r} is not mirrored; "
                         "only 'none' and 'linear' are")
    return mmm


#: The peer's variables that correspond to BayesMMM's summary rows.
PEER_SUMMARY = ["intercept_contribution", "delta",
                *(f"{p}{suffix}" for p in ("adstock_alpha", "saturation_lam", "saturation_beta")
                  for suffix in ("_raw_mu_raw", "_raw_sigma", "")),
                "gamma_control_mu", "gamma_control_sigma", "gamma_control", "gamma_fourier",
                "y_sigma"]


def fit_peer(t0: float, csv: Path, spec: dict[str, Any], s: Settings) -> dict[str, Any]:
    """Fit the peer with nutpie; the clock stops after the summary."""
    try:
        import nutpie  # noqa: F401
        import pymc_marketing  # noqa: F401
    except ImportError as exc:
        return {"skipped": f"{PEER_MISSING} ({exc})"}
    import warnings

    import pandas as pd
    import pymc
    import pymc_marketing.model_builder as builder

    df = pd.read_csv(csv, parse_dates=[spec["date_column"]])
    mmm = peer_model(spec, df)
    seconds: list[float] = []
    compute = pymc.compute_deterministics

    def timed_deterministics(*args: Any, **kwargs: Any) -> Any:  # measures, changes nothing
        start = time.perf_counter()
        out = compute(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
        return out

    builder.pm.compute_deterministics = timed_deterministics  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = mmm.fit(df.drop(columns=[spec["y_column"]]), df[spec["y_column"]],
                        progressbar=False, random_seed=s.seed, nuts_sampler="nutpie",
                        chains=s.chains, tune=s.warmup, draws=s.draws,
                        target_accept=s.target_accept)
    return {**peer_row(idata, PEER_SUMMARY, t0), "deterministics_s": sum(seconds),
            "fit_file_mib": _fit_file_mib(mmm.save)}


def child_main(kind: str, csv: Path, spec_path: Path, s: Settings) -> int:
    """Run one geo fit in this process (``fit_speed.child_main`` with the geo fitters)."""
    return fit_speed_child(kind, csv, spec_path, s,
                           {"bayesmmm": fit_bayesmmm, "peer": fit_peer}, MARKER)


# --- datasets -----------------------------------------------------------------------------


def write_dataset(name: str, data_seed: int, folder: Path) -> dict[str, Any]:
    """Simulate preset ``name``; write its CSV and the true-forms and classic specs."""
    os.environ["BAYESMMM_CACHE_DIR"] = "off"  # the parent's own JAX work caches nothing
    from bayesmmm import ModelSpec
    from bayesmmm.synth import simulate_preset

    folder.mkdir(parents=True, exist_ok=True)
    sim = simulate_preset(name, data_seed)
    spec = ModelSpec(**sim.spec_kwargs)
    classic = spec.replace(adstock="geometric", saturation="logistic")
    stem = folder / f"{name}_seed{data_seed}"
    csv = stem.with_suffix(".csv")
    sim.data.to_csv(csv, index=False)
    paths: dict[str, Any] = {"csv": str(csv)}
    for label, s in (("true-forms", spec), ("classic", classic)):
        path = Path(f"{stem}.{label}.spec.json")
        path.write_text(json.dumps(s.to_dict(), indent=1))
        paths[label] = str(path)
    paths["all_classic"] = (spec.adstock_forms == classic.adstock_forms
                            and spec.saturation_forms == classic.saturation_forms)
    geos = sim.data[spec.panel_columns[0]].nunique()
    adstock, saturation = spec.adstock_forms, spec.saturation_forms
    forms = {f"{adstock[c]}+{saturation[c]}" for c in spec.channel_columns}
    paths["description"] = (f"{sim.data.shape[0] // geos} weeks × {geos} geos × "
                            f"{len(spec.channel_columns)} channels × "
                            f"{len(spec.control_columns)} controls, trend {spec.trend}, "
                            f"{len(forms)} adstock+saturation pairs")
    return paths


# --- parent side ----------------------------------------------------------------------------


def run_child(kind: str, csv: str, spec: str, s: Settings, env: dict[str, str],
              timeout: float) -> dict[str, Any]:
    """Run one geo fit in a fresh interpreter (``fit_speed.run_child`` on this script)."""
    return fit_speed_run(kind, csv, spec, s, env, timeout, Path(__file__), MARKER)


def bench_dataset(files: dict[str, Any], ours: Settings, peer: Settings | None,
                  phases: list[str], timeout: float,
                  classic_only: bool = False) -> dict[str, dict[str, Any]]:
    """Every row of one dataset for one seed: ``{"<label> <phase>": result}``."""
    rows: dict[str, dict[str, Any]] = {}
    for label in OURS:
        spec = files[label.split()[1]]
        skip = ("same model as bayesmmm classic" if files["all_classic"]
                else "--classic-only" if classic_only else None)
        if label != OURS[-1] and skip:
            for phase in phases:  # e.g. medium_business: every channel is classic already
                rows[f"{label} {phase}"] = {"skipped": skip}
            continue
        with tempfile.TemporaryDirectory(prefix="bayesmmm-jax-cache-") as cache:
            env = {**BASE_ENV, "BAYESMMM_CACHE_DIR": cache}
            for phase in phases:
                _log(f"  {label} {phase} ...")
                rows[f"{label} {phase}"] = run_child("bayesmmm", files["csv"], spec, ours, env,
                                                     timeout)
    with tempfile.TemporaryDirectory(prefix="pytensor-compiledir-") as compiledir:
        env = {**BASE_ENV, "PYTENSOR_FLAGS": f"compiledir={compiledir}"}
        for phase in phases:
            if peer is None:
                rows[f"{PEER} {phase}"] = {"skipped": "peer not measured"}
                continue
            _log(f"  {PEER} {phase} ...")
            result = run_child("peer", files["csv"], files["classic"], peer, env, timeout)
            rows[f"{PEER} {phase}"] = result
            if result.get("timed_out"):  # a warm rerun would time out as well
                for rest in phases[phases.index(phase) + 1:]:
                    rows[f"{PEER} {rest}"] = {"skipped": "cold fit timed out"}
                break
    return rows


def pool(per_seed: dict[int, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """One row per fit over all seeds: means of wall time, ESS, steps, memory and file size;
    ESS/s pooled as total ESS over total seconds; worst r_hat; total divergences."""
    pooled: dict[str, dict[str, Any]] = {}
    for row in next(iter(per_seed.values())):
        runs = [rows[row] for rows in per_seed.values() if "wall_s" in rows.get(row, {})]
        if not runs:
            first = next(iter(per_seed.values()))[row]
            pooled[row] = {k: v for k, v in first.items() if k in ("skipped", "error")}
            continue
        keys = ("wall_s", "min_ess_bulk", "steps_per_draw", "peak_mib", "fit_file_mib")
        mean = {k: sum(r[k] for r in runs) / len(runs) for k in keys
                if all(r.get(k) is not None for r in runs)}
        pooled[row] = {**mean, "ess_per_s": sum(r["min_ess_bulk"] for r in runs)
                       / sum(r["wall_s"] for r in runs),
                       "max_r_hat": max(r["max_r_hat"] for r in runs),
                       "divergences": sum(int(r["divergences"]) for r in runs),
                       "n_parameters": runs[0].get("n_parameters"), "n": len(runs)}
    return pooled


def ratios(rows: dict[str, dict[str, Any]], phases: list[str]) -> dict[str, float | None]:
    """ESS/s of each BayesMMM row over the peer's in the same phase (None if missing)."""
    out: dict[str, float | None] = {}
    for phase in phases:
        theirs = rows.get(f"{PEER} {phase}", {}).get("ess_per_s")
        for label in OURS:
            mine = rows.get(f"{label} {phase}", {}).get("ess_per_s")
            out[f"{label} {phase}"] = mine / theirs if mine and theirs else None
    return out


# --- report -------------------------------------------------------------------------------

_COLUMNS = [("wall s", "wall_s", "{:.1f}"), ("min ess_bulk", "min_ess_bulk", "{:.0f}"),
            ("ESS/s", "ess_per_s", "{:.2f}"), ("max r_hat", "max_r_hat", "{:.3f}"),
            ("divergences", "divergences", "{:d}"), ("steps/draw", "steps_per_draw", "{:.1f}"),
            ("peak MiB", "peak_mib", "{:.0f}"), ("fit MiB", "fit_file_mib", "{:.1f}")]


def _settings_text(s: Settings) -> str:
    return f"{s.chains} chains × {s.warmup} warm-up × {s.draws} draws"


def format_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    """Plain-text table: one line per fit, a note for a skipped, failed or timed-out one."""
    width = max(len(r) for r in rows) + 2
    lines = [" " * width + "".join(f"{h:>13}" for h, _, _ in _COLUMNS)]
    for row, r in rows.items():
        if "wall_s" not in r:
            note = r.get("skipped") or r.get("error", "FAILED").splitlines()[0]
            lines.append(f"{row:<{width}}{note}")
            continue
        cells = [("-" if r.get(k) is None else fmt.format(r[k])) for _, k, fmt in _COLUMNS]
        lines.append(f"{row:<{width}}" + "".join(f"{c:>13}" for c in cells))
    return lines


def report(name: str, entry: dict[str, Any], ours: Settings, peer: Settings | None,
           seeds: list[int]) -> None:
    """Print the table, the settings, the ratio lines and any error of one dataset."""
    rows = entry["rows"]
    print(f"\n{name}: {entry['description']}; seeds {seeds} (means; ESS/s pooled; "
          "divergences summed)")
    print(f"bayesmmm: {_settings_text(ours)}, target_accept {ours.target_accept}")
    if peer is not None:
        reduced = "" if peer == ours else "  <-- REDUCED settings: the peer did not run " \
            "at bayesmmm's settings"
        print(f"pymc-nutpie: {_settings_text(peer)}, target_accept {peer.target_accept}"
              f"{reduced}")
    print("\n".join(format_table(rows)))
    for label, value in entry["ess_per_s_ratio"].items():
        if "skipped" in rows.get(label, {}):
            continue
        shown = f"{value:.1f}×" if value is not None else "n/a"
        print(f"ESS/s ratio {label} / {PEER} {label.split()[-1]} = {shown}")
    for row, r in rows.items():
        if "error" in r and not r.get("timed_out"):
            print(f"{row} failed: {r['error']}")


# --- entry point --------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default=",".join(DATASETS),
                   help=f"comma-separated subset of: {', '.join(DATASETS)}")
    p.add_argument("--chains", type=int, help="default 4 (1 with --quick)")
    p.add_argument("--warmup", type=int, help="default 1000 (100 with --quick)")
    p.add_argument("--draws", type=int, help="default 1000 (100 with --quick)")
    p.add_argument("--peer-chains", type=int, help="default: --chains")
    p.add_argument("--peer-warmup", type=int, help="default: --warmup")
    p.add_argument("--peer-draws", type=int, help="default: --draws")
    p.add_argument("--target-accept", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)  # child only
    p.add_argument("--seeds", default="0", help="comma-separated sampler seeds; rows pool "
                   "their fits over them")
    p.add_argument("--data-seed", type=int, default=0, help="seed of simulate_preset")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 chain × 100 × 100")
    p.add_argument("--warm", action="store_true",
                   help="repeat every fit reusing its compile cache (warm rows)")
    p.add_argument("--no-peer", action="store_true", help="measure BayesMMM only")
    p.add_argument("--classic-only", action="store_true",
                   help="skip the true-forms row (it has no peer counterpart)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per fit")
    p.add_argument("--out", type=Path, help="default benchmarks/results/geo_speed[_<dataset>].json")
    p.add_argument("--child", choices=["bayesmmm", "peer"], help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> tuple[Settings, Settings]:
    """BayesMMM's and the peer's settings; explicit options win over the defaults."""
    base = (1, 100, 100) if args.quick else (4, 1000, 1000)
    given = (args.chains, args.warmup, args.draws)
    ours = Settings(*(b if g is None else g for g, b in zip(given, base, strict=True)),
                    seed=args.seed, target_accept=args.target_accept)
    peer_given = (args.peer_chains, args.peer_warmup, args.peer_draws)
    mine = (ours.chains, ours.warmup, ours.draws)
    peer = Settings(*(m if g is None else g for g, m in zip(peer_given, mine, strict=True)),
                    seed=args.seed, target_accept=args.target_accept)
    return ours, peer


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ours, peer = settings_from(args)
    if args.child:
        return child_main(args.child, args.data, args.spec, ours if args.child == "bayesmmm"
                          else peer)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = set(names) - set(DATASETS)
    if unknown:
        raise SystemExit(f"unknown dataset(s) {sorted(unknown)}; choose from {list(DATASETS)}")
    with_peer = not args.no_peer and not peer_missing()
    if not with_peer and not args.no_peer:
        print(PEER_MISSING)
    peer_used = peer if with_peer else None
    phases = ["cold", "warm"] if args.warm else ["cold"]
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"), "settings": asdict(ours),
        "peer_settings": asdict(peer_used) if peer_used else None,
        "peer_reduced": bool(peer_used and peer_used != ours), "seeds": seeds,
        "data_seed": args.data_seed, "timeout_s": args.timeout, "phases": phases,
        "versions": versions(), "cpu_count": os.cpu_count(), "datasets": {}}
    for name in names:
        files = write_dataset(name, args.data_seed, RESULTS / "data")
        _log(f"[{name}] {files['description']}")
        per_seed = {}
        for seed in seeds:
            _log(f"[{name}] seed {seed}")
            per_seed[seed] = bench_dataset(
                files, replace(ours, seed=seed),
                replace(peer_used, seed=seed) if peer_used else None, phases, args.timeout,
                args.classic_only)
        rows = pool(per_seed)
        entry = {"description": files["description"], "csv": files["csv"], "rows": rows,
                 "per_seed": per_seed, "ess_per_s_ratio": ratios(rows, phases)}
        results["datasets"][name] = entry
        report(name, entry, ours, peer_used, seeds)
    out = args.out or RESULTS / ("geo_speed.json" if len(names) != 1
                                 else f"geo_speed_{names[0]}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"\nresults written to {out}")
    failed = any("error" in d["rows"][r] for d in results["datasets"].values()
                 for r in d["rows"] if r.startswith("bayesmmm"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
