"""How long a job's fit will take, estimated on the worker before the fit starts.

:func:`estimate_job` runs :func:`bayesmmm.model.estimate_time` (a short pilot chain on
the job's data: its compilation, leapfrog steps per iteration and seconds per step) and
returns what the job store keeps: ``{"low", "expected", "high"}`` in seconds of
``bm.fit`` (compilation included) with a ``note`` on how they were made, or only a
``note`` saying why there is no estimate. It never raises: a failed estimate must not
fail the fit.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any

__all__ = ["estimate_job", "why_not", "AUTO_RATIO", "AUTO_CELLS", "PENDING_NOTE"]

log = logging.getLogger("bayesmmm.service")

#: ``auto`` estimates a fit whose iterations (per round of parallel chains) are at least
#: this many times the pilot's: the pilot then costs a few percent of the fit, plus its
#: compilation.
AUTO_RATIO = 10

#: ... and whose data has at least this many rows x channels: below it (e.g. 156 weeks x
#: 4 channels of national data) a default fit takes seconds, and the pilot's own
#: compilation would add a third to it (measured on the bundled example: 3.4-4.1 s on a
#: fit of 8-10 s).
AUTO_CELLS = 1000

#: The note of a job no worker has looked at yet.
PENDING_NOTE = ("estimated once a worker has planned the job (a short pilot chain on the "
                "data, before the fit starts): poll getTaskStatus")


def _pilot_iterations() -> int:
    """The pilot's warm-up plus draws, as the model layer runs it."""
    from bayesmmm.model._estimate import PILOT_DRAWS, PILOT_WARMUP

    return PILOT_WARMUP + PILOT_DRAWS


def why_not(policy: str, sampler: dict[str, Any], cells: int | None = None) -> str | None:
    """Why a job with ``sampler`` gets no estimate under ``policy`` (None: estimate it);
    ``cells`` is the data's rows x channels, when known."""
    if policy == "never":
        return "not estimated: time estimates are off on this server (BAYESMMM_ESTIMATE_TIME)"
    if sampler.get("forms"):
        return ("not estimated: a structure search (forms) runs a pilot fit per candidate "
                "structure and full fits of the survivors, as many as the pilots keep; on "
                "the bundled example it took about 3x one fit")
    if sampler.get("method", "nuts") != "nuts":
        return ("not estimated: an approximate fit (method='advi') takes seconds after "
                "compiling")
    if policy == "always":
        return None
    chains = int(sampler.get("chains", 4))
    rounds = -(-chains // max(1, min(chains, os.cpu_count() or 1)))
    iterations = (int(sampler.get("warmup", 1000)) + int(sampler.get("draws", 1000))) * rounds
    pilot = _pilot_iterations()
    if iterations < AUTO_RATIO * pilot:
        return (f"not estimated: the fit ({iterations} iterations per chain) is too short to "
                f"pay for a {pilot}-iteration pilot chain that would time it")
    if cells is not None and cells < AUTO_CELLS:
        return (f"not estimated: small data ({cells:,} rows x channels, under {AUTO_CELLS:,}) "
                "fits in seconds; a pilot chain that would time it costs a third as much")
    return None


def estimate_job(table: Any, spec: Any, sampler: dict[str, Any]) -> dict[str, Any]:
    """The time estimate of fitting ``spec`` to ``table`` with ``sampler`` (see the
    module docstring); :func:`why_not` says whether to make one."""
    try:
        from bayesmmm.model import estimate_time

        guess = estimate_time(table, spec, **sampler)
        values = {"low": float(guess.low), "expected": float(guess.expected),
                  "high": float(guess.high)}
        if not all(math.isfinite(v) and v >= 0 for v in values.values()):
            raise ValueError(f"estimate out of range: {values}")
    except Exception as exc:  # an estimate is a courtesy: the fit goes ahead
        log.warning("time estimate failed (%s: %s); fitting anyway", type(exc).__name__, exc)
        return {"note": f"not estimated: the pilot chain failed ({type(exc).__name__}); "
                        "the fit went ahead"}
    low, expected, high = sorted(values.values())
    log.info("time estimate %s in %.1f s", guess.describe(), guess.seconds_measuring)
    return {"low": low, "expected": expected, "high": high,
            "note": f"from a pilot chain on the data: {guess.describe()}",
            "seconds_measuring": float(guess.seconds_measuring),
            "steps_per_iteration": float(guess.steps_per_iteration),
            "seconds_per_step": float(guess.seconds_per_step)}
