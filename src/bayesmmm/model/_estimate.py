"""How long will a fit take? An estimate from the real data before committing to it.

The time of a NUTS fit is compilation + iterations x leapfrog steps per iteration x the
cost of one step, with chains sharing the cores. :func:`estimate_time` measures them on
the data itself with a short pilot chain (:data:`PILOT_WARMUP` warm-up iterations, then
:data:`PILOT_DRAWS` draws): its compilation, its draws' leapfrog steps and the seconds
they took. Warm-up iterations count at the pilot's steps per iteration, draws at
:data:`SAMPLING_STEPS` of them (a full warm-up adapts better than the pilot's). The
answer is a range, because steps per iteration move as the rest of the warm-up adapts:
``low`` assumes half the expected steps, ``high`` twice.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from bayesmmm._runtime import configure as configure_runtime
from bayesmmm.data import MMMData
from bayesmmm.model._approx import PARTICLES
from bayesmmm.model._design import make_design, make_scalers
from bayesmmm.model._fit import model_data, warmup_tree_depth
from bayesmmm.model._model import model
from bayesmmm.model._sampler import run_nuts
from bayesmmm.model._spec import ModelSpec
from bayesmmm.model._structure import ModelStructure
from bayesmmm.options import SamplerOptions

__all__ = ["TimeEstimate", "estimate_time"]

#: The pilot chain: a warm-up long enough for NumPyro's first adaptation windows (its
#: trees are as deep as the fit's after adaptation, give or take), then draws whose
#: leapfrog steps and seconds are counted.
PILOT_WARMUP = 150
PILOT_DRAWS = 50
#: The fit's draws take this share of the pilot's leapfrog steps per iteration: after a
#: full warm-up the trees are shorter than after the pilot's 150 iterations (the fits'
#: draws against the pilots' on small, growing and medium_business: 0.77, 0.51, 0.31;
#: benchmarks/estimate_error.py). Warm-up iterations count at the pilot's steps.
SAMPLING_STEPS = 0.5


@dataclass(frozen=True)
class TimeEstimate:
    """Seconds a fit would take: ``low`` .. ``high`` around ``expected``, and how.

    ``seconds_per_step`` is one leapfrog step of one chain; ``steps_per_iteration`` the
    pilot's mean; ``parallel`` how many chains run at once (one per core at most);
    ``compile_seconds`` what compiling the gradient took here (a full fit compiles a
    larger program; a warm compilation cache skips most of it).
    """

    expected: float
    low: float
    high: float
    seconds_per_step: float
    steps_per_iteration: float
    parallel: int
    compile_seconds: float
    seconds_measuring: float

    def describe(self) -> str:
        return (f"about {_human(self.expected)} (between {_human(self.low)} and "
                f"{_human(self.high)}): {self.steps_per_iteration:.0f} leapfrog steps per "
                f"iteration at {self.seconds_per_step * 1e6:.0f} µs each, "
                f"{self.parallel} chain(s) at a time")


def _human(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate_time(data: MMMData | pd.DataFrame | str, spec: ModelSpec,
                  **options: Any) -> TimeEstimate:
    """Estimate how long ``bm.fit(data, spec, **options)`` would take on this machine.

    Costs a few seconds to a minute (a compilation and a short pilot chain). NUTS only;
    an approximate fit (``method='advi'``) takes a few seconds after compiling.
    """
    o = SamplerOptions.from_mapping(options)
    started = time.perf_counter()
    configure_runtime()
    data = model_data(data, spec)
    scalers = make_scalers(data)
    structure = ModelStructure.build(spec, data)
    design = make_design(spec, data, scalers, structure=structure)
    fn = partial(model, structure)
    t0 = time.perf_counter()
    pilot = run_nuts(fn, (design,), chains=1, warmup=PILOT_WARMUP, draws=PILOT_DRAWS,
                     target_accept=o.target_accept, seed=o.seed, dense_mass=o.dense_mass,
                     max_tree_depth=o.max_tree_depth,
                     warmup_tree_depth=warmup_tree_depth(structure, o))
    total = time.perf_counter() - t0
    steps = float(np.mean(pilot.stats["num_steps"]))
    per_step = pilot.seconds_sampling / max(PILOT_DRAWS * steps, 1.0)
    compile_seconds = max(total - pilot.seconds_warmup - pilot.seconds_sampling, 0.0)
    parallel = max(1, min(o.chains, os.cpu_count() or 1))
    rounds = -(-o.chains // parallel)  # chains beyond the cores wait their turn
    iterations = (o.warmup + SAMPLING_STEPS * o.draws) * rounds  # at the pilot's steps
    # init="advi": every chain's optimisation step costs PARTICLES gradients, the paths
    # batched on one device (its compilation is not counted)
    start = o.approx_steps * PARTICLES * o.chains * per_step if o.init == "advi" else 0.0
    expected = iterations * steps * per_step + start + compile_seconds
    return TimeEstimate(expected=expected,
                        low=iterations * steps * per_step / 2 + start + compile_seconds,
                        high=iterations * steps * per_step * 2 + 2 * start
                        + 3 * compile_seconds,
                        seconds_per_step=per_step, steps_per_iteration=steps,
                        parallel=parallel, compile_seconds=compile_seconds,
                        seconds_measuring=time.perf_counter() - started)
