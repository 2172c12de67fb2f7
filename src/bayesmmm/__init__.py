"""BayesMMM: Bayesian marketing mix modelling on JAX + NumPyro.

>>> import bayesmmm as bm
>>> spec = bm.ModelSpec(date_column="date_week", y_column="y", channel_columns=["x1", "x2"],
...                     control_columns=["event_1", "event_2", "t"])
>>> fit = bm.fit(bm.example_data(), spec)            # doctest: +SKIP
>>> fit.summary(); fit.roi(); fit.save("fit.nc")      # doctest: +SKIP

``import bayesmmm`` is quick: the names below are imported when first used (JAX and the
model with them), so a command line that only prints its help never loads them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bayesmmm.errors import (
    BayesMMMError,
    DataLoadError,
    DataValidationError,
    FitFileError,
    SpecError,
)

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from bayesmmm._api import fit
    from bayesmmm._runtime import configure
    from bayesmmm.data import (
        MMMData,
        ValidationReport,
        load_table,
        prepare,
        read_source,
        validate,
    )
    from bayesmmm.datasets import example_data, example_spec
    from bayesmmm.model import (
        AveragedFit,
        Fit,
        ModelSpec,
        SamplerOptions,
        TimeEstimate,
        estimate_time,
        load,
        load_averaged,
        load_fit,
    )
    from bayesmmm.priors import Prior
    from bayesmmm.synth import simulate_classic

__version__ = "0.1.0"

#: Each lazily imported name and the module that defines it.
_LAZY = {
    "fit": "bayesmmm._api", "configure": "bayesmmm._runtime",
    **dict.fromkeys(("MMMData", "ValidationReport", "load_table", "prepare", "read_source",
                     "validate"), "bayesmmm.data"),
    **dict.fromkeys(("example_data", "example_spec"), "bayesmmm.datasets"),
    **dict.fromkeys(("AveragedFit", "Fit", "ModelSpec", "SamplerOptions", "TimeEstimate",
                     "estimate_time", "load", "load_averaged", "load_fit"),
                    "bayesmmm.model"),
    "Prior": "bayesmmm.priors", "simulate_classic": "bayesmmm.synth",
}

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
    "TimeEstimate",
    "ValidationReport",
    "__version__",
    "configure",
    "estimate_time",
    "example_data",
    "example_spec",
    "fit",
    "load",
    "load_averaged",
    "load_fit",
    "load_table",
    "prepare",
    "read_source",
    "simulate_classic",
    "validate",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562); the analysis layer comes with it, so
    a fit's answer methods work as soon as anything is used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bayesmmm' has no attribute {name!r}")
    importlib.import_module("bayesmmm.analysis")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
