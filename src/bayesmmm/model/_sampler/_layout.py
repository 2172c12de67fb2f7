"""Where chains run: across XLA devices with ``pmap``, several per device with ``vmap``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

__all__ = ["ChainLayout"]


@dataclass(frozen=True)
class ChainLayout:
    """``chains`` split over ``n_devices`` devices, ``per_device`` on each.

    One chain per device uses NumPyro's plain kernel; several per device vmap it (NumPyro
    vectorises ``kernel.init``/``kernel.sample`` when ``init`` gets a batch of keys).
    """

    chains: int
    n_devices: int
    per_device: int

    @classmethod
    def for_chains(cls, chains: int) -> ChainLayout:
        """As many devices as divide ``chains`` evenly, at most the local device count."""
        n_dev = min(chains, jax.local_device_count())
        while chains % n_dev:
            n_dev -= 1
        return cls(chains, n_dev, chains // n_dev)

    @property
    def batched(self) -> bool:
        """Whether each device holds a batch of chains (an extra axis after the device's)."""
        return self.per_device > 1

    def keys(self, seed: int) -> jax.Array:
        """One PRNG key per chain, laid out ``(n_devices[, per_device], 2)``."""
        keys = jax.random.split(jax.random.PRNGKey(seed), self.chains)
        return keys.reshape((self.n_devices, self.per_device, -1)) if self.batched else keys

    def split(self, a: np.ndarray) -> np.ndarray:
        """``(chains, ...)`` laid out ``(n_devices[, per_device], ...)`` as the states."""
        a = np.asarray(a)
        shape = (self.n_devices, self.per_device) if self.batched else (self.n_devices,)
        return a.reshape(shape + a.shape[1:])

    def per_chain(self, fn: Callable[..., Any], in_axes: tuple[Any, ...]) -> Callable[..., Any]:
        """``fn`` of one chain's state (first argument) over every chain's."""
        if self.batched:
            fn = jax.vmap(fn, in_axes=in_axes)
        return jax.pmap(fn, in_axes=in_axes)

    def stitch(self, parts: list[Any]) -> Any:
        """Chunks of ``(n_devices, chunk[, per_device], ...)`` -> ``(chains, draws, ...)``."""
        def join(*leaves: np.ndarray) -> np.ndarray:
            a = np.concatenate(leaves, axis=1)
            if self.batched:
                a = np.moveaxis(a, 2, 1)
            return a.reshape((self.chains, -1) + a.shape[2 + self.batched:])

        return jax.tree.map(join, *parts)
