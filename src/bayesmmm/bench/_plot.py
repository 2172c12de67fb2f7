"""The benchmark's figure: each channel's ROI posterior per library against the truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["plot_roi"]


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
