"""One long geo fit on an accelerator, sized to a time budget: convergence at scale.

``geo_speed.py`` measures BayesMMM against PyMC-Marketing + nutpie on the 2-core machine,
where a ``large_business`` fit (50 geos x 30 channels x 208 weeks, 5,550 summary rows)
with enough draws for every parameter's r_hat to reach 1.01 takes longer than a session.
This script runs the same classic geo model (every channel geometric + logistic, the
spec ``geo_speed.py`` writes as ``classic``) on whatever device JAX finds, usually a GPU
lent for a few minutes, with many chains vectorised on the one device:

1. a short probe fit (``--probe-warmup`` + ``--probe-draws``, same chains) compiles the
   programs, which the persistent compilation cache keeps for the main fit (a first
   chunk's time includes compilation, so the probe prices nothing);
2. the main fit: ``--warmup`` iterations, then draws until what is left of ``--budget``
   runs out (``bm.fit(time_limit=...)``, at most ``--max-draws``); the vectorised chains
   pay, each iteration, for the slowest chain's tree (``vmap`` runs until every tree is
   done), reported as ``slowest_steps_per_draw``. A warm-up that passes the budget stops
   the script with what it knows (its progress lines);
3. the diagnostics of every summary row (ArviZ's ESS bulk and tail and r_hat, computed
   over ``--workers`` processes), divergences, steps per draw, peak
   device and host memory and the size of the saved fit file.

The clock of the main fit runs from ``bm.fit`` to the end of the summary; the probe's
time (compilation included) is reported beside it, and ``cold_wall_s`` adds it, the
figure to compare with a cold CPU fit. Float32 matrix products run at full precision
(``jax_default_matmul_precision = "highest"``): TF32, a GPU default, would add gradient
noise that NUTS sees as energy error.

Nothing is asserted; the result is printed and written as JSON (with the summary table as
CSV) under ``--out``. Progress lines (seconds, phase, done/total) go to stdout as they
happen, so a run cut short still tells its rate::

    python3 benchmarks/geo_device.py --budget 480 --out /tmp/geo-device

On a lent GPU whose image has JAX with CUDA but not the rest (2026-12: JAX 0.11.2 and
NumPyro 0.21 on Python 3.12), carry pure-Python wheels of arviz (0.x), xarray-einstats,
h5netcdf, holidays, platformdirs and numpyro 0.22, install them with ``pip install
--no-index --no-deps --target DIR`` and run with ``PYTHONPATH=DIR:src``. Run one fit at a
time: two fits sharing the GPU each ran about three times slower (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PRESETS = ("medium_business", "large_business")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="large_business", choices=PRESETS)
    p.add_argument("--data-seed", type=int, default=0, help="seed of simulate_preset")
    p.add_argument("--geos", type=int, help="keep only the first N geos (a smaller bed)")
    p.add_argument("--chains", type=int, default=16)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--max-draws", type=int, default=10000,
                   help="draws stop earlier, when the budget runs out")
    p.add_argument("--probe-warmup", type=int, default=10)
    p.add_argument("--probe-draws", type=int, default=10)
    p.add_argument("--target-accept", type=float, default=0.8)
    p.add_argument("--centring", default="none", choices=["none", "auto"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=480.0,
                   help="seconds for the whole script, summary included")
    p.add_argument("--summary-reserve", type=float, default=60.0,
                   help="seconds kept for the summary and the fit file")
    p.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1),
                   help="processes for the per-parameter diagnostics")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/geo_device"))
    return p.parse_args(argv)


class OutOfTime(RuntimeError):
    """The main fit passed the budget's hard limit."""


def _progress(t0: float, label: str, deadline: float | None = None) -> Any:
    def log(phase: str, done: int, total: int) -> None:
        now = time.perf_counter() - t0
        print(f"{now:8.1f} s  {label} {phase} {done}/{total}", flush=True)
        if deadline is not None and now > deadline:
            raise OutOfTime(f"{label} passed {deadline:.0f} s at {phase} {done}/{total}")
    return log


def _slowest_steps(num_steps: Any) -> float:
    """Mean over draws of the largest tree across chains (what vectorised chains pay)."""
    return float(num_steps.max(axis=0).mean())


def _column_diagnostics(block: np.ndarray) -> np.ndarray:
    """``(3, k)``: ess_bulk, ess_tail and r_hat of each column of ``(chains, draws, k)``."""
    import arviz as az

    return np.array([[az.ess(block[..., j], method="bulk") for j in range(block.shape[-1])],
                     [az.ess(block[..., j], method="tail") for j in range(block.shape[-1])],
                     [az.rhat(block[..., j]) for j in range(block.shape[-1])]])


