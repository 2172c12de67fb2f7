"""Model layer: the spec, its static structure, the NumPyro model, NUTS fitting, the fitted
result and its file."""

from bayesmmm.model._averaged import AveragedFit
from bayesmmm.model._design import (
    Design,
    Scalers,
    fourier_features,
    fourier_names,
    make_design,
    make_scalers,
    spend_of,
    trend_basis,
)
from bayesmmm.model._estimate import TimeEstimate, estimate_time
from bayesmmm.model._fit import fit, model_data
from bayesmmm.model._io import load, load_averaged, load_fit, save_fit
from bayesmmm.model._lift import LiftTest
from bayesmmm.model._mean import geo_param, media_contributions, trend_component
from bayesmmm.model._media_kinds import MEDIA_KINDS, MediaKind, unit_costs
from bayesmmm.model._presets import PRESETS, preset_spec, spec_from_options
from bayesmmm.model._result import Fit
from bayesmmm.model._search import StructureSearch
from bayesmmm.model._seasonality import SEASONALITIES
from bayesmmm.model._spec import (
    FEW_GEOS,
    MEDIA_PRIORS,
    PRIOR_DEFAULTS,
    TRENDS,
    ModelSpec,
    default_priors,
)
from bayesmmm.model._structure import MediaStructure, ModelStructure, Site
from bayesmmm.options import OptionInfo, SamplerOptions, default_of, option_fields

__all__ = ["FEW_GEOS", "MEDIA_KINDS", "MEDIA_PRIORS", "PRESETS", "PRIOR_DEFAULTS",
           "SEASONALITIES", "TRENDS", "AveragedFit", "Design", "Fit", "LiftTest", "MediaKind",
           "MediaStructure", "ModelSpec",
           "ModelStructure", "OptionInfo", "SamplerOptions", "Scalers", "Site", "StructureSearch",
           "TimeEstimate", "default_of", "default_priors", "estimate_time", "fit",
           "fourier_features", "fourier_names", "geo_param", "load", "load_averaged", "load_fit",
           "make_design", "make_scalers", "media_contributions", "model_data", "option_fields",
           "preset_spec", "save_fit", "spec_from_options", "spend_of", "trend_basis",
           "trend_component", "unit_costs"]
