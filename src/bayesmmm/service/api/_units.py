"""What the numbers of an answer are in: units from the fit's spec, and which interval.

Every answer that carries model numbers names its units (``units``: column -> words) and
its interval (``interval``), so that an assistant can quote a number with both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["interval", "target_units", "spend_units", "units_of", "SCALED"]

#: The parameters of a summary are in the model's scaled units.
SCALED = ("the model's scaled units, as PyMC-Marketing reports them (the target divided by "
          "its largest absolute value, each channel by its largest spend)")


def interval(hdi_prob: float, what: str = "") -> str:
    """How the answer's interval is named: ``94% HDI (highest density interval of the
    posterior draws): columns hdi_3% and hdi_97%``, then what it is the interval of."""
    from bayesmmm.analysis import hdi_columns

    low, high = hdi_columns(hdi_prob)
    text = (f"{hdi_prob:.0%} HDI (highest density interval of the posterior draws): "
            f"bounds in the columns {low} and {high} (or ending so)")
    return f"{text}; {what}" if what else text


def _spec(spec: Any) -> Mapping[str, Any]:
    """A spec as a mapping (a job's stored spec, or a fit's ``ModelSpec``)."""
    if isinstance(spec, Mapping):
        return spec
    return {"y_column": getattr(spec, "y_column", None),
            "cost_per_unit": getattr(spec, "cost_per_unit", None)}


def target_units(spec: Any) -> str:
    """``units of 'sales' (the target column), as the data holds it``."""
    y = _spec(spec).get("y_column") or "the target"
    return f"units of '{y}' (the target column), as the data holds it"


def spend_units(spec: Any) -> str:
    """Spend as the channel columns hold it (times ``cost_per_unit`` for priced ones)."""
    priced = sorted(_spec(spec).get("cost_per_unit") or {})
    text = "units of each channel's column (its spend as the data holds it)"
    return text + (f"; channels {priced}: their units x cost_per_unit" if priced else "")


def units_of(spec: Any, *columns: str) -> dict[str, str]:
    """Units of the named answer columns, in words, for a fit of ``spec``."""
    y = _spec(spec).get("y_column") or "the target"
    known = {
        "target": target_units(spec),
        "contribution": f"'{y}' units attributed to the component",
        "mean": f"'{y}' units",
        "spend": spend_units(spec) + ", summed over the fitted period",
        "roi": f"incremental '{y}' per unit of spend (1.0 = break-even when '{y}' is "
               "revenue in the spend's currency)",
        "marginal_roi": f"'{y}' per extra unit of spend at that spend level",
        "share": "fraction of the total (0 to 1)",
        "spend_share": "fraction of the total spend (0 to 1)",
        "parameters": SCALED,
        "ess_bulk": "effective number of draws",
        "ess_tail": "effective number of draws",
        "r_hat": "unitless (at most 1.01: the chains agree)",
        "carryover": "periods of the data",
        "n_periods": "periods of the data",
        "multiplier": "multiple of the channel's historical spend",
    }
    return {c: known[c] for c in columns}
