"""Budget optimizer speed: exact JAX gradients vs SciPy SLSQP with finite differences.

What is measured
----------------
For each preset, a fit (2 chains x 200 warm-up x 200 draws, seed 0, simulated data seed 0)
is made once and cached as ``benchmarks/results/optimize_<preset>_fit.nc`` (its fit time
beside it in ``optimize_<preset>_fit.json``). The problem: allocate the historical spend
of 13 periods (the budget) over every channel and geo, each cell between 0.5x and 2x its
historical spend, maximising the expected incremental sales over a seeded subsample of
200 posterior draws. One :class:`bayesmmm.optimize.Planner` serves every solver, so the
objective, the start (the historical mix at this budget) and the constraints are the
same.

Solvers (rows):

* ``ours``: :func:`bayesmmm.optimize._solve.solve_budget` as ``optimize_budget`` runs
  it - exact JAX gradients, SLSQP up to 150 free cells, the augmented Lagrangian with
  L-BFGS-B above;
* ``slsqp-jax``: SLSQP with the same exact gradients (isolates the method);
* ``slsqp-fd``: SLSQP with SciPy's 2-point finite-difference gradients of the same
  compiled objective (the usual way a hand-written model is optimised).

Columns: wall seconds of the solve (the kernels are compiled before the clock starts;
the compile time is reported once per preset), objective evaluations, iterations, the
achieved objective, its ratio to ``ours``, and the gain over the start. SLSQP runs stop
at ``--time-limit`` seconds (their last iterate, moved onto the budget and bounds, is
scored). Nothing is asserted.

Run::

    .venv/bin/python benchmarks/optimize_speed.py                       # both presets
    .venv/bin/python benchmarks/optimize_speed.py --presets medium_business
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

import bayesmmm as bm
from bayesmmm.optimize import ExpectedSales, Planner
from bayesmmm.optimize._bounds import resolve_bounds
from bayesmmm.optimize._solve import solve_budget, start_point
from bayesmmm.synth import simulate_preset

RESULTS = Path(__file__).parent / "results"
SAMPLER = {"chains": 2, "warmup": 200, "draws": 200, "seed": 0}


def cached_fit(preset: str, refit: bool = False) -> tuple[bm.Fit, float]:
    """The preset's fit and the seconds it took (from the cache when there)."""
    path = RESULTS / f"optimize_{preset}_fit.nc"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file() and not refit:
        return bm.load_fit(path), float(json.loads(meta.read_text())["fit_seconds"])
    sim = simulate_preset(preset, seed=0)
    started = time.perf_counter()
    fit = bm.fit(sim.data, bm.ModelSpec(**sim.spec_kwargs), progress=True, **SAMPLER)
    seconds = time.perf_counter() - started
    fit.save(path)
    meta.write_text(json.dumps({"preset": preset, **SAMPLER, "fit_seconds": seconds,
                                "load_average": os.getloadavg()[0]}))
    return fit, seconds


def run_preset(preset: str, periods: int, time_limit: float, refit: bool) -> dict[str, Any]:
    fit, fit_seconds = cached_fit(preset, refit)
    t0 = time.perf_counter()
    planner = Planner(fit, periods, n_draws=200, seed=0)
    box = resolve_bounds(planner, {c: (0.5, 2.0) for c in fit.spec.channel_columns})
    budget = float(planner.reference.sum())
    objective = ExpectedSales()
    x0 = start_point(planner, box, budget)
    free = np.flatnonzero(box.free.ravel())
    fixed = np.where(box.free, 0.0, box.low).ravel()
    scale = np.maximum(x0.ravel()[free], 1.0)
    planner.value_and_grad(objective, np.ones(len(free)), free, fixed, scale)  # compile
    planner.value(objective, np.ones(len(free)), free, fixed, scale)
    compile_s = time.perf_counter() - t0
    start_value = -planner.value(objective, x0.ravel()[free] / scale, free, fixed, scale)
    t = time.perf_counter()
    for _ in range(3):
        planner.value_and_grad(objective, np.ones(len(free)), free, fixed, scale)
    grad_s = (time.perf_counter() - t) / 3
    t = time.perf_counter()
    for _ in range(3):
        planner.value(objective, np.ones(len(free)), free, fixed, scale)
    value_s = (time.perf_counter() - t) / 3
    rows = []
    for name, kw in [("ours", {}),
                     ("slsqp-jax", {"method": "SLSQP", "time_limit": time_limit}),
                     ("slsqp-fd", {"method": "SLSQP", "gradient": "finite-difference",
                                   "time_limit": time_limit})]:
        print(f"  {preset}: {name} ...", flush=True)
        sol = solve_budget(planner, box, budget, objective, **kw)
        rows.append({"solver": name, "seconds": sol.seconds, "evaluations": sol.n_evaluations,
                     "iterations": sol.n_iterations, "objective": sol.value,
                     "gain_over_start": sol.value - start_value, "message": sol.message,
                     "budget_error": float(sol.x.sum() / budget - 1)})
    ours = rows[0]
    for r in rows:
        r["objective_vs_ours"] = r["objective"] / ours["objective"]
        r["time_vs_ours"] = r["seconds"] / ours["seconds"]
    return {"preset": preset, "n_geos": planner.n_geos, "n_channels": planner.n_channels,
            "free_cells": int(len(free)), "periods": periods, "draws": len(planner.draw_index),
            "fit_seconds": fit_seconds, "compile_seconds": compile_s,
            "value_and_grad_seconds": grad_s, "value_seconds": value_s, "budget": budget,
            "start_objective": start_value, "rows": rows}


def show(result: dict[str, Any]) -> None:
    r = result
    print(f"\n{r['preset']}: {r['n_geos']} geos x {r['n_channels']} channels = "
          f"{r['free_cells']} free cells, {r['periods']} periods, {r['draws']} draws; fit "
          f"{r['fit_seconds']:.0f} s, compile {r['compile_seconds']:.1f} s, value+gradient "
          f"{r['value_and_grad_seconds'] * 1e3:.0f} ms, value {r['value_seconds'] * 1e3:.0f} ms")
    print(f"  start (historical mix) objective {r['start_objective']:,.0f}")
    print(f"  {'solver':<10} {'seconds':>9} {'evals':>7} {'iters':>6} {'objective':>15} "
          f"{'vs ours':>9} {'time x':>7} {'gain over start':>16}  status")
    for row in r["rows"]:
        print(f"  {row['solver']:<10} {row['seconds']:9.1f} {row['evaluations']:7d} "
              f"{row['iterations']:6d} {row['objective']:15,.1f} "
              f"{row['objective_vs_ours']:9.6f} {row['time_vs_ours']:7.1f} "
              f"{row['gain_over_start']:16,.1f}  {row['message']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=["medium_business", "large_business"])
    parser.add_argument("--periods", type=int, default=13)
    parser.add_argument("--time-limit", type=float, default=600.0,
                        help="seconds after which an SLSQP run is stopped (default 600)")
    parser.add_argument("--refit", action="store_true", help="ignore cached fits")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"optimize_speed: {platform.processor() or platform.machine()}, {os.cpu_count()} "
          f"cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    results = []
    for preset in args.presets:
        result = run_preset(preset, args.periods, args.time_limit, args.refit)
        result["load_average_after"] = os.getloadavg()[0]
        show(result)
        results.append(result)
    out = RESULTS / "optimize_speed.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
