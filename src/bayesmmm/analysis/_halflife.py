"""How long each channel's effect lasts: adstock half-life and peak lag, with intervals.

Geometric adstock has a closed form (the weight ``alpha^l`` halves every
``ln 0.5 / ln alpha`` periods); every other form is measured on its normalised
carry-over weights by :func:`weights_half_life`, which gives exactly the closed form on
geometric weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from bayesmmm.analysis._answers import hdi_columns
from bayesmmm.analysis._draws import hdi
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.transforms import ADSTOCKS

__all__ = ["geometric_half_life", "half_life", "weights_half_life"]

# Weights are compared in log space; a zero weight counts as this tiny one, so an effect
# that stops dead halves at the last lag that still carried it.
_TINY = 1e-300
# alpha = 1 (an effect that never decays) would give an infinite half-life.
_ALPHA_MAX = 1.0 - 1e-12


def geometric_half_life(alpha: ArrayLike) -> np.ndarray:
    r"""Half-life of geometric adstock, in periods (closed form).

    .. math:: h = \frac{\ln 0.5}{\ln \alpha}

    the lag at which the weight :math:`\alpha^h` of one period's spend has fallen to half
    its first-period value. ``alpha = 0`` gives 0 (no carry-over). It does not depend on
    normalisation, nor on ``l_max`` (a half-life beyond the adstock window means the
    window cuts the effect short).
    """
    a = np.clip(np.asarray(alpha, dtype=np.float64), 0.0, _ALPHA_MAX)
    with np.errstate(divide="ignore"):
        return np.where(a > 0, np.log(0.5) / np.log(np.where(a > 0, a, 0.5)), 0.0)


def weights_half_life(weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Half-life and peak lag of carry-over weights, in periods.

    Parameters
    ----------
    weights : array_like, shape ``(..., l_max)``
        Carry-over weights by lag (normalised or not: only their ratios matter).

    Returns
    -------
    half_life : ndarray, shape ``(...,)``
        The lag, counted from the period of spend, at which the weight has fallen to half
        its peak after the peak. It is interpolated between lags in log space (exact for
        a geometric decay); if the weights do not halve within the window it is
        extrapolated from the decay rate of the last two lags, and if they still rise or
        stay flat at the window's end it is ``l_max`` (a lower bound).
    peak_lag : ndarray of int, shape ``(...,)``
        The lag of the largest weight (0 when the effect is strongest in the period of
        spend).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 0 or w.shape[-1] < 1:
        raise ValueError(f"weights must have a lag axis of length >= 1, got shape {w.shape}")
    l_max = w.shape[-1]
    log_w = np.log(np.maximum(w, _TINY))
    peak = np.argmax(w, axis=-1)
    log_half = np.take_along_axis(log_w, peak[..., None], axis=-1)[..., 0] + np.log(0.5)
    lags = np.arange(l_max)
    below = (lags > peak[..., None]) & (log_w <= log_half[..., None] + 1e-12)
    crossed = below.any(axis=-1)
    first = np.where(crossed, np.argmax(below, axis=-1), 1)  # 1: a valid index, unused
    before = np.take_along_axis(log_w, np.maximum(first - 1, 0)[..., None], axis=-1)[..., 0]
    after = np.take_along_axis(log_w, np.minimum(first, l_max - 1)[..., None],
                               axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (first - 1) + (before - log_half) / (before - after)
    out = np.where(crossed, inside, float(l_max))
    if l_max >= 2:  # not halved within the window: extrapolate a decaying tail
        rate = log_w[..., -2] - log_w[..., -1]
        decaying = ~crossed & (rate > 0) & (peak < l_max - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = (l_max - 1) + (log_w[..., -1] - log_half) / rate
        out = np.where(decaying, tail, out)
    else:
        out = np.zeros_like(out)  # one lag: the effect ends with the period of spend
    return out, peak


def _param_draws(fit: Fit, name: str, channel: str, g: int | None) -> np.ndarray:
    """Draws ``(n_samples,)`` of one channel's adstock parameter: the panel cell's value
    when the model has one and ``g`` names a cell, else the population value."""
    k = fit.spec.channels_with(name).index(channel)
    geo = fit.posterior.get(f"{name}_geo")
    values = geo[..., g, k] if g is not None and geo is not None else fit.posterior[name][..., k]
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _timing_draws(fit: Fit, channel: str, g: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Half-life and peak-lag draws ``(n_samples,)`` of one channel of one fit."""
    form_name = fit.spec.adstock_forms[channel]
    form = ADSTOCKS.get(form_name)
    n_samples = fit.n_chains * fit.n_draws
    params = {p: _param_draws(fit, f"adstock_{p}", channel, g) for p in form.params}
    if form_name == "geometric":
        return geometric_half_life(params["alpha"]), np.zeros(n_samples, dtype=int)
    l_max = fit.spec.adstock_max_lag
    if not form.params:  # no adstock: the effect ends with the period of spend
        return np.zeros(n_samples), np.zeros(n_samples, dtype=int)
    import jax.numpy as jnp

    weights = np.asarray(form.weights(l_max, True, **{p: jnp.asarray(v, jnp.float32)[:, None]
                                                      for p, v in params.items()}))
    half, peak = weights_half_life(weights.reshape(n_samples, l_max))
    return half, peak


