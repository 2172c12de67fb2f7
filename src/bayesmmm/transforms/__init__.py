"""Media transforms: pure ``jax.numpy`` functions and registries of named forms."""

from bayesmmm.transforms._adstock import (
    ADSTOCKS,
    AdstockForm,
    convolve_weights,
    geometric_adstock,
    geometric_weights,
)
from bayesmmm.transforms._registry import Registry
from bayesmmm.transforms._saturation import SATURATIONS, SaturationForm, logistic_saturation

__all__ = [
    "ADSTOCKS",
    "SATURATIONS",
    "AdstockForm",
    "SaturationForm",
    "Registry",
    "convolve_weights",
    "geometric_adstock",
    "geometric_weights",
    "logistic_saturation",
]
