"""Whole-fit speed of BayesMMM's classic model against PyMC-Marketing with nutpie.

What is measured
----------------
Each fit runs in a fresh Python subprocess, so importing the libraries, building
the model and compiling it are inside the measured time. The clock starts just
before the first third-party import and stops once the posterior summary table
(mean, sd, HDI, ESS, R-hat) has been computed. Both sides fit the same CSV file
with the same model (normalised geometric adstock, logistic saturation, the same
controls, yearly Fourier seasonality, default priors) and the same NUTS settings.

Rows per dataset:

* ``bayesmmm cold``: ``bayesmmm.fit`` with an empty JAX compilation cache
  (a fresh temporary ``BAYESMMM_CACHE_DIR``);
* ``bayesmmm warm``: the same fit again, reusing that cache;
* ``pymc-nutpie cold`` / ``warm``: ``pymc_marketing.mmm.MMM(...).fit(...,
  nuts_sampler="nutpie")`` with a fresh PyTensor compile directory
  (``PYTENSOR_FLAGS=compiledir=...``), then again reusing it.

Ratios compare like with like: BayesMMM cold / peer cold and warm / warm. ESS varies a
lot between seeds (on the example, min ess_bulk ranges ~750-1100 across seeds for the
same sampler), so every row is repeated for each of ``--seeds`` (default 0,1,2): the
table shows means, and ESS/s is pooled (total ESS over total seconds).

Columns: wall seconds, the smallest ``ess_bulk`` and the largest ``r_hat`` over
``intercept``, ``adstock_alpha``, ``saturation_lam``, ``saturation_beta``,
``gamma_control``, ``gamma_fourier`` and ``y_sigma``, ESS/s (smallest ESS bulk
per wall second), divergences, mean leapfrog steps per draw and the peak
resident memory of the fitting process.

Datasets: the bundled example (179 weeks, 2 channels, 3 controls) and a
simulated 156-week, 6-channel, 3-control data set (``bayesmmm.synth``). Their
CSV files, and all results, are written under ``benchmarks/results/``.

Nothing is asserted: the script prints a table per dataset and the ESS/s ratio
of BayesMMM (cold and warm) to the peer, and exits 0 unless a BayesMMM fit fails.
When PyMC-Marketing or nutpie cannot be imported, only BayesMMM is measured.

Run it with an interpreter that has both libraries (``pip install 'bayesmmm[bench]'``)::

    .venv-bench/bin/python benchmarks/fit_speed.py            # 4 chains x 1000 x 1000
    .venv-bench/bin/python benchmarks/fit_speed.py --quick    # 2 chains x 300 x 300 smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from importlib import metadata, util
from pathlib import Path
from typing import Any

PARAMETERS = ["intercept", "adstock_alpha", "saturation_lam", "saturation_beta",
              "gamma_control", "gamma_fourier", "y_sigma"]
MARKER = "FIT_SPEED_RESULT "
RESULTS = Path(__file__).resolve().parent / "results"
PEER_MISSING = ("PyMC-Marketing/nutpie not installed: pip install 'bayesmmm[bench]' to compare; "
                "skipping the peer")
ROWS = ("bayesmmm cold", "bayesmmm warm", "pymc-nutpie cold", "pymc-nutpie warm")
OURS = ROWS[:2]
PEERS = ROWS[2:]
BASE_ENV = dict(os.environ)  # taken before bayesmmm (which sets XLA_FLAGS) is imported


@dataclass(frozen=True)
class Settings:
    """NUTS settings shared by every fit."""

    chains: int
    warmup: int
    draws: int
    seed: int
    target_accept: float


# --- child side: one fit per process ------------------------------------------------------


def _peak_mib() -> float:
    """Peak resident memory of this process (or a child of it), MiB."""
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def fit_bayesmmm(t0: float, csv: Path, spec: dict[str, Any], s: Settings) -> dict[str, Any]:
    """Fit BayesMMM's classic model; the clock stops after the summary table."""
    import bayesmmm as bm

    fit = bm.fit(str(csv), bm.ModelSpec.from_dict(spec), chains=s.chains, warmup=s.warmup,
                 draws=s.draws, target_accept=s.target_accept, seed=s.seed, progress=False)
    table = fit.summary()
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "min_ess_bulk": float(table["ess_bulk"].min()),
            "max_r_hat": float(table["r_hat"].max()),
            "divergences": int(fit.sample_stats["diverging"].sum()),
            "steps_per_draw": float(fit.sample_stats["num_steps"].mean()),
            "seconds_warmup": fit.meta.get("seconds_warmup"),
            "seconds_sampling": fit.meta.get("seconds_sampling"), "n_parameters": len(table)}


