"""Out-of-sample prediction that carries adstock across the boundary, and holdout checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmmm.analysis._answers import _describe, hdi_columns
from bayesmmm.analysis._draws import (
    baseline_draws,
    channel_draws,
    flat_params,
    noise_draws,
    over_parts,
)
from bayesmmm.data import MMMData
from bayesmmm.errors import SpecError
from bayesmmm.model import Fit, model_data

__all__ = ["holdout_metrics", "predict", "predict_draws", "train_test_split"]


def train_test_split(data: MMMData, test_periods: int) -> tuple[MMMData, MMMData]:
    """Split by time: the last ``test_periods`` periods (every panel cell) are the test."""
    if isinstance(test_periods, bool) or not isinstance(test_periods, int) or \
            not 0 < test_periods < data.n_times:
        raise SpecError(f"test_periods must be an integer in 1 .. {data.n_times - 1}, got "
                        f"{test_periods!r}")
    cut = data.n_times - test_periods

    def part(sl: slice) -> MMMData:
        return data.with_arrays(dates=data.dates[sl], y=data.y_gt[:, sl],
                                media=data.media_gt[:, sl], controls=data.controls_gt[:, sl])

    return part(slice(0, cut)), part(slice(cut, None))


def _offset(fit: Fit, dates: pd.DatetimeIndex) -> int:
    """Periods from the first fitted period to ``dates[0]``."""
    fitted = fit.data.dates
    step = pd.Series(fitted).diff().median() if len(fitted) > 1 else pd.Timedelta(days=7)
    offset = (dates[0] - fitted[0]) / step
    if offset < 0 or abs(offset - round(offset)) > 0.05:
        raise SpecError(f"the new data starts {dates[0]:%Y-%m-%d}, which is not a period on "
                        f"or after the fitted data's grid ({fitted[0]:%Y-%m-%d} every "
                        f"{step.days} days)")
    return int(round(offset))


def _align_controls(fit: Fit, data: MMMData) -> MMMData:
    """Calendar columns of new dates aligned to the fitted ones (absent -> 0)."""
    names = fit.data.control_names
    if data.control_names == names:
        return data
    have = {n: i for i, n in enumerate(data.control_names)}
    cols = [data.controls_gt[..., have[n]] if n in have else np.zeros(data.y_gt.shape)
            for n in names]
    controls = np.stack(cols, axis=-1) if cols else np.zeros((*data.y_gt.shape, 0))
    new = data.with_arrays(controls=controls)
    return MMMData(**{**new.__dict__, "control_names": names})


@over_parts
def predict_draws(fit: Fit, data: MMMData | pd.DataFrame | str, *,
                  noise: bool = False, seed: int = 0) -> np.ndarray:
    """Posterior draws of the expected target (or, with ``noise``, of new observations)
    for the periods of ``data``, ``(n_samples, n_geos, n_times)``, original units.

    ``data`` holds the same columns as the fitted data for periods on the same grid,
    usually right after it. The carry-over of the fitted spend flows into the new
    periods (the last ``l_max - 1`` fitted periods feed the first new ones); periods
    between the end of the fit and the start of ``data`` count as no spend.
    """
    new = _align_controls(fit, model_data(data, fit.spec))
    if new.panels != fit.data.panels:
        raise SpecError(f"the new data's panels {list(new.panels)[:5]} differ from the fitted "
                        f"ones {list(fit.data.panels)[:5]}")
    offset = _offset(fit, new.dates)
    history = fit.data.media_gt[:, :offset]
    gap = max(offset - fit.data.n_times, 0)
    zeros = np.zeros((new.n_geos, gap, new.media_gt.shape[-1]))
    media = np.concatenate([history, zeros, new.media_gt], axis=1)
    params = flat_params(fit)
    out = channel_draws(fit, media, params=params, keep_geo=True)[:, :, -new.n_times:].sum(-1)
    for part in baseline_draws(fit, new, params, t_offset=offset).values():
        out = out + part
    if noise:
        sigma = noise_draws(fit, params)
        out = out + np.random.default_rng(seed).standard_normal(out.shape) * sigma[:, :, None]
    return out


def predict(fit: Fit, data: MMMData | pd.DataFrame | str, hdi_prob: float = 0.94,
            seed: int = 0) -> pd.DataFrame:
    """Predictions for the periods of ``data``: mean, sd and HDI of new observations
    (noise included), with the observed target alongside when ``data`` has it."""
    new = model_data(data, fit.spec)
    draws = predict_draws(fit, new, noise=True, seed=seed)
    frames = []
    for g in range(new.n_geos):
        frame = pd.DataFrame({"date": new.dates.strftime("%Y-%m-%d"),
                              **_describe(draws[:, g], hdi_prob), "y": new.y_gt[g]})
        if new.is_panel:
            frame.insert(0, "panel", new.panels[g])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def holdout_metrics(fit: Fit, test: MMMData | pd.DataFrame | str,
                    hdi_prob: float = 0.94) -> dict[str, float]:
    """Out-of-sample fit on held-out periods: ``mape`` (percent), ``r2``, ``rmse`` and
    ``coverage`` (share of observations inside the predictive HDI)."""
    new = model_data(test, fit.spec)
    draws = predict_draws(fit, new, noise=True)
    y = new.y_gt.reshape(-1)
    flat = draws.reshape(len(draws), -1)
    pred = flat.mean(axis=0)
    resid = y - pred
    nonzero = y != 0
    low, high = hdi_columns(hdi_prob)
    stats = _describe(flat, hdi_prob)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {"mape": float(np.mean(np.abs(resid[nonzero] / y[nonzero])) * 100),
            "r2": 1 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else float("nan"),
            "rmse": float(np.sqrt(np.mean(resid**2))),
            "coverage": float(np.mean((y >= stats[low]) & (y <= stats[high])))}
