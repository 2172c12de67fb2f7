"""Channel contributions through the transform registries, and their calibration.

Arrays are ``(n_geos, n_times, n_channels)``; for the registries' ``(n_times,
n_channels)`` contract the geos are laid side by side as extra channels, so each form
runs once over all geos and all of its channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.distributions import constraints
from numpyro.distributions.transforms import biject_to

from bayesmmm.errors import SpecError
from bayesmmm.synth._config import SimulationConfig
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = ["ChannelParams", "calibrate", "contributions", "solve_scale"]

_BRACKET = 40.0  # unconstrained search range of the shared beta


@dataclass
class ChannelParams:
    """True parameters of one channel: shared values and one value per geo.

    ``adstock[p]``, ``saturation[p]``, ``beta`` and ``beta_z`` (the standard normal draws
    that place the geo betas around the shared one) have shape ``(n_geos,)``; the betas
    are set by the calibration.
    """

    adstock_shared: dict[str, float]
    saturation_shared: dict[str, float]
    adstock: dict[str, np.ndarray]
    saturation: dict[str, np.ndarray]
    beta_z: np.ndarray
    beta_shared: float = float("nan")
    beta: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _groups(names: Sequence[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        out.setdefault(name, []).append(i)
    return out


def _flat(a: np.ndarray) -> jax.Array:
    """``(n_geos, n_times, k)`` -> ``(n_times, n_geos * k)``: geos side by side as channels."""
    return jnp.asarray(a.transpose(1, 0, 2).reshape(a.shape[1], -1), dtype=jnp.float32)


def _unflat(a: jax.Array, n_geos: int) -> np.ndarray:
    out = np.asarray(a, dtype=float)
    return out.reshape(out.shape[0], n_geos, -1).transpose(1, 0, 2)


def _stack(values: Sequence[np.ndarray]) -> jax.Array:
    """Per-channel ``(n_geos,)`` arrays -> ``(n_geos * k,)`` in :func:`_flat`'s order."""
    return jnp.asarray(np.stack(values, axis=1).reshape(-1), dtype=jnp.float32)


def _adstock(config: SimulationConfig, channels: list[ChannelParams],
             x: np.ndarray) -> np.ndarray:
    """Adstocked scaled media ``(n_geos, n_times, n_channels)``, through the registry."""
    out = np.empty_like(x)
    for name, idx in _groups([c.adstock for c in config.channels]).items():
        form = ADSTOCKS.get(name)
        params = {p: _stack([channels[i].adstock[p] for i in idx]) for p in form.params}
        flat = _flat(x[:, :, idx])
        got = form.apply(flat, config.l_max, config.normalize, **params)
        out[:, :, idx] = _unflat(jnp.broadcast_to(got, flat.shape), x.shape[0])
    return out


def _saturate(form_name: str, ad: np.ndarray, params: dict[str, list[np.ndarray]],
              beta: np.ndarray) -> np.ndarray:
    """Contributions of channels that share one saturation form.

    ``ad`` ``(n_geos, n_times, k)``, ``params[p]`` k arrays ``(n_geos,)``, ``beta``
    ``(n_geos, k)``; returns ``(n_geos, n_times, k)``.
    """
    form = SATURATIONS.get(form_name)
    kw = {p: _stack(v)[None, :] for p, v in params.items()}
    flat = _flat(ad)
    b = jnp.asarray(beta.reshape(1, -1), dtype=jnp.float32)
    got = form.contribution(flat, b, **kw)
    return _unflat(jnp.broadcast_to(got, flat.shape), ad.shape[0])


def _saturate_all(config: SimulationConfig, channels: list[ChannelParams],
                  ad: np.ndarray) -> np.ndarray:
    """Contributions of every channel from its adstocked media, ``(n_geos, n_times, n_ch)``."""
    out = np.empty_like(ad)
    for name, idx in _groups([c.saturation for c in config.channels]).items():
        params = {p: [channels[i].saturation[p] for i in idx]
                  for p in channels[idx[0]].saturation}
        beta = np.stack([channels[i].beta for i in idx], axis=1)
        out[:, :, idx] = _saturate(name, ad[:, :, idx], params, beta)
    return out


def contributions(config: SimulationConfig, channels: list[ChannelParams],
                  x: np.ndarray) -> np.ndarray:
    """Model-scale contributions ``C_gc(t)`` of scaled media ``x`` ``(n_geos, n_times,
    n_channels)``: the registry's adstock, then its saturation."""
    return _saturate_all(config, channels, _adstock(config, channels, x))


# -- calibration -------------------------------------------------------------------------


