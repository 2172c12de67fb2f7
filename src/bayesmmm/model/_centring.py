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
from bayesmmm.model._structure import ModelStructure, Site

__all__ = ["centring_weights", "has_pair", "no_centring", "pair_index", "rebased_sites"]


def has_pair(structure: ModelStructure) -> bool:
    """Whether the model samples logistic channels' geo ``beta`` and ``lam`` as a pair."""
    return structure.pair is not None


def pair_index(structure: ModelStructure) -> list[int]:
    """Positions, among ``saturation_beta``'s channels, of the channels with ``lam``."""
    return list(structure.pair or ())


def no_centring(structure: ModelStructure) -> dict[str, Array]:
    """Zero weights (the non-centred form) for every pooled parameter of a panel, and
    for the logistic pair where there is one."""
    n_geos = structure.n_geos
    out = {name: np.zeros((n_geos, n), np.float32) for name, n in structure.pooled}
    if has_pair(structure):
        out[Site.PAIR] = np.zeros_like(out[Site.LAM])
    return {k: jnp.asarray(v) for k, v in out.items()}


def rebased_sites(structure: ModelStructure) -> tuple[str, ...]:
    """The latent sites whose basis the centring weights set (the geo deviations)."""
    return tuple(Site.deviation(name) for name, _ in structure.pooled)


def centring_weights(structure: ModelStructure, design: Design, samples: dict[str, Any]
                     ) -> dict[str, Array]:
    """Centring weights (:func:`_weight`) from warm-up draws.

    ``samples`` holds constrained draws ``(chains, draws, ...)`` of the geo values and
    spreads of every pooled parameter; returns ``{name: (n_geos, n)}`` float32.
    """
    out: dict[str, np.ndarray] = {}
    thetas: dict[str, np.ndarray] = {}
    spreads: dict[str, np.ndarray] = {}
    for name, n in structure.pooled:
        geo = np.asarray(samples[Site.geo(name)], np.float64)
        if name == Site.GAMMA_CONTROL:
            theta = geo * np.asarray(design.control_scale, np.float64)
        else:
            prior = structure.prior(name).to_numpyro()
            theta = np.asarray(biject_to(prior.support).inv(geo), np.float64)
        theta = theta.reshape(-1, *theta.shape[-2:])
        var = _variance(theta)
        sigma = np.asarray(samples[Site.spread(name)], np.float64).reshape(-1, n)
        out[name] = _weight(var, sigma)
        thetas[name], spreads[name] = theta, sigma
    if has_pair(structure):
        at = pair_index(structure)
        total = thetas[Site.BETA][..., at] + thetas[Site.LAM]
        spread = np.hypot(spreads[Site.BETA][:, at], spreads[Site.LAM])
        out[Site.PAIR] = _weight(_variance(total), spread)
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
