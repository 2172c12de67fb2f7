"""A change of the sampling basis in the middle of the warm-up.

The basis is set by model arguments (data to the compiled program, so nothing
recompiles); each chain's state is mapped to the new variables, with its potential
energy, gradient and inverse mass matrix recomputed there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from numpyro.distributions import Independent
from numpyro.handlers import substitute, trace
from numpyro.infer import NUTS
from numpyro.infer.hmc_util import build_adaptation_schedule
from numpyro.infer.util import potential_energy

from bayesmmm.model._sampler._layout import ChainLayout

__all__ = ["REBASE_AFTER", "REBASE_BY", "REBASE_RECORD", "Rebase", "move_state",
           "move_states", "rebase_window"]


@dataclass(frozen=True)
class Rebase:
    """A change of the sampling basis in the middle of the warm-up.

    After the adaptation window :func:`rebase_window` picks, ``new_args`` gets that
    window's constrained draws (``(chains, draws, ...)``, deterministic sites included)
    and returns the model arguments of the new basis: the model is the same, only the
    variables NUTS sees change. Every site in ``sites`` must be a location-scale normal
    (``Normal(loc, scale)``, possibly ``to_event``) whose ``loc`` and ``scale`` depend on
    the arguments; each chain's value of such a site keeps its standardised value
    ``(w - loc) / scale``, its inverse mass matrix entries are rescaled by
    ``(scale_new / scale_old) ** 2``, and every other latent keeps its value.
    """

    new_args: Callable[[dict[str, np.ndarray]], tuple[Any, ...]]
    sites: tuple[str, ...]


#: The latest warm-up iteration by which the basis changes, the fewest draws that choose
#: it, and the fewest warm-up iterations left after the change (see :func:`rebase_window`).
REBASE_BY = 250
REBASE_RECORD = 100
REBASE_AFTER = 150


def rebase_window(warmup: int) -> tuple[int, int] | None:
    """``(start, stop)`` of the warm-up iterations whose draws choose the new basis.

    The last slow mass-matrix window of NumPyro's schedule of at least
    :data:`REBASE_RECORD` iterations that ends by iteration :data:`REBASE_BY` and
    leaves at least :data:`REBASE_AFTER` iterations (a further slow window and the
    final one) to adapt to the new basis: iterations 150-249 from a warm-up of 500 on;
    None for a shorter one (the 50 draws of iterations 100-149 gave noisier weights: one
    divergence on a 4-geo test panel). Early, because the trees are deepest before the
    change.
    """
    if warmup < 20:
        return None
    best = None
    for w in build_adaptation_schedule(warmup)[1:-1]:
        stop = int(w.end) + 1
        if stop - int(w.start) >= REBASE_RECORD and stop <= REBASE_BY \
                and warmup - stop >= REBASE_AFTER:
            best = int(w.start), stop
    return best


def _normal(fn: Any) -> Any:
    while isinstance(fn, Independent):
        fn = fn.base_dist
    return fn


def move_state(kernel: NUTS, model: Callable[..., Any], sites: tuple[str, ...],
               state: Any, old: tuple[Any, ...], new: tuple[Any, ...]) -> Any:
    """One chain's state moved to the basis of the model arguments ``new``."""
    values = kernel.postprocess_fn(old, {})(state.z)
    latent = {k: values[k] for k in state.z}
    before = trace(substitute(model, data=latent)).get_trace(*old)
    after = trace(substitute(model, data=latent)).get_trace(*new)
    z = dict(state.z)
    factor = {k: jnp.ones_like(v) for k, v in z.items()}
    for name in sites:
        a, b = _normal(before[name]["fn"]), _normal(after[name]["fn"])
        ratio = jnp.broadcast_to(b.scale / a.scale, z[name].shape)
        z[name] = b.loc + ratio * (z[name] - a.loc)
        factor[name] = ratio ** 2
    energy, grad = jax.value_and_grad(
        lambda p: potential_energy(model, new, {}, p))(z)
    adapt = state.adapt_state
    inverse, sqrt, sqrt_inv = {}, {}, {}
    for names, block in adapt.inverse_mass_matrix.items():
        scale = ravel_pytree(tuple(factor[k] for k in names))[0]
        inverse[names] = block * scale
        sqrt_inv[names] = jnp.sqrt(inverse[names])
        sqrt[names] = 1.0 / sqrt_inv[names]
    adapt = adapt._replace(inverse_mass_matrix=inverse, mass_matrix_sqrt=sqrt,
                           mass_matrix_sqrt_inv=sqrt_inv)
    return state._replace(z=z, z_grad=grad, potential_energy=energy, adapt_state=adapt)


def move_states(kernel: NUTS, model: Callable[..., Any], rebase: Rebase, layout: ChainLayout,
                state: Any, args: tuple[Any, ...], draws: dict[str, np.ndarray]
                ) -> tuple[Any, tuple[Any, ...]]:
    """Every chain moved to the basis chosen from ``draws``; the new model arguments."""
    new_args = rebase.new_args(draws)
    move = layout.per_chain(partial(move_state, kernel, model, rebase.sites),
                            in_axes=(0, None, None))
    return move(state, args, new_args), new_args
