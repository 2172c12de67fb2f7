"""The peer benchmark: every (dataset, library, sampler) fitted in its own process.

Layout under ``out``::

    summary.csv                          one row per fit (all datasets)
    runtime_comparison.csv, ess_comparison.csv, performance_metrics.csv,
    diagnostics_summary.csv              the comparison tables (see ``_tables``)
    ppc_<dataset>_<library>-<sampler>.png    observed target against the predictive mean
    README.md                            the table, the settings, the files, the differences
    <dataset>/data.csv, truth.json, spec.json     the simulated data (cached)
    <dataset>/summary.csv, roi.png       the dataset's rows and its ROI plot
    <dataset>/<library>-<sampler>/metrics.json, summary.csv, roi.csv, fit file
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmmm._files import atomic_write
from bayesmmm.bench._libraries import LIBRARIES, find_benchmarks, find_interpreter
from bayesmmm.bench._tables import TABLES, comparison_tables, load_prediction
from bayesmmm.bench._validate import (
    HDI_94,
    Estimates,
    FitValidation,
    point_fit_metrics,
    validate_estimates,
)
from bayesmmm.errors import SpecError

__all__ = ["BenchOptions", "BenchResult", "SUMMARY_COLUMNS", "run_bench"]

CHILD = Path(__file__).resolve().parent / "_child.py"
MARKER = "BENCH_RESULT "

#: Columns of ``summary.csv``, in order.
SUMMARY_COLUMNS = [
    "dataset", "library", "sampler", "status", "chains", "tune", "draws", "target_accept",
    "runtime_s",
    "cpu_s", "ess_bulk_min", "ess_tail_min", "ess_bulk_per_s", "ess_tail_per_s",
    "ess_bulk_per_cpu_s", "max_r_hat",
    "divergences", "steps_per_draw", "r2", "mape", "durbin_watson", "coverage_94",
    "coverage_94_roi", "coverage_50", "n_coverage", "roi_mean_abs_rel_error",
    "contribution_srmse", "checks_passed", "peak_mib", "artifact_mib", "load_avg", "note"]


@dataclass(frozen=True)
class BenchOptions:
    """What :func:`run_bench` fits and where it writes.

    ``samplers`` empty: each library's default (its first). Otherwise each library runs
    the requested samplers it has; one that has none of them runs its default.

    ``target_accept`` (in (0, 1)) goes to every library's NUTS: BayesMMM's ``bm.fit``,
    PyMC-Marketing's ``fit(target_accept=...)`` (PyMC, nutpie, NumPyro, BlackJAX) and
    Meridian's ``sample_posterior(dual_averaging_kwargs={"target_accept_prob": ...})``.
    The default 0.9 is the reference benchmark's, one value for all three (their own
    defaults differ: 0.8, 0.8 and TFP's 0.85).
    """

    datasets: tuple[str, ...] = ("small_business", "medium_business")
    libraries: tuple[str, ...] = ("bayesmmm", "pymc-marketing", "meridian")
    samplers: tuple[str, ...] = ()
    chains: int = 4
    tune: int = 1000
    draws: int = 1000
    seed: int = 0
    data_seed: int = 0
    force_rerun: bool = False
    plots_only: bool = False
    out: Path = Path("results")
    peer_python: str | None = None
    meridian_python: str | None = None
    timeout: float = 3600.0
    peer_chains: int | None = None
    peer_tune: int | None = None
    peer_draws: int | None = None
    target_accept: float = 0.9

    def __post_init__(self) -> None:
        from bayesmmm.synth import PRESET_NAMES

        bad = [d for d in self.datasets if d not in PRESET_NAMES]
        if bad or not self.datasets:
            raise SpecError(f"Unknown dataset(s) {bad}; expected some of {list(PRESET_NAMES)}")
        bad = [lib for lib in self.libraries if lib not in LIBRARIES]
        if bad or not self.libraries:
            raise SpecError(f"Unknown library(ies) {bad}; expected some of {list(LIBRARIES)}")
        known = {s for lib in LIBRARIES.values() for s in lib.samplers}
        bad = [s for s in self.samplers if s not in known]
        if bad:
            raise SpecError(f"Unknown sampler(s) {bad}; expected some of {sorted(known)}")
        for name in ("chains", "tune", "draws", "peer_chains", "peer_tune", "peer_draws"):
            value = getattr(self, name)
            if value is None and name.startswith("peer_"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                flag = name.replace("_", "-")
                raise SpecError(f"--{flag} must be an integer >= 1, got {value!r}")
        accept = self.target_accept
        if isinstance(accept, bool) or not isinstance(accept, int | float) \
                or not 0 < accept < 1:
            raise SpecError(f"--target-accept must be in (0, 1) (exclusive), got {accept!r}. "
                            "Fix: use 0.9 (default), or 0.95-0.99 when fits diverge")

    def samplers_for(self, library: str) -> tuple[list[str], str | None]:
        """The samplers to run for ``library`` and a note when its default stands in."""
        lib = LIBRARIES[library]
        chosen = [s for s in self.samplers if s in lib.samplers]
        if chosen or not self.samplers:
            return chosen or [lib.samplers[0]], None
        return [lib.samplers[0]], (f"none of the requested samplers {list(self.samplers)}; "
                                   f"ran its default {lib.samplers[0]}")

    def settings_for(self, library: str) -> dict[str, Any]:
        """Sampler settings of ``library``'s fits (peers may run reduced ones); a cached
        fit is reused only when these match."""
        peer = library != "bayesmmm"

        def pick(name: str) -> int:
            value = getattr(self, f"peer_{name}") if peer else None
            return int(getattr(self, name) if value is None else value)

        return {"chains": pick("chains"), "tune": pick("tune"), "draws": pick("draws"),
                "seed": self.seed, "data_seed": self.data_seed,
                "target_accept": float(self.target_accept)}


@dataclass
class BenchResult:
    """The rows of ``summary.csv`` and every message (skips, failures, cache hits)."""

    table: pd.DataFrame
    messages: list[str] = field(default_factory=list)
    out: Path = Path("results")

    @property
    def failed(self) -> bool:
        return bool((self.table["status"] == "failed").any()) if len(self.table) else False


# --- datasets ------------------------------------------------------------------------------


def ensure_dataset(name: str, folder: Path, data_seed: int, force: bool) -> dict[str, Any]:
    """Simulate preset ``name`` into ``folder`` unless its cached files match the seed."""
    truth_path = folder / "truth.json"
    if not force and all((folder / f).is_file() for f in ("data.csv", "truth.json",
                                                          "spec.json")):
        truth = json.loads(truth_path.read_text())
        if truth.get("seed") == data_seed:
            return truth
    from bayesmmm.synth import simulate_preset

    sim = simulate_preset(name, data_seed)
    sim.write(folder)
    return sim.truth


def _model_spec(folder: Path) -> Path:
    """The full ``ModelSpec.to_dict()`` (every key the peer adapters read)."""
    from bayesmmm.model import ModelSpec

    spec = ModelSpec.from_dict(json.loads((folder / "spec.json").read_text()))
    path = folder / "model_spec.json"
    atomic_write(path, lambda p: p.write_text(json.dumps(spec.to_dict(), indent=1)))
    return path


# --- one fit -------------------------------------------------------------------------------


def _child_env(library: str) -> dict[str, str]:
    env = dict(os.environ)
    if library != "bayesmmm":  # the parent's JAX flags mean nothing to a peer
        env.pop("XLA_FLAGS", None)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def run_child(python: str, library: str, sampler: str, folder: Path, fit_dir: Path,
              opts: BenchOptions) -> dict[str, Any]:
    """Run the child; its parsed result, or ``{"error": ...}`` with the stderr tail."""
    bench = find_benchmarks()
    s = opts.settings_for(library)
    cmd = [python, str(CHILD), "--library", library, "--sampler", sampler,
           "--data", str(folder / "data.csv"), "--spec", str(_model_spec(folder)),
           "--out", str(fit_dir), "--chains", str(s["chains"]), "--tune", str(s["tune"]),
           "--draws", str(s["draws"]), "--seed", str(s["seed"]),
           "--target-accept", repr(s["target_accept"])]
    if bench is not None:
        cmd += ["--benchmarks", str(bench)]
    started = time.perf_counter()
    load = os.getloadavg()[0]
    try:
        proc = subprocess.run(cmd, env=_child_env(library), capture_output=True, text=True,
                              timeout=opts.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {opts.timeout:.0f} s"}
    except OSError as exc:
        return {"skipped": f"cannot run {python}: {exc.strerror}"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    tail = "\n".join(proc.stderr.strip().splitlines()[-12:])
    if not lines:
        return {"error": f"no result (exit code {proc.returncode}); stderr tail:\n{tail}"}
    result: dict[str, Any] = json.loads(lines[-1][len(MARKER):])
    result["process_s"] = time.perf_counter() - started
    # 1-minute load average before and after: other work on the machine slows a fit
    result["load_avg"] = round(max(load, os.getloadavg()[0]), 2)
    if "error" in result:
        result["error"] += "\n" + tail
    return result


def estimates_from_child(fit_dir: Path, folder: Path, truth: dict[str, Any],
                         divergences: int | None) -> Estimates:
    """Rebuild :class:`Estimates` from the child's files (any library)."""
    from bayesmmm.analysis import hdi

    spec = json.loads((folder / "spec.json").read_text())
    channels = list(spec["channel_columns"])
    summary = pd.read_csv(fit_dir / "summary_raw.csv", index_col="parameter")
    raw = np.load(fit_dir / "posterior.npz")
    df = pd.read_csv(folder / "data.csv")
    pred = load_prediction(fit_dir, folder)
    spend = df[channels].to_numpy(float).sum(axis=0)
    low, high = hdi(raw["roi_draws"], 0.94)
    roi = pd.DataFrame({"spend": spend, "roi": raw["roi_draws"].mean(axis=0),
                        HDI_94[0]: low, HDI_94[1]: high},
                       index=pd.Index(channels, name="channel"))
    return Estimates(summary=summary, roi=roi,
                     contributions={c: raw["contributions"][..., i]
                                    for i, c in enumerate(channels)},
                     fit_metrics=point_fit_metrics(pred.y, pred.mu),
                     divergences=int(divergences or 0), geos=pred.geos)


