"""Saturation (diminishing returns) transforms as pure ``jax.numpy`` functions.

Each curve ``f(x, **params)`` is elementwise: ``x`` has shape ``(..., n_times, n_channels)``
and each parameter broadcasts against it (``(..., 1, n_channels)``). Every curve is 0 at
``x = 0`` and non-decreasing. Powers of ``x`` are taken in log space with ``x = 0`` masked
out (the double-``where`` trick), so values and gradients stay finite at ``x = 0``; there
the derivative with respect to ``x`` of ``hill`` and ``power`` is reported as 0, although
its one-sided limit is infinite for exponents below 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from bayesmmm.priors import Prior
from bayesmmm.transforms._numeric import _floats, _floor
from bayesmmm.transforms._registry import Registry

__all__ = ["SATURATIONS", "SaturationForm", "hill_saturation", "linear_saturation",
           "logistic_saturation", "michaelis_menten_saturation", "piecewise_linear_saturation",
           "power_saturation", "tanh_contribution", "tanh_saturation"]


def _log_positive(x: Array) -> tuple[Array, Array]:
    """``(x > 0, log x)`` with ``log 1 = 0`` substituted where ``x <= 0``.

    Callers mask those entries out again; substituting first keeps ``-inf`` (and its NaN
    gradient) out of the computation.
    """
    positive = x > 0
    return positive, jnp.log(jnp.where(positive, x, 1.0))


def logistic_saturation(x: ArrayLike, lam: ArrayLike) -> Array:
    r"""Logistic saturation.

    .. math:: f(x) = \frac{1 - e^{-\lambda x}}{1 + e^{-\lambda x}} = \tanh(\lambda x / 2)

    Zero at ``x = 0``, slope ``lam / 2`` there, approaching 1 as ``x`` grows.

    Parameters
    ----------
    x : array_like, shape ``(..., n_channels)``
    lam : array_like, shape ``(n_channels,)``
        Steepness (> 0) per channel.
    """
    # tanh(z/2) is the same function and is stable for large z.
    return jnp.tanh(jnp.asarray(lam) * jnp.asarray(x) / 2.0)


def hill_saturation(x: ArrayLike, kappa: ArrayLike, slope: ArrayLike) -> Array:
    r"""Hill saturation.

    .. math:: f(x) = \frac{x^S}{x^S + K^S}
                   = \sigma\big(S (\ln x - \ln K)\big), \qquad f(0) = 0

    ``K`` (``kappa``) is the half-saturation point, :math:`f(K) = 1/2`; ``S`` (``slope``)
    sets the shape: S-shaped for :math:`S > 1`, concave for :math:`S \le 1`. Bounded by 1.

    Parameters
    ----------
    x : array_like, shape ``(..., n_times, n_channels)``
        Media (>= 0).
    kappa : array_like, broadcastable to ``x``
        Half-saturation point (> 0), in the units of ``x``.
    slope : array_like, broadcastable to ``x``
        Hill exponent (> 0).
    """
    x, kappa, slope = _floats(x, kappa, slope)
    positive, log_x = _log_positive(x)
    z = slope * (log_x - jnp.log(_floor(kappa)))
    return jnp.where(positive, jax.nn.sigmoid(z), 0.0)


def michaelis_menten_saturation(x: ArrayLike, kappa: ArrayLike) -> Array:
    r"""Michaelis-Menten saturation (the Hill curve with slope 1).

    .. math:: f(x) = \frac{x}{\kappa + x}

    ``kappa`` is the half-saturation point, :math:`f(\kappa) = 1/2`; the slope at 0 is
    :math:`1/\kappa`. Bounded by 1.

    Parameters
    ----------
    x : array_like, shape ``(..., n_times, n_channels)``
        Media (>= 0).
    kappa : array_like, broadcastable to ``x``
        Half-saturation point (> 0).
    """
    x, kappa = _floats(x, kappa)
    return x / (_floor(kappa) + x)


def tanh_saturation(x: ArrayLike, c: ArrayLike) -> Array:
    r"""Tanh saturation curve (scaled to a maximum of 1).

    .. math:: f(x) = \tanh(x / c)

    The curve alone; the ``"tanh"`` form's contribution is :func:`tanh_contribution`,
    where ``beta`` also enters the argument.

    Parameters
    ----------
    x : array_like, shape ``(..., n_times, n_channels)``
    c : array_like, broadcastable to ``x``
        Scale (> 0); the slope at 0 is :math:`1/c`.
    """
    x, c = _floats(x, c)
    return jnp.tanh(x / _floor(c))


def tanh_contribution(x: ArrayLike, beta: ArrayLike, c: ArrayLike) -> Array:
    r"""Contribution under tanh saturation (PyMC-Marketing's ``tanh_saturation``).

    .. math:: g(x) = b \tanh\Big(\frac{x}{b\,c}\Big)

    :math:`b` (``beta``) is the contribution at saturation and :math:`1/c` the slope at
    :math:`x = 0` (the initial return per unit of media, the inverse of the initial cost
    per acquisition). ``beta = 0`` gives 0.

    Parameters
    ----------
    x : array_like, shape ``(..., n_times, n_channels)``
    beta : array_like, broadcastable to ``x``
        Saturation level (>= 0).
    c : array_like, broadcastable to ``x``
        Initial cost per unit of contribution (> 0).
    """
    x, beta, c = _floats(x, beta, c)
    return beta * jnp.tanh(x / _floor(beta * c))


def power_saturation(x: ArrayLike, rho: ArrayLike) -> Array:
    r"""Power (root) saturation.

    .. math:: f(x) = x^\rho, \qquad 0 < \rho \le 1, \qquad f(0) = 0

    Concave for :math:`\rho < 1`, linear at :math:`\rho = 1`; unbounded.

    Parameters
    ----------
    x : array_like, shape ``(..., n_times, n_channels)``
        Media (>= 0).
    rho : array_like, broadcastable to ``x``
        Exponent in (0, 1].
    """
    x, rho = _floats(x, rho)
    positive, log_x = _log_positive(x)
    return jnp.where(positive, jnp.exp(rho * log_x), 0.0)


def piecewise_linear_saturation(x: ArrayLike, knee: ArrayLike, ratio: ArrayLike) -> Array:
    r"""Piecewise-linear saturation: a constant return up to a knee, a lower one after.

    .. math:: f(x) = \frac{\min(x, \kappa) + r \max(x - \kappa, 0)}{\kappa}

    :math:`\kappa` (``knee``) is the media level where returns drop; :math:`r`
    (``ratio``) the return of a unit beyond the knee relative to a unit before it
    (``r = 0``: nothing more past the knee, ``r = 1``: linear). :math:`f(\kappa) = 1`, so
    the channel's ``beta`` is its contribution at the knee. Zero at 0, non-decreasing,
    unbounded for :math:`r > 0`.

    Parameters
    ----------
    x : array_like, shape ``(..., n_times, n_channels)``
        Media (>= 0).
    knee : array_like, broadcastable to ``x``
        Knee (> 0), in the units of ``x``.
    ratio : array_like, broadcastable to ``x``
        Return past the knee relative to before it, in [0, 1].
    """
    x, knee, ratio = _floats(x, knee, ratio)
    k = _floor(knee)
    return (jnp.minimum(x, k) + ratio * jnp.maximum(x - k, 0.0)) / k


def linear_saturation(x: ArrayLike) -> Array:
    r"""No saturation: the contribution is linear in the media.

    .. math:: f(x) = x, \qquad \text{contribution} = \beta x

    Parameters
    ----------
    x : array_like, shape ``(..., n_times, n_channels)``
    """
    return jnp.asarray(x)


@dataclass(frozen=True)
class SaturationForm:
    """A named saturation: its curve, the curve's parameters and default priors.

    ``fn(x, **params)`` is the curve; the channel's contribution is
    ``beta * fn(x, ...)`` unless ``contribution_fn(x, beta, **params)`` is given (for
    forms where ``beta`` enters the curve itself), so ``priors`` also holds the prior
    of ``beta``.
    """

    name: str
    params: tuple[str, ...]
    fn: Callable[..., Array]
    priors: dict[str, Prior] = field(default_factory=dict)
    contribution_fn: Callable[..., Array] | None = None

    def apply(self, x: ArrayLike, **params: Array) -> Array:
        return self.fn(x, **params)

    def contribution(self, x: ArrayLike, beta: ArrayLike, **params: Array) -> Array:
        """The channel's contribution ``beta * fn(x)`` (or the form's own rule)."""
        if self.contribution_fn is not None:
            return self.contribution_fn(x, beta, **params)
        return jnp.asarray(beta) * self.fn(x, **params)


def _with_beta(**priors: Prior) -> dict[str, Prior]:
    return {**priors, "beta": Prior("HalfNormal", {"scale": 2})}


_KAPPA = Prior("Gamma", {"concentration": 3, "rate": 5})

SATURATIONS: Registry[SaturationForm] = Registry("saturation")
for _form in [
    SaturationForm("logistic", ("lam",), logistic_saturation,
                   _with_beta(lam=Prior("Gamma", {"concentration": 3, "rate": 1}))),
    SaturationForm("hill", ("kappa", "slope"), hill_saturation,
                   _with_beta(kappa=_KAPPA, slope=Prior("Gamma", {"concentration": 4, "rate": 2}))),
    SaturationForm("michaelis_menten", ("kappa",), michaelis_menten_saturation,
                   _with_beta(kappa=_KAPPA)),
    SaturationForm("tanh", ("c",), tanh_saturation,
                   _with_beta(c=Prior("Gamma", {"concentration": 2, "rate": 2})),
                   contribution_fn=tanh_contribution),
    SaturationForm("power", ("rho",), power_saturation,
                   _with_beta(rho=Prior("Beta", {"concentration1": 2, "concentration0": 2}))),
    SaturationForm("piecewise_linear", ("knee", "ratio"), piecewise_linear_saturation,
                   _with_beta(knee=Prior("Gamma", {"concentration": 3, "rate": 5}),
                              ratio=Prior("Beta", {"concentration1": 1, "concentration0": 3}))),
    SaturationForm("none", (), linear_saturation, _with_beta()),
]:
    SATURATIONS.add(_form.name, _form)
