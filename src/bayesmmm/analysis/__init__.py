"""Analysis layer: answers computed from a fit (summary, contributions, ROI, fit quality)."""

from bayesmmm.analysis._answers import contributions, hdi_columns, media_share, roi, summary
from bayesmmm.analysis._auto import (
    AUTO_ADSTOCKS,
    AUTO_SATURATIONS,
    Pilot,
    fit_auto,
    form_candidate,
)
from bayesmmm.analysis._checks import (
    Finding,
    confounding_checks,
    fit_conflict_checks,
    identification_checks,
    misspecification_checks,
    placebo_check,
    prior_sensitivity,
    prior_sensitivity_checks,
    residual_patterns,
    roi_ranges,
    structure_checks,
)
from bayesmmm.analysis._compare import Comparison, compare_fits, compare_specs, log_likelihood
from bayesmmm.analysis._diagnostics import (
    DIVERGENCE_USABLE,
    ESS_BULK_MIN,
    R_HAT_MAX,
    R_HAT_USABLE,
    convergence,
    convergence_warnings,
    divergence_tails,
    fit_metrics,
    fit_warnings,
)
from bayesmmm.analysis._draws import (
    baseline_draws,
    channel_draws,
    component_draws,
    flat_params,
    hdi,
    mean_draws,
    media_param_draws,
    noise_draws,
)
from bayesmmm.analysis._halflife import geometric_half_life, half_life, weights_half_life
from bayesmmm.analysis._periods import PERIODS, contributions_by_period
from bayesmmm.analysis._predict import holdout_metrics, predict, predict_draws, train_test_split
from bayesmmm.analysis._verdict import Check, Verdict, verdict
from bayesmmm.model._result import ANSWERS

ANSWERS.update(summary=summary, contributions=contributions, roi=roi, media_share=media_share,
               fit_metrics=fit_metrics, warnings=fit_warnings)

__all__ = ["AUTO_ADSTOCKS", "AUTO_SATURATIONS", "DIVERGENCE_USABLE", "ESS_BULK_MIN", "R_HAT_MAX",
           "R_HAT_USABLE", "Check", "Comparison", "Finding", "Pilot", "Verdict", "baseline_draws",
           "channel_draws", "compare_fits", "compare_specs", "component_draws",
           "confounding_checks", "contributions", "convergence", "convergence_warnings",
           "divergence_tails",
           "fit_auto", "fit_conflict_checks", "fit_metrics", "fit_warnings", "flat_params",
           "form_candidate", "hdi", "hdi_columns", "holdout_metrics", "identification_checks",
           "log_likelihood", "mean_draws", "media_param_draws", "media_share",
           "misspecification_checks", "placebo_check", "predict", "predict_draws",
           "prior_sensitivity", "prior_sensitivity_checks", "residual_patterns", "roi",
           "roi_ranges", "structure_checks", "summary", "train_test_split", "verdict"]
__all__ += ["PERIODS", "contributions_by_period", "geometric_half_life", "half_life",
            "noise_draws", "weights_half_life"]