def _peer_model(spec: dict[str, Any]) -> Any:
    """PyMC-Marketing's classic MMM with our structure and its (equal) default priors."""
    import warnings

    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    with warnings.catch_warnings():  # 0.19 announces the class's move to `multidimensional`
        warnings.simplefilter("ignore", FutureWarning)
        return MMM(date_column=spec["date_column"], channel_columns=list(spec["channel_columns"]),
                   control_columns=list(spec["control_columns"]) or None,
                   adstock=GeometricAdstock(l_max=spec["adstock_max_lag"], normalize=True),
                   saturation=LogisticSaturation(),
                   yearly_seasonality=spec["yearly_seasonality"] or None)


def fit_peer(t0: float, csv: Path, spec: dict[str, Any], s: Settings) -> dict[str, Any]:
    """Fit PyMC-Marketing's classic MMM with nutpie; the clock stops after the summary."""
    try:
        import nutpie  # noqa: F401
        import pymc_marketing  # noqa: F401
    except ImportError as exc:
        return {"skipped": f"{PEER_MISSING} ({exc})"}
    import pandas as pd

    df = pd.read_csv(csv, parse_dates=[spec["date_column"]])
    columns = [spec["date_column"], *spec["channel_columns"], *spec["control_columns"]]
    mmm = _peer_model(spec)
    idata = mmm.fit(df[columns], df[spec["y_column"]], progressbar=False, random_seed=s.seed,
                    nuts_sampler="nutpie", chains=s.chains, tune=s.warmup, draws=s.draws,
                    target_accept=s.target_accept)
    return peer_row(idata, PARAMETERS, t0)


def peer_row(idata: Any, variables: list[str], t0: float) -> dict[str, Any]:
    """The peer's row: the clock stops once the summary of ``variables`` is computed."""
    import arviz as az

    names = [n for n in variables if n in idata.posterior]
    table = az.summary(idata, var_names=names, round_to="none")
    wall = time.perf_counter() - t0
    stats = idata.sample_stats
    steps = float(stats["n_steps"].mean()) if "n_steps" in stats else None
    return {"wall_s": wall, "min_ess_bulk": float(table["ess_bulk"].min()),
            "min_ess_parameter": str(table["ess_bulk"].idxmin()),
            "max_r_hat": float(table["r_hat"].max()),
            "divergences": int(stats["diverging"].sum()), "steps_per_draw": steps,
            "n_parameters": len(table), "summary_variables": names}


def child_main(kind: str, csv: Path, spec_path: Path, s: Settings,
               fitters: dict[str, Any] | None = None, marker: str = MARKER) -> int:
    """Run one fit and print its results as one JSON line after ``marker``.

    ``fitters`` maps ``kind`` ("bayesmmm", "peer") to ``fit(t0, csv, spec, settings)``;
    by default this script's own (``geo_speed.py`` passes its geo fitters).
    """
    t0 = time.perf_counter()  # before the first third-party import
    spec = json.loads(spec_path.read_text())
    fitter = (fitters or {"bayesmmm": fit_bayesmmm, "peer": fit_peer})[kind]
    try:
        result = fitter(t0, csv, spec, s)
    except Exception as exc:  # reported by the parent; the traceback goes to stderr
        import traceback

        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["peak_mib"] = _peak_mib()
    print(marker + json.dumps(result), flush=True)
    return 0


