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

import numpy as np
import pandas as pd

from bayesmmm.data import MMMData, prepare
from bayesmmm.errors import SpecError
from bayesmmm.model._centring import centring_weights, no_centring
from bayesmmm.model._design import Design, calendar_controls, make_design, make_scalers
from bayesmmm.model._model import model
from bayesmmm.model._result import Fit
from bayesmmm.model._sampler import Rebase, run_nuts
from bayesmmm.model._spec import ModelSpec

__all__ = ["CENTRING", "SamplerOptions", "fit", "model_data"]

#: How geo models sample their geo values: ``none`` (default) samples every geo value
#: non-centred; ``auto`` chooses a centring weight per geo value from warm-up draws and
#: changes to that basis in the middle of the warm-up (:mod:`bayesmmm.model._centring`).
CENTRING = ("none", "auto")


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
    centring: str = "none"
    time_limit: float | None = None

    def __post_init__(self) -> None:
        if self.centring not in CENTRING:
            raise SpecError(f"centring must be one of {list(CENTRING)}, got "
                            f"{self.centring!r}. Fix: use 'none' (default) or 'auto'")
        if self.centring == "auto" and self.dense_mass:
            raise SpecError("centring='auto' adapts a diagonal mass matrix, but dense_mass "
                            "is True. Fix: pass dense_mass=False, or centring='none'")
        for name in ("chains", "warmup", "draws", "max_tree_depth"):
            v = getattr(self, name)
            low = 0 if name == "warmup" else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise SpecError(f"{name} must be an integer >= {low}, got {v!r}")
        limit = self.time_limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float)
                                  or not limit > 0):
            raise SpecError(f"time_limit must be a number of seconds > 0 or None, got "
                            f"{limit!r}. Fix: e.g. time_limit=600, or None for no limit")
        if not 0 < self.target_accept < 1:
            raise SpecError(f"target_accept must be in (0, 1), got {self.target_accept!r}."
                            " Fix: use 0.8 (default) or 0.9-0.99 when there are divergences")
        if (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                or not 0 <= self.seed < 2**32):
            raise SpecError(f"seed must be an integer in [0, 2**32), got {self.seed!r}")


def model_data(data: MMMData | pd.DataFrame | str, spec: ModelSpec) -> MMMData:
    """The data as the model sees it: validated, with the spec's calendar controls
    (holidays, events) appended to the controls."""
    if not isinstance(data, MMMData):
        data, _ = prepare(data, **spec.data_kwargs())
    elif data.channel_names != spec.channel_columns or \
            data.control_names[:len(spec.control_columns)] != spec.control_columns:
        raise SpecError(
            f"data columns {list(data.channel_names)} / {list(data.control_names)} do not match "
            f"the spec's {list(spec.channel_columns)} / {list(spec.control_columns)}")
    elif data.is_panel != bool(spec.panel_columns):
        raise SpecError("the data is " + ("a panel" if data.is_panel else "national") +
                        " but the spec's panel_columns is " + repr(list(spec.panel_columns)))
    if len(data.control_names) > len(spec.control_columns):
        return data  # calendar columns already appended
    calendar = calendar_controls(spec, data.dates, data.frequency)
    if calendar.shape[1] == 0:
        return data
    clash = sorted(set(calendar.columns) & set(data.control_names))
    if clash:
        raise SpecError(f"calendar columns {clash} clash with control columns of the same "
                        "name. Fix: rename those controls")
    extra = np.broadcast_to(calendar.to_numpy(), (data.n_geos, *calendar.shape))
    new = data.with_arrays(controls=np.concatenate([data.controls_gt, extra], axis=-1))
    return MMMData(**{**new.__dict__,
                      "control_names": data.control_names + tuple(calendar.columns)})


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
    centring: str = "none",
    time_limit: float | None = None,
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
    centring : ``"none"`` (default) or ``"auto"``
        Geo models only: ``"auto"`` samples the logistic channels' ``beta`` and ``lam``
        as a rotated pair and, from the draws of one warm-up window (iterations 150-249
        of 1,000; :func:`bayesmmm.model._sampler.rebase_window`), sets for each geo value
        how far it is sampled centred, moves the chains to that basis and lets the rest
        of the warm-up adapt to it; ``"none"`` samples every geo value non-centred. The
        model, and so the posterior, is the same either way. ``"auto"`` gives 2-3x the
        ESS per gradient on 8 and 20 geos (docs/benchmarks.md). Needs
        ``dense_mass=False``; a warm-up too short for the window (under 400) keeps the
        non-centred values.
    time_limit : float, optional
        Seconds from the call after which sampling stops early, at the end of the chunk
        of 50 draws under way; the warm-up always completes. The fit then holds fewer
        than ``draws`` draws (at least 50, or ``draws`` if fewer) and its ``meta`` says
        ``stopped_early``: a time-boxed fit whose diagnostics tell whether it is enough.
    progress : bool or callable(phase, done, total)
        ``True`` shows a Rich progress bar; a callable receives progress instead.

    Returns
    -------
    Fit
    """
    started = time.perf_counter()
    options = SamplerOptions(chains, warmup, draws, target_accept, seed, dense_mass,
                             centring=centring, time_limit=time_limit)
    data = model_data(data, spec)
    scalers = make_scalers(data)
    inputs = make_design(spec, data, scalers)
    deadline = None if time_limit is None else started + time_limit
    with _preload("arviz"):  # summaries need it; importing costs ~1 s, so overlap it
        if progress is True:
            from bayesmmm.model._progress import rich_progress

            with rich_progress(options.chains) as callback:
                raw = _run(spec, inputs, options, callback, deadline)
        else:
            raw = _run(spec, inputs, options, progress or None, deadline)
    meta = {
        "sampler": "nuts",
        "options": options.__dict__,
        "seconds_total": time.perf_counter() - started,
        "seconds_warmup": raw.seconds_warmup,
        "seconds_sampling": raw.seconds_sampling,
        "stopped_early": raw.stats["diverging"].shape[1] < options.draws,
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


def _run(spec: ModelSpec, inputs: Design, o: SamplerOptions,
         progress: Callable[[str, int, int], None] | None,
         deadline: float | None = None) -> Any:
    index = None
    lift = inputs.lift
    if lift is not None and lift.geo is not None and lift.channel is not None:
        # indices must be static: keep them out of the traced arguments
        index = (tuple(int(i) for i in lift.geo), tuple(int(i) for i in lift.channel))
        inputs = inputs._replace(lift=lift._replace(geo=None, channel=None))
    fn = partial(model, spec, lift_index=index)
    rebase = None
    if o.centring == "auto" and inputs.media.shape[1] > 1:
        # Warm-up starts non-centred (zero weights: the same compiled program, weights
        # are data); the weights from one window's draws then set the basis.
        zero = no_centring(spec, inputs)
        inputs = base = inputs._replace(centring=zero)
        rebase = Rebase(
            new_args=lambda draws: (base._replace(
                centring=centring_weights(spec, base, draws)),),
            sites=tuple(f"_{k}_z" for k in zero if k != "logistic_pair"))
    return run_nuts(fn, (inputs,), chains=o.chains, warmup=o.warmup, draws=o.draws,
                    target_accept=o.target_accept, seed=o.seed, dense_mass=o.dense_mass,
                    max_tree_depth=o.max_tree_depth, progress=progress, rebase=rebase,
                    deadline=deadline)
