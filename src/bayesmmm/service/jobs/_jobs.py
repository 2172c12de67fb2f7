"""The work of one job, as run on a worker: bytes and options in, a fit file out.

:func:`run_fit` touches neither the job store nor the artifact store: the server hands
it everything and keeps everything it returns, so a worker machine needs only
``bayesmmm`` installed. It reports through ``emit(kind, **fields)``; on a Dask worker
that becomes a Dask event (:func:`run_on_dask_worker`).
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["JobPayload", "Emit", "run_fit", "run_on_dask_worker", "TOPIC"]

#: Dask event topic of job progress messages.
TOPIC = "bayesmmm-job"

Emit = Callable[..., None]
log = logging.getLogger("bayesmmm.service")

_PROGRESS_EVERY = 0.5  # seconds between progress messages


@dataclass(frozen=True)
class JobPayload:
    """What a worker needs to run one attempt of a job."""

    task_id: str
    token: str
    data: bytes
    data_name: str
    spec: dict[str, Any]
    sampler: dict[str, Any] = field(default_factory=dict)
    sep: str | None = None
    estimate: str = "auto"  # Settings.estimate_time: auto, always or never


#: A structure search's share of its time in the pilots (the rest: the survivors' full
#: fits); measured on the example at the default settings, about a third.
_PILOT_SHARE = 0.35
#: The bar's share for NUTS's ADVI start (init="advi"); the warm-up's own fraction takes
#: over once it passes it (medium_business: 21 s of ADVI against ~50 s of warm-up at 300).
_START_SHARE = 0.05


def _progress(emit: Emit, sampler: dict[str, Any]) -> Callable[[str, int, int], None]:
    """A ``bm.fit`` progress callback sending at most two messages a second. A structure
    search reports its phases ``pilots`` (pilots done) and ``fits`` (the full fits' NUTS
    iterations done): the pilots fill the first :data:`_PILOT_SHARE` of the bar, the
    full fits the rest. The approximate fit's ``optimising`` fills all of it, NUTS's ADVI
    start (``start``) the first :data:`_START_SHARE`. The fraction never goes down."""
    warmup = int(sampler.get("warmup", 1000))
    draws = int(sampler.get("draws", 1000))
    last: dict[str, Any] = {"time": 0.0, "phase": "", "fraction": 0.0}

    def fraction(phase: str, done: int, total: int) -> float:
        share = done / max(total, 1)
        if phase == "optimising":  # the approximate fit's only phase
            return share
        if phase == "start":  # NUTS's start from ADVI (init="advi"), before its warm-up
            return _START_SHARE * share
        if phase == "pilots":
            return _PILOT_SHARE * share
        if phase == "fits":
            return _PILOT_SHARE + (1 - _PILOT_SHARE) * share
        return (done + (warmup if phase == "sampling" else 0)) / max(warmup + draws, 1)

    def callback(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - float(last["time"]) < _PROGRESS_EVERY and phase == last["phase"] \
                and done < total:
            return
        # a bar never moves back: a search's rerun adds iterations to the fits' total
        share = max(float(last["fraction"]), fraction(phase, done, total))
        last.update(time=now, phase=phase, fraction=share)
        emit("progress", phase=phase, done=done, total=total, fraction=share)

    return callback


def _result(fitted: Any) -> dict[str, Any]:
    """What the job store keeps of a fit (one structure or averaged): warnings, verdict,
    fit metrics, divergences, draws, timings and, for an averaged fit, which structures
    carry the weight."""
    from bayesmmm.analysis import verdict
    from bayesmmm.service._structures import structure_fields

    judged = verdict(fitted)
    members = getattr(fitted, "fits", {"model": fitted})
    seconds = {k: float(fitted.meta[k]) for k in
               ("seconds_total", "seconds_warmup", "seconds_sampling", "seconds_pilots")
               if k in fitted.meta}
    return {
        "warnings": fitted.warnings(),
        "verdict": {"status": judged.status, "headline": judged.headline},
        "fit_metrics": {k: float(v) for k, v in fitted.fit_metrics().items()},
        "divergences": int(sum(int(f.sample_stats["diverging"].sum())
                               for f in members.values())),
        "draws": fitted.n_draws,
        "stopped_early": any(bool(f.meta.get("stopped_early", False))
                             for f in members.values()),
        "seconds": seconds,
        **structure_fields(fitted),
    }


def _estimate(emit: Emit, table: Any, spec: Any, payload: JobPayload) -> dict[str, Any]:
    """Time the fit to come with a pilot chain (or say why not) and report it at once, so
    getTaskStatus shows it while the fit runs."""
    from bayesmmm.service.jobs._estimate import estimate_job, why_not

    try:
        cells = len(table) * len(spec.channel_columns)
        reason = why_not(payload.estimate, payload.sampler, cells)
    except Exception as exc:  # an estimate never fails the fit
        reason = f"not estimated ({type(exc).__name__})"
    if reason is None:
        emit("progress", phase="estimating", done=0, total=1, fraction=0.0)
        estimate = estimate_job(table, spec, payload.sampler)
    else:
        estimate = {"note": reason}
    emit("estimate", estimate=estimate)
    return estimate


def run_fit(payload: JobPayload, emit: Emit) -> dict[str, Any]:
    """Fit the job's model; return ``{"ok": True, "fit": bytes, "result": {...},
    "estimate": {...}}`` or ``{"ok": False, "code", "message", "details"}`` (messages a
    user can act on; an unexpected error is logged here and reported by type and
    reference only). The time estimate is made first and reported at once."""
    import bayesmmm as bm
    from bayesmmm.errors import BayesMMMError, DataValidationError
    from bayesmmm.service._names import display_name, scrub

    emit("started")
    name = display_name(payload.data_name)
    with tempfile.TemporaryDirectory(prefix="bayesmmm-job-") as tmp:
        data = Path(tmp) / ("input.parquet" if payload.data[:4] == b"PAR1" else "input.csv")
        try:
            data.write_bytes(payload.data)
            spec = bm.ModelSpec.from_dict(payload.spec)
            table = bm.load_table(data, sep=payload.sep)
            estimate = _estimate(emit, table, spec, payload)
            sampler = dict(payload.sampler)
            forms = sampler.pop("forms", None)  # a structure search: bm.fit averages
            fitted = bm.fit(table, spec, forms=forms, **sampler,
                            progress=_progress(emit, sampler))
            emit("progress", phase="saving", done=1, total=1, fraction=1.0)
            path = fitted.save(Path(tmp) / "fit.nc")
            return {"ok": True, "fit": path.read_bytes(), "result": _result(fitted),
                    "estimate": estimate}
        except DataValidationError as exc:
            return {"ok": False, "code": "invalid_data",
                    "message": scrub(exc.report.format(), data, name),
                    "details": {"validation": exc.report.to_dict()}}
        except BayesMMMError as exc:
            return {"ok": False, "code": type(exc).__name__,
                    "message": scrub(str(exc), data, name), "details": None}
        except Exception as exc:  # the worker keeps the traceback; the user gets a reference
            reference = uuid.uuid4().hex[:12]
            log.exception("job %s failed (reference %s)", payload.task_id, reference)
            return {"ok": False, "code": "internal_error",
                    "message": f"internal error ({type(exc).__name__}) while fitting; "
                               f"reference {reference}. Please report it with the reference; "
                               "resubmitting may help if the cause was temporary",
                    "details": None}


def run_on_dask_worker(payload: JobPayload) -> dict[str, Any]:
    """:func:`run_fit` on a Dask worker; progress goes out as events on :data:`TOPIC`."""
    from distributed import get_worker

    worker = get_worker()

    def emit(kind: str, **fields: Any) -> None:
        worker.log_event(TOPIC, {"task_id": payload.task_id, "token": payload.token,
                                 "kind": kind, "worker": worker.address, **fields})

    return run_fit(payload, emit)
