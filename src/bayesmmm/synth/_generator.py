"""The data-generating process: weekly sales of one geo or a geo panel, with known truth.

All randomness comes from one ``numpy`` generator seeded by ``seed`` (the draws of
default parameters from the forms' priors use JAX keys taken from it).

Units. Each geo ``g`` has a size ``size_g`` and its target is ``y_g = unit * size_g *
y_units_g``. Baseline, trend, seasonality and controls are given in target units. Media
enter as the fitted model sees them: channel ``c`` is divided by its max over time in
geo ``g`` and contributes ``s_g * C_gc(t)`` units, where

    C_gc = saturation.contribution(adstock.apply(x_gc / max_t x_gc), beta_gc, ...)

and ``s_g = max_t |y_units_g|`` is the target's own scale in that geo (found as a fixed
point, because the media contributions are part of ``y``). So every channel parameter,
``beta`` included, is the value the model fitted on per-geo scaled data has, whatever the
form: in original units a channel contributes ``y_scale_g * C_gc`` with
``y_scale_g = max_t |y_g|``.

Geo effects: a channel parameter ``p`` with prior support ``S`` takes in geo ``g`` the
value ``T(T^-1(shared) + geo_sd * z_g)``, ``T = biject_to(S)``, ``z_g ~ N(0, 1)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro.distributions import constraints
from numpyro.distributions.transforms import biject_to

from bayesmmm.errors import SpecError
from bayesmmm.priors import Prior
from bayesmmm.synth._calendar import holiday_weeks
from bayesmmm.synth._config import ChannelConfig, ControlConfig, SimulationConfig
from bayesmmm.synth._media import ChannelParams, calibrate, contributions, solve_scale
from bayesmmm.synth._spend import spend_pattern
from bayesmmm.transforms import ADSTOCKS, SATURATIONS

__all__ = ["World", "draw_world"]

#: Default true values are drawn from this central part of a form's prior.
CENTRAL = (0.2, 0.8)
_SPREAD = {"intercept": 0.1, "seasonality": 0.15, "control": 0.2, "spend": 0.25}


@dataclass
class World:
    """Every array of one simulation (see the module docstring for the units).

    Shapes: ``spend`` ``(n_geos, n_times, n_channels)`` in money; ``controls``
    ``(n_geos, n_times, n_controls)``; ``parts`` maps component name to
    ``(n_geos, n_times)`` in target units (media included); ``noise`` ``(n_geos,
    n_times)``; ``media_scaled`` / ``media_up`` the model-scale channel contributions
    ``C_gc(t)`` at the actual spend and at 1.01 times it.
    """

    config: SimulationConfig
    seed: int
    dates: pd.DatetimeIndex
    geos: list[str]
    size: np.ndarray
    spend: np.ndarray
    controls: np.ndarray
    channels: list[ChannelParams]
    intercept: np.ndarray
    gamma_fourier: np.ndarray
    gamma_control: np.ndarray
    parts: dict[str, np.ndarray]
    noise: np.ndarray
    noise_sd: np.ndarray
    scale: np.ndarray
    media_scaled: np.ndarray
    media_up: np.ndarray

    @property
    def unit(self) -> np.ndarray:
        """Sales per target unit in each geo, shape ``(n_geos,)``."""
        return self.config.unit * self.size

    @property
    def y_units(self) -> np.ndarray:
        return np.sum(list(self.parts.values()), axis=0) + self.noise


def draw_world(config: SimulationConfig, seed: int) -> World:
    """Draw one simulation. Deterministic in ``(config, seed)``."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SpecError(f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    n_geos, n_times = config.n_geos, config.n_weeks
    dates = pd.date_range(config.start, periods=n_times, freq="7D")
    size = _geo_sizes(n_geos, config.geo_size_sd, rng)
    shapes = _spend_shapes(config.channels, n_geos, n_times, rng)
    controls = np.round(_controls(config.controls, dates, n_geos, rng), 4)
    channels = [_channel_params(c, n_geos, config.geo_sd, rng) for c in config.channels]
    intercept = config.baseline * _lognormal_spread(rng, _SPREAD["intercept"], n_geos)
    coef = np.asarray(config.seasonality)
    gamma_fourier = coef * _lognormal_spread(rng, _SPREAD["seasonality"], (n_geos, len(coef)))
    effect = np.array([c.effect for c in config.controls])
    gamma_control = effect * _lognormal_spread(rng, _SPREAD["control"], (n_geos, len(effect)))
    e = rng.standard_normal((n_geos, n_times))

    from bayesmmm.model import fourier_features  # the model's own seasonal basis

    fourier = fourier_features(dates.day_of_year.to_numpy(), config.n_modes)
    base = _base_parts(config, n_times, intercept, fourier, gamma_fourier, controls,
                       gamma_control)
    nonmedia = np.sum(list(base.values()), axis=0)

    unit = config.unit * size
    x = shapes / shapes.max(axis=1, keepdims=True)
    scale = calibrate(config, channels, x, nonmedia, e, unit)

    # Spend in money for the target ROIs, rounded to cents; then the media as the data say.
    media = contributions(config, channels, x) * scale[:, None, None]
    money = (unit[:, None] * media.sum(axis=1))  # (n_geos, n_channels)
    weight = size[:, None, None] * shapes
    level = money.sum(axis=0) / (np.array([c.roi for c in config.channels])
                                 * weight.sum(axis=(0, 1)))
    spend = np.round(weight * level, 2)
    _check_spend(config, spend)
    x = spend / spend.max(axis=1, keepdims=True)
    media_scaled = contributions(config, channels, x)
    scale, noise, noise_sd = solve_scale(nonmedia, media_scaled.sum(axis=2), e,
                                         config.target_r2)
    parts = dict(base)
    parts.update({c.name: scale[:, None] * media_scaled[:, :, i]
                  for i, c in enumerate(config.channels)})
    media_up = contributions(config, channels, x * 1.01)
    return World(config, int(seed), dates, [f"geo_{g + 1:02d}" for g in range(n_geos)], size,
                 spend, controls, channels, intercept, gamma_fourier, gamma_control,
                 parts, noise, noise_sd, scale, media_scaled, media_up)