def _row(dataset: str, library: str, sampler: str, opts: BenchOptions, status: str,
         result: dict[str, Any], validation: FitValidation | None, note: str = "") -> dict:
    row: dict[str, Any] = {"dataset": dataset, "library": library, "sampler": sampler,
                           "status": status, **{k: opts.settings_for(library)[k] for k in
                                                ("chains", "tune", "draws", "target_accept")},
                           "note": note}
    for key in ("runtime_s", "cpu_s", "divergences", "steps_per_draw", "peak_mib",
                "artifact_mib", "load_avg"):
        row[key] = result.get(key)
    if validation is not None:
        m = validation.metrics
        row.update({k: m.get(k) for k in ("r2", "mape", "durbin_watson", "coverage_94",
                                          "coverage_50", "n_coverage", "roi_mean_abs_rel_error",
                                          "contribution_srmse")})
        row["coverage_94_roi"] = m.get("coverage_94_roi")
        row["ess_bulk_min"], row["ess_tail_min"] = m["min_ess_bulk"], m["min_ess_tail"]
        row["max_r_hat"] = m["max_r_hat"]
        row["checks_passed"] = f"{sum(c.passed for c in validation.checks)}/" \
            f"{len(validation.checks)}"
        if row["runtime_s"]:
            row["ess_bulk_per_s"] = m["min_ess_bulk"] / row["runtime_s"]
            row["ess_tail_per_s"] = m["min_ess_tail"] / row["runtime_s"]
        if row["cpu_s"]:
            row["ess_bulk_per_cpu_s"] = m["min_ess_bulk"] / row["cpu_s"]
    return row


