"""A thin NUTS driver: chains in parallel across XLA devices, progress in chunks.

NumPyro's kernels do the sampling; this module only arranges chains over devices
(``pmap`` across devices, ``vmap`` within one when there are more chains than
devices) and runs warm-up and sampling as a loop of compiled chunks, so progress
can be reported between chunks without host callbacks inside the sampler.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import NUTS

__all__ = ["SamplerResult", "run_nuts"]

ProgressFn = Callable[[str, int, int], None]


@dataclass
class SamplerResult:
    """Raw draws: ``samples[name]`` is ``(n_chains, n_draws, ...)``; stats likewise."""

    samples: dict[str, np.ndarray]
    stats: dict[str, np.ndarray]
    seconds_warmup: float
    seconds_sampling: float
    seconds_pilot: float = 0.0


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
    """
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
    out: list[Any] = []
    seconds = {"warmup": 0.0, "sampling": 0.0}
    for phase, total in (("warmup", warmup), ("sampling", draws)):
        start = time.perf_counter()
        done = 0
        while done < total:
            n = min(length, total - done)
            state, buf = pchunk(state, model_args, n)
            if phase == "sampling":
                buf["z"] = pconstrain(buf["z"], model_args)
                # to host first: slicing the sharded device array would dispatch an op per leaf
                out.append(jax.tree.map(lambda b, n=n: np.asarray(b)[:, :n], buf))
            done += n
            if progress is not None:
                jax.block_until_ready(state)
                progress(phase, done, total)
        jax.block_until_ready(state)
        seconds[phase] = time.perf_counter() - start

    # (n_dev, chunk[, per_dev], ...) -> (chains, draws, ...)
    def stitch(*parts: np.ndarray) -> np.ndarray:
        a = np.concatenate(parts, axis=1)
        if per_dev > 1:
            a = np.moveaxis(a, 2, 1)
        return a.reshape((chains, draws) + a.shape[2 + (per_dev > 1):])

    collected = jax.tree.map(stitch, *out)
    samples = {k: v for k, v in collected["z"].items() if not k.startswith("_")}
    stats = {k: v for k, v in collected.items() if k != "z"}
    return SamplerResult(samples, stats, seconds["warmup"], seconds["sampling"])