# --- datasets -----------------------------------------------------------------------------


def simulated_channels() -> list[Any]:
    """Six channels with varied carry-over, saturation, size and spend pattern."""
    from bayesmmm.synth import ChannelTruth

    return [ChannelTruth("tv", 0.6, 2.0, 1.2, 5000.0, "flighted"),
            ChannelTruth("search", 0.2, 4.0, 0.8, 2000.0, "always_on"),
            ChannelTruth("social", 0.4, 3.0, 0.6, 1500.0, "seasonal"),
            ChannelTruth("display", 0.3, 5.0, 0.3, 800.0, "bursts"),
            ChannelTruth("radio", 0.5, 1.5, 0.5, 1200.0, "flighted"),
            ChannelTruth("video", 0.35, 2.5, 0.7, 2500.0, "seasonal")]


def write_datasets(folder: Path, names: list[str]) -> dict[str, tuple[Path, Path]]:
    """Write each dataset's CSV and spec JSON; return ``{name: (csv, spec_json)}``."""
    os.environ["BAYESMMM_CACHE_DIR"] = "off"  # the parent's own JAX work caches nothing
    from bayesmmm import ModelSpec
    from bayesmmm.datasets import example_path, example_spec
    from bayesmmm.synth import simulate_classic

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names:
        if name == "example":
            df, spec = _read_csv(example_path()), example_spec()
        else:
            controls = {"promo": 0.8, "holiday": 1.0, "price_index": -0.4}
            sim = simulate_classic(simulated_channels(), controls=controls, n_periods=156,
                                   seed=20240601)
            df, spec = sim.data, ModelSpec(**sim.spec_kwargs)
        csv, spec_json = folder / f"{name}.csv", folder / f"{name}.spec.json"
        df.to_csv(csv, index=False)
        spec_json.write_text(json.dumps(spec.to_dict(), indent=1))
        out[name] = (csv, spec_json)
    return out


def _read_csv(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path)


def describe(csv: Path, spec_path: Path) -> str:
    """``'179 weeks x 2 channels x 3 controls'``."""
    spec = json.loads(spec_path.read_text())
    n = sum(1 for _ in csv.open()) - 1
    return (f"{n} weeks × {len(spec['channel_columns'])} channels × "
            f"{len(spec['control_columns'])} controls")


# --- parent side ----------------------------------------------------------------------------


def run_child(kind: str, csv: Path | str, spec_path: Path | str, s: Settings,
              env: dict[str, str], timeout: float, script: Path | None = None,
              marker: str = MARKER) -> dict[str, Any]:
    """Run one fit in a fresh interpreter (``script --child kind``, by default this one)
    and return its parsed JSON line, with the 1-minute load average before and after."""
    cmd = [sys.executable, str((script or Path(__file__)).resolve()), "--child", kind,
           "--data", str(csv), "--spec", str(spec_path), "--chains", str(s.chains),
           "--warmup", str(s.warmup), "--draws", str(s.draws), "--seed", str(s.seed),
           "--target-accept", str(s.target_accept)]
    started, load = time.perf_counter(), os.getloadavg()[0]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child
        return {"timed_out": True, "error": f"timed out after {timeout:.0f} s"}
    # Other work on the machine slows a fit down: keep the 1-minute load around it.
    load_after = os.getloadavg()[0]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(marker)]
    if not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"error": f"no result (exit code {proc.returncode}); stderr tail:\n{tail}"}
    result = json.loads(lines[-1][len(marker):])
    result["process_s"] = time.perf_counter() - started  # adds interpreter start-up
    result["load_before_after"] = [round(load, 2), round(load_after, 2)]
    if "error" in result:
        result["error"] += "\n" + "\n".join(proc.stderr.strip().splitlines()[-15:])
    if "min_ess_bulk" in result:
        result["ess_per_s"] = result["min_ess_bulk"] / result["wall_s"]
    return result


