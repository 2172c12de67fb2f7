"""Saturation (diminishing returns) transforms as pure ``jax.numpy`` functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from bayesmmm.priors import Prior
from bayesmmm.transforms._registry import Registry

__all__ = ["logistic_saturation", "SaturationForm", "SATURATIONS"]


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


SATURATIONS: Registry[SaturationForm] = Registry("saturation")
SATURATIONS.add(
    "logistic",
    SaturationForm(
        "logistic",
        params=("lam",),
        fn=logistic_saturation,
        priors={
            "lam": Prior("Gamma", {"concentration": 3, "rate": 1}),
            "beta": Prior("HalfNormal", {"scale": 2}),
        },
    ),
)
