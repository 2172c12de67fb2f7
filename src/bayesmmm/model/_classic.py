"""The classic MMM as a NumPyro model, and its mean function shared with the analysis.

Scaled units: channels divided by their max, target divided by its max |y|
(PyMC-Marketing's meaning). Controls enter in original units; internally they are
standardised and the intercept and control coefficients are sampled in that
centred basis (an exact, constant-Jacobian reparametrisation: same posterior, far
better geometry), then reported back in original units.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import Array

from bayesmmm.model._spec import ModelSpec
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = ["ModelInputs", "fourier_features", "fourier_names", "media_contributions", "model"]


def fourier_names(n_modes: int) -> list[str]:
    """``['sin_order_1', ..., 'sin_order_n', 'cos_order_1', ..., 'cos_order_n']``."""
    return [f"{f}_order_{k}" for f in ("sin", "cos") for k in range(1, n_modes + 1)]


def fourier_features(day_of_year: np.ndarray, n_modes: int) -> np.ndarray:
    r"""Yearly Fourier terms :math:`\sin(2\pi k d / 365.25)`, :math:`\cos(2\pi k d / 365.25)`.

    Parameters
    ----------
    day_of_year : ndarray, shape ``(n_times,)``
    n_modes : int

    Returns
    -------
    ndarray, shape ``(n_times, 2 * n_modes)``, ordered as :func:`fourier_names`.
    """
    if n_modes == 0:
        return np.zeros((len(day_of_year), 0))
    k = np.arange(1, n_modes + 1)
    angle = 2 * np.pi * np.asarray(day_of_year, dtype=float)[:, None] * k[None, :] / 365.25
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


class ModelInputs(NamedTuple):
    """Arrays the NumPyro model takes (all scaled / standardised).

    Shapes: ``media`` ``(l_max, n_times, n_channels)``: the scaled media as a
    :func:`~bayesmmm.transforms.lag_stack`; ``controls`` ``(n_times, n_controls)``
    standardised, ``control_center``/``control_scale`` ``(n_controls,)``, ``fourier``
    ``(n_times, 2 * n_modes)``, ``y`` ``(n_times,)`` or None.
    """

    media: Array
    controls: Array
    control_center: Array
    control_scale: Array
    fourier: Array
    y: Array | None


def media_contributions(spec: ModelSpec, media: Array, params: dict[str, Array]) -> Array:
    """Channel contributions in scaled target units, ``(..., n_times, n_channels)``.

    ``media`` is the lag stack of the scaled media, ``(l_max, n_times, n_channels)``.
    ``params`` holds ``adstock_<p>`` and ``saturation_<p>`` arrays, last dim channels,
    with any leading batch dims (e.g. draws).
    """
    adstock = ADSTOCKS.get(spec.adstock)
    saturation = SATURATIONS.get(spec.saturation)
    ad_params = {p: params[f"adstock_{p}"] for p in adstock.params}
    sat_params = {p: params[f"saturation_{p}"][..., None, :] for p in saturation.params}
    adstocked = adstock.apply_lagged(media, **ad_params)
    return params["saturation_beta"][..., None, :] * saturation.apply(adstocked, **sat_params)


def model(spec: ModelSpec, inputs: ModelInputs) -> None:
    """NumPyro model of the classic MMM (parameter names as PyMC-Marketing)."""
    n_channels = inputs.media.shape[-1]  # (l_max, n_times, n_channels)
    n_controls = inputs.controls.shape[-1]
    adstock = ADSTOCKS.get(spec.adstock)
    saturation = SATURATIONS.get(spec.saturation)
    params: dict[str, Array] = {}
    with numpyro.plate("channel", n_channels):
        for p in adstock.params:
            params[f"adstock_{p}"] = numpyro.sample(
                f"adstock_{p}", spec.prior(f"adstock_{p}").to_numpyro())
        for p in (*saturation.params, "beta"):
            params[f"saturation_{p}"] = numpyro.sample(
                f"saturation_{p}", spec.prior(f"saturation_{p}").to_numpyro())
    mu = media_contributions(spec, inputs.media, params).sum(-1)

    if n_controls:
        mu = mu + _intercept_and_controls(spec, inputs)
    else:
        mu = mu + numpyro.sample("intercept", spec.prior("intercept").to_numpyro())

    if inputs.fourier.shape[-1]:
        with numpyro.plate("fourier_mode", inputs.fourier.shape[-1]):
            gamma_fourier = numpyro.sample(
                "gamma_fourier", spec.prior("gamma_fourier").to_numpyro())
        mu = mu + inputs.fourier @ gamma_fourier
    sigma = numpyro.sample("y_sigma", spec.prior("y_sigma").to_numpyro())
    numpyro.sample("y", dist.Normal(mu, sigma), obs=inputs.y)


def _intercept_and_controls(spec: ModelSpec, inputs: ModelInputs) -> Array:
    """Intercept plus control effects, sampled in the centred, standardised basis.

    With ``z = (c - m) / s`` the latents are ``intercept_c = intercept + sum(gamma * m)``
    and ``gamma_std = gamma * s``; the map is linear with a constant Jacobian, so adding
    the original priors as factors leaves the posterior exactly as specified.
    """
    real = dist.constraints.real
    intercept_c = numpyro.sample("_intercept_c", dist.ImproperUniform(real, (), ()))
    gamma_std = numpyro.sample(
        "_gamma_control_std", dist.ImproperUniform(real, (), (inputs.controls.shape[-1],)))
    gamma = gamma_std / inputs.control_scale
    intercept = intercept_c - jnp.sum(gamma * inputs.control_center)
    numpyro.factor("_intercept_prior", spec.prior("intercept").to_numpyro().log_prob(intercept))
    numpyro.factor(
        "_gamma_control_prior", jnp.sum(spec.prior("gamma_control").to_numpyro().log_prob(gamma)))
    numpyro.deterministic("intercept", intercept)
    numpyro.deterministic("gamma_control", gamma)
    return intercept_c + inputs.controls @ gamma_std