def diagnostics(fit: Any, workers: int) -> pd.DataFrame:
    """ESS bulk, ESS tail and r_hat of every summary row (ArviZ, as ``Fit.summary``), the
    columns spread over ``workers`` fresh processes: with thousands of parameters and many
    draws a single-threaded summary takes minutes of a device lease."""
    post = fit.inference_data.posterior
    names, columns = [], []
    for var in fit.parameter_names():
        da = post[var]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        flat = da.stack(cell=extra) if extra else da.expand_dims("cell", axis=-1)
        columns.append(np.asarray(flat.transpose("chain", "draw", "cell")))
        if extra:
            names += [f"{var}[{', '.join(str(v) for v in np.atleast_1d(c))}]"
                      for c in flat["cell"].values]
        else:
            names.append(var)
    draws = np.concatenate(columns, axis=-1).astype(np.float64)
    blocks = np.array_split(np.arange(draws.shape[-1]), workers)
    ctx = multiprocessing.get_context("spawn")  # children import no JAX
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        parts = list(pool.map(_column_diagnostics, [draws[..., b] for b in blocks]))
    values = np.concatenate(parts, axis=1)
    return pd.DataFrame(values.T, index=names, columns=["ess_bulk", "ess_tail", "r_hat"])


def _device_memory() -> dict[str, Any]:
    import jax

    dev = jax.devices()[0]
    try:
        stats = dev.memory_stats() or {}
    except Exception:  # CPU devices may not report
        stats = {}
    return {"device": str(dev), "platform": dev.platform,
            "device_peak_mib": stats.get("peak_bytes_in_use", 0) / 2**20 or None}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")
    import jax

    jax.config.update("jax_default_matmul_precision", "highest")
    import bayesmmm as bm
    from bayesmmm.synth import simulate_preset

    sim = simulate_preset(args.dataset, args.data_seed)
    spec = bm.ModelSpec(**sim.spec_kwargs).replace(adstock="geometric", saturation="logistic")
    data = sim.data
    geo = spec.panel_columns[0]
    if args.geos:
        keep = sorted(data[geo].unique())[:args.geos]
        data = data[data[geo].isin(keep)].reset_index(drop=True)
    result: dict[str, Any] = {
        "dataset": args.dataset, "geos": int(data[geo].nunique()),
        "channels": len(spec.channel_columns), "weeks": int(len(data) // data[geo].nunique()),
        "chains": args.chains, "centring": args.centring,
        "target_accept": args.target_accept, "seed": args.seed,
        "versions": {"jax": jax.__version__, "python": sys.version.split()[0]},
        "devices": [str(d) for d in jax.devices()]}
    print(json.dumps(result), flush=True)
    common = {"chains": args.chains, "target_accept": args.target_accept, "seed": args.seed,
              "centring": args.centring}

    p0 = time.perf_counter()
    probe = bm.fit(data, spec, warmup=args.probe_warmup, draws=args.probe_draws,
                   progress=_progress(t0, "probe"), **common)
    probe_s = time.perf_counter() - p0
    result["probe"] = {"wall_s": probe_s, "seconds_warmup": probe.meta["seconds_warmup"],
                       "seconds_sampling": probe.meta["seconds_sampling"]}
    print(json.dumps(result["probe"]), flush=True)
    del probe

    left = args.budget - (time.perf_counter() - t0) - args.summary_reserve
    result.update({"warmup": args.warmup, "max_draws": args.max_draws, "time_limit_s": left})
    print(f"main fit: {args.chains} chains x {args.warmup} warm-up x up to {args.max_draws} "
          f"draws within {left:.0f} s", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    m0 = time.perf_counter()
    try:
        fit = bm.fit(data, spec, warmup=args.warmup, draws=args.max_draws, time_limit=left,
                     progress=_progress(t0, "main", args.budget - 15), **common)
    except OutOfTime as e:  # keep what was learnt: the probe's rate and the plan
        result["error"] = str(e)
        (args.out / "result.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result, indent=1), flush=True)
        return 1
    fit_s = time.perf_counter() - m0
    table = diagnostics(fit, args.workers)
    wall = time.perf_counter() - m0
    stats = fit.sample_stats
    ess = table["ess_bulk"]
    result.update({
        "draws": fit.n_draws, "stopped_early": fit.meta["stopped_early"],
        "fit_s": fit_s, "summary_s": wall - fit_s, "wall_s": wall,
        "cold_wall_s": wall + probe_s,
        "seconds_warmup": fit.meta["seconds_warmup"],
        "seconds_sampling": fit.meta["seconds_sampling"],
        "n_parameters": len(table),
        "min_ess_bulk": float(ess.min()), "min_ess_parameter": str(ess.idxmin()),
        "min_ess_tail": float(table["ess_tail"].min()),
        "max_r_hat": float(table["r_hat"].max()),
        "max_r_hat_parameter": str(table["r_hat"].idxmax()),
        "n_r_hat_above_1_01": int((table["r_hat"] > 1.01).sum()),
        "n_r_hat_above_1_005": int((table["r_hat"] > 1.005).sum()),
        "divergences": int(stats["diverging"].sum()),
        "steps_per_draw": float(stats["num_steps"].mean()),
        "slowest_steps_per_draw": _slowest_steps(stats["num_steps"]),
        "seconds_per_slowest_step": fit.meta["seconds_sampling"] / (
            _slowest_steps(stats["num_steps"]) * fit.n_draws),
        "ess_per_s": float(ess.min()) / wall,
        "ess_per_s_cold": float(ess.min()) / (wall + probe_s),
        "host_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **_device_memory()})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fit.nc"
        fit.save(path)
        result["fit_file_mib"] = path.stat().st_size / 2**20
    table.to_csv(args.out / "summary.csv.gz")
    (args.out / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
