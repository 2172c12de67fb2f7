"""Fitting the classic MMM with NUTS."""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax.numpy as jnp
import numpy as np
import pandas as pd

from bayesmmm.data import MMMData, prepare
from bayesmmm.errors import SpecError
from bayesmmm.model._classic import ModelInputs, fourier_features, model
from bayesmmm.model._result import Fit, Scalers
from bayesmmm.model._sampler import run_nuts
from bayesmmm.model._spec import ModelSpec
from bayesmmm.transforms import lag_stack

__all__ = ["SamplerOptions", "fit", "make_scalers", "model_inputs"]


@dataclass(frozen=True)
class SamplerOptions:
    """NUTS settings; validated on creation."""

    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
    target_accept: float = 0.8
    seed: int = 0
    dense_mass: bool = False
    max_tree_depth: int = 10

    def __post_init__(self) -> None:
        for name in ("chains", "warmup", "draws", "max_tree_depth"):
            v = getattr(self, name)
            low = 0 if name == "warmup" else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise SpecError(f"{name} must be an integer >= {low}, got {v!r}")
        if not 0 < self.target_accept < 1:
            raise SpecError(f"target_accept must be in (0, 1), got {self.target_accept!r}."
                            " Fix: use 0.8 (default) or 0.9-0.99 when there are divergences")
        if (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                or not 0 <= self.seed < 2**32):
            raise SpecError(f"seed must be an integer in [0, 2**32), got {self.seed!r}")


def make_scalers(data: MMMData) -> Scalers:
    """Max-abs scale of channels and target; mean/sd of controls (internal basis only)."""
    scale = data.controls.std(axis=0)
    return Scalers(
        channel_scale=np.abs(data.media).max(axis=0),
        y_scale=float(np.abs(data.y).max()),
        control_center=data.controls.mean(axis=0),
        control_scale=np.where(scale > 0, scale, 1.0),
    )


def model_inputs(spec: ModelSpec, data: MMMData, scalers: Scalers,
                 with_target: bool = True) -> ModelInputs:
    """Scaled arrays for the NumPyro model, float32."""
    def f32(a: Any) -> Any:
        return jnp.asarray(a, dtype=jnp.float32)

    return ModelInputs(
        media=lag_stack(f32(data.media / scalers.channel_scale), spec.adstock_max_lag),
        controls=f32((data.controls - scalers.control_center) / scalers.control_scale),
        control_center=f32(scalers.control_center),
        control_scale=f32(scalers.control_scale),
        fourier=f32(fourier_features(data.dates.day_of_year.to_numpy(), spec.yearly_seasonality)),
        y=f32(data.y / scalers.y_scale) if with_target else None,
    )


def fit(
    data: MMMData | pd.DataFrame | str,
    spec: ModelSpec,
    *,
    chains: int = 4,
    warmup: int = 1000,
    draws: int = 1000,
    target_accept: float = 0.8,
    seed: int = 0,
    dense_mass: bool = False,
    progress: bool | Callable[[str, int, int], None] = True,
) -> Fit:
    """Fit the MMM described by ``spec`` to ``data`` with NUTS.

    Parameters
    ----------
    data : MMMData, DataFrame or path
        A table is validated first (``DataValidationError`` lists every problem).
    spec : ModelSpec
    chains, warmup, draws : int
        Chains run in parallel, one per XLA host device (all cores are used).
    target_accept : float
        NUTS target acceptance; raise towards 0.95 if there are divergences.
    seed : int
        Seed of the sampler; the same seed gives the same draws.
    dense_mass : bool
        Adapt a dense mass matrix (helps strongly correlated posteriors).
    progress : bool or callable(phase, done, total)
        ``True`` shows a Rich progress bar; a callable receives progress instead.

    Returns
    -------
    Fit
    """
    options = SamplerOptions(chains, warmup, draws, target_accept, seed, dense_mass)
    if not isinstance(data, MMMData):
        data, _ = prepare(data, **spec.data_kwargs())
    elif data.channel_names != spec.channel_columns or data.control_names != spec.control_columns:
        raise SpecError(
            f"data columns {list(data.channel_names)} / {list(data.control_names)} do not match "
            f"the spec's {list(spec.channel_columns)} / {list(spec.control_columns)}")
    scalers = make_scalers(data)
    inputs = model_inputs(spec, data, scalers)
    started = time.perf_counter()
    with _preload("arviz"):  # summaries need it; importing costs ~1 s, so overlap it
        if progress is True:
            from bayesmmm.model._progress import rich_progress

            with rich_progress(options.chains) as callback:
                raw = _run(spec, inputs, options, callback)
        else:
            raw = _run(spec, inputs, options, progress or None)
    meta = {
        "sampler": "nuts",
        "options": options.__dict__,
        "seconds_total": time.perf_counter() - started,
        "seconds_warmup": raw.seconds_warmup,
        "seconds_sampling": raw.seconds_sampling,
    }
    posterior = {k: v.astype(np.float32) for k, v in raw.samples.items()}
    stats = {"diverging": raw.stats["diverging"].astype(bool),
             "num_steps": raw.stats["num_steps"].astype(np.int32),
             "energy": raw.stats["energy"].astype(np.float32),
             "accept_prob": raw.stats["accept_prob"].astype(np.float32)}
    return Fit(spec=spec, data=data, scalers=scalers, posterior=posterior, sample_stats=stats,
               meta=meta)


@contextmanager
def _preload(module: str) -> Iterator[None]:
    """Import ``module`` in a background thread while the body runs (compilation and
    sampling release the GIL); joined before leaving so no thread outlives the call."""
    thread = None
    if module not in sys.modules:
        thread = threading.Thread(target=_quiet_import, args=(module,), daemon=True)
        thread.start()
    try:
        yield
    finally:
        if thread is not None:
            thread.join()


def _quiet_import(module: str) -> None:
    with suppress(Exception):  # the real import later reports any problem
        importlib.import_module(module)


def _run(spec: ModelSpec, inputs: ModelInputs, o: SamplerOptions,
         progress: Callable[[str, int, int], None] | None) -> Any:
    return run_nuts(partial(model, spec), (inputs,), chains=o.chains, warmup=o.warmup,
                    draws=o.draws, target_accept=o.target_accept, seed=o.seed,
                    dense_mass=o.dense_mass, max_tree_depth=o.max_tree_depth, progress=progress)