def _members(fit: Fit | AveragedFit) -> list[Fit]:
    return fit.parts if isinstance(fit, AveragedFit) else [fit]


def half_life(fit: Fit | AveragedFit, hdi_prob: float = 0.94,
              level: str = "total") -> pd.DataFrame:
    """Each channel's adstock half-life and peak lag, in periods, with HDIs.

    The half-life is the lag, counted from the period of spend, at which one period's
    carry-over weight has fallen to half its peak; the peak lag is the lag of the
    largest weight (0 for geometric and binomial adstock). Geometric adstock uses the
    closed form ``ln 0.5 / ln alpha`` per draw (:func:`geometric_half_life`); the other
    forms are measured on their normalised weights (:func:`weights_half_life`).

    Parameters
    ----------
    fit : Fit or AveragedFit
        An averaged fit mixes its members' draws by their weights (each member measured
        with its own adstock form).
    hdi_prob : float
        Width of the intervals.
    level : {'total', 'panel'}
        Geo models: ``'total'`` uses the population parameters, ``'panel'`` one block
        per panel cell (the cell's own parameters where the model has them) with a
        leading ``panel`` column.

    Returns
    -------
    DataFrame
        Indexed by ``channel``: ``adstock`` (the form), ``half_life`` (posterior mean),
        ``half_life_sd``, the HDI bounds ``half_life_hdi_3%`` / ``half_life_hdi_97%``
        (for 0.94), ``peak_lag`` (mean), its HDI bounds, and ``beyond_window``: the
        share of draws whose half-life exceeds the adstock window
        (``adstock_max_lag - 1``), where the window cuts the effect short (raise
        ``adstock_max_lag`` if it is large).
    """
    if level not in ("total", "panel"):
        raise ValueError(f"Unknown level {level!r}; expected one of ['panel', 'total']")
    if not 0 < hdi_prob < 1:
        raise ValueError(f"hdi_prob must be between 0 and 1, got {hdi_prob!r}")
    members = _members(fit)
    cells: list[tuple[str | None, int | None]] = [(None, None)]
    if level == "panel" and fit.data.is_panel:
        cells = [(name, g) for g, name in enumerate(fit.data.panels)]
    low, high = hdi_columns(hdi_prob)
    frames = []
    for panel, g in cells:
        rows = []
        for channel in fit.spec.channel_columns:
            draws = [_timing_draws(m, channel, g) for m in members]
            half = np.concatenate([d[0] for d in draws])
            peak = np.concatenate([d[1] for d in draws]).astype(np.float64)
            h_low, h_high = hdi(half, hdi_prob)
            p_low, p_high = hdi(peak, hdi_prob)
            window = min(m.spec.adstock_max_lag for m in members) - 1
            forms = dict.fromkeys(m.spec.adstock_forms[channel] for m in members)
            rows.append({"channel": channel, "adstock": "/".join(forms),
                         "half_life": float(half.mean()), "half_life_sd": float(half.std()),
                         f"half_life_{low}": float(h_low), f"half_life_{high}": float(h_high),
                         "peak_lag": float(peak.mean()), f"peak_lag_{low}": float(p_low),
                         f"peak_lag_{high}": float(p_high),
                         "beyond_window": float(np.mean(half > window))})
        frame = pd.DataFrame(rows).set_index("channel")
        if panel is not None:
            frame.insert(0, "panel", panel)
        frames.append(frame)
    return pd.concat(frames) if len(frames) > 1 else frames[0]
