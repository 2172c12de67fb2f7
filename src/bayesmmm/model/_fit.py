"""Fitting the classic MMM with NUTS."""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from bayesmmm._runtime import configure as configure_runtime
from bayesmmm._runtime import release_compiled
from bayesmmm.data import MMMData, prepare
from bayesmmm.errors import SpecError
from bayesmmm.model._approx import advi_start, run_advi
from bayesmmm.model._centring import centring_weights, no_centring, rebased_sites
from bayesmmm.model._design import Design, calendar_controls, make_design, make_scalers
from bayesmmm.model._identify import check_identified
from bayesmmm.model._model import model
from bayesmmm.model._progress import Progress, progress_display
from bayesmmm.model._quiet import quiet_arviz
from bayesmmm.model._result import Fit
from bayesmmm.model._sampler import Rebase, rebase_window, run_nuts
from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._structure import ModelStructure
from bayesmmm.options import CENTRING, SamplerOptions, option_fields, options_doc

__all__ = ["CENTRING", "SamplerOptions", "fit", "model_data"]


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


def fit(data: MMMData | pd.DataFrame | str, spec: ModelSpec, *,
        progress: Progress = "auto", **options: Any) -> Fit:
    """Fit the MMM described by ``spec`` to ``data`` with NUTS.

    Parameters
    ----------
    data : MMMData, DataFrame or path
        A table is validated first (``DataValidationError`` lists every problem).
    spec : ModelSpec
{progress_and_options}

    Returns
    -------
    Fit
    """
    started = time.perf_counter()
    sampler = _sampler_options(options)
    configure_runtime()
    data = model_data(data, spec)
    scalers = make_scalers(data)
    structure = ModelStructure.build(spec, data)
    check_identified(structure, data)
    inputs = make_design(spec, data, scalers, structure=structure)
    deadline = None if sampler.time_limit is None else started + sampler.time_limit
    # summaries need ArviZ; importing it costs ~1 s, so overlap it with the sampling
    with _preload(quiet_arviz), progress_display(progress, sampler.chains) as callback:
        raw = _run(structure, inputs, sampler, callback, deadline)
    meta = {
        "sampler": sampler.method,
        "options": sampler.to_dict(),
        "seconds_total": time.perf_counter() - started,
        "seconds_warmup": raw.seconds_warmup,
        "seconds_sampling": raw.seconds_sampling,
        "stopped_early": raw.stats["diverging"].shape[1] < sampler.draws,
        **({"approximation": raw.info} if raw.info else {}),
        **({"start": raw.start} if raw.start else {}),
    }
    # C-ordered, as a saved fit loads: numpy's float32 sums depend on the memory layout,
    # and a fit's answers must not change in the last digit when it is saved and loaded
    posterior = {k: np.ascontiguousarray(v, np.float32) for k, v in raw.samples.items()}
    stats = {"diverging": raw.stats["diverging"].astype(bool),
             "num_steps": raw.stats["num_steps"].astype(np.int32),
             "energy": raw.stats["energy"].astype(np.float32),
             "accept_prob": raw.stats["accept_prob"].astype(np.float32)}
    result = Fit(spec=spec, data=data, scalers=scalers, posterior=posterior,
                 sample_stats=stats, meta=meta)
    result.__dict__["structure"] = structure  # built already (Fit.structure is cached)
    release_compiled()  # a long-lived process must not run out of memory maps
    return result


PROGRESS_DOC = """\
    progress : "auto", "rich", "widget", "text", bool or callable(phase, done, total)
        ``"auto"`` (or ``True``) shows a Rich bar in a terminal, a widget bar in Jupyter
        when ipywidgets is installed, a few plain text lines otherwise; a named display
        forces it; ``False`` shows nothing; a callable receives the progress instead."""


def _sampler_options(options: dict[str, Any]) -> SamplerOptions:
    unknown = sorted(set(options) - {f.name for f in option_fields()})
    if unknown:
        raise TypeError(f"fit() got unexpected keyword argument(s) {unknown}; sampler "
                        f"options are {[f.name for f in option_fields()]}")
    return SamplerOptions(**options)


