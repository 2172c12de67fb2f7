"""The comparison tables of a benchmark run, read back from each fit's files.

Every table has one row per (dataset, library, sampler) of the run, skipped and failed
ones included (their numbers empty), and is rebuilt from the files a fit leaves in
``<dataset>/<library>-<sampler>/`` (``metrics.json``, ``summary.csv``, ``posterior.npz``),
so a cached fit and ``--plots-only`` give the same tables as a fresh one.

Ratios: ``*_vs_fastest`` / ``*_vs_best`` divide a row's value by the dataset's best
(smallest time, largest ESS rate) among its successful fits; ``*_vs_bayesmmm`` by
BayesMMM's on the same dataset. A time ratio above 1 is slower; an ESS ratio below 1 is
fewer effective draws per second.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmmm.bench._validate import point_fit_metrics

__all__ = ["DIAGNOSTICS_COLUMNS", "ESS_COLUMNS", "PERFORMANCE_COLUMNS", "RUNTIME_COLUMNS",
           "TABLES", "Prediction", "comparison_tables", "converged_rule", "load_prediction"]

KEY = ["dataset", "library", "sampler", "status"]

#: Columns of ``runtime_comparison.csv``, in order.
RUNTIME_COLUMNS = [
    *KEY, "chains", "tune", "draws", "target_accept", "runtime_s", "cpu_s", "setup_s",
    "warmup_s", "sampling_s", "sampler_s", "runtime_vs_fastest", "runtime_vs_bayesmmm",
    "cpu_vs_fastest", "cpu_vs_bayesmmm", "load_avg"]
#: Columns of ``ess_comparison.csv``, in order.
ESS_COLUMNS = [
    *KEY, "n_draws", "ess_bulk_min", "ess_bulk_median", "ess_tail_min", "ess_tail_median",
    "ess_bulk_per_s", "ess_tail_per_s", "ess_bulk_per_cpu_s", "ess_tail_per_cpu_s",
    "ess_bulk_per_s_vs_best", "ess_bulk_per_s_vs_bayesmmm", "ess_bulk_per_cpu_s_vs_best",
    "ess_bulk_per_cpu_s_vs_bayesmmm"]
#: Columns of ``performance_metrics.csv``, in order.
PERFORMANCE_COLUMNS = [*KEY, "n_obs", "r2", "mape", "durbin_watson", "rmse"]
#: Columns of ``diagnostics_summary.csv``, in order.
DIAGNOSTICS_COLUMNS = [
    *KEY, "chains", "draws", "target_accept", "max_r_hat", "divergences", "divergence_rate",
    "steps_per_draw", "ess_bulk_min", "converged", "not_converged_because", "converged_rule"]

#: The files, in the order the README lists them, and what each holds.
TABLES = {
    "runtime_comparison.csv": "wall and CPU seconds per fit, split into setup, warm-up and "
    "sampling where the library reports it, and ratios to the fastest fit and to BayesMMM",
    "ess_comparison.csv": "smallest and median bulk and tail ESS, ESS per wall and per CPU "
    "second, and ratios to the best fit and to BayesMMM",
    "performance_metrics.csv": "in-sample R², MAPE (%), Durbin-Watson and RMSE of the "
    "posterior-mean expected target against the observed target",
    "diagnostics_summary.csv": "largest r_hat, divergences, leapfrog steps per draw and "
    "whether the fit converged (the rule is in the converged_rule column)",
}


def converged_rule() -> tuple[float, int]:
    """``(r_hat max, ESS bulk min)``: the analysis layer's lines (one definition)."""
    from bayesmmm.analysis import ESS_BULK_MIN, R_HAT_MAX

    return float(R_HAT_MAX), int(ESS_BULK_MIN)


# --- one fit's prediction ----------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """Observed target and a fit's expected target, ``(n_geos, n_times)`` each, original
    units. ``low``/``high`` are the equal-tailed 94% band of the expected target (None for
    a fit written before the band was); ``dates`` ``(n_times,)``; ``geos`` labels the rows
    of a panel (empty for national data)."""

    y: np.ndarray
    mu: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    dates: pd.DatetimeIndex
    geos: tuple[str, ...]


def load_prediction(fit_dir: Path, folder: Path) -> Prediction:
    """Read the observed target from ``folder/data.csv`` and a fit's ``posterior.npz``,
    with the rows of a panel in the child's order."""
    spec = json.loads((folder / "spec.json").read_text())
    raw = np.load(fit_dir / "posterior.npz")
    df = pd.read_csv(folder / "data.csv")
    y_col, date = spec["y_column"], spec["date_column"]
    geos: tuple[str, ...] = ()
    if spec.get("panel_columns"):  # the child's row order, else sorted labels
        geo = spec["panel_columns"][0]
        df = df.astype({geo: str})
        geos = tuple(str(g) for g in raw["geos"]) if raw["geos"].size else \
            tuple(sorted(df[geo].unique()))
        wide = df.pivot(index=date, columns=geo, values=y_col)[list(geos)]
        y, dates = wide.to_numpy().T, wide.index
    else:
        y, dates = df[y_col].to_numpy()[None], df[date]
    band = ("mu_low" in raw.files and "mu_high" in raw.files)
    return Prediction(y=np.asarray(y, float), mu=np.asarray(raw["mu"], float),
                      low=np.asarray(raw["mu_low"], float) if band else None,
                      high=np.asarray(raw["mu_high"], float) if band else None,
                      dates=pd.DatetimeIndex(pd.to_datetime(dates)), geos=geos)


