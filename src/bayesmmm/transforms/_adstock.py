"""Adstock (carry-over) transforms as pure ``jax.numpy`` functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from bayesmmm.priors import Prior
from bayesmmm.transforms._registry import Registry

__all__ = ["ADSTOCKS", "AdstockForm", "convolve_lagged", "convolve_weights", "geometric_adstock",
           "geometric_weights", "lag_stack"]


def geometric_weights(alpha: ArrayLike, l_max: int, normalize: bool = True) -> Array:
    r"""Geometric carry-over weights.

    .. math:: w_l = \alpha^l, \quad l = 0, \dots, l_{max}-1,
              \qquad \tilde w_l = w_l / \sum_k w_k \text{ if normalised}

    Parameters
    ----------
    alpha : array_like, shape ``(...,)``
        Retention rate in [0, 1]; one per channel (any batch shape).
    l_max : int
        Number of periods an impulse lasts (>= 1).
    normalize : bool
        Divide the weights by their sum so they add up to 1 (PyMC-Marketing's default).

    Returns
    -------
    Array, shape ``(..., l_max)``
    """
    if l_max < 1:
        raise ValueError(f"l_max must be >= 1, got {l_max}")
    alpha = jnp.asarray(alpha)
    lags = jnp.arange(l_max, dtype=alpha.dtype if alpha.dtype.kind == "f" else jnp.float32)
    w = jnp.power(alpha[..., None], lags)
    if normalize:
        w = w / jnp.sum(w, axis=-1, keepdims=True)
    return w


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
    their sum, so an adstock moves spend in time without changing its total.
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


ADSTOCKS: Registry[AdstockForm] = Registry("adstock")
ADSTOCKS.add(
    "geometric",
    AdstockForm(
        "geometric",
        params=("alpha",),
        weights_fn=lambda l_max, normalize, alpha: geometric_weights(alpha, l_max, normalize),
        priors={"alpha": Prior("Beta", {"concentration1": 1, "concentration0": 3})},
    ),
)
