"""BayesMMM: Bayesian marketing mix modelling on JAX + NumPyro.

>>> import bayesmmm as bm
>>> spec = bm.ModelSpec(date_column="date_week", y_column="y", channel_columns=["x1", "x2"],
...                     control_columns=["event_1", "event_2", "t"])
>>> fit = bm.fit(bm.example_data(), spec)            # doctest: +SKIP
>>> fit.summary(); fit.roi(); fit.save("fit.nc")      # doctest: +SKIP
"""

from bayesmmm import analysis as _analysis  # noqa: F401  (gives Fit its answer methods)
from bayesmmm._api import fit
from bayesmmm._runtime import configure
from bayesmmm.data import MMMData, ValidationReport, load_table, prepare, validate
from bayesmmm.datasets import example_data, example_spec
from bayesmmm.errors import (
    BayesMMMError,
    DataLoadError,
    DataValidationError,
    FitFileError,
    SpecError,
)
from bayesmmm.model import AveragedFit, Fit, ModelSpec, SamplerOptions, load_averaged, load_fit
from bayesmmm.priors import Prior
from bayesmmm.synth import simulate_classic

__version__ = "0.1.0"

__all__ = [
    "AveragedFit",
    "BayesMMMError",
    "DataLoadError",
    "DataValidationError",
    "Fit",
    "FitFileError",
    "MMMData",
    "ModelSpec",
    "Prior",
    "SamplerOptions",
    "SpecError",
    "ValidationReport",
    "__version__",
    "configure",
    "example_data",
    "example_spec",
    "fit",
    "load_averaged",
    "load_fit",
    "load_table",
    "prepare",
    "simulate_classic",
    "validate",
]
