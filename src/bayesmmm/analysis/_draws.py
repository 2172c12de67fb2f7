"""Posterior draws of every additive component of the mean, in original units."""

from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from bayesmmm.data import MMMData
from bayesmmm.model import Fit, fourier_features, media_contributions, trend_component
from bayesmmm.model import trend_basis as _trend_basis
from bayesmmm.transforms import lag_stack

__all__ = ["channel_draws", "component_draws", "component_draws_gt", "flat_params", "hdi",
           "mean_draws", "mean_draws_gt", "media_draws_gt"]

_CACHE_KEY = "_bayesmmm_component_draws"


def hdi(draws: NDArray[np.floating], prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval over the first axis (draws): ``(lower, upper)``.

    ``draws`` has shape ``(n_samples, ...)``; the bounds have the remaining shape.
    """
    import arviz as az

    draws = np.asarray(draws)
    if draws.ndim == 1:
        low, high = az.hdi(draws, hdi_prob=prob)
        return np.asarray(low), np.asarray(high)
    h = az.hdi(draws[None], hdi_prob=prob)  # ArviZ reads (chain, draw, ...)
    return h[..., 0], h[..., 1]


def flat_params(fit: Fit) -> dict[str, np.ndarray]:
    """Posterior draws with chains and draws merged: ``(n_samples, ...)``."""
    return {k: v.reshape((-1,) + v.shape[2:]) for k, v in fit.posterior.items()}


def media_draws_gt(fit: Fit, media_gt: np.ndarray | None = None,
                   params: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Channel contributions ``(n_samples, n_geos, n_times, n_channels)``, original units.

    ``media_gt`` (original units, ``(n_geos, n_times, n_channels)``) defaults to the
    fitted data; ``params`` to the posterior draws.
    """
    media_gt = fit.data.media_gt if media_gt is None else media_gt
    params = flat_params(fit) if params is None else params
    p = {k: jnp.asarray(v) for k, v in params.items()
         if k.startswith(("adstock_", "saturation_"))}
    scaled = jnp.asarray(media_gt / fit.scalers.channel_scale_g[:, None, :], dtype=jnp.float32)
    lagged = lag_stack(scaled, fit.spec.adstock_max_lag)
    out = np.asarray(media_contributions(fit.spec, lagged, p))
    return out * fit.scalers.y_scale_g[:, None, None]


def channel_draws(fit: Fit, media: np.ndarray | None = None) -> np.ndarray:
    """Channel contributions, original units: ``(n_samples, n_times, n_channels)`` for a
    national model, ``(n_samples, n_geos, n_times, n_channels)`` for a geo model."""
    media_gt = None if media is None else (media if fit.data.is_panel else media[None])
    out = media_draws_gt(fit, media_gt)
    return out if fit.data.is_panel else out[:, 0]


def baseline_draws_gt(fit: Fit, data: MMMData, params: Mapping[str, np.ndarray],
                      t_offset: int = 0) -> dict[str, np.ndarray]:
    """Intercept, trend, controls and seasonality per draw, ``(n_samples, G, T)`` each,
    original units, for the periods of ``data`` (``t_offset`` periods after the first
    fitted one)."""
    y_scale = fit.scalers.y_scale_g[None, :, None]
    n_t, spec = data.n_times, fit.spec
    intercept = np.asarray(params["intercept"])
    intercept = intercept if fit.is_panel else intercept[:, None]
    out = {"intercept": np.repeat(intercept[:, :, None], n_t, axis=2) * y_scale}
    if spec.trend != "none":
        basis = _trend_basis(spec.trend, np.arange(n_t) + t_offset, fit.data.n_times,
                             spec.trend_changepoints)
        trend = np.asarray(trend_component(spec, jnp.asarray(basis, jnp.float32),
                                           {k: jnp.asarray(v) for k, v in params.items()
                                            if k.startswith("trend_")}, fit.is_panel))
        out["trend"] = np.broadcast_to(trend, (len(intercept), data.n_geos, n_t)) * y_scale
    if data.control_names:
        gamma = params.get("gamma_control_geo")
        gamma = params["gamma_control"][:, None, :] if gamma is None else gamma  # (S, G, K)
        for k, name in enumerate(data.control_names):
            out[name] = gamma[:, :, k, None] * data.controls_gt[None, :, :, k] * y_scale
    if spec.yearly_seasonality:
        f = fourier_features(data.dates.day_of_year.to_numpy(), spec.yearly_seasonality)
        gf = params["gamma_fourier"]
        gf = gf if fit.is_panel else gf[:, None, :]
        out["seasonality"] = np.einsum("sgf,tf->sgt", gf, f) * y_scale
    return out


def component_draws_gt(fit: Fit) -> dict[str, np.ndarray]:
    """Every component of the expected target, each ``(n_samples, n_geos, n_times)``.

    Keys: ``intercept``, ``trend`` (if any), each control (calendar columns included),
    ``seasonality`` (if any), each channel. Their sum is the mean function ``mu`` in
    original units. Cached on the fit.
    """
    cached = fit.__dict__.get(_CACHE_KEY)
    if cached is not None:
        return cached
    params = flat_params(fit)
    out = baseline_draws_gt(fit, fit.data, params)
    media = media_draws_gt(fit, params=params)
    for c, name in enumerate(fit.spec.channel_columns):
        out[name] = media[..., c]
    fit.__dict__[_CACHE_KEY] = out
    return out


def component_draws(fit: Fit) -> dict[str, np.ndarray]:
    """As :func:`component_draws_gt`; ``(n_samples, n_times)`` for national models."""
    out = component_draws_gt(fit)
    return out if fit.data.is_panel else {k: v[:, 0] for k, v in out.items()}


def mean_draws_gt(fit: Fit) -> np.ndarray:
    """The expected target ``mu`` per draw, ``(n_samples, n_geos, n_times)``."""
    return np.sum(list(component_draws_gt(fit).values()), axis=0)


def mean_draws(fit: Fit) -> np.ndarray:
    """The expected target ``mu`` per draw, ``(n_samples, n_times)`` (national) or
    ``(n_samples, n_geos, n_times)``, original units."""
    out = mean_draws_gt(fit)
    return out if fit.data.is_panel else out[:, 0]