def _check_spend(config: SimulationConfig, spend: np.ndarray) -> None:
    """Rounding to cents must leave spend in every geo and channel."""
    empty = np.argwhere(spend.max(axis=1) <= 0)
    if len(empty):
        g, c = empty[0]
        raise SpecError(f"channel {config.channels[c].name!r} spends nothing in geo {g + 1} "
                        "after rounding to cents; raise unit or lower the channel's target roi")


# -- draws -------------------------------------------------------------------------------


def _lognormal_spread(rng: np.random.Generator, sd: float,
                      shape: int | tuple[int, ...]) -> np.ndarray:
    """Multiplicative geo spread ``exp(sd * z)``; exactly 1 for a national series."""
    z = rng.standard_normal(shape)
    n_geos = shape if isinstance(shape, int) else shape[0]
    return np.ones(shape) if n_geos == 1 else np.exp(sd * z)


def _geo_sizes(n_geos: int, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Population weights, largest first, mean 1 (a national series has size 1)."""
    w = np.sort(rng.lognormal(0.0, sd, n_geos))[::-1]
    return w / w.mean()


def _spend_shapes(channels: Sequence[ChannelConfig], n_geos: int, n_times: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Relative spend ``(n_geos, n_times, n_channels)``: one national pattern per channel,
    a geo intensity and weekly geo noise (a zero week is zero in every geo)."""
    out = np.empty((n_geos, n_times, len(channels)))
    for i, c in enumerate(channels):
        national = spend_pattern(c.pattern, n_times, 1.0, rng)
        jitter = _lognormal_spread(rng, _SPREAD["spend"], (n_geos, n_times))
        intensity = _lognormal_spread(rng, _SPREAD["spend"], n_geos)
        out[:, :, i] = national * jitter * intensity[:, None]
    return out


def _controls(controls: Sequence[ControlConfig], dates: pd.DatetimeIndex, n_geos: int,
              rng: np.random.Generator) -> np.ndarray:
    """Control values ``(n_geos, n_times, n_controls)``, never constant in a geo."""
    n = len(dates)
    out = np.empty((n_geos, n, len(controls)))
    for k, c in enumerate(controls):
        if c.kind == "holiday":
            z = holiday_weeks(dates, c.holidays)
            if z.min() == z.max():
                raise SpecError(f"control {c.name!r}: none of {list(c.holidays)} falls in the "
                                f"{n} weeks from {dates[0]:%Y-%m-%d}; add holidays or weeks")
            out[:, :, k] = z
        elif c.kind == "promo":
            z = (rng.uniform(size=(n_geos, n)) < c.rate).astype(float)
            on, off = rng.integers(n, size=n_geos), rng.integers(n, size=n_geos)
            off = np.where(off == on, (on + 1) % n, off)
            z[np.arange(n_geos), on], z[np.arange(n_geos), off] = 1.0, 0.0
            out[:, :, k] = z
        else:
            out[:, :, k] = _ar1(n_geos, n, rng)
    return out


def _ar1(n_geos: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Standardised AR(1) series with coefficient 0.8, shape ``(n_geos, n)``."""
    eps = rng.normal(0.0, 0.6, (n_geos, n))
    z = np.zeros((n_geos, n))
    for t in range(1, n):
        z[:, t] = 0.8 * z[:, t - 1] + eps[:, t]
    return (z - z.mean(axis=1, keepdims=True)) / z.std(axis=1, keepdims=True)


def _channel_params(c: ChannelConfig, n_geos: int, geo_sd: float,
                    rng: np.random.Generator) -> ChannelParams:
    ad, sat = ADSTOCKS.get(c.adstock), SATURATIONS.get(c.saturation)
    ad_shared = _shared(c.name, ad.params, ad.priors, c.adstock_params, rng)
    sat_names = tuple(p for p in sat.params if p != "beta")
    sat_shared = _shared(c.name, sat_names, sat.priors, c.saturation_params, rng)
    ad_geo = {p: _geo_values(v, _support(c, ad.priors, p, n_geos), geo_sd, n_geos, rng)
              for p, v in ad_shared.items()}
    sat_geo = {p: _geo_values(v, _support(c, sat.priors, p, n_geos), geo_sd, n_geos, rng)
               for p, v in sat_shared.items()}
    beta_z = rng.standard_normal(n_geos) if n_geos > 1 else np.zeros(1)
    return ChannelParams(ad_shared, sat_shared, ad_geo, sat_geo, beta_z)


def _shared(channel: str, names: Sequence[str], priors: dict[str, Prior],
            given: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    out = {}
    for p in names:
        if p in given:
            out[p] = float(given[p])
        elif p in priors:
            out[p] = _central_draw(priors[p], rng)
        else:
            raise SpecError(f"channel {channel!r}: parameter {p!r} has no default prior; "
                            "give its value explicitly")
    return out


def _central_draw(prior: Prior, rng: np.random.Generator) -> float:
    """A value from the central 60% of a prior, rounded to 3 significant digits."""
    key = jax.random.PRNGKey(int(rng.integers(2**31)))
    draws = np.asarray(prior.to_numpyro().sample(key, (4001,)), dtype=float)
    value = float(np.quantile(draws, rng.uniform(*CENTRAL)))
    return float(f"{value:.3g}")


def _support(c: ChannelConfig, priors: dict[str, Prior], p: str,
             n_geos: int) -> constraints.Constraint:
    if p in priors:
        return priors[p].to_numpyro().support
    if p == "beta":
        return constraints.positive
    if n_geos > 1:
        raise SpecError(f"channel {c.name!r}: parameter {p!r} has no prior, so its geo "
                        "spread has no scale; it needs a prior to simulate geos")
    return constraints.real


def _geo_values(value: float, support: constraints.Constraint, sd: float, n_geos: int,
                rng: np.random.Generator) -> np.ndarray:
    """``T(T^-1(value) + sd z_g)`` for each geo; exactly ``value`` for one geo."""
    if n_geos == 1:
        return np.array([value])
    z = rng.standard_normal(n_geos)
    return _around(value, support, sd * z)


def _around(value: float | np.ndarray, support: constraints.Constraint,
            shift: np.ndarray) -> np.ndarray:
    t = biject_to(support)
    u = t.inv(jnp.asarray(value, dtype=jnp.float32))
    return np.asarray(t(u + jnp.asarray(shift, dtype=jnp.float32)), dtype=float)


# -- components --------------------------------------------------------------------------


def _base_parts(config: SimulationConfig, n_times: int, intercept: np.ndarray,
                fourier: np.ndarray, gamma_fourier: np.ndarray, controls: np.ndarray,
                gamma_control: np.ndarray) -> dict[str, np.ndarray]:
    """Non-media components in target units, each ``(n_geos, n_times)``."""
    n_geos = len(intercept)
    parts = {"intercept": np.repeat(intercept[:, None], n_times, axis=1)}
    if config.trend:
        parts["trend"] = np.tile(config.trend * np.arange(n_times) / (n_times - 1),
                                 (n_geos, 1))
    if config.n_modes:
        parts["seasonality"] = gamma_fourier @ fourier.T
    for k, c in enumerate(config.controls):
        parts[c.name] = controls[:, :, k] * gamma_control[:, k:k + 1]
    return parts