def fit_one(dataset: str, library: str, sampler: str, folder: Path, truth: dict[str, Any],
            opts: BenchOptions, log: Callable[[str], None]) -> dict[str, Any]:
    """Fit (or reuse) one (dataset, library, sampler); return its summary row."""
    fit_dir = folder / f"{library}-{sampler}"
    metrics_path = fit_dir / "metrics.json"
    label = f"{dataset} / {library}-{sampler}"
    if metrics_path.is_file() and not opts.force_rerun:
        cached = json.loads(metrics_path.read_text())
        if cached.get("settings") == opts.settings_for(library) or opts.plots_only:
            log(f"{label}: cached ({metrics_path})")
            return cached["row"]
        log(f"{label}: cached with other settings {cached.get('settings')}; refitting")
    if opts.plots_only:
        return _row(dataset, library, sampler, opts, "missing", {}, None,
                    "no cached result (--plots-only fits nothing)")
    given = opts.meridian_python if library == "meridian" else \
        opts.peer_python if library != "bayesmmm" else None
    python, how = find_interpreter(LIBRARIES[library], given)
    if python is None:
        log(f"{library}: skipped ({how})")
        return _row(dataset, library, sampler, opts, "skipped", {}, None, how)
    s = opts.settings_for(library)
    log(f"{label}: fitting with {python} ({s['chains']} chains × {s['tune']} tune × "
        f"{s['draws']} draws, target_accept {s['target_accept']}) ...")
    fit_dir.mkdir(parents=True, exist_ok=True)
    result = run_child(python, library, sampler, folder, fit_dir, opts)
    if "skipped" in result:
        log(f"{library}: skipped ({result['skipped']})")
        return _row(dataset, library, sampler, opts, "skipped", result, None,
                    result["skipped"])
    if "error" in result:
        log(f"{label}: FAILED: {result['error']}")
        return _row(dataset, library, sampler, opts, "failed", result, None,
                    result["error"].splitlines()[0])
    validation = validate_estimates(
        estimates_from_child(fit_dir, folder, truth, result.get("divergences")), truth)
    row = _row(dataset, library, sampler, opts, "ok", result, validation)
    _write_fit(fit_dir, row, result, validation, opts)
    log(f"{label}: {row['runtime_s']:.1f} s, min ESS bulk {row['ess_bulk_min']:.0f} "
        f"({row['ess_bulk_per_s']:.2f}/s), 94% coverage {row['coverage_94']:.0%}")
    return row


