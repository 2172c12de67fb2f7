"""Analysis layer: answers computed from a fit (summary, contributions, ROI, fit quality)."""

from bayesmmm.analysis._answers import contributions, hdi_columns, media_share, roi, summary
from bayesmmm.analysis._auto import AUTO_ADSTOCKS, AUTO_SATURATIONS, Pilot, fit_auto
from bayesmmm.analysis._compare import Comparison, compare_fits, compare_specs, log_likelihood
from bayesmmm.analysis._diagnostics import (
    ESS_BULK_MIN,
    R_HAT_MAX,
    convergence_warnings,
    fit_metrics,
)
from bayesmmm.analysis._draws import (
    baseline_draws,
    channel_draws,
    component_draws,
    flat_params,
    hdi,
    mean_draws,
    media_param_draws,
)
from bayesmmm.analysis._predict import holdout_metrics, predict, predict_draws, train_test_split
from bayesmmm.model._result import ANSWERS

ANSWERS.update(summary=summary, contributions=contributions, roi=roi, media_share=media_share,
               fit_metrics=fit_metrics, warnings=convergence_warnings)

__all__ = ["AUTO_ADSTOCKS", "AUTO_SATURATIONS", "ESS_BULK_MIN", "R_HAT_MAX", "Comparison",
           "Pilot", "fit_auto", "baseline_draws", "compare_fits",
           "compare_specs", "log_likelihood", "flat_params", "channel_draws",
           "component_draws", "contributions", "media_param_draws",
           "convergence_warnings", "fit_metrics", "hdi", "hdi_columns", "holdout_metrics",
           "mean_draws", "media_share", "predict", "predict_draws", "roi", "summary",
           "train_test_split"]
