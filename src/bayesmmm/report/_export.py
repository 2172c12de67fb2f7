"""Writing a fit's answers to an output folder (used by the CLI and the service)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

from bayesmmm._files import atomic_write
from bayesmmm.analysis import (
    contributions,
    convergence_warnings,
    fit_metrics,
    half_life,
    media_share,
    roi,
)
from bayesmmm.analysis import summary as summary_table
from bayesmmm.model import AveragedFit, Fit

__all__ = ["export_results", "write_table", "write_text"]


def write_table(frame: pd.DataFrame, path: str | Path, index: bool = True) -> Path:
    """Write a CSV atomically (whole or not at all)."""
    return atomic_write(Path(path), partial(frame.to_csv, index=index))


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file atomically."""
    return atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def export_results(fit: Fit | AveragedFit, folder: str | Path) -> dict[str, Path]:
    """Write summary.csv, contributions.csv, roi.csv, media_share.csv, half_life.csv
    (adstock half-life and peak lag per channel), diagnostics.json and fit.nc into
    ``folder`` (and, for an averaged fit, comparison.csv: every candidate
    structure, its weight and why it was left out); each file appears whole or not at all.

    Returns the written paths by name.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Callable[[], pd.DataFrame]] = {
        "summary": lambda: summary_table(fit).rename_axis("parameter"),
        "contributions": lambda: contributions(fit),
        "roi": lambda: roi(fit),
        "media_share": lambda: media_share(fit),
        "half_life": lambda: half_life(fit),
    }
    if isinstance(fit, AveragedFit) and fit.comparison is not None:
        table = fit.comparison
        tables["comparison"] = lambda: table
    if fit.data.is_panel:  # geo models: every panel cell as well as the total
        tables["contributions_by_panel"] = lambda: contributions(fit, level="panel")
        tables["roi_by_panel"] = lambda: roi(fit, level="panel")
    paths: dict[str, Path] = {}
    for name, make in tables.items():
        frame = make()
        keep_index = not name.startswith("contributions")  # long tables: no useful index
        path = folder / f"{name}.csv"
        atomic_write(path, partial(frame.to_csv, index=keep_index))
        paths[name] = path
    members = fit.fits if isinstance(fit, AveragedFit) else {"model": fit}
    diagnostics = {
        "fit_metrics": fit_metrics(fit),
        "divergences": sum(int(m.sample_stats["diverging"].sum()) for m in members.values()),
        "warnings": convergence_warnings(fit),
        "sampler": fit.meta,
    }
    if isinstance(fit, AveragedFit):
        diagnostics["structures"] = {"weights": fit.weights, "carried_by": fit.carried_by()}
    path = folder / "diagnostics.json"
    atomic_write(path, lambda p: p.write_text(json.dumps(diagnostics, indent=1, default=str)))
    paths["diagnostics"] = path
    paths["fit"] = fit.save(folder / "fit.nc")
    return paths
