"""Centring weights for the geo hierarchy, chosen from warm-up draws.

A geo value ``theta_g ~ Normal(m, sigma)`` (in the unconstrained space of its prior) can
be sampled non-centred (``theta_g = m + sigma * z``, best where the data say little about
each geo: the prior shapes the posterior) or centred (``theta_g`` itself, best where the
data pin each geo down: then ``z`` and ``sigma`` form a funnel). In between, the weight
``c`` of :func:`bayesmmm.model._model._geo_values` samples
``w ~ Normal(c m, sigma**c)``. For a normal likelihood of ``theta_g`` with variance
``s2`` the posterior of ``w`` does not depend on ``sigma`` (to first order) when
``c = sigma**2 / (sigma**2 + s2)`` (Gorinova, Moore & Hoffman 2020, "Automatic
reparameterisation of probabilistic programs"). :func:`centring_weights` estimates the
data's precision ``1 / s2`` of every geo value from the draws of one warm-up window (in
any parametrisation: the model is the same; ``bayesmmm.model._sampler.rebase_window``
picks the window) and sets ``c`` at a low quantile of those draws' ``sigma``
(:func:`_weight`).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import Array
from numpyro.distributions.transforms import biject_to

from bayesmmm.model._design import Design
from bayesmmm.model._spec import ModelSpec

__all__ = ["centring_weights", "has_pair", "no_centring", "pair_index"]


def _pooled(spec: ModelSpec, design: Design) -> dict[str, int]:
    """Pooled parameter -> its number of elements (channels or controls)."""
    out = {name: len(spec.channels_with(name)) for name in spec.channel_parameters()
           if name not in spec.geo_shared
           and not (name == "saturation_beta" and spec.media_prior == "roi")}
    if design.controls.shape[-1]:
        out["gamma_control"] = int(design.controls.shape[-1])
    return out


def has_pair(spec: ModelSpec, design: Design) -> bool:
    """Whether the model samples logistic channels' geo ``beta`` and ``lam`` as a pair."""
    pooled = _pooled(spec, design)
    return "saturation_beta" in pooled and "saturation_lam" in pooled


def pair_index(spec: ModelSpec) -> list[int]:
    """Positions, among ``saturation_beta``'s channels, of the channels with ``lam``."""
    beta = spec.channels_with("saturation_beta")
    return [beta.index(c) for c in spec.channels_with("saturation_lam")]


def no_centring(spec: ModelSpec, design: Design) -> dict[str, Array]:
    """Zero weights (the non-centred form) for every pooled parameter of a panel, and
    for the logistic pair where there is one."""
    n_geos = design.media.shape[1]
    out = {name: np.zeros((n_geos, n), np.float32)
           for name, n in _pooled(spec, design).items()}
    if has_pair(spec, design):
        out["logistic_pair"] = np.zeros_like(out["saturation_lam"])
    return {k: jnp.asarray(v) for k, v in out.items()}


def centring_weights(spec: ModelSpec, design: Design, samples: dict[str, Any]
                     ) -> dict[str, Array]:
    """Centring weights (:func:`_weight`) from warm-up draws.

    ``samples`` holds constrained draws ``(chains, draws, ...)`` of ``{name}_geo`` and
    ``{name}_sigma`` (and ``gamma_control_geo``); returns ``{name: (n_geos, n)}`` float32.
    """
    out: dict[str, np.ndarray] = {}
    thetas: dict[str, np.ndarray] = {}
    spreads: dict[str, np.ndarray] = {}
    for name, n in _pooled(spec, design).items():
        geo = np.asarray(samples[f"{name}_geo"], np.float64)
        if name == "gamma_control":
            theta = geo * np.asarray(design.control_scale, np.float64)
        else:
            prior = spec.prior(name).to_numpyro()
            theta = np.asarray(biject_to(prior.support).inv(geo), np.float64)
        theta = theta.reshape(-1, *theta.shape[-2:])
        var = _variance(theta)
        sigma = np.asarray(samples[f"{name}_sigma"], np.float64).reshape(-1, n)
        out[name] = _weight(var, sigma)
        thetas[name], spreads[name] = theta, sigma
    if has_pair(spec, design):
        at = pair_index(spec)
        total = thetas["saturation_beta"][..., at] + thetas["saturation_lam"]
        spread = np.hypot(spreads["saturation_beta"][:, at], spreads["saturation_lam"])
        out["logistic_pair"] = _weight(_variance(total), spread)
    return {k: jnp.asarray(v) for k, v in out.items()}


def _variance(theta: np.ndarray) -> np.ndarray:
    return np.nanvar(np.where(np.isfinite(theta), theta, np.nan), axis=0)


#: The quantile of the draws' spread at which the weight is set (see :func:`_weight`).
SPREAD_QUANTILE = 0.1


def _weight(var: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Weight ``c = sigma_q**2 p / (1 + sigma_q**2 p)`` per geo value.

    ``p`` is the data's precision of the value: the posterior's ``1 / var = 1 / sigma**2
    + p``, so ``p = max(1 / var - 1 / E[sigma**2], 0)``. The weight that suits ``sigma``
    falls with it, and a centred form at a small spread is a funnel, so the weight is
    taken at a low quantile ``sigma_q`` of the spread's draws rather than its mean.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 1.0 / var - 1.0 / np.maximum((sigma ** 2).mean(axis=0), 1e-12)
    p = np.clip(np.nan_to_num(p, nan=0.0, posinf=0.0), 0.0, None)
    info = np.quantile(sigma, SPREAD_QUANTILE, axis=0) ** 2 * p
    return (info / (1.0 + info)).astype(np.float32)
