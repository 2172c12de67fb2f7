"""Media transforms: pure ``jax.numpy`` functions and registries of named forms."""

from bayesmmm.transforms._adstock import (
    ADSTOCKS,
    AdstockForm,
    convolve_lagged,
    convolve_weights,
    geometric_adstock,
    geometric_weights,
    lag_stack,
)
from bayesmmm.transforms._registry import Registry
from bayesmmm.transforms._saturation import SATURATIONS, SaturationForm, logistic_saturation

__all__ = [
    "ADSTOCKS",
    "SATURATIONS",
    "AdstockForm",
    "SaturationForm",
    "Registry",
    "convolve_lagged",
    "convolve_weights",
    "geometric_adstock",
    "geometric_weights",
    "lag_stack",
    "logistic_saturation",
]
