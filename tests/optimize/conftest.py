"""Fits with known parameters, built by hand, so that optima are known exactly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

import bayesmmm as bm
from bayesmmm.data import MMMData
from bayesmmm.model import Fit, Scalers


def hand_fit(media: np.ndarray, *, beta: Sequence[float], lam: Sequence[float],
             alpha: Sequence[float] | float = 0.0, l_max: int = 4, y_scale: float = 1000.0,
             cost: dict[str, float] | None = None, n_draws: int = 1, spread: float = 0.0,
             seed: int = 0, names: Sequence[str] | None = None) -> Fit:
    """A classic (geometric + logistic) fit whose posterior is given.

    ``media`` is ``(n_times, n_channels)`` (national) or ``(n_geos, n_times,
    n_channels)`` (geo panel; parameters then hold in every geo). With ``spread`` > 0 the
    ``n_draws`` draws scatter each parameter by a log-normal factor of that sd.
    """
    media = np.asarray(media, dtype=float)
    panel = media.ndim == 3
    media_gt = media if panel else media[None]
    n_geos, n_times, n_ch = media_gt.shape
    names = list(names or [f"c{i}" for i in range(n_ch)])
    spec = bm.ModelSpec(date_column="date", y_column="y", channel_columns=names,
                        adstock_max_lag=l_max, yearly_seasonality=0,
                        cost_per_unit=cost or {}, panel_columns=["geo"] if panel else [])
    dates = pd.date_range("2022-01-03", periods=n_times, freq="W-MON")
    panels = tuple(f"g{g}" for g in range(n_geos)) if panel else ()
    y = np.ones((n_geos, n_times))
    data = MMMData(dates=dates, y=y if panel else y[0], media=media,
                   controls=np.zeros((n_geos, n_times, 0) if panel else (n_times, 0)),
                   channel_names=tuple(names), control_names=(), date_column="date",
                   y_column="y", frequency="weekly", panels=panels,
                   panel_columns=("geo",) if panel else ())
    scale = media_gt.max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    scalers = Scalers(scale if panel else scale[0],
                      np.full(n_geos, y_scale) if panel else y_scale, np.zeros(0), np.zeros(0))
    rng = np.random.default_rng(seed)

    def draws(values: Sequence[float] | float) -> np.ndarray:
        v = np.broadcast_to(np.asarray(values, dtype=float), (n_ch,))
        noise = np.exp(spread * rng.standard_normal((1, n_draws, n_ch))) if spread else 1.0
        return (v[None, None, :] * noise).astype(np.float32)

    alpha_d = np.clip(draws(alpha), 0.0, 0.99) if np.any(np.asarray(alpha) > 0) else draws(alpha)
    posterior = {"adstock_alpha": alpha_d, "saturation_lam": draws(lam),
                 "saturation_beta": draws(beta),
                 "intercept": np.zeros((1, n_draws) + ((n_geos,) if panel else ()), np.float32),
                 "y_sigma": np.ones((1, n_draws) + ((n_geos,) if panel else ()), np.float32)}
    stats = {"diverging": np.zeros((1, n_draws), bool),
             "num_steps": np.ones((1, n_draws), np.int32),
             "energy": np.zeros((1, n_draws), np.float32),
             "accept_prob": np.ones((1, n_draws), np.float32)}
    return Fit(spec, data, scalers, posterior, stats, {"hand_built": True})


def logistic(u: np.ndarray) -> np.ndarray:
    return (1 - np.exp(-u)) / (1 + np.exp(-u))


@pytest.fixture
def two_channels() -> Fit:
    """Two channels without carry-over; channel 1 spent twice channel 0 historically."""
    t = 52
    media = np.column_stack([np.full(t, 100.0), np.full(t, 200.0)])
    return hand_fit(media, beta=[2.0, 3.0], lam=[1.5, 0.8])


@pytest.fixture
def five_channels() -> Fit:
    """Five channels with carry-over and an uncertain posterior (60 draws)."""
    rng = np.random.default_rng(3)
    media = rng.uniform(0.2, 1.0, size=(80, 5)) * np.array([100, 250, 60, 400, 150])
    return hand_fit(media, beta=[1.0, 2.5, 0.8, 3.0, 1.2], lam=[2.0, 1.0, 3.0, 0.7, 1.5],
                    alpha=[0.3, 0.6, 0.1, 0.5, 0.2], l_max=5, n_draws=60, spread=0.2)
