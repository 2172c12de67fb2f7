"""Small tables for the report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

TINY = {"chains": 2, "warmup": 150, "draws": 100, "progress": False, "seed": 3}
PANEL_KW = {"date_column": "date", "y_column": "sales", "channel_columns": ["tv", "search"],
            "control_columns": ["promo"], "panel_columns": ["geo"]}


def panel_table(n_weeks: int = 52, geos: tuple[str, ...] = ("north", "south")) -> pd.DataFrame:
    """A long-format table with a known linear-ish media effect per geo."""
    rng = np.random.default_rng(0)
    frames = []
    for i, g in enumerate(geos):
        tv, search = rng.uniform(0, 50, n_weeks), rng.uniform(1, 20, n_weeks)
        frames.append(pd.DataFrame({
            "geo": g, "date": pd.date_range("2022-01-03", periods=n_weeks, freq="7D")
            .strftime("%Y-%m-%d"),
            "sales": 100 * (i + 1) + 2 * tv + 3 * search + rng.normal(0, 5, n_weeks),
            "tv": tv, "search": search,
            "promo": (rng.uniform(size=n_weeks) < 0.2).astype(float)}))
    return pd.concat(frames, ignore_index=True)
