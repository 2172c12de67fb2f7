"""Analysis layer: answers computed from a fit (summary, contributions, ROI, fit quality)."""

from bayesmmm.analysis._answers import contributions, hdi_columns, media_share, roi, summary
from bayesmmm.analysis._compare import Comparison, compare_fits, compare_specs, log_likelihood
from bayesmmm.analysis._diagnostics import (
    ESS_BULK_MIN,
    R_HAT_MAX,
    convergence_warnings,
    fit_metrics,
)
from bayesmmm.analysis._draws import (
    channel_draws,
    component_draws,
    component_draws_gt,
    flat_params,
    hdi,
    mean_draws,
    mean_draws_gt,
    media_draws_gt,
)
from bayesmmm.analysis._predict import holdout_metrics, predict, predict_draws, train_test_split

__all__ = ["ESS_BULK_MIN", "R_HAT_MAX", "Comparison", "compare_fits", "compare_specs",
           "log_likelihood", "component_draws_gt", "flat_params", "mean_draws_gt",
           "media_draws_gt", "channel_draws", "component_draws", "contributions",
           "convergence_warnings", "fit_metrics", "hdi", "hdi_columns", "holdout_metrics",
           "mean_draws", "media_share", "predict", "predict_draws", "roi", "summary",
           "train_test_split"]
