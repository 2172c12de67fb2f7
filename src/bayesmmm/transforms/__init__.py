"""Media transforms: pure ``jax.numpy`` functions and registries of named forms.

``ADSTOCKS`` and ``SATURATIONS`` hold the named forms a model spec can choose; see
``docs/transforms.md`` for their formulas and default priors.
"""

from bayesmmm.transforms._adstock import (
    ADSTOCKS,
    AdstockForm,
    binomial_weights,
    carryover_weights,
    convolve_lagged,
    convolve_weights,
    delayed_weights,
    geometric_adstock,
    geometric_weights,
    identity_weights,
    lag_stack,
    weibull_cdf_weights,
    weibull_pdf_weights,
)
from bayesmmm.transforms._registry import Registry
from bayesmmm.transforms._saturation import (
    SATURATIONS,
    SaturationForm,
    hill_saturation,
    linear_saturation,
    logistic_saturation,
    michaelis_menten_saturation,
    piecewise_linear_saturation,
    power_saturation,
    tanh_contribution,
    tanh_saturation,
)

__all__ = [
    "ADSTOCKS",
    "SATURATIONS",
    "AdstockForm",
    "SaturationForm",
    "Registry",
    "binomial_weights",
    "carryover_weights",
    "convolve_lagged",
    "convolve_weights",
    "delayed_weights",
    "geometric_adstock",
    "geometric_weights",
    "hill_saturation",
    "identity_weights",
    "lag_stack",
    "linear_saturation",
    "logistic_saturation",
    "michaelis_menten_saturation",
    "piecewise_linear_saturation",
    "power_saturation",
    "tanh_contribution",
    "tanh_saturation",
    "weibull_cdf_weights",
    "weibull_pdf_weights",
]
