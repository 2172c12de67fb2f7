"""Upper bounds of every number and size a request may carry, in one place.

The schemas put them into the OpenAPI document (``le``, ``max_length``); the checks of a
built model spec (:func:`check_spec`) cover the same options given inside
``model_options``; docs/service.md lists them. A request over a limit answers 422
naming the field, the limit and a fix, before any work is done.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from bayesmmm.service._errors import RequestError
from bayesmmm.service._sources import LIMITS as SOURCE_LIMITS

__all__ = ["PLAN", "SPEC", "SIZES", "FORMS", "check_spec", "JSON_DEPTH"]

#: Planning requests (optimizeBudget, whatIf, compareScenarios).
PLAN: dict[str, float] = {
    "n_periods": 1000,        # horizon in periods: ~19 years of weekly data, ~3 of daily
    "gap": 520,               # periods of no spend before the plan
    "budget": 1e15,           # currency over the horizon
    "target_roi": 1e6,
    "target_marginal_roi": 1e6,
    "spend_increase": 1e15,   # absolute value, currency over the horizon
    "break_even": 1e6,
    "scenarios": 50,          # scenarios in one request
    "scenario_changes": 200,  # channels named in one scenario
    "percent_change": 10_000,  # +10,000% = 101x the current spend
}

#: Model options, as fields or inside ``model_options`` (checked on the built spec).
SPEC: dict[str, int] = {
    "adstock_max_lag": 104,       # two years of weekly lags
    "yearly_seasonality": 26,     # Fourier modes (26 resolve weekly data fully)
    "trend_changepoints": 100,
    "holidays": 10,               # countries
    "events": 200,
    "lift_tests": 200,
    "priors": 500,
}

#: Sizes of lists, mappings and strings in request bodies.
SIZES: dict[str, int] = {
    "columns": 500,        # entries of channel/control/panel column lists
    "name": 200,           # characters of a column, channel or scenario name
    "model_options": 100,  # top-level keys of model_options
    "bounds": 500,         # channels with a bound
    "link": 2048,          # characters of a download_link
    "file_refs": 10,       # openaiFileIdRefs entries (exactly one is used)
    "filename": 255,       # characters of an uploaded file's name
    "source_name": SOURCE_LIMITS["name"],  # characters of a named source's name
    "table": SOURCE_LIMITS["table"],       # characters of a table of a named source
    "query": 20_000,       # characters of a query sent to a named source
    "params": 50,          # entries of a query's params
    "param_value": 1000,   # characters of one params value (and 64 of its name)
}

#: A structure search (runMMMAsync's ``forms``): candidate forms of each kind, and
#: candidate structures (adstock x saturation pairs; the default search has 9). Each
#: candidate costs a pilot fit, each survivor a full fit.
FORMS: dict[str, int] = {
    "per_kind": 5,
    "candidates": 9,
}

#: Deepest nesting of JSON accepted anywhere (bodies, JSON form fields).
JSON_DEPTH = 32


def check_spec(spec: Any) -> None:
    """Refuse a model spec over the service's limits (422 naming the option)."""
    for name, limit in SPEC.items():
        value = getattr(spec, name, None)
        size = value if isinstance(value, int) else len(value) if isinstance(
            value, Sized) else None
        if size is not None and size > limit:
            what = str(value) if isinstance(value, int) else f"{size} entries"
            raise RequestError(
                422, "over_limit", f"{name}: {what} is over the service's limit of {limit}. "
                f"Fix: use at most {limit} (the limits are listed in the API documentation)",
                errors=[{"field": name, "message": f"at most {limit}"}])