def peer_missing() -> bool:
    """True when PyMC-Marketing or nutpie is not installed in this interpreter."""
    return any(util.find_spec(m) is None for m in ("pymc_marketing", "nutpie"))


def bench_dataset(name: str, files: tuple[Path, Path], s: Settings, peer: bool,
                  timeout: float) -> dict[str, dict[str, Any]]:
    """The three fits of one dataset: BayesMMM cold and warm (shared cache), then the peer."""
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bayesmmm-jax-cache-") as cache:
        env = {**BASE_ENV, "BAYESMMM_CACHE_DIR": cache}
        for row in OURS:
            _log(f"[{name}] {row} ...")
            rows[row] = run_child("bayesmmm", *files, s, env, timeout)
    # The peer gets the same treatment: a fresh PyTensor compile directory, used twice.
    with tempfile.TemporaryDirectory(prefix="pytensor-compiledir-") as compiledir:
        env = {**BASE_ENV, "PYTENSOR_FLAGS": f"compiledir={compiledir}"}
        for row in PEERS:
            if peer:
                _log(f"[{name}] {row} ...")
                rows[row] = run_child("peer", *files, s, env, timeout)
            else:
                rows[row] = {"skipped": PEER_MISSING}
    return rows


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pool(per_seed: dict[int, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """One row per fit kind over all seeds: means of wall time, ESS and steps; ESS/s pooled
    as total ESS over total seconds; worst r_hat; total divergences; largest memory."""
    pooled: dict[str, dict[str, Any]] = {}
    for row in ROWS:
        runs = [rows[row] for rows in per_seed.values() if "wall_s" in rows.get(row, {})]
        if not runs:
            first = next(iter(per_seed.values())).get(row, {})
            pooled[row] = {k: v for k, v in first.items() if k in ("skipped", "error")}
            continue
        mean = {k: sum(r[k] for r in runs) / len(runs)
                for k in ("wall_s", "min_ess_bulk", "steps_per_draw", "peak_mib")
                if all(r.get(k) is not None for r in runs)}
        pooled[row] = {**mean, "ess_per_s": sum(r["min_ess_bulk"] for r in runs)
                       / sum(r["wall_s"] for r in runs),
                       "max_r_hat": max(r["max_r_hat"] for r in runs),
                       "divergences": sum(int(r["divergences"]) for r in runs), "n": len(runs)}
    return pooled


def ratios(rows: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """ESS/s of BayesMMM over the peer's, cold vs cold and warm vs warm (None if missing)."""
    out: dict[str, float | None] = {}
    for ours, peer in zip(OURS, PEERS, strict=True):
        theirs = rows.get(peer, {}).get("ess_per_s")
        mine = rows.get(ours, {}).get("ess_per_s")
        out[ours.split()[1]] = mine / theirs if mine and theirs else None
    return out


# --- report -------------------------------------------------------------------------------

_COLUMNS = [("wall s", "wall_s", "{:.1f}"), ("min ess_bulk", "min_ess_bulk", "{:.0f}"),
            ("ESS/s", "ess_per_s", "{:.1f}"), ("max r_hat", "max_r_hat", "{:.3f}"),
            ("divergences", "divergences", "{:d}"), ("steps/draw", "steps_per_draw", "{:.1f}"),
            ("peak MiB", "peak_mib", "{:.0f}")]


def format_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    """Plain-text table: one line per fit, a note for a skipped or failed one."""
    width = max(len(r) for r in ROWS) + 2
    lines = [" " * width + "".join(f"{h:>14}" for h, _, _ in _COLUMNS)]
    for row in ROWS:
        r = rows.get(row, {})
        if "wall_s" not in r:
            lines.append(f"{row:<{width}}" + (r.get("skipped") or "FAILED"))
            continue
        cells = [("-" if r.get(k) is None else fmt.format(r[k])) for _, k, fmt in _COLUMNS]
        lines.append(f"{row:<{width}}" + "".join(f"{c:>14}" for c in cells))
    return lines


def report(name: str, title: str, rows: dict[str, dict[str, Any]], s: Settings,
           seeds: list[int]) -> None:
    """Print the table, the ratio lines and any error of one dataset."""
    print(f"\n{name}: {title}; {s.chains} chains × {s.warmup} warm-up × {s.draws} draws, "
          f"target_accept {s.target_accept}; seeds {seeds} (means; ESS/s pooled; "
          "divergences summed)")
    print("\n".join(format_table(rows)))
    for label, value in ratios(rows).items():
        shown = f"{value:.1f}×" if value is not None else "n/a"
        print(f"ESS/s ratio bayesmmm {label} / pymc-nutpie {label} = {shown} (target ≥ 5×)")
    for row, r in rows.items():
        if "error" in r:
            print(f"{row} failed: {r['error']}")
    if "skipped" in rows.get(PEERS[0], {}):
        print(rows[PEERS[0]]["skipped"])


def versions() -> dict[str, str | None]:
    """Installed versions of the libraries involved (None when absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("bayesmmm", "jax", "numpyro", "arviz", "pymc-marketing", "pymc", "nutpie"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


# --- entry point --------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chains", type=int, help="default 4 (2 with --quick)")
    p.add_argument("--warmup", type=int, help="default 1000 (300 with --quick)")
    p.add_argument("--draws", type=int, help="default 1000 (300 with --quick)")
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)  # child only
    p.add_argument("--seeds", default="0,1,2",
                   help="comma-separated seeds; each row pools its fits over them")
    p.add_argument("--target-accept", type=float, default=0.8)
    p.add_argument("--quick", action="store_true", help="smoke run: 2 chains × 300 × 300")
    p.add_argument("--datasets", default="example,simulated",
                   help="comma-separated subset of: example, simulated")
    p.add_argument("--no-peer", action="store_true", help="measure BayesMMM only")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per fit")
    p.add_argument("--out", type=Path, default=RESULTS / "fit_speed.json")
    p.add_argument("--child", choices=["bayesmmm", "peer"], help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    """Explicit options win over the ``--quick`` or full defaults."""
    base = (2, 300, 300) if args.quick else (4, 1000, 1000)
    given = (args.chains, args.warmup, args.draws)
    chains, warmup, draws = (b if g is None else g for g, b in zip(given, base, strict=True))
    return Settings(chains, warmup, draws, seed=args.seed, target_accept=args.target_accept)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    s = settings_from(args)
    if args.child:
        return child_main(args.child, args.data, args.spec, s)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = set(names) - {"example", "simulated"}
    if unknown:
        raise SystemExit(f"unknown dataset(s) {sorted(unknown)}; choose from example, simulated")
    peer = not args.no_peer and not peer_missing()
    if not peer and not args.no_peer:
        print(PEER_MISSING)
    files = write_datasets(RESULTS / "data", names)
    results: dict[str, Any] = {"settings": asdict(s), "versions": versions(),
                               "cpu_count": os.cpu_count(), "datasets": {}}
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    results["seeds"] = seeds
    for name, pair in files.items():
        per_seed = {seed: bench_dataset(name, pair, replace(s, seed=seed), peer, args.timeout)
                    for seed in seeds}
        rows = pool(per_seed)
        report(name, describe(*pair), rows, s, seeds)
        results["datasets"][name] = {"description": describe(*pair), "csv": str(pair[0]),
                                     "rows": rows, "per_seed": per_seed,
                                     "ess_per_s_ratio": ratios(rows)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\nresults written to {args.out}")
    failed = any("error" in d["rows"][r] for d in results["datasets"].values() for r in OURS)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