def _fit_signature() -> inspect.Signature:
    """``fit(data, spec, *, progress=True, <every sampler option>)``."""
    params = list(inspect.signature(fit).parameters.values())[:-1]  # drop **options
    params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                 annotation=f.type) for f in option_fields()]
    return inspect.Signature(params, return_annotation="Fit")


def fit_one_parameters() -> str:
    """The numpydoc entries of ``progress`` and every sampler option (shared by the
    docstrings of this ``fit`` and ``bayesmmm.fit``)."""
    return PROGRESS_DOC + "\n" + options_doc()


fit.__doc__ = (fit.__doc__ or "").replace("{progress_and_options}", fit_one_parameters())
fit.__signature__ = _fit_signature()  # type: ignore[attr-defined]


@contextmanager
def _preload(load: Callable[[], None]) -> Iterator[None]:
    """Run ``load`` (an import) in a background thread while the body runs (compilation
    and sampling release the GIL); joined before leaving so no thread outlives the call."""
    thread = threading.Thread(target=_quiet_import, args=(load,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _quiet_import(load: Callable[[], None]) -> None:
    with suppress(Exception):  # the real import later reports any problem
        load()


#: The deepest tree of a national model's warm-up of at least SHALLOW_WARMUP_MIN
#: iterations (255 leapfrog steps; its draws keep ``max_tree_depth``). Until the first
#: mass matrix is estimated the chains move with the identity matrix and nearly every
#: tree ran to depth 10: on small_business the first 100 iterations were 58% of the
#: warm-up's steps. Capped, the fit took 0.79x the time with the same ESS and r_hat over
#: three seeds, and the example's was unchanged. A panel keeps the full depth: there
#: the window whose draws choose the centring needs the long trees (medium_business: ESS
#: 731 against 901). So does a shorter warm-up, which has few iterations to travel in:
#: on the example at 2 x 150 x 300 the cap gave r_hat 1.045 against 1.025 (median of four
#: seeds), at 300 about the same, at 500 better (1.018 against 1.025). docs/benchmarks.md,
#: session 27.
NATIONAL_WARMUP_DEPTH = 8
SHALLOW_WARMUP_MIN = 500


def warmup_tree_depth(structure: ModelStructure, o: SamplerOptions) -> int | None:
    """The deepest tree in the warm-up of this model's NUTS (None: ``max_tree_depth``)."""
    if structure.panel or o.warmup < SHALLOW_WARMUP_MIN:
        return None
    return min(NATIONAL_WARMUP_DEPTH, o.max_tree_depth)


def _run(structure: ModelStructure, inputs: Design, o: SamplerOptions,
         progress: Callable[[str, int, int], None] | None,
         deadline: float | None = None) -> Any:
    fn = partial(model, structure)
    if o.method == "advi":
        return run_advi(fn, (inputs,), paths=o.chains, steps=o.approx_steps, draws=o.draws,
                        seed=o.seed, progress=progress, deadline=deadline)
    rebase = None
    if o.centring == "auto" and structure.panel and not o.dense_mass \
            and rebase_window(o.warmup) is not None:
        # Warm-up starts non-centred (zero weights: the same compiled program, weights
        # are data); the weights from one window's draws then set the basis. A dense
        # mass matrix adapted in one basis would be wrong in the other, and a warm-up
        # too short for the window has nothing to choose from: both stay plain.
        inputs = base = inputs._replace(centring=no_centring(structure))
        rebase = Rebase(
            new_args=lambda draws: (base._replace(
                centring=centring_weights(structure, base, draws)),),
            sites=rebased_sites(structure))
    start = None
    if o.init == "advi":
        start = advi_start(fn, (inputs,), chains=o.chains, steps=o.approx_steps,
                           seed=o.seed, progress=progress)
    raw = run_nuts(fn, (inputs,), chains=o.chains, warmup=o.warmup, draws=o.draws,
                   target_accept=o.target_accept, seed=o.seed, dense_mass=o.dense_mass,
                   max_tree_depth=o.max_tree_depth,
                   warmup_tree_depth=warmup_tree_depth(structure, o), progress=progress,
                   rebase=rebase,
                   deadline=deadline, start=start)
    if start is not None:
        raw.seconds_warmup += start.info["seconds"]  # the start is part of the warm-up
        raw.start = start.info
    return raw
