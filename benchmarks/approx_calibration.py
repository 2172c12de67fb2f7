"""How close is the fast approximation (``method="advi"``) to NUTS, and how much faster?

For each synthetic preset (``bayesmmm.synth.simulate_preset``) the same spec is fitted
with NUTS (the reference; default 4 x 1000 x 1000) and with ADVI (default settings),
each in-process with a warm compilation cache after one untimed warm-up fit of each, so
the times compare sampling with optimisation rather than compilation. Per preset: the
time ratio (NUTS / ADVI), the Pareto k-hat of ADVI's importance weights, the share of
channel ROIs (total over geos) whose ADVI mean lies inside NUTS's central 50% interval,
the mean |ADVI mean - NUTS mean| / NUTS sd of the ROIs, and whether the 94% HDIs
overlap. Targets (issue "speed and convergence"): >= 90% of ROIs inside NUTS's 50%
interval on national data; honest figures for geo panels; ``large_business``'s
approximate fit in <= 2 minutes (``--approx-only`` times it without the reference).

    .venv/bin/python benchmarks/approx_calibration.py --presets small_business
    .venv/bin/python benchmarks/approx_calibration.py --presets large_business --approx-only
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _roi_draws(fit: Any) -> np.ndarray:
    from bayesmmm.analysis import channel_draws

    draws = channel_draws(fit, keep_geo=True).sum(axis=(1, 2))  # (S, C)
    spend = fit.roi()["spend"].to_numpy()
    return draws / spend


def compare(preset: str, args: argparse.Namespace) -> dict[str, Any]:
    import bayesmmm as bm
    from bayesmmm.synth import simulate_preset

    sim = simulate_preset(preset, seed=args.data_seed)
    spec = bm.ModelSpec(**sim.spec_kwargs)
    row: dict[str, Any] = {"preset": preset}
    approx_opts = {"method": "advi", "chains": args.paths, "draws": args.draws,
                   "progress": False}
    bm.fit(sim.data, spec, **{**approx_opts, "approx_steps": 200, "draws": 50})  # compile
    start = time.perf_counter()
    approx = bm.fit(sim.data, spec, **approx_opts)
    row["advi_seconds"] = round(time.perf_counter() - start, 1)
    row["pareto_k"] = round(approx.meta["approximation"]["pareto_k"], 3)
    if args.approx_only:
        return row
    nuts_opts = {"chains": args.chains, "warmup": args.warmup, "draws": args.draws,
                 "progress": False}
    bm.fit(sim.data, spec, **{**nuts_opts, "warmup": 20, "draws": 20})  # compile
    start = time.perf_counter()
    exact = bm.fit(sim.data, spec, **nuts_opts)
    row["nuts_seconds"] = round(time.perf_counter() - start, 1)
    row["time_ratio"] = round(row["nuts_seconds"] / row["advi_seconds"], 1)
    a, e = _roi_draws(approx), _roi_draws(exact)
    lo, hi = np.quantile(e, [0.25, 0.75], axis=0)
    mean_a, mean_e, sd_e = a.mean(0), e.mean(0), e.std(0)
    row["inside_50"] = float(np.mean((mean_a >= lo) & (mean_a <= hi)))
    row["mean_diff_sd"] = round(float(np.mean(np.abs(mean_a - mean_e) / sd_e)), 3)
    la, ha = np.quantile(a, [0.03, 0.97], axis=0)
    le, he = np.quantile(e, [0.03, 0.97], axis=0)
    row["hdi_overlap"] = float(np.mean((la <= he) & (le <= ha)))
    row["nuts_max_r_hat"] = round(float(exact.summary()["r_hat"].max()), 3)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", default="small_business,growing_business,medium_business")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--paths", type=int, default=4, help="ADVI paths (its chains)")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--approx-only", action="store_true")
    p.add_argument("--out", type=Path, default=RESULTS / "approx_calibration.json")
    args = p.parse_args(argv)
    rows = []
    for preset in args.presets.split(","):
        row = compare(preset, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1))
    keys = ["preset", "advi_seconds", "nuts_seconds", "time_ratio", "pareto_k", "inside_50",
            "mean_diff_sd", "hdi_overlap", "nuts_max_r_hat"]
    print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
