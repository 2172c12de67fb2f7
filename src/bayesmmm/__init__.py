"""BayesMMM: Bayesian marketing mix modelling on JAX + NumPyro.

>>> import bayesmmm as bm
>>> spec = bm.ModelSpec(date_column="date_week", y_column="y", channel_columns=["x1", "x2"],
...                     control_columns=["event_1", "event_2", "t"])
>>> fit = bm.fit(bm.example_data(), spec)            # doctest: +SKIP
>>> fit.summary(); fit.roi(); fit.save("fit.nc")      # doctest: +SKIP
"""

from bayesmmm import _runtime

_runtime.configure()  # before any JAX computation: host devices and compilation cache

from bayesmmm.data import MMMData, ValidationReport, load_table, prepare, validate  # noqa: E402
from bayesmmm.datasets import example_data, example_spec  # noqa: E402
from bayesmmm.errors import (  # noqa: E402
    BayesMMMError,
    DataLoadError,
    DataValidationError,
    FitFileError,
    SpecError,
)
from bayesmmm.model import Fit, ModelSpec, fit, load_fit  # noqa: E402
from bayesmmm.priors import Prior  # noqa: E402
from bayesmmm.synth import simulate_classic  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "BayesMMMError",
    "DataLoadError",
    "DataValidationError",
    "Fit",
    "FitFileError",
    "MMMData",
    "ModelSpec",
    "Prior",
    "SpecError",
    "ValidationReport",
    "__version__",
    "example_data",
    "example_spec",
    "fit",
    "load_fit",
    "load_table",
    "prepare",
    "simulate_classic",
    "validate",
]
