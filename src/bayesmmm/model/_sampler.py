"""A thin NUTS driver: chains in parallel across XLA devices, progress in chunks.

NumPyro's kernels do the sampling; this module only arranges chains over devices
(``pmap`` across devices, ``vmap`` within one when there are more chains than
devices) and runs warm-up and sampling as a loop of compiled chunks, so progress
can be reported between chunks without host callbacks inside the sampler.

Between two chunks of the warm-up it can also change the sampling basis once
(:class:`Rebase`): the basis is set by model arguments (data to the compiled program, so
nothing recompiles), and each chain's state is mapped to the new variables, with its
potential energy, gradient and inverse mass matrix recomputed there.
"""

from __future__ import annotations

import time
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

__all__ = ["Rebase", "SamplerResult", "rebase_window", "run_nuts"]

ProgressFn = Callable[[str, int, int], None]


@dataclass
class SamplerResult:
    """Raw draws: ``samples[name]`` is ``(n_chains, n_draws, ...)``; stats likewise."""

    samples: dict[str, np.ndarray]
    stats: dict[str, np.ndarray]
    seconds_warmup: float
    seconds_sampling: float


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


def _rebased(kernel: NUTS, model: Callable[..., Any], sites: tuple[str, ...],
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


#: Iterations per compiled call. Fixed, so the program (and the compilation cache entry)
#: does not change with the number of draws; a call costs well under a millisecond.
CHUNK_LENGTH = 50


def run_nuts(
    model: Callable[..., Any],
    model_args: tuple[Any, ...],
    *,
    chains: int,
    warmup: int,
    draws: int,
    target_accept: float,
    seed: int,
    dense_mass: bool = False,
    max_tree_depth: int = 10,
    progress: ProgressFn | None = None,
    rebase: Rebase | None = None,
    deadline: float | None = None,
) -> SamplerResult:
    """Run NUTS and return constrained draws (deterministic sites included).

    Parameters
    ----------
    model : callable
        A NumPyro model taking ``*model_args``.
    model_args : tuple of arrays (a pytree)
        Data, passed as arguments so compiled code is reused across datasets of equal shape.
    chains, warmup, draws : int
    target_accept : float
        NUTS target acceptance probability in (0, 1).
    seed : int
    dense_mass : bool
        Adapt a dense mass matrix instead of a diagonal one.
    progress : callable(phase, done, total), optional
        Called after each chunk with phase ``"warmup"`` or ``"sampling"``.
    rebase : Rebase, optional
        Change the sampling basis once in the warm-up (diagonal mass matrix only).
    deadline : float, optional
        A ``time.perf_counter()`` reading after which sampling stops at the end of the
        current chunk (the warm-up always completes): fewer than ``draws`` draws, at
        least one chunk's.
    """
    if rebase is not None and dense_mass:
        raise ValueError("a rebase needs a diagonal mass matrix (dense_mass=False)")
    window = None if rebase is None else rebase_window(warmup)
    kernel = NUTS(model, target_accept_prob=target_accept, dense_mass=dense_mass,
                  max_tree_depth=max_tree_depth)
    n_dev = min(chains, jax.local_device_count())
    while chains % n_dev:
        n_dev -= 1
    per_dev = chains // n_dev
    keys = jax.random.split(jax.random.PRNGKey(seed), chains)
    # One chain per device uses the plain kernel; several per device vmap it (NumPyro
    # vectorises ``kernel.sample`` when ``init`` gets a batch of keys).
    keys = keys.reshape((n_dev, per_dev, -1)) if per_dev > 1 else keys
    init = jax.pmap(lambda k, args: kernel.init(k, warmup, None, args, {}), in_axes=(0, None))
    state = init(keys, model_args)

    length = CHUNK_LENGTH

    def chunk(state: Any, args: Any, n: jax.Array) -> tuple[Any, Any]:
        def record(s: Any) -> dict[str, Any]:
            return {"z": s.z, "num_steps": s.num_steps.astype(jnp.int32),
                    "diverging": s.diverging, "energy": s.energy,
                    "accept_prob": s.accept_prob}

        buffer = jax.tree.map(lambda a: jnp.zeros((length,) + a.shape, a.dtype), record(state))

        def body(i: jax.Array, carry: tuple[Any, Any]) -> tuple[Any, Any]:
            s, buf = carry
            s = kernel.sample(s, args, {})
            buf = jax.tree.map(lambda b, v: b.at[i].set(v), buf, record(s))
            return s, buf

        return jax.lax.fori_loop(0, n, body, (state, buffer))

    def constrain(z: Any, args: Any) -> Any:
        # Constrained values and deterministic sites of one chunk's draws; its shape is set
        # by CHUNK_LENGTH, not by the number of draws, so it is compiled once per model.
        fn = jax.vmap(kernel.postprocess_fn(args, {}))
        return jax.vmap(fn, in_axes=1, out_axes=1)(z) if per_dev > 1 else fn(z)

    pchunk = jax.pmap(chunk, in_axes=(0, None, None))
    pconstrain = jax.pmap(constrain, in_axes=(0, None))

    def collect(buf: Any, args: Any, n: int) -> Any:
        buf["z"] = pconstrain(buf["z"], args)
        # to host first: slicing the sharded device array would dispatch an op per leaf
        return jax.tree.map(lambda b: np.asarray(b)[:, :n], buf)

    out: list[Any] = []
    recorded: list[Any] = []
    seconds = {"warmup": 0.0, "sampling": 0.0}
    for phase, total in (("warmup", warmup), ("sampling", draws)):
        start = time.perf_counter()
        done = 0
        while done < total:
            n = min(length, total - done)
            if phase == "warmup" and window is not None and done < window[1]:
                # chunks end at the window's edges
                n = min(n, (window[0] if done < window[0] else window[1]) - done)
            state, buf = pchunk(state, model_args, n)
            if phase == "sampling":
                out.append(collect(buf, model_args, n))
            elif window is not None and window[0] <= done < window[1]:
                recorded.append(collect(buf, model_args, n))
            done += n
            if phase == "warmup" and window is not None and done == window[1]:
                assert rebase is not None
                new_args = rebase.new_args(_stitch(recorded, chains, per_dev)["z"])
                move = partial(_rebased, kernel, model, rebase.sites)
                if per_dev > 1:
                    move = jax.vmap(move, in_axes=(0, None, None))
                state = jax.pmap(move, in_axes=(0, None, None))(state, model_args, new_args)
                model_args, recorded = new_args, []
            if progress is not None or deadline is not None:
                jax.block_until_ready(state)
            if progress is not None:
                progress(phase, done, total)
            if phase == "sampling" and deadline is not None and done < total \
                    and time.perf_counter() > deadline:
                break
        jax.block_until_ready(state)
        seconds[phase] = time.perf_counter() - start

    collected = _stitch(out, chains, per_dev)
    samples = {k: v for k, v in collected["z"].items() if not k.startswith("_")}
    stats = {k: v for k, v in collected.items() if k != "z"}
    return SamplerResult(samples, stats, seconds["warmup"], seconds["sampling"])


def _stitch(parts: list[Any], chains: int, per_dev: int) -> Any:
    """Chunks of ``(n_dev, chunk[, per_dev], ...)`` -> ``(chains, draws, ...)``."""
    def join(*leaves: np.ndarray) -> np.ndarray:
        a = np.concatenate(leaves, axis=1)
        if per_dev > 1:
            a = np.moveaxis(a, 2, 1)
        return a.reshape((chains, -1) + a.shape[2 + (per_dev > 1):])

    return jax.tree.map(join, *parts)
