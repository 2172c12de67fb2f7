"""Baseline trends: a registry of named forms, each complete in one entry.

An entry (:class:`TrendForm`) holds everything about one trend: its default priors (by
site name), the extra dimension of a site that has one, its design basis over time,
how the NumPyro model samples its parameters, and how the trend is evaluated from
parameter draws. Adding a trend is adding one entry here (and its tests); the spec, the
design, the model and the analysis read it from :data:`TRENDS`.

Trends are in scaled target units; the model centres the trend over time (the level
absorbs its mean), so only its shape is identified by the data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import Array

from bayesmmm.priors import Prior
from bayesmmm.transforms import Registry

__all__ = ["TRENDS", "TrendContext", "TrendForm", "log_prior"]


def log_prior(prior: dist.Distribution, value: Array) -> Array:
    """Log density of a derived quantity, -inf outside the prior's support (NumPyro does
    not check the support itself, e.g. a HalfNormal intercept must stay >= 0)."""
    inside = prior.support(value)
    mean = prior.mean
    safe = jnp.where(inside, value, jnp.where(jnp.isfinite(mean), mean, 0.5))
    return jnp.where(inside, prior.log_prob(safe), -jnp.inf).sum()


@dataclass(frozen=True)
class TrendContext:
    """What a trend's sampler gets from the model.

    ``sample(name, shape)`` draws site ``name`` from its prior in force; ``prior(name)``
    is that prior as a NumPyro distribution; ``geo_shape`` is ``()`` for national models
    and ``(n_geos,)`` for geo models; ``basis`` is the design basis ``(n_times, n_basis)``.
    """

    sample: Callable[[str, tuple[int, ...]], Array]
    prior: Callable[[str], dist.Distribution]
    geo_shape: tuple[int, ...]
    basis: Array


@dataclass(frozen=True)
class TrendForm:
    """A named trend.

    ``basis(t, n_train, n_changepoints)`` is the design matrix ``(len(t), n_basis)`` at
    period indices ``t`` (0 = first fitted period); ``sample(ctx)`` samples the
    parameters in the NumPyro model and returns them by site name (national sites are
    scalars, geo sites ``(n_geos,)``, with a trailing axis for sites in ``dims``);
    ``evaluate(basis, params)`` is the trend ``(..., n_times)`` from parameters with any
    leading batch axes (draws, geos). Sites in ``shared`` have one value for all geos
    (e.g. the random walk's step size).
    """

    name: str
    priors: Mapping[str, Prior] = field(default_factory=dict)
    dims: Mapping[str, str] = field(default_factory=dict)
    shared: tuple[str, ...] = ()
    basis: Callable[[np.ndarray, int, int], np.ndarray] = lambda t, n, k: np.zeros((len(t), 0))
    sample: Callable[[TrendContext], dict[str, Array]] = lambda ctx: {}
    evaluate: Callable[[Array, Mapping[str, Array]], Array] = \
        lambda basis, params: jnp.zeros(basis.shape[0])

    @property
    def sites(self) -> tuple[str, ...]:
        """Posterior sites of this trend, in the order they are reported."""
        return tuple(sorted({*self.priors, *self.dims}))


def _scaled_time(t: np.ndarray, n_train: int) -> np.ndarray:
    return np.asarray(t, dtype=float) / max(n_train - 1, 1)


def _linear_basis(t: np.ndarray, n_train: int, n_changepoints: int) -> np.ndarray:
    return _scaled_time(t, n_train)[:, None]


def _piecewise_basis(t: np.ndarray, n_train: int, n_changepoints: int) -> np.ndarray:
    s = _scaled_time(t, n_train)
    cps = np.linspace(0.0, 0.8, n_changepoints + 2)[1:-1]
    return np.column_stack([s, *(np.clip(s - c, 0.0, None) for c in cps)])


def _power_basis(t: np.ndarray, n_train: int, n_changepoints: int) -> np.ndarray:
    return np.asarray(t, dtype=float)[:, None]


def _smooth_basis(t: np.ndarray, n_train: int, n_changepoints: int) -> np.ndarray:
    s = _scaled_time(t, n_train)
    knots = np.linspace(0.0, 1.0, n_changepoints + 1)
    eye = np.eye(len(knots))
    return np.stack([np.interp(s, knots, eye[k]) for k in range(len(knots))], axis=1)


def _slope(ctx: TrendContext) -> dict[str, Array]:
    return {"trend_slope": ctx.sample("trend_slope", ctx.geo_shape)}


def _slope_and_changes(ctx: TrendContext) -> dict[str, Array]:
    return {**_slope(ctx), "trend_delta": ctx.sample(
        "trend_delta", (*ctx.geo_shape, ctx.basis.shape[1] - 1))}


def _power(ctx: TrendContext) -> dict[str, Array]:
    # coef * t**e with t up to hundreds makes coef and e a narrow curved ridge. Sample
    # coef_s = coef * t_max**e (the trend at the last period) instead and add the
    # Jacobian |d coef / d coef_s| = t_max**-e: the same posterior, a round one.
    g = ctx.geo_shape
    exponent = ctx.sample("trend_exponent", g)
    t_max = jnp.maximum(ctx.basis[:, 0].max(), 1.0)
    coef_s = numpyro.sample("_trend_coef_s", dist.ImproperUniform(dist.constraints.real, (), g))
    coef = numpyro.deterministic("trend_coef", coef_s * t_max ** -exponent)
    numpyro.factor("_trend_coef_prior", log_prior(ctx.prior("trend_coef"), coef)
                   - (exponent * jnp.log(t_max)).sum())
    return {"trend_coef": coef, "trend_exponent": exponent}


def _random_walk(ctx: TrendContext) -> dict[str, Array]:
    # A Gaussian random walk on knots, the first knot at 0 (the level absorbs it).
    g = ctx.geo_shape
    sigma = ctx.sample("trend_sigma", ())
    n_steps = ctx.basis.shape[1] - 1
    z = numpyro.sample("_trend_z", dist.Normal(0.0, 1.0).expand((*g, n_steps)).to_event(
        len(g) + 1))
    walk = jnp.cumsum(sigma * z, axis=-1)
    knots = jnp.concatenate([jnp.zeros((*g, 1)), walk], axis=-1)
    return {"trend_knots": numpyro.deterministic("trend_knots", knots)}


def _power_value(basis: Array, params: Mapping[str, Array]) -> Array:
    t = basis[:, 0]
    e = params["trend_exponent"][..., None]
    return params["trend_coef"][..., None] * jnp.where(t > 0, t, 1.0) ** e * (t > 0)


def _piecewise_value(basis: Array, params: Mapping[str, Array]) -> Array:
    coef = jnp.concatenate([params["trend_slope"][..., None], params["trend_delta"]], -1)
    return coef @ basis.T


_SLOPE = Prior("Normal", {"loc": 0, "scale": 1})

#: The baseline trends a spec can choose (``ModelSpec.trend``).
TRENDS: Registry[TrendForm] = Registry("trend")
for _trend in [
    TrendForm("none"),
    # a slope over the scaled time 0..1
    TrendForm("linear", {"trend_slope": _SLOPE}, basis=_linear_basis, sample=_slope,
              evaluate=lambda basis, p: p["trend_slope"][..., None] * basis[:, 0]),
    # Prophet-style slope changes at changepoints evenly spaced inside the first 80%
    TrendForm("piecewise", {"trend_slope": _SLOPE,
                            "trend_delta": Prior("Laplace", {"loc": 0, "scale": 0.25})},
              dims={"trend_delta": "changepoint"}, basis=_piecewise_basis,
              sample=_slope_and_changes, evaluate=_piecewise_value),
    # LightweightMMM's coef * t ** exponent, t = 0, 1, ...
    TrendForm("power", {"trend_coef": _SLOPE,
                        "trend_exponent": Prior("Uniform", {"low": 0.5, "high": 1.5})},
              basis=_power_basis, sample=_power, evaluate=_power_value),
    # a time-varying intercept: a Gaussian random walk on knots, interpolated (held flat
    # after the last knot)
    TrendForm("smooth", {"trend_sigma": Prior("HalfNormal", {"scale": 0.1})},
              dims={"trend_knots": "knot"}, shared=("trend_sigma",), basis=_smooth_basis,
              sample=_random_walk, evaluate=lambda basis, p: p["trend_knots"] @ basis.T),
]:
    TRENDS.add(_trend.name, _trend)
