"""Adstock (carry-over) transforms as pure ``jax.numpy`` functions.

Every weight function returns carry-over weights ``w[..., l]`` for lags
``l = 0 .. l_max - 1``; an adstock is the causal convolution
:math:`y_t = \\sum_l w_l x_{t-l}`. With ``normalize=True`` the weights add up to 1, so an
adstock moves spend in time without changing its total.

Numerical safety: the weights are built in log space, parameters at the edge of their
domain (``alpha = 0``, ``lam`` tiny, ...) are floored at a tiny positive number and
exponents are capped, so values *and* gradients stay finite under ``jit``, ``vmap`` and
float32.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from bayesmmm.priors import Prior
from bayesmmm.transforms._numeric import _floats, _floor
from bayesmmm.transforms._registry import Registry

__all__ = ["ADSTOCKS", "AdstockForm", "binomial_weights", "carryover_weights", "convolve_lagged",
           "convolve_weights", "delayed_weights", "geometric_adstock", "geometric_weights",
           "identity_weights", "lag_stack", "weibull_cdf_weights", "weibull_pdf_weights"]

# exp() of more than ~88 overflows float32; capping the exponent of a hazard at this keeps
# it finite (its weight is exp(-e^80) = 0 either way).
_MAX_EXPONENT = 80.0


def _check_l_max(l_max: int) -> None:
    if l_max < 1:
        raise ValueError(f"l_max must be >= 1, got {l_max}")


def _normalised(w: Array, normalize: bool) -> Array:
    # Every caller guarantees some weight equal to 1, so the sum is >= 1.
    return w / jnp.sum(w, axis=-1, keepdims=True) if normalize else w


def geometric_weights(alpha: ArrayLike, l_max: int, normalize: bool = True) -> Array:
    r"""Geometric carry-over weights.

    .. math:: w_l = \alpha^l, \quad l = 0, \dots, l_{max}-1,
              \qquad \tilde w_l = w_l / \sum_k w_k \text{ if normalised}

    Parameters
    ----------
    alpha : array_like, shape ``(...,)``
        Retention rate in [0, 1]; one per channel (any batch shape). ``alpha = 0`` is the
        identity.
    l_max : int
        Number of periods an impulse lasts (>= 1).
    normalize : bool
        Divide the weights by their sum so they add up to 1 (PyMC-Marketing's default).

    Returns
    -------
    Array, shape ``(..., l_max)``
    """
    _check_l_max(l_max)
    (alpha,) = _floats(alpha)
    lags = jnp.arange(l_max, dtype=alpha.dtype)
    # alpha^l as exp(l log alpha): the gradient at alpha = 0 is finite (pow's is 0 * inf).
    w = jnp.exp(lags * jnp.log(_floor(alpha))[..., None])
    return _normalised(w, normalize)


def delayed_weights(
    alpha: ArrayLike, theta: ArrayLike, l_max: int, normalize: bool = True
) -> Array:
    r"""Delayed geometric carry-over weights with a peak at lag ``theta``.

    .. math:: w_l = \alpha^{(l - \theta)^2}, \quad l = 0, \dots, l_{max}-1

    (PyMC-Marketing's ``delayed_adstock``; Jin et al. 2017.) ``theta = 0`` gives
    :math:`\alpha^{l^2}`, a faster-than-geometric decay from lag 0.

    Parameters
    ----------
    alpha : array_like, shape ``(...,)``
        Retention rate in [0, 1].
    theta : array_like, shape ``(...,)``
        Delay of the peak effect in periods (>= 0; usually below ``l_max - 1``).
    l_max : int
        Number of lags (>= 1).
    normalize : bool
        Divide the weights by their sum.

    Returns
    -------
    Array, shape ``(..., l_max)`` (``alpha`` and ``theta`` broadcast together)
    """
    _check_l_max(l_max)
    alpha, theta = _floats(alpha, theta)
    lags = jnp.arange(l_max, dtype=alpha.dtype)
    log_w = (lags - theta[..., None]) ** 2 * jnp.log(_floor(alpha))[..., None]
    # softmax subtracts the largest log-weight first: a peak far beyond l_max (every weight
    # underflowing) still normalises to finite weights.
    return jax.nn.softmax(log_w, axis=-1) if normalize else jnp.exp(log_w)


def carryover_weights(
    retention: ArrayLike, peak: ArrayLike, l_max: int, normalize: bool = True
) -> Array:
    r"""Carry-over weights of Jin et al. (2017), as in LightweightMMM's ``carryover``.

    .. math:: w_l = r^{(l - p)^2}, \quad l = 0, \dots, l_{max}-1

    The same curve as :func:`delayed_weights` under LightweightMMM's names (retention
    rate :math:`r`, peak delay :math:`p`) and priors.

    Parameters
    ----------
    retention : array_like, shape ``(...,)``
        Ad-effect retention rate in [0, 1].
    peak : array_like, shape ``(...,)``
        Delay of the peak effect in periods (>= 0).
    l_max : int
        Number of lags (>= 1).
    normalize : bool
        Divide the weights by their sum (LightweightMMM always does).

    Returns
    -------
    Array, shape ``(..., l_max)``
    """
    return delayed_weights(retention, peak, l_max, normalize)


def binomial_weights(alpha: ArrayLike, l_max: int, normalize: bool = True) -> Array:
    r"""Binomial carry-over weights (PyMC-Marketing's ``binomial_adstock``, Meridian's).

    .. math:: w_l = \left(1 - \frac{l}{l_{max} + 1}\right)^{1/\alpha - 1},
              \quad l = 0, \dots, l_{max}-1

    ``alpha -> 0`` is the identity (all weight at lag 0), ``alpha = 1`` spreads the effect
    evenly over the window; in between the weights fall more slowly than geometric ones
    for the same ``alpha``, so more of the effect lands late in the window.

    Parameters
    ----------
    alpha : array_like, shape ``(...,)``
        Shape parameter in (0, 1].
    l_max : int
        Number of lags (>= 1).
    normalize : bool
        Divide the weights by their sum.

    Returns
    -------
    Array, shape ``(..., l_max)``
    """
    _check_l_max(l_max)
    (alpha,) = _floats(alpha)
    lags = jnp.arange(l_max, dtype=alpha.dtype)
    log_base = jnp.log1p(-lags / (l_max + 1))  # in (log(1 / (l_max + 1)), 0]
    exponent = (1.0 - alpha) / _floor(alpha)
    w = jnp.exp(exponent[..., None] * log_base)
    return _normalised(w, normalize)


def _log_scaled(t: Array, lam: Array) -> Array:
    """``log(t / lam)`` with ``lam`` floored, shape ``(..., len(t))``."""
    return jnp.log(t) - jnp.log(_floor(lam))[..., None]


def weibull_cdf_weights(
    lam: ArrayLike, k: ArrayLike, l_max: int, normalize: bool = True
) -> Array:
    r"""Weibull carry-over weights, survival (CDF) variant.

    The effect survives each period :math:`j \ge 1` with the Weibull survival
    probability :math:`S(j) = 1 - F(j) = \exp(-(j/\lambda)^k)`, and the weight at lag
    :math:`l` is the product of the survivals so far:

    .. math:: w_0 = 1, \qquad w_l = \prod_{j=1}^{l} e^{-(j/\lambda)^k}
              = \exp\Big(-\sum_{j=1}^{l} (j/\lambda)^k\Big)

    (the recursion of PyMC-Marketing's ``weibull_adstock(type="CDF")``, which keeps
    ``l_max + 1`` lags; here the kernel has exactly ``l_max``). The share kept from one
    lag to the next, :math:`S(l)`, falls with the lag: the effect is held for roughly
    :math:`\lambda` periods and then drops, the more abruptly the larger ``k``. As
    :math:`k \to 0` every period keeps :math:`e^{-1}` (geometric with
    :math:`\alpha = e^{-1}`).

    Parameters
    ----------
    lam : array_like, shape ``(...,)``
        Weibull scale (> 0), in periods.
    k : array_like, shape ``(...,)``
        Weibull shape (> 0).
    l_max : int
        Number of lags (>= 1).
    normalize : bool
        Divide the weights by their sum.

    Returns
    -------
    Array, shape ``(..., l_max)``
    """
    _check_l_max(l_max)
    lam, k = _floats(lam, k)
    t = jnp.arange(1, l_max, dtype=lam.dtype)  # periods survived, 1 .. l_max - 1
    hazard = jnp.exp(jnp.minimum(k[..., None] * _log_scaled(t, lam), _MAX_EXPONENT))
    log_survival = -jnp.cumsum(hazard, axis=-1)
    lead = jnp.zeros((*log_survival.shape[:-1], 1), dtype=lam.dtype)
    w = jnp.exp(jnp.concatenate([lead, log_survival], axis=-1))
    return _normalised(w, normalize)


def weibull_pdf_weights(
    lam: ArrayLike, k: ArrayLike, l_max: int, normalize: bool = True
) -> Array:
    r"""Weibull carry-over weights, density (PDF) variant.

    The Weibull density at :math:`t = l + 1`, min-max scaled over the window (as
    PyMC-Marketing's ``weibull_adstock(type="PDF")``):

    .. math:: p_l = \frac{k}{\lambda}\Big(\frac{l+1}{\lambda}\Big)^{k-1}
                    e^{-((l+1)/\lambda)^k}, \qquad
              w_l = \frac{p_l - \min_j p_j}{\max_j p_j - \min_j p_j}

    so the largest weight is 1 and the smallest is 0. ``k > 1`` puts the peak after
    lag 0 (at :math:`t = \lambda ((k-1)/k)^{1/k}`), ``k <= 1`` decays from lag 0. Where
    the density is flat over the window (``l_max = 1``, or all of it underflows) the
    weights are the identity ``[1, 0, ..., 0]``.

    Parameters
    ----------
    lam : array_like, shape ``(...,)``
        Weibull scale (> 0), in periods.
    k : array_like, shape ``(...,)``
        Weibull shape (> 0).
    l_max : int
        Number of lags (>= 1).
    normalize : bool
        Divide the weights by their sum.

    Returns
    -------
    Array, shape ``(..., l_max)``
    """
    _check_l_max(l_max)
    lam, k = _floats(lam, k)
    t = jnp.arange(1, l_max + 1, dtype=lam.dtype)
    z = _log_scaled(t, lam)  # log(t / lam)
    k_ = k[..., None]
    log_p = (jnp.log(_floor(k_)) - jnp.log(_floor(lam))[..., None] + (k_ - 1.0) * z
             - jnp.exp(jnp.minimum(k_ * z, _MAX_EXPONENT)))
    # Min-max scaling ignores a common factor, so subtracting the (constant) maximum is
    # exact and keeps exp() in range.
    p = jnp.exp(log_p - jax.lax.stop_gradient(jnp.max(log_p, axis=-1, keepdims=True)))
    p_min = jnp.min(p, axis=-1, keepdims=True)
    span = jnp.max(p, axis=-1, keepdims=True) - p_min
    spread = span > jnp.finfo(lam.dtype).eps
    identity = jnp.zeros_like(p).at[..., 0].set(1.0)
    w = jnp.where(spread, (p - p_min) / jnp.where(spread, span, 1.0), identity)
    return _normalised(w, normalize)


def lag_stack(x: ArrayLike, l_max: int) -> Array:
    """Copies of ``x`` delayed by 0 .. ``l_max - 1`` periods (zeros before the start).

    Parameters
    ----------
    x : array_like, shape ``(..., n_times, n_channels)``
    l_max : int

    Returns
    -------
    Array, shape ``(l_max, ..., n_times, n_channels)``; ``out[l, ..., t, c] = x[..., t - l, c]``.
    """
    x = jnp.asarray(x)
    n_times = x.shape[-2]
    pad = [(0, 0)] * x.ndim
    pad[-2] = (l_max - 1, 0)
    xp = jnp.pad(x, pad)
    return jnp.stack([xp[..., l_max - 1 - lag : l_max - 1 - lag + n_times, :]
                      for lag in range(l_max)])


def convolve_lagged(x_lagged: ArrayLike, w: ArrayLike) -> Array:
    r"""Adstock from a :func:`lag_stack`: :math:`y_t = \sum_l w_l x_{t-l}`, one contraction.

    Media are data, so a model builds the lag stack once and each gradient evaluation is a
    single ``einsum`` (forward and backward) instead of ``l_max`` shifted slices.

    Parameters
    ----------
    x_lagged : array_like, shape ``(l_max, n_times, n_channels)``
    w : array_like, shape ``(..., n_channels, l_max)``
        A channel axis of size 1 (as the parameter-free ``"none"`` adstock returns)
        applies the same weights to every channel.

    Returns
    -------
    Array, shape ``(..., n_times, n_channels)``
    """
    return jnp.einsum("ltc,...cl->...tc", jnp.asarray(x_lagged), jnp.asarray(w))


def convolve_weights(x: ArrayLike, w: ArrayLike) -> Array:
    r"""Causal convolution along the time axis: :math:`y_t = \sum_l w_l x_{t-l}`.

    Parameters
    ----------
    x : array_like, shape ``(n_times, n_channels)``
    w : array_like, shape ``(..., n_channels, l_max)`` (batch dims, e.g. draws, allowed)

    Returns
    -------
    Array, shape ``(..., n_times, n_channels)``; values before the first period count as 0.
    """
    w = jnp.asarray(w)
    return convolve_lagged(lag_stack(x, w.shape[-1]), w)


def geometric_adstock(
    x: ArrayLike, alpha: ArrayLike, l_max: int, normalize: bool = True
) -> Array:
    r"""Geometric adstock along the time axis.

    .. math:: y_t = \sum_{l=0}^{l_{max}-1} \tilde w_l \, x_{t-l}, \qquad
              \tilde w_l = \alpha^l / \sum_k \alpha^k

    Parameters
    ----------
    x : array_like, shape ``(n_times, n_channels)``
        Media input (spend).
    alpha : array_like, shape ``(..., n_channels)``
        Retention rate per channel in [0, 1] (batch dims, e.g. draws, allowed).
        ``alpha = 0`` is the identity.
    l_max : int
        Maximum carry-over length in periods; ``l_max = 1`` is the identity.
    normalize : bool
        Normalise the weights to sum to 1.

    Returns
    -------
    Array, shape ``(..., n_times, n_channels)``
    """
    return convolve_weights(x, geometric_weights(alpha, l_max, normalize))


@dataclass(frozen=True)
class AdstockForm:
    """A named adstock: its weight function, parameter names and default priors.

    ``weights_fn(l_max, normalize, **params)`` returns carry-over weights of shape
    ``(..., n_channels, l_max)`` (parameters have shape ``(..., n_channels)``);
    :meth:`apply` convolves media with them. ``normalize=True`` divides the weights by
    their sum, so an adstock moves spend in time without changing its total. A form
    without parameters (``"none"``) returns shape ``(1, l_max)``, which broadcasts over
    the channels.
    """

    name: str
    params: tuple[str, ...]
    weights_fn: Callable[..., Array]
    priors: dict[str, Prior] = field(default_factory=dict)

    def weights(self, l_max: int, normalize: bool = True, **params: Array) -> Array:
        return self.weights_fn(l_max, normalize, **params)

    def apply(self, x: ArrayLike, l_max: int, normalize: bool = True, **params: Array) -> Array:
        return convolve_weights(x, self.weights(l_max, normalize, **params))

    def apply_lagged(self, x_lagged: ArrayLike, normalize: bool = True, **params: Array) -> Array:
        """As :meth:`apply`, from a precomputed :func:`lag_stack` of the media."""
        l_max = jnp.shape(x_lagged)[0]
        return convolve_lagged(x_lagged, self.weights(l_max, normalize, **params))


def _weights_fn(fn: Callable[..., Array]) -> Callable[..., Array]:
    """Adapt ``fn(**params, l_max=, normalize=)`` to ``weights_fn(l_max, normalize, **params)``."""

    @functools.wraps(fn)
    def weights_fn(l_max: int, normalize: bool, **params: Any) -> Array:
        return fn(l_max=l_max, normalize=normalize, **params)

    return weights_fn


def identity_weights(l_max: int, normalize: bool = True) -> Array:
    r"""Weights of no adstock: ``[1, 0, ..., 0]``, shape ``(1, l_max)``.

    .. math:: w_0 = 1, \quad w_l = 0 \ (l \ge 1)

    The size-1 channel axis broadcasts over every channel in :func:`convolve_lagged`.
    ``normalize`` has no effect (the weights already add up to 1).
    """
    _check_l_max(l_max)
    return jnp.eye(1, l_max)


_RETENTION = Prior("Beta", {"concentration1": 1, "concentration0": 3})
_WEIBULL = {
    "lam": Prior("Gamma", {"concentration": 4, "rate": 2}),
    "k": Prior("Gamma", {"concentration": 9, "rate": 3}),
}

ADSTOCKS: Registry[AdstockForm] = Registry("adstock")
for _form in [
    AdstockForm("geometric", ("alpha",), _weights_fn(geometric_weights), {"alpha": _RETENTION}),
    AdstockForm("delayed", ("alpha", "theta"), _weights_fn(delayed_weights),
                {"alpha": _RETENTION, "theta": Prior("HalfNormal", {"scale": 1})}),
    AdstockForm("weibull_cdf", ("lam", "k"), _weights_fn(weibull_cdf_weights), dict(_WEIBULL)),
    AdstockForm("weibull_pdf", ("lam", "k"), _weights_fn(weibull_pdf_weights), dict(_WEIBULL)),
    AdstockForm("binomial", ("alpha",), _weights_fn(binomial_weights), {"alpha": _RETENTION}),
    AdstockForm("carryover", ("retention", "peak"), _weights_fn(carryover_weights),
                {"retention": Prior("Beta", {"concentration1": 1, "concentration0": 1}),
                 "peak": Prior("HalfNormal", {"scale": 2})}),
    AdstockForm("none", (), identity_weights, {}),
]:
    ADSTOCKS.add(_form.name, _form)
