"""Does every adstock x saturation combination converge at default sampler settings?

For each cell of the form matrix, national data are simulated with those forms on every
channel (``form_matrix.simulate_cell``: 4 channels of different spend patterns, 2
controls, 156 weeks by default) and fitted with the same forms at the default NUTS
settings (4 chains x 1000 warm-up x 1000 draws; ``--quick``: 2 x 500 x 500).
LightweightMMM's presets (``adstock``, ``hill_adstock``, ``carryover``) are fitted to
data simulated with their own forms. One row per fit: max r_hat, divergences, min ESS
bulk, leapfrog steps per draw, the worst parameter, wall seconds.

Targets (issue "structure-robust answers"): max r_hat <= 1.01 and 0 divergences at the
defaults; r_hat <= 1.05 at 2 x 500 x 500. Nothing is asserted; the table goes to stdout
and ``benchmarks/results/form_convergence.json``.

    .venv/bin/python benchmarks/form_convergence.py --quick
    .venv/bin/python benchmarks/form_convergence.py --adstocks geometric,delayed \\
        --saturations hill --seeds 0,1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from form_matrix import simulate_cell  # the same cells as the recovery benchmark

RESULTS = Path(__file__).resolve().parent / "results"
ADSTOCKS = "geometric,delayed,weibull_cdf,weibull_pdf,binomial,carryover,none"
SATURATIONS = "logistic,hill,michaelis_menten,tanh,power,piecewise_linear,none"
PRESETS = "adstock,hill_adstock,carryover"


def _preset_forms(name: str) -> tuple[str, str]:
    from bayesmmm.model import PRESETS as REGISTRY

    entry = REGISTRY.get(name)
    return entry.get("adstock", "geometric"), entry.get("saturation", "logistic")


def _fit_cell(label: str, adstock: str, saturation: str, preset: str | None, seed: int,
              args: argparse.Namespace) -> dict[str, Any]:
    import bayesmmm as bm
    from bayesmmm.model import preset_spec

    sim = simulate_cell(adstock, saturation, seed, args.weeks)
    kw = dict(sim.spec_kwargs)
    if preset is not None:
        kw.pop("adstock", None)
        kw.pop("saturation", None)
        kw.pop("adstock_max_lag", None)
        spec = preset_spec(preset, **kw)
    else:
        spec = bm.ModelSpec(**kw)
    start = time.perf_counter()
    f = bm.fit(sim.data, spec, chains=args.chains, warmup=args.warmup, draws=args.draws,
               seed=seed, progress=False)
    seconds = time.perf_counter() - start
    table = f.summary()
    worst = table["r_hat"].idxmax()
    return {"cell": label, "adstock": adstock, "saturation": saturation, "preset": preset,
            "seed": seed, "max_r_hat": float(table["r_hat"].max()), "worst": worst,
            "divergences": int(f.sample_stats["diverging"].sum()),
            "min_ess_bulk": float(table["ess_bulk"].min()),
            "steps_per_draw": float(np.mean(f.sample_stats["num_steps"])),
            "seconds": round(seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--adstocks", default=ADSTOCKS)
    p.add_argument("--saturations", default=SATURATIONS)
    p.add_argument("--presets", default=PRESETS, help="'' to skip the presets")
    p.add_argument("--seeds", default="0")
    p.add_argument("--weeks", type=int, default=156)
    p.add_argument("--quick", action="store_true", help="2 chains x 500 x 500")
    p.add_argument("--chains", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--draws", type=int)
    p.add_argument("--out", type=Path, default=RESULTS / "form_convergence.json")
    args = p.parse_args(argv)
    base = (2, 500, 500) if args.quick else (4, 1000, 1000)
    args.chains = args.chains or base[0]
    args.warmup = args.warmup or base[1]
    args.draws = args.draws or base[2]
    cells: list[tuple[str, str, str, str | None]] = [
        (f"{a}+{s}", a, s, None) for a in args.adstocks.split(",") if a
        for s in args.saturations.split(",") if s]
    cells += [(f"preset {n}", *_preset_forms(n), n) for n in args.presets.split(",") if n]
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"{len(cells)} cells, seeds {args.seeds}, {args.chains} x {args.warmup} x "
          f"{args.draws}", flush=True)
    print("| cell | seed | max r_hat | div | min ESS | steps/draw | worst | s |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    for label, adstock, saturation, preset in cells:
        for seed in (int(s) for s in args.seeds.split(",")):
            try:
                row = _fit_cell(label, adstock, saturation, preset, seed, args)
            except Exception as exc:  # a cell that fails is a finding, not the end
                row = {"cell": label, "seed": seed, "error": f"{type(exc).__name__}: {exc}"}
                print(f"| {label} | {seed} | error: {row['error'][:80]} |", flush=True)
            else:
                print(f"| {label} | {seed} | {row['max_r_hat']:.3f} | {row['divergences']} | "
                      f"{row['min_ess_bulk']:.0f} | {row['steps_per_draw']:.0f} | "
                      f"{row['worst']} | {row['seconds']:.0f} |", flush=True)
            rows.append(row)
            args.out.write_text(json.dumps({"settings": [args.chains, args.warmup,
                                                         args.draws], "rows": rows}, indent=1))
    ok = [r for r in rows if "error" not in r]
    good = [r for r in ok if r["max_r_hat"] <= 1.01 and r["divergences"] == 0]
    print(f"\n{len(good)} of {len(rows)} fits converged (r_hat <= 1.01, 0 divergences)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