def _write_fit(fit_dir: Path, row: dict[str, Any], result: dict[str, Any],
               validation: FitValidation, opts: BenchOptions) -> None:
    summary = pd.read_csv(fit_dir / "summary_raw.csv", index_col="parameter")
    atomic_write(fit_dir / "summary.csv", lambda p: summary.to_csv(p))
    atomic_write(fit_dir / "roi.csv", lambda p: validation.roi.to_csv(p))
    metrics = {"row": row, "settings": opts.settings_for(row["library"]), "child": result,
               "validation": validation.to_dict(), "date": time.strftime("%Y-%m-%d %H:%M")}
    text = json.dumps(metrics, indent=1, default=_json_default)
    atomic_write(fit_dir / "metrics.json", lambda p: p.write_text(text))  # last: cache key


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


# --- the run -------------------------------------------------------------------------------


def run_bench(options: BenchOptions, log: Callable[[str], None] = print) -> BenchResult:
    """Fit every (dataset, library, sampler) and write the results under ``options.out``.

    Each fit runs in a fresh interpreter (the library's own when it lives in another
    venv), so runtime and peak memory are per fit. A fit whose ``metrics.json`` exists
    with the same settings is reused unless ``force_rerun``; ``plots_only`` fits nothing
    and redraws plots and tables from the cache. A missing peer is skipped with a
    message; a failed fit is reported, never raised.
    """
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    messages: list[str] = []

    def note(message: str) -> None:
        messages.append(message)
        log(message)

    for dataset in options.datasets:
        folder = out / dataset
        if options.plots_only and not (folder / "truth.json").is_file():
            note(f"{dataset}: no cached data in {folder}; nothing to plot")
            continue
        truth = ensure_dataset(dataset, folder, options.data_seed,
                               options.force_rerun and not options.plots_only)
        ds_rows = []
        for library in options.libraries:
            samplers, why = options.samplers_for(library)
            if why:
                note(f"{library}: {why}")
            for sampler in samplers:
                ds_rows.append(fit_one(dataset, library, sampler, folder, truth, options,
                                       note))
        frame = _frame(ds_rows)
        _write_csv(frame, folder / "summary.csv")
        rows += ds_rows
        try:
            from bayesmmm.bench._plot import plot_ppc, plot_roi

            plot_roi(folder, truth, frame, folder / "roi.png")
            for row in frame[frame["status"] == "ok"].itertuples():
                name = f"{row.library}-{row.sampler}"
                if (folder / name / "posterior.npz").is_file():
                    plot_ppc(load_prediction(folder / name, folder), f"{dataset} / {name}",
                             out / f"ppc_{dataset}_{name}.png")
        except ImportError as exc:  # matplotlib is optional
            note(f"{dataset}: no plot ({exc})")
    table = _frame(rows)
    _write_csv(table, out / "summary.csv")
    for name, frame in comparison_tables(table, out).items():
        _write_csv(frame, out / name)
    readme = markdown_report(table, options)
    atomic_write(out / "README.md", lambda p: p.write_text(readme, encoding="utf-8"))
    return BenchResult(table, messages, out)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda p: frame.to_csv(p, index=False))


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in SUMMARY_COLUMNS:
        if col not in frame:
            frame[col] = np.nan
    return frame[SUMMARY_COLUMNS]


