"""Compiled chunks of NUTS iterations and the draws they record.

The sampler runs warm-up and sampling as a loop of compiled chunks of
:data:`CHUNK_LENGTH` iterations, so progress and a deadline can be checked between
chunks without host callbacks inside the sampler.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import NUTS

from bayesmmm.model._sampler._layout import ChainLayout

__all__ = ["CHUNK_LENGTH", "Chunks", "chunk_sizes"]

#: Iterations per compiled call. Fixed, so the program (and the compilation cache entry)
#: does not change with the number of draws; a call costs well under a millisecond.
CHUNK_LENGTH = 50


def _record(s: Any) -> dict[str, Any]:
    return {"z": s.z, "num_steps": s.num_steps.astype(jnp.int32), "diverging": s.diverging,
            "energy": s.energy, "accept_prob": s.accept_prob}


class Chunks:
    """The compiled programs of one kernel on one layout.

    ``run(state, args, n)`` advances every chain ``n`` <= :data:`CHUNK_LENGTH` iterations
    and returns the new state and a buffer of what each iteration recorded;
    ``collect(buffer, args, n)`` turns a buffer's latents into constrained draws
    (deterministic sites included) on the host, ``(n_devices, n[, per_device], ...)``.
    """

    def __init__(self, kernel: NUTS, layout: ChainLayout) -> None:
        length = CHUNK_LENGTH

        def chunk(state: Any, args: Any, n: jax.Array) -> tuple[Any, Any]:
            buffer = jax.tree.map(lambda a: jnp.zeros((length,) + a.shape, a.dtype),
                                  _record(state))

            def body(i: jax.Array, carry: tuple[Any, Any]) -> tuple[Any, Any]:
                s, buf = carry
                s = kernel.sample(s, args, {})
                buf = jax.tree.map(lambda b, v: b.at[i].set(v), buf, _record(s))
                return s, buf

            return jax.lax.fori_loop(0, n, body, (state, buffer))

        def constrain(z: Any, args: Any) -> Any:
            # Constrained values and deterministic sites of one chunk's draws; its shape is
            # set by CHUNK_LENGTH, not by the number of draws: compiled once per model.
            fn = jax.vmap(kernel.postprocess_fn(args, {}))
            return jax.vmap(fn, in_axes=1, out_axes=1)(z) if layout.batched else fn(z)

        self.run = jax.pmap(chunk, in_axes=(0, None, None))
        self._constrain = jax.pmap(constrain, in_axes=(0, None))

    def collect(self, buffer: Any, args: Any, n: int) -> Any:
        buffer["z"] = self._constrain(buffer["z"], args)
        # to host first: slicing the sharded device array would dispatch an op per leaf
        return jax.tree.map(lambda b: np.asarray(b)[:, :n], buffer)


def chunk_sizes(total: int, window: tuple[int, int] | None = None) -> Iterator[int]:
    """Sizes of the chunks of ``total`` iterations: :data:`CHUNK_LENGTH` each, cut so that
    chunks end at the edges of ``window`` (start, stop) when one is given."""
    done = 0
    while done < total:
        n = min(CHUNK_LENGTH, total - done)
        if window is not None and done < window[1]:
            n = min(n, (window[0] if done < window[0] else window[1]) - done)
        yield n
        done += n

