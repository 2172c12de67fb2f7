"""Planning questions on a fitted model, answered on a worker: response curves, budget
optimisation, what-if and scenarios.

The API hands :func:`run_plan` the fit file's bytes (checked against their checksum)
and the request's fields, and gets back the JSON body of the answer, or a refusal with
the status and message to send. A worker keeps the last few fits it loaded, by checksum,
so repeated questions on one fit do not read it again. Nothing here runs in the API
process: a large horizon costs a worker's memory and time, never the server's.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PlanPayload", "run_plan", "PLAN_KINDS"]

log = logging.getLogger("bayesmmm.service")

#: The questions :func:`run_plan` answers.
PLAN_KINDS = ("response_curves", "optimize", "what_if", "scenarios")

_FITS: OrderedDict[str, Any] = OrderedDict()
_FITS_LOCK = threading.Lock()
_FITS_KEPT = 2


@dataclass(frozen=True)
class PlanPayload:
    """One planning question: which (``kind``), on which fit, with which fields."""

    kind: str
    task_id: str
    fit: bytes
    fit_sha256: str
    fields: dict[str, Any] = field(default_factory=dict)


def _load(payload: PlanPayload) -> Any:
    from bayesmmm import load  # one fit, or an averaged fit (forms)

    with _FITS_LOCK:
        if payload.fit_sha256 in _FITS:
            _FITS.move_to_end(payload.fit_sha256)
            return _FITS[payload.fit_sha256]
    with tempfile.TemporaryDirectory(prefix="bayesmmm-plan-") as tmp:
        path = Path(tmp) / "fit.nc"
        path.write_bytes(payload.fit)
        fitted = load(path)
    with _FITS_LOCK:
        _FITS[payload.fit_sha256] = fitted
        while len(_FITS) > _FITS_KEPT:
            _FITS.popitem(last=False)
    return fitted


def _rows(frame: Any) -> list[dict[str, Any]]:
    """JSON rows keeping a named index (channel, panel) as columns (NaN as null)."""
    named = any(name is not None for name in frame.index.names)
    frame = frame.reset_index() if named else frame
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records",
                                                          double_precision=15))
    return rows


def _curves(fitted: Any, f: dict[str, Any]) -> dict[str, Any]:
    from bayesmmm.optimize import response_curves

    curves = response_curves(fitted, level=f["level"], hdi_prob=f["hdi_prob"])
    return {"curves": _rows(curves.table), "points": _rows(curves.points),
            "saturation_fraction": float(curves.saturation_fraction)}


def _optimize(fitted: Any, f: dict[str, Any]) -> dict[str, Any]:
    from bayesmmm import optimize as opt

    goals = {k: f[k] for k in ("budget", "target_roi", "target_marginal_roi")}
    goal = opt.goal_from(fitted, f["n_periods"], **goals)
    plan = opt.optimize_budget(
        fitted, goal, n_periods=f["n_periods"], bounds=f["bounds"] or None, fixed=f["fixed"],
        objective=opt.parse_objective(f["objective"]), gap=f["gap"], pattern=f["pattern"],
        seed=f["seed"], hdi_prob=f["hdi_prob"])
    return {"summary": plan.summary(), "channels": _rows(plan.to_frame()),
            "totals": {k: float(v) for k, v in plan.totals.items()},
            "notes": list(plan.notes), "success": bool(plan.success),
            "comparison": plan.comparison, "warnings": list(plan.warnings)}


def _what_if(fitted: Any, f: dict[str, Any]) -> dict[str, Any]:
    from bayesmmm.optimize import analyze_channel

    answer = analyze_channel(fitted, f["channel"], f["spend_increase"],
                             n_periods=f["n_periods"], gap=f["gap"], pattern=f["pattern"],
                             break_even=f["break_even"], hdi_prob=f["hdi_prob"])
    table = answer.to_frame()["value"]
    return {"recommendation": answer.recommendation,
            "answer": {str(k): (v.item() if hasattr(v, "item") else v)
                       for k, v in table.items()}}


def _scenarios(fitted: Any, f: dict[str, Any]) -> dict[str, Any]:
    from bayesmmm.optimize import compare_scenarios

    table = compare_scenarios(fitted, f["scenarios"], n_periods=f["n_periods"], gap=f["gap"],
                              pattern=f["pattern"], hdi_prob=f["hdi_prob"])
    rows = _rows(table)
    return {"columns": list(rows[0]) if rows else [], "scenarios": rows}


_ANSWERS = {"response_curves": _curves, "optimize": _optimize, "what_if": _what_if,
            "scenarios": _scenarios}


def _json_safe(value: Any) -> Any:
    """NaN and infinities (an ROI without spend, the objective of a target goal) as null:
    JSON has no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def run_plan(payload: PlanPayload) -> dict[str, Any]:
    """Answer one planning question: ``{"ok": True, "body": {...}}``, or ``{"ok": False,
    "status", "code", "message"}`` (a library refusal is a 422 with its message; an
    unexpected error is logged here and reported by reference only)."""
    from bayesmmm.errors import BayesMMMError

    try:
        from bayesmmm.service._structures import structure_fields

        fitted = _load(payload)
        body = _ANSWERS[payload.kind](fitted, payload.fields)
        return {"ok": True, "body": _json_safe({"task_id": payload.task_id, **body,
                                                **structure_fields(fitted)})}
    except BayesMMMError as exc:
        return {"ok": False, "status": 422, "code": "invalid_options", "message": str(exc)}
    except MemoryError:
        return {"ok": False, "status": 422, "code": "too_large",
                "message": "the question needs more memory than the worker has. Fix: plan "
                           "fewer periods (n_periods, gap) or ask for fewer scenarios"}
    except Exception as exc:  # the worker keeps the traceback; the user gets a reference
        reference = uuid.uuid4().hex[:12]
        log.exception("planning (%s) on task %s failed (reference %s)", payload.kind,
                      payload.task_id, reference)
        return {"ok": False, "status": 500, "code": "internal_error",
                "message": f"internal error ({type(exc).__name__}) while planning; reference "
                           f"{reference}. Please report it with the reference"}
