"""The NUTS driver: warm-up and sampling as loops of compiled chunks over a chain layout,
with progress, a deadline and at most one change of basis in the warm-up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np
from numpyro.infer import NUTS

from bayesmmm.model._sampler._chunks import Chunks, chunk_sizes
from bayesmmm.model._sampler._layout import ChainLayout
from bayesmmm.model._sampler._rebase import Rebase, move_states, rebase_window
from bayesmmm.model._sampler._start import Start, start_states

__all__ = ["NutsProgram", "Pace", "SamplerResult", "run_nuts"]

ProgressFn = Callable[[str, int, int], None]


@dataclass
class SamplerResult:
    """Raw draws: ``samples[name]`` is ``(n_chains, n_draws, ...)``; stats likewise."""

    samples: dict[str, np.ndarray]
    stats: dict[str, np.ndarray]
    seconds_warmup: float
    seconds_sampling: float
    info: dict[str, Any] = field(default_factory=dict)  # a method's own diagnostics
    start: dict[str, Any] = field(default_factory=dict)  # how NUTS's start was found


@dataclass
class Pace:
    """Reports progress after each chunk and stops sampling (never the warm-up) once the
    ``deadline`` (a ``time.perf_counter()`` reading) has passed."""

    progress: ProgressFn | None = None
    deadline: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def after_chunk(self, state: Any, phase: str, done: int, total: int) -> bool:
        """True when sampling must stop now."""
        if self.progress is None and self.deadline is None:
            return False
        jax.block_until_ready(state)
        if self.progress is not None:
            self.progress(phase, done, total)
        return (phase == "sampling" and self.deadline is not None and done < total
                and time.perf_counter() > self.deadline)


def _warmup(chunks: Chunks, kernel: NUTS, model: Callable[..., Any], layout: ChainLayout,
            state: Any, args: tuple[Any, ...], total: int, rebase: Rebase | None,
            pace: Pace) -> tuple[Any, tuple[Any, ...]]:
    """Warm-up iterations; with ``rebase``, the draws of its window choose a new basis
    that the chains move to at the window's end (the arguments change with it)."""
    window = None if rebase is None else rebase_window(total)
    recorded: list[Any] = []
    done = 0
    for n in chunk_sizes(total, window):
        state, buf = chunks.run(state, args, n)
        if window is not None and window[0] <= done < window[1]:
            recorded.append(chunks.collect(buf, args, n))
        done += n
        if window is not None and done == window[1]:
            assert rebase is not None
            draws = layout.stitch(recorded)["z"]
            state, args = move_states(kernel, model, rebase, layout, state, args, draws)
            recorded = []
        pace.after_chunk(state, "warmup", done, total)
    return state, args


def _sampling(chunks: Chunks, state: Any, args: tuple[Any, ...], total: int, pace: Pace
              ) -> list[Any]:
    out: list[Any] = []
    done = 0
    for n in chunk_sizes(total):
        state, buf = chunks.run(state, args, n)
        out.append(chunks.collect(buf, args, n))
        done += n
        if pace.after_chunk(state, "sampling", done, total):
            break
    jax.block_until_ready(state)
    return out


class NutsProgram:
    """NUTS compiled for one model, chain layout and warm-up length: run it on any model
    arguments of the same shapes (and any seed and number of draws) without compiling
    again. :func:`run_nuts` builds one per call; a caller that runs one model many times
    on other data (a structure search) keeps one."""

    def __init__(self, model: Callable[..., Any], *, chains: int, warmup: int,
                 target_accept: float, dense_mass: bool = False,
                 max_tree_depth: int = 10, warmup_tree_depth: int | None = None) -> None:
        self.model, self.warmup = model, warmup
        # NumPyro takes (warm-up depth, sampling depth): one kernel, one program
        depth = max_tree_depth if warmup_tree_depth is None else (
            min(warmup_tree_depth, max_tree_depth), max_tree_depth)
        self.kernel = NUTS(model, target_accept_prob=target_accept, dense_mass=dense_mass,
                           max_tree_depth=depth)
        self.dense_mass = dense_mass
        self.layout = ChainLayout.for_chains(chains)
        kernel = self.kernel
        self._init = jax.pmap(lambda k, args: kernel.init(k, warmup, None, args, {}),
                              in_axes=(0, None))
        self.chunks = Chunks(kernel, self.layout)

    def run(self, model_args: tuple[Any, ...], *, seed: int, draws: int,
            progress: ProgressFn | None = None, rebase: Rebase | None = None,
            deadline: float | None = None, start: Start | None = None) -> SamplerResult:
        """Warm-up and ``draws`` draws per chain on ``model_args`` (as :func:`run_nuts`)."""
        if rebase is not None and self.dense_mass:
            raise ValueError("a rebase needs a diagonal mass matrix (dense_mass=False)")
        layout, chunks = self.layout, self.chunks
        state = self._init(layout.keys(seed), model_args)
        if start is not None:
            state = start_states(self.model, layout, state, model_args, start)
        pace = Pace(progress, deadline)

        clock = time.perf_counter()
        state, model_args = _warmup(chunks, self.kernel, self.model, layout, state,
                                    model_args, self.warmup, rebase, pace)
        jax.block_until_ready(state)
        seconds_warmup = time.perf_counter() - clock
        clock = time.perf_counter()
        out = _sampling(chunks, state, model_args, draws, pace)
        seconds_sampling = time.perf_counter() - clock

        collected = layout.stitch(out)
        samples = {k: v for k, v in collected["z"].items() if not k.startswith("_")}
        stats = {k: v for k, v in collected.items() if k != "z"}
        return SamplerResult(samples, stats, seconds_warmup, seconds_sampling)


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
    warmup_tree_depth: int | None = None,
    progress: ProgressFn | None = None,
    rebase: Rebase | None = None,
    deadline: float | None = None,
    start: Start | None = None,
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
    max_tree_depth : int
    warmup_tree_depth : int, optional
        The deepest tree in the warm-up (at most ``max_tree_depth``; default the same).
    progress : callable(phase, done, total), optional
        Called after each chunk with phase ``"warmup"`` or ``"sampling"``.
    rebase : Rebase, optional
        Change the sampling basis once in the warm-up (diagonal mass matrix only).
    deadline : float, optional
        A ``time.perf_counter()`` reading after which sampling stops at the end of the
        current chunk (the warm-up always completes): fewer than ``draws`` draws, at
        least one chunk's.
    start : Start, optional
        Each chain's starting point and the initial diagonal inverse mass matrix
        (default: NumPyro's uniform start and an identity matrix).
    """
    if rebase is not None and dense_mass:
        raise ValueError("a rebase needs a diagonal mass matrix (dense_mass=False)")
    program = NutsProgram(model, chains=chains, warmup=warmup, target_accept=target_accept,
                          dense_mass=dense_mass, max_tree_depth=max_tree_depth,
                          warmup_tree_depth=warmup_tree_depth)
    return program.run(model_args, seed=seed, draws=draws, progress=progress, rebase=rebase,
                       deadline=deadline, start=start)