def ess_ratios(table: pd.DataFrame, column: str = "ess_bulk_per_s"
               ) -> dict[str, float | None]:
    """Per dataset: BayesMMM's ``column`` (ESS per second or per CPU second) over the best
    peer's."""
    out: dict[str, float | None] = {}
    ok = table[table["status"] == "ok"]
    for dataset, group in ok.groupby("dataset"):
        ours = group[group["library"] == "bayesmmm"][column].max()
        peers = group[group["library"] != "bayesmmm"][column].max()
        out[str(dataset)] = float(ours / peers) if pd.notna(ours) and pd.notna(peers) and \
            peers > 0 else None
    return out


def _md_table(frame: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v).replace("|", "/")

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.to_numpy()]
    return "\n".join(lines)


def markdown_report(table: pd.DataFrame, opts: BenchOptions) -> str:
    """The results as Markdown: settings, machine, table, ratios and model differences."""
    shown = ["dataset", "library", "sampler", "status", "chains", "tune", "draws", "runtime_s",
             "cpu_s", "ess_bulk_min", "ess_bulk_per_cpu_s",
             "ess_bulk_per_s", "max_r_hat", "divergences", "r2", "mape", "durbin_watson",
             "coverage_94", "n_coverage", "roi_mean_abs_rel_error", "contribution_srmse",
             "peak_mib", "artifact_mib", "load_avg"]
    parts = [
        "# Benchmark results", "",
        f"Written {time.strftime('%Y-%m-%d %H:%M')} by `bayesmmm bench` on {platform.node()} "
        f"({os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}).",
        "", "Options of the invocation that wrote this file (each row's own chains, tune and "
        f"draws are in the table): `{json.dumps(asdict(opts), default=str)}`", "",
        f"Every library's NUTS ran with target_accept {opts.target_accept:g} "
        "(`--target-accept`; the reference benchmark's default is 0.9).", "",
        _md_table(table[shown]), "",
    ]
    per_cpu = ess_ratios(table, "ess_bulk_per_cpu_s")
    for dataset, ratio in ess_ratios(table).items():
        text = f"{ratio:.1f}×" if ratio is not None else "n/a (no peer result)"
        cpu = per_cpu.get(dataset)
        cpu_text = f"{cpu:.1f}×" if cpu is not None else "n/a"
        parts.append(f"- {dataset}: min ESS bulk per second, bayesmmm over the best peer = "
                     f"{text}; per CPU second = {cpu_text}")
    notes = table[table["note"].fillna("") != ""]
    if len(notes):
        parts += ["", "Notes:", ""]
        parts += [f"- {r.dataset} / {r.library}-{r.sampler}: {r.note}"
                  for r in notes.itertuples()]
    parts += ["", "## Where the models differ", ""]
    parts += [f"- **{lib.name}**: {lib.differences}" for lib in LIBRARIES.values()
              if lib.name in opts.libraries]
    parts += ["", "Columns: runtime_s is the fitting process's wall time from before the "
              "first third-party import until the posterior summary is computed, cpu_s its "
              "CPU time (all threads) over the same span, load_avg the machine's 1-minute "
              "load average around the fit (above the core count, fits wait); ESS is the "
              "smallest over each library's summary parameters; coverage_94 is the share of "
              "channel parameters and ROIs whose truth lies inside the 94% HDI (n_coverage "
              "of them: a peer is scored on the parameters it shares with the truth); "
              "roi_mean_abs_rel_error the mean |ROI / true ROI - 1|; contribution_srmse the "
              "mean over channels of RMSE(contribution) / mean true contribution.", ""]
    parts += ["## Files", "", "- `summary.csv`: the table above, every column"]
    parts += [f"- `{name}`: {what}" for name, what in TABLES.items()]
    parts += ["- `ppc_<dataset>_<library>-<sampler>.png`: observed target against the "
              "posterior mean of the expected target with its 94% band (equal-tailed, "
              "observation noise not included), one panel per geo",
              "- `<dataset>/roi.png`: each channel's ROI posterior per library against the "
              "truth",
              "- `<dataset>/<library>-<sampler>/`: `metrics.json` (timings, memory, "
              "validation), `summary.csv`, `roi.csv`, `posterior.npz` and the library's "
              "fit file", ""]
    return "\n".join(parts)
