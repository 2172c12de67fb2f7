"""Model layer: the spec, the NumPyro model, NUTS fitting, the fitted result and its file."""

from bayesmmm.model._classic import fourier_features, fourier_names, media_contributions
from bayesmmm.model._fit import SamplerOptions, fit, make_scalers, model_inputs
from bayesmmm.model._io import load_fit, save_fit
from bayesmmm.model._result import PARAMETER_ORDER, Fit, Scalers
from bayesmmm.model._spec import ModelSpec, default_priors

__all__ = ["PARAMETER_ORDER", "Fit", "ModelSpec", "SamplerOptions", "Scalers", "default_priors",
           "fit", "fourier_features", "fourier_names", "load_fit", "make_scalers",
           "media_contributions", "model_inputs", "save_fit"]
