"""One benchmark fit in a fresh interpreter: ``python _child.py --library ... --out DIR``.

Run by path (not as ``-m``) so that it works in a peer's interpreter where BayesMMM may
not import (Meridian's venv): it imports only the standard library, NumPy, pandas,
ArviZ and the library under test. The clock starts before the first third-party import
and stops once the posterior summary (mean, sd, HDI, ESS, R-hat) is computed, as in
``benchmarks/fit_speed.py``.

Writes into ``--out``: ``summary_raw.csv`` (parameters named as BayesMMM names them where
the peer has a counterpart; 94% and 50% HDIs), ``posterior.npz`` (posterior-mean channel
contributions ``(n_geos, n_times, n_channels)``, the expected target's posterior mean
``mu`` and its equal-tailed 94% band ``mu_low``/``mu_high`` ``(n_geos, n_times)`` in
original units, ROI draws ``(n_samples, n_channels)``) and the library's own fit file;
prints one line ``BENCH_RESULT {json}`` (timings, memory, sampler statistics, the
``target_accept`` the sampler was given, or ``skipped`` / ``error``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

MARKER = "BENCH_RESULT "


class Skip(Exception):
    """The library (or its adapter) is not available here: a skip, not a failure."""


def peak_mib() -> float:
    """Peak resident memory of this process and its waited-for children, MiB."""
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def stop_clock(t0: float) -> dict[str, float]:
    """Wall seconds since ``t0`` and CPU seconds of this process (and its children) so
    far: on a busy machine the CPU time shows the work when the wall time shows the wait."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                 resource.RUSAGE_CHILDREN)]
    return {"runtime_s": time.perf_counter() - t0,
            "cpu_s": sum(u.ru_utime + u.ru_stime for u in usage)}


def summarise(idata: Any, names: list[str], rename: dict[str, str] | None = None) -> Any:
    """ArviZ summary of ``names`` with 94% and 50% HDIs; variables renamed first."""
    import arviz as az

    post = idata.posterior[names]
    if rename:
        post = post.rename({k: v for k, v in rename.items() if k in post.data_vars})
    table = az.summary(post, hdi_prob=0.94, round_to="none")
    half = az.summary(post, hdi_prob=0.5, kind="stats", round_to="none")
    table["hdi_25%"], table["hdi_75%"] = half["hdi_25%"], half["hdi_75%"]
    table = table[table["sd"] > 0]  # constants (a peer's fixed parameters) have no ESS
    return table[["mean", "sd", "hdi_3%", "hdi_97%", "hdi_25%", "hdi_75%", "ess_bulk",
                  "ess_tail", "r_hat"]]


def spend_totals(df: Any, channels: list[str]) -> Any:
    return df[channels].to_numpy(float).sum(axis=0)


# --- BayesMMM ----------------------------------------------------------------------------


def fit_bayesmmm(t0: float, a: argparse.Namespace, spec: dict[str, Any],
                 out: Path) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    import bayesmmm as bm
    from bayesmmm.analysis._draws import component_draws_gt

    df = pd.read_csv(a.data)
    fit = bm.fit(df, bm.ModelSpec.from_dict(spec), chains=a.chains, warmup=a.tune,
                 draws=a.draws, seed=a.seed, target_accept=a.target_accept, progress=False)
    table = fit.summary()
    clock = stop_clock(t0)
    half = fit.summary(hdi_prob=0.5)
    table["hdi_25%"], table["hdi_75%"] = half["hdi_25%"], half["hdi_75%"]
    draws = component_draws_gt(fit)
    channels = list(fit.spec.channel_columns)
    totals = np.stack([draws[c].reshape(len(draws[c]), -1).sum(axis=1) for c in channels], 1)
    spend = fit.roi()["spend"].to_numpy(float)
    contributions = np.stack([draws[c].mean(axis=0) for c in channels], axis=-1)
    mu_draws = np.sum([v for v in draws.values()], axis=0)  # (S, G, T)
    write_outputs(out, table, contributions, mu_draws, totals / spend, fit.data.panels)
    artifact = fit.save(out / "fit.nc")
    warmup, sampling = fit.meta.get("seconds_warmup"), fit.meta.get("seconds_sampling")
    return {**clock, "divergences": int(fit.sample_stats["diverging"].sum()),
            "steps_per_draw": float(fit.sample_stats["num_steps"].mean()),
            "artifact": artifact.name, "seconds_warmup": warmup, "seconds_sampling": sampling,
            "seconds_sampler": warmup + sampling if warmup is not None and
            sampling is not None else None,
            # read back from the fit: the value its NUTS kernel was built with
            "target_accept": float(fit.meta["options"]["target_accept"])}


#: The predictive band written next to the mean: equal-tailed, 94%.
BAND = (0.03, 0.97)


def write_outputs(out: Path, table: Any, contributions: Any, mu_draws: Any, roi_draws: Any,
                  geos: Any = ()) -> None:
    """The files the parent reads. ``contributions`` ``(G, T, C)`` (posterior means),
    ``mu_draws`` ``(S, G, T)`` (draws of the expected target, reduced here to its mean and
    94% band), ``roi_draws`` ``(S, C)``; ``geos`` labels the rows of a panel."""
    import numpy as np

    mu_draws = np.asarray(mu_draws, float)
    low, high = np.quantile(mu_draws, BAND, axis=0)
    table.rename_axis("parameter").to_csv(out / "summary_raw.csv")
    np.savez_compressed(out / "posterior.npz", contributions=np.asarray(contributions, float),
                        mu=mu_draws.mean(axis=0), mu_low=low, mu_high=high,
                        roi_draws=np.asarray(roi_draws, float),
                        geos=np.asarray([str(g) for g in geos], dtype=str))


# --- entry point ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="one benchmark fit (used by `bayesmmm bench`)")
    p.add_argument("--library", required=True)
    p.add_argument("--sampler", required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--spec", type=Path, required=True, help="ModelSpec.to_dict() JSON")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target-accept", type=float, required=True,
                   help="NUTS target acceptance, given to every library's sampler")
    p.add_argument("--benchmarks", type=Path, help="folder holding fit_speed.py / geo_speed.py")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    t0 = time.perf_counter()  # before the first third-party import
    a = parse_args(argv)
    spec = json.loads(a.spec.read_text())
    a.out.mkdir(parents=True, exist_ok=True)
    try:
        if a.library == "bayesmmm":
            result = fit_bayesmmm(t0, a, spec, a.out)
        else:
            # _peers is a sibling file; it imports this module's helpers as `_child`.
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            sys.modules.setdefault("_child", sys.modules[__name__])
            import _peers  # type: ignore[import-not-found]

            result = _peers.fit(t0, a, spec, a.out)
    except Skip as exc:
        result = {"skipped": str(exc)}
    except Exception as exc:  # reported by the parent; the traceback goes to stderr
        import traceback

        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    if "artifact" in result:
        result["artifact_mib"] = (a.out / result["artifact"]).stat().st_size / 2**20
    result["peak_mib"] = peak_mib()
    result["python"] = sys.executable
    print(MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
