"""Which structures carry the weight of an answer: the rows every answer of an averaged fit
(``forms="auto"``, :class:`bayesmmm.AveragedFit`) carries, read from its comparison table.

A fit of one structure carries none (``structures`` is null in its answers). Used by the
API (answers read in the server process), the worker (a job's result, planning answers)
and the MCP server, so that all of them say it in the same words.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["structures_of", "structure_fields", "is_averaged"]


def is_averaged(fitted: Any) -> bool:
    """True for a model-averaged fit (several structures and their weights)."""
    return hasattr(fitted, "weights") and hasattr(fitted, "fits")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def structures_of(fitted: Any) -> list[dict[str, Any]] | None:
    """One row per candidate structure, heaviest first: ``structure`` (its label, e.g.
    ``delayed+hill``), ``adstock``, ``saturation``, ``weight`` (stacking weight, 0 to 1),
    ``elpd_loo`` of its full fit (null if it had none), ``pilot_elpd``,
    ``survived_pilot`` and ``why_left_out`` (empty when it carries weight); None for a
    fit of one structure."""
    if not is_averaged(fitted):
        return None
    table = fitted.comparison
    weights = {str(k): float(v) for k, v in fitted.weights.items()}
    if table is None or not len(table):
        rows = [{"structure": label, "adstock": label.split("+")[0],
                 "saturation": label.split("+")[-1], "weight": w, "elpd_loo": None,
                 "pilot_elpd": None, "survived_pilot": True, "why_left_out": ""}
                for label, w in weights.items()]
    else:
        rows = []
        for label, row in table.iterrows():
            get = row.get
            why = get("why_left_out")
            rows.append({
                "structure": str(label),
                "adstock": str(get("adstock", str(label).split("+")[0])),
                "saturation": str(get("saturation", str(label).split("+")[-1])),
                "weight": weights.get(str(label), _number(get("weight")) or 0.0),
                "elpd_loo": _number(get("elpd_loo")),
                "pilot_elpd": _number(get("pilot_elpd")),
                "survived_pilot": bool(get("survived_pilot", True)),
                "why_left_out": "" if why is None or (isinstance(why, float) and
                                                     math.isnan(why)) else str(why)})
    return sorted(rows, key=lambda r: -float(r["weight"]))


def structure_fields(fitted: Any) -> dict[str, Any]:
    """``{"structures": rows or None, "carried_by": words or None}``: what every answer
    adds (:func:`structures_of`, ``AveragedFit.carried_by()``)."""
    rows = structures_of(fitted)
    return {"structures": rows, "carried_by": fitted.carried_by() if rows else None}

