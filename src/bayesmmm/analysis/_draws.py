"""Posterior draws of every additive component of the mean, in original units."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from bayesmmm.model import Fit, fourier_features, media_contributions
from bayesmmm.transforms import lag_stack

__all__ = ["channel_draws", "component_draws", "hdi", "mean_draws"]

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


def _flat(fit: Fit, name: str) -> np.ndarray:
    a = fit.posterior[name]
    return a.reshape((-1,) + a.shape[2:])


def channel_draws(fit: Fit, media: np.ndarray | None = None) -> np.ndarray:
    """Channel contributions, ``(n_samples, n_times, n_channels)``, original units.

    ``media`` (original units, ``(n_times, n_channels)``) defaults to the fitted data.
    """
    media = fit.data.media if media is None else media
    params = {k: jnp.asarray(_flat(fit, k)) for k in fit.posterior
              if k.startswith(("adstock_", "saturation_"))}
    scaled = jnp.asarray(media / fit.scalers.channel_scale, dtype=jnp.float32)
    lagged = lag_stack(scaled, fit.spec.adstock_max_lag)
    return np.asarray(media_contributions(fit.spec, lagged, params)) * fit.scalers.y_scale


def component_draws(fit: Fit) -> dict[str, np.ndarray]:
    """Every component of the expected target, each ``(n_samples, n_times)``.

    Keys: ``intercept``, each control, ``seasonality`` (if any), each channel. Their
    sum is the posterior mean function ``mu`` in original units. Cached on the fit.
    """
    cached = fit.__dict__.get(_CACHE_KEY)
    if cached is not None:
        return cached
    y_scale = fit.scalers.y_scale
    n_times = fit.data.n_times
    out: dict[str, np.ndarray] = {
        "intercept": np.repeat(_flat(fit, "intercept")[:, None], n_times, axis=1) * y_scale}
    if fit.spec.control_columns:
        gamma = _flat(fit, "gamma_control")
        for k, name in enumerate(fit.spec.control_columns):
            out[name] = gamma[:, k, None] * fit.data.controls[None, :, k] * y_scale
    if fit.spec.yearly_seasonality:
        f = fourier_features(fit.data.dates.day_of_year.to_numpy(), fit.spec.yearly_seasonality)
        out["seasonality"] = _flat(fit, "gamma_fourier") @ f.T * y_scale
    media = channel_draws(fit)
    for c, name in enumerate(fit.spec.channel_columns):
        out[name] = media[:, :, c]
    fit.__dict__[_CACHE_KEY] = out
    return out


def mean_draws(fit: Fit) -> np.ndarray:
    """The expected target ``mu`` per draw, ``(n_samples, n_times)``, original units."""
    return np.sum(list(component_draws(fit).values()), axis=0)
