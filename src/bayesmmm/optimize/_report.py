"""Summaries of plans over posterior draws: tables with means and HDIs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmmm.analysis import hdi, hdi_columns

__all__ = ["describe", "ratio", "shares"]


def describe(draws: np.ndarray, prob: float, prefix: str = "") -> dict[str, np.ndarray]:
    """Mean and HDI over the first axis: ``{prefix+'mean', prefix+'hdi_3%', ...}``."""
    draws = np.asarray(draws, dtype=float)
    low_name, high_name = hdi_columns(prob)
    if np.isnan(draws).all(axis=0).all():
        nan = np.full(draws.shape[1:], np.nan)
        return {f"{prefix}mean": nan, f"{prefix}{low_name}": nan, f"{prefix}{high_name}": nan}
    low, high = hdi(np.nan_to_num(draws), prob)
    bad = np.isnan(draws).any(axis=0)
    return {f"{prefix}mean": np.where(bad, np.nan, draws.mean(axis=0)),
            f"{prefix}{low_name}": np.where(bad, np.nan, low),
            f"{prefix}{high_name}": np.where(bad, np.nan, high)}


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0 (no spend: no ROI)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


def shares(x_gc: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Each geo's share of its channel ``(G, C)``: of ``x_gc``, else of ``fallback``, else
    equal (used to average per-geo marginal ROIs into a channel's)."""
    n_geos = x_gc.shape[0]
    out = np.full(x_gc.shape, 1.0 / n_geos)
    for arr in (fallback, x_gc):
        tot = arr.sum(axis=0)
        out = np.where(tot > 0, arr / np.where(tot > 0, tot, 1.0), out)
    return out


def frame(rows: dict[str, np.ndarray], index: list[str], name: str) -> pd.DataFrame:
    out = pd.DataFrame(rows, index=index)
    out.index.name = name
    return out
