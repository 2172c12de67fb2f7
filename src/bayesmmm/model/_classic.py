"""The classic MMM as a NumPyro model, and its mean function shared with the analysis.

Scaled units: channels divided by their max, target divided by its max |y|
(PyMC-Marketing's meaning). Controls enter in original units.

Sampling basis. The posterior is the one specified, but NUTS explores it in a basis
where the intercept is not entangled with everything else: every component enters
``mu`` centred over time (controls also standardised), and the sampler's latent
``_level`` is the mean of ``mu``:

    intercept = _level - sum_k gamma_k mean(c_k) - sum_c mean_t(contribution_c)
                - mean_t(fourier) @ gamma_fourier

For fixed other parameters this is a shift of the intercept (unit Jacobian), so adding
the intercept's prior as a factor at that value leaves the posterior exactly as
specified. Without it, a trend control (t = 0..178) or an always-on, saturated channel
(a near-constant contribution) trades off against the intercept along a long ridge,
and NUTS needs many more steps per draw and mixes poorly.
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
    return saturation.contribution(adstocked, params["saturation_beta"][..., None, :], **sat_params)


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
    contributions = media_contributions(spec, inputs.media, params)  # (n_times, n_channels)
    media_mean = contributions.mean(axis=0)
    mu = (contributions - media_mean).sum(-1)
    shift = media_mean.sum()  # intercept = _level - shift

    if n_controls:
        gamma_std = numpyro.sample("_gamma_control_std", dist.ImproperUniform(
            dist.constraints.real, (), (n_controls,)))
        gamma = numpyro.deterministic("gamma_control", gamma_std / inputs.control_scale)
        # gamma_std = gamma * scale: a constant Jacobian, so the prior factor is exact
        numpyro.factor("_gamma_control_prior",
                       spec.prior("gamma_control").to_numpyro().log_prob(gamma).sum())
        mu = mu + inputs.controls @ gamma_std  # controls are already centred
        shift = shift + jnp.sum(gamma * inputs.control_center)

    if inputs.fourier.shape[-1]:
        with numpyro.plate("fourier_mode", inputs.fourier.shape[-1]):
            gamma_fourier = numpyro.sample(
                "gamma_fourier", spec.prior("gamma_fourier").to_numpyro())
        fourier_mean = inputs.fourier.mean(axis=0)
        mu = mu + (inputs.fourier - fourier_mean) @ gamma_fourier
        shift = shift + fourier_mean @ gamma_fourier

    level = numpyro.sample("_level", dist.ImproperUniform(dist.constraints.real, (), ()))
    intercept = numpyro.deterministic("intercept", level - shift)
    numpyro.factor("_intercept_prior", spec.prior("intercept").to_numpyro().log_prob(intercept))
    sigma = numpyro.sample("y_sigma", spec.prior("y_sigma").to_numpyro())
    numpyro.sample("y", dist.Normal(mu + level, sigma), obs=inputs.y)
