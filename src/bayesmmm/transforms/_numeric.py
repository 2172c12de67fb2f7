"""Numerical helpers shared by the transforms (dtypes, safe floors)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

__all__ = ["_floats", "_floor"]


def _floats(*values: ArrayLike) -> list[Array]:
    """Arrays of one common floating dtype (float32 unless given wider)."""
    arrays = [jnp.asarray(v) for v in values]
    dtype = jnp.result_type(*arrays)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return [a.astype(dtype) for a in arrays]


def _floor(value: Array) -> Array:
    """``max(value, sqrt(tiny))``: its log, reciprocal and squared reciprocal stay finite."""
    return jnp.maximum(value, jnp.sqrt(jnp.finfo(value.dtype).tiny).astype(value.dtype))
