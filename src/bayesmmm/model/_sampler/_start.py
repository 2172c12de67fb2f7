"""Where NUTS starts: NumPyro's own start (uniform in [-2, 2] in the unconstrained space,
identity mass matrix), or given points and an initial diagonal inverse mass matrix, for
instance from an approximation of the posterior.

A chain that starts in the posterior's bulk with a mass matrix near the posterior's
scales should be spared the first warm-up iterations' deep trees where those come from a
start outside the bulk; where they come from the posterior's shape they stay (measured
on medium_business: docs/benchmarks.md, session 26). NumPyro's warm-up adapter is
started again at the given point with the given matrix, so its step-size search and its
adaptation windows run exactly as after its own start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from numpyro.infer.hmc import momentum_generator
from numpyro.infer.hmc_util import (
    IntegratorState,
    euclidean_kinetic_energy,
    find_reasonable_step_size,
    warmup_adapter,
)
from numpyro.infer.util import potential_energy

from bayesmmm.model._sampler._layout import ChainLayout

__all__ = ["Start", "start_state", "start_states"]


@dataclass(frozen=True)
class Start:
    """Where the chains start: ``z[name]`` holds every chain's unconstrained value of the
    latent site ``name``, ``(chains, *shape)``; ``variance[name]`` (``shape``) the
    diagonal of the initial inverse mass matrix, the same for every chain; ``info`` says
    how they were found (kept in the fit's ``meta["start"]``)."""

    z: dict[str, np.ndarray]
    variance: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)


def start_state(model: Callable[..., Any], state: Any, args: tuple[Any, ...],
                z: dict[str, Any], variance: dict[str, Any]) -> Any:
    """One chain's initial state moved to ``z`` with the inverse mass matrix ``variance``
    (in the kernel's blocks; a dense block gets the variances on its diagonal), its
    step size found again as NumPyro's start finds it."""
    z = {k: jnp.asarray(z[k], jnp.result_type(v)) for k, v in state.z.items()}

    def pe(p: Any) -> jax.Array:
        return potential_energy(model, args, {}, p)

    energy, grad = jax.value_and_grad(pe)(z)
    inverse = {}
    for names, block in state.adapt_state.inverse_mass_matrix.items():
        diagonal = ravel_pytree(tuple(jnp.asarray(variance[k], block.dtype)
                                      for k in names))[0]
        inverse[names] = jnp.diag(diagonal) if block.ndim == 2 else diagonal
    # NumPyro's kernel keeps its mass matrix as blocks; the adapter takes the dense ones
    adapt_init, _ = warmup_adapter(
        1, dense_mass=[names for names, b in inverse.items() if b.ndim == 2],
        find_reasonable_step_size=partial(find_reasonable_step_size, pe,
                                          euclidean_kinetic_energy, momentum_generator))
    key = jax.random.fold_in(state.adapt_state.rng_key, 1)
    adapt = adapt_init(IntegratorState(z, None, energy, grad), key,
                       inverse_mass_matrix=inverse)
    return state._replace(z=z, z_grad=grad, potential_energy=energy, energy=energy,
                          adapt_state=adapt)


def start_states(model: Callable[..., Any], layout: ChainLayout, state: Any,
                 args: tuple[Any, ...], start: Start) -> Any:
    """Every chain's state moved to its point of ``start``."""
    z = {k: layout.split(v) for k, v in start.z.items()}
    move = layout.per_chain(partial(start_state, model),
                            in_axes=(0, None, 0, None))
    return move(state, args, z, start.variance)
