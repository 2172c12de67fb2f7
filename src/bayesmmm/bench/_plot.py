"""The benchmark's figures: each channel's ROI posterior per library against the truth,
and each fit's expected target against the observed one."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from bayesmmm.bench._tables import Prediction

__all__ = ["MAX_PPC_GEOS", "plot_ppc", "plot_roi"]

#: Geos drawn in one posterior-predictive figure (the first ones, in the fit's order).
MAX_PPC_GEOS = 12


def plot_roi(folder: Path, truth: dict[str, Any], rows: pd.DataFrame, path: Path) -> Path | None:
    """Draw posterior mean and 94% HDI of every channel's ROI, one marker per library
    side by side, with the true ROI as a black bar; read from each fit's ``roi.csv``.

    Returns the path written, or None when no fit has a ``roi.csv``.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    from bayesmmm._files import atomic_write

    fits = {}
    for row in rows.itertuples():
        roi_path = folder / f"{row.library}-{row.sampler}" / "roi.csv"
        if row.status == "ok" and roi_path.is_file():
            fits[f"{row.library} ({row.sampler})"] = pd.read_csv(roi_path, index_col="channel")
    if not fits:
        return None
    channels = list(truth["roi"])
    width = 0.8 / len(fits)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(channels) + 2), 4.5))
    for k, (label, roi) in enumerate(fits.items()):
        have = [c for c in channels if c in roi.index]
        x = [channels.index(c) - 0.4 + width * (k + 0.5) for c in have]
        mean = roi.loc[have, "mean"]
        err = [mean - roi.loc[have, "hdi_3%"], roi.loc[have, "hdi_97%"] - mean]
        ax.errorbar(x, mean, yerr=err, fmt="o", capsize=3, label=label)
    for i, c in enumerate(channels):
        ax.hlines(truth["roi"][c], i - 0.45, i + 0.45, colors="black", linewidth=2,
                  label="truth" if i == 0 else "_nolegend_")
    ax.set_xticks(range(len(channels)), channels, rotation=30, ha="right")
    ax.set_ylabel("ROI (incremental sales per unit of spend)")
    ax.set_title(f"{folder.name}: ROI posterior mean and 94% HDI against the truth")
    ax.legend(fontsize="small")
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def plot_ppc(pred: Prediction, label: str, path: Path) -> Path:
    """Draw the observed target (dots), the posterior mean of the expected target (line)
    and its 94% band (shaded, observation noise not included) over time, one panel per
    geo (at most :data:`MAX_PPC_GEOS`); R², MAPE and Durbin-Watson in each panel's title.

    Returns the path written (PNG).
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    from bayesmmm._files import atomic_write
    from bayesmmm.bench._validate import point_fit_metrics

    n_geos = min(len(pred.y), MAX_PPC_GEOS)
    cols = 1 if n_geos == 1 else 2
    rows = math.ceil(n_geos / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(9.0 if cols == 1 else 12.0, 3.2 * rows + 0.6),
                             squeeze=False, sharex=True)
    for g, ax in enumerate(axes.flat):
        if g >= n_geos:
            ax.set_visible(False)
            continue
        if pred.low is not None and pred.high is not None:
            ax.fill_between(pred.dates, pred.low[g], pred.high[g], alpha=0.3, color="C0",
                            label="94% band of the mean")
        ax.plot(pred.dates, pred.mu[g], color="C0", linewidth=1.4, label="predictive mean")
        ax.plot(pred.dates, pred.y[g], "o", color="black", markersize=2.5, label="observed")
        m = point_fit_metrics(pred.y[g], pred.mu[g])
        name = f"{pred.geos[g]}: " if pred.geos else ""
        ax.set_title(f"{name}R² {m['r2']:.3f} · MAPE {m['mape']:.2f}% · DW "
                     f"{m['durbin_watson']:.2f}", fontsize="small")
        if g == 0:
            ax.legend(fontsize="small")
    more = f" (first {n_geos} of {len(pred.y)} geos)" if len(pred.y) > n_geos else ""
    fig.suptitle(f"{label}: observed vs posterior-predictive mean{more}")
    fig.autofmt_xdate()
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=100, format="png"))
    plt.close(fig)
    return path