# --- the tables ---------------------------------------------------------------------------


def _fit_files(out: Path, row: pd.Series) -> dict[str, Any]:
    """What a successful fit's folder adds to its summary row: the child's timings,
    per-parameter ESS and the fit metrics of its predictive mean."""
    folder = out / str(row["dataset"])
    fit_dir = folder / f"{row['library']}-{row['sampler']}"
    extra: dict[str, Any] = {}
    if row["status"] != "ok":
        return extra
    metrics_path = fit_dir / "metrics.json"
    if metrics_path.is_file():
        child = json.loads(metrics_path.read_text()).get("child", {})
        extra.update(warmup_s=child.get("seconds_warmup"),
                     sampling_s=child.get("seconds_sampling"),
                     sampler_s=child.get("seconds_sampler"))
    if (fit_dir / "summary.csv").is_file():
        summary = pd.read_csv(fit_dir / "summary.csv", index_col="parameter")
        for kind in ("bulk", "tail"):
            extra[f"ess_{kind}_median"] = float(summary[f"ess_{kind}"].median())
    if (fit_dir / "posterior.npz").is_file():
        pred = load_prediction(fit_dir, folder)
        extra.update(point_fit_metrics(pred.y, pred.mu), n_obs=int(pred.y.size))
    return extra


def _ratio(frame: pd.DataFrame, column: str, best: Callable[[pd.Series], float]
           ) -> tuple[pd.Series, pd.Series]:
    """Per dataset: ``column`` over its best value and over BayesMMM's (ok rows only)."""
    ok = frame["status"] == "ok"
    values = frame[column].where(ok).astype(float)
    best_of = values.groupby(frame["dataset"]).transform(best)
    ours = values.where(frame["library"] == "bayesmmm").groupby(frame["dataset"]) \
        .transform("min")
    with np.errstate(divide="ignore", invalid="ignore"):
        return (values / best_of.where(best_of > 0),
                values / ours.where(ours > 0))


def _convergence(row: pd.Series, r_hat_max: float, ess_min: int) -> tuple[Any, str]:
    if row["status"] != "ok":
        return None, ""
    why = []
    r_hat, div, ess = row["max_r_hat"], row["divergences"], row["ess_bulk_min"]
    if not np.isfinite(r_hat):
        why.append("no r_hat (one chain)")
    elif r_hat > r_hat_max:
        why.append(f"max_r_hat {r_hat:.3f} > {r_hat_max:g}")
    if pd.isna(div) or div > 0:
        why.append("divergences unknown" if pd.isna(div) else f"{int(div)} divergences")
    if not ess >= ess_min:
        why.append(f"ess_bulk_min {ess:.0f} < {ess_min}")
    return not why, "; ".join(why)


def comparison_tables(table: pd.DataFrame, out: Path) -> dict[str, pd.DataFrame]:
    """The four tables of :data:`TABLES` from the run's ``summary.csv`` rows (``table``)
    and the fits' files under ``out``; keyed by file name."""
    frame = table.reset_index(drop=True).copy()
    for col in frame.columns.difference([*KEY, "checks_passed", "note"]):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")  # all-None columns
    extra = pd.DataFrame([_fit_files(Path(out), row) for _, row in frame.iterrows()],
                         index=frame.index)
    for col in ("warmup_s", "sampling_s", "sampler_s", "ess_bulk_median", "ess_tail_median",
                "n_obs", "r2", "mape", "durbin_watson", "rmse"):
        if col in extra:
            frame[col] = extra[col].astype(float)  # the fit's own files win over the row
        elif col not in frame:
            frame[col] = np.nan
    frame["setup_s"] = frame["runtime_s"] - frame["sampler_s"]
    frame["runtime_vs_fastest"], frame["runtime_vs_bayesmmm"] = \
        _ratio(frame, "runtime_s", lambda s: s.min())
    frame["cpu_vs_fastest"], frame["cpu_vs_bayesmmm"] = _ratio(frame, "cpu_s",
                                                               lambda s: s.min())
    frame["n_draws"] = frame["chains"] * frame["draws"]
    for col in ("n_obs", "n_draws", "divergences", "chains", "tune", "draws"):
        frame[col] = frame[col].round().astype("Int64")  # counts print as counts
    frame["ess_tail_per_cpu_s"] = frame["ess_tail_min"] / frame["cpu_s"]
    for col in ("ess_bulk_per_s", "ess_bulk_per_cpu_s"):
        frame[f"{col}_vs_best"], frame[f"{col}_vs_bayesmmm"] = _ratio(frame, col,
                                                                      lambda s: s.max())
    frame["divergence_rate"] = frame["divergences"] / frame["n_draws"]
    r_hat_max, ess_min = converged_rule()
    verdicts = [_convergence(row, r_hat_max, ess_min) for _, row in frame.iterrows()]
    frame["converged"] = pd.Series([v[0] for v in verdicts], index=frame.index, dtype=object)
    frame["not_converged_because"] = [v[1] for v in verdicts]
    frame["converged_rule"] = (f"max_r_hat <= {r_hat_max:g} and divergences == 0 and "
                               f"ess_bulk_min >= {ess_min}")
    columns = {"runtime_comparison.csv": RUNTIME_COLUMNS, "ess_comparison.csv": ESS_COLUMNS,
               "performance_metrics.csv": PERFORMANCE_COLUMNS,
               "diagnostics_summary.csv": DIAGNOSTICS_COLUMNS}
    return {name: frame.reindex(columns=cols) for name, cols in columns.items()}