def calibrate(config: SimulationConfig, channels: list[ChannelParams], x: np.ndarray,
              nonmedia: np.ndarray, e: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Set each channel's shared ``beta`` for its share of sales; return the geo scales.

    The scale ``s_g`` depends on the media and the media (in units) on ``s_g``, so the
    two are solved alternately; a few rounds settle them. Fills ``beta_shared`` and
    ``beta`` (geo values) of every channel in place.
    """
    shares = np.array([c.share for c in config.channels])
    target = shares / (1.0 - shares.sum()) * float((unit[:, None] * nonmedia).sum())
    ad = _adstock(config, channels, x)
    scale = nonmedia.max(axis=1) / (1.0 - shares.sum())
    # With the betas solved for a scale, the media in units hardly depend on it, so
    # y (and its max) barely move between rounds: this converges in two or three.
    for _ in range(10):
        for name, idx in _groups([c.saturation for c in config.channels]).items():
            _solve_beta(config, channels, name, idx, ad, unit * scale, target[idx])
        mu = nonmedia + scale[:, None] * _saturate_all(config, channels, ad).sum(axis=2)
        new = np.abs(mu + _noise_sd(mu, config.target_r2)[:, None] * e).max(axis=1)
        done = np.max(np.abs(new / scale - 1.0)) < 1e-5
        scale = new
        if done:
            break
    return scale


def _solve_beta(config: SimulationConfig, channels: list[ChannelParams], form_name: str,
                idx: list[int], ad: np.ndarray, money_per_unit: np.ndarray,
                target: np.ndarray) -> None:
    """Bisection on the unconstrained shared beta of the channels ``idx`` (vectorised)."""
    prior = SATURATIONS.get(form_name).priors.get("beta")
    support = prior.to_numpyro().support if prior is not None else constraints.positive
    t = biject_to(support)
    shift = config.geo_sd * np.stack([channels[i].beta_z for i in idx], axis=1)
    params = {p: [channels[i].saturation[p] for i in idx] for p in channels[idx[0]].saturation}

    def total(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        beta = np.asarray(t(jnp.asarray(u[None, :] + shift, dtype=jnp.float32)), dtype=float)
        contribution = _saturate(form_name, ad[:, :, idx], params, beta).sum(axis=1)
        return (money_per_unit[:, None] * contribution).sum(axis=0), beta

    lo, hi = np.full(len(idx), -_BRACKET), np.full(len(idx), _BRACKET)
    for _ in range(40):
        mid = (lo + hi) / 2.0
        high = total(mid)[0] > target
        lo, hi = np.where(high, lo, mid), np.where(high, mid, hi)
    got, beta = total((lo + hi) / 2.0)
    for j, i in enumerate(idx):
        if not abs(got[j] / target[j] - 1.0) < 1e-3:
            c = config.channels[i]
            raise SpecError(
                f"channel {c.name!r}: saturation {form_name!r} with {channels[i].saturation_shared}"
                f" cannot give a {c.share:.0%} share of sales (reached {got[j] / target[j]:.0%}"
                " of it); lower the share or change the saturation parameters")
        channels[i].beta = beta[:, j]
        channels[i].beta_shared = float(t(jnp.float32((lo[j] + hi[j]) / 2.0)))


def _noise_sd(mu: np.ndarray, r2: float) -> np.ndarray:
    """Per geo, the noise sd that leaves the mean ``mu`` a share ``r2`` of the variance."""
    return np.sqrt((1.0 - r2) / r2) * mu.std(axis=1)


def solve_scale(nonmedia: np.ndarray, media: np.ndarray, e: np.ndarray,
                r2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per geo, the ``s`` with ``s = max_t |y(s)|`` where ``y(s) = nonmedia + s * media
    + sd(s) * e`` and ``sd(s)`` gives the mean ``nonmedia + s * media`` a share ``r2`` of
    the variance. Returns ``(s, noise, sd)``, shapes ``(n_geos,)``, ``(n_geos, n_times)``,
    ``(n_geos,)``.
    """
    def at(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu = nonmedia + s[:, None] * media
        sd = _noise_sd(mu, r2)
        y = mu + sd[:, None] * e
        return np.abs(y).max(axis=1) - s, sd[:, None] * e, sd

    lo = np.zeros(len(nonmedia))
    hi = np.abs(nonmedia).max(axis=1) + 1.0
    for _ in range(200):
        below = at(hi)[0] < 0
        if below.all():
            break
        hi = np.where(below, hi, 2.0 * hi)
    else:
        raise SpecError("the media contributions exceed the whole target; lower the shares")
    for _ in range(100):
        mid = (lo + hi) / 2.0
        above = at(mid)[0] > 0
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    s = (lo + hi) / 2.0
    _, noise, sd = at(s)
    return s, noise, sd
