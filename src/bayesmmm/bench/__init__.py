"""Parameter recovery and the peer benchmark.

:func:`validate_fit` checks a fit against the known truth of simulated data and returns
a :class:`FitValidation` (pass/fail per :class:`Thresholds`); :func:`run_bench` fits
every (dataset, library, sampler) in its own process and writes comparable results.
"""

from bayesmmm.bench._runner import SUMMARY_COLUMNS, BenchOptions, BenchResult, run_bench
from bayesmmm.bench._validate import (
    Check,
    Estimates,
    FitValidation,
    Thresholds,
    validate_estimates,
    validate_fit,
)

__all__ = ["SUMMARY_COLUMNS", "BenchOptions", "BenchResult", "Check", "Estimates",
           "FitValidation", "Thresholds", "run_bench", "validate_estimates", "validate_fit"]
