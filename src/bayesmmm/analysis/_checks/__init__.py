"""Misspecification and identification checks: does the data support each channel's answer?

Each check returns :class:`Finding` objects in plain words: what was measured, the rule
it is held to, a status (``ok``; ``care``: usable with the caveat named; ``bad``: do not
use) and, when not ok, the problem and the fix. :func:`identification_checks` runs the
cheap ones on a fitted model (no refit):

* :func:`misspecification_checks`: do the residuals still follow a channel's adstocked
  spend (a response shape or timing the chosen forms cannot express)?
* :func:`prior_sensitivity_checks`: how far would each ROI move under a media prior twice
  as wide (Pareto-smoothed importance reweighting of the draws)?
* :func:`confounding_checks`: does a channel's spend follow the season or the trend, so
  that the data can hardly tell its effect from theirs?
* :func:`fit_conflict_checks`: is the fit poor, and does an ROI prior fight the data?

:func:`structure_checks` compares an averaged fit's members: do structures that predict
equally well disagree on a channel's ROI?

:func:`placebo_check` refits with a fake channel (opt-in: it costs one fit).
"""

from bayesmmm.analysis._checks._common import Finding
from bayesmmm.analysis._checks._conflict import fit_conflict_checks
from bayesmmm.analysis._checks._confounding import confounding_checks
from bayesmmm.analysis._checks._placebo import placebo_check
from bayesmmm.analysis._checks._prior import prior_sensitivity, prior_sensitivity_checks
from bayesmmm.analysis._checks._residuals import misspecification_checks, residual_patterns
from bayesmmm.analysis._checks._structures import roi_ranges, structure_checks
from bayesmmm.model import Fit

__all__ = ["Finding", "confounding_checks", "fit_conflict_checks", "identification_checks",
           "misspecification_checks", "placebo_check", "prior_sensitivity",
           "prior_sensitivity_checks", "residual_patterns", "roi_ranges",
           "structure_checks"]

def identification_checks(fit: Fit) -> list[Finding]:
    """Run the cheap checks (no refit) on ``fit``: fit quality and ROI-prior conflict,
    residual patterns, prior sensitivity and confounding, in that order.

    Returns every finding, ``ok`` ones included; keep those whose status is not ``ok``
    for warnings.
    """
    return [*fit_conflict_checks(fit), *misspecification_checks(fit),
            *prior_sensitivity_checks(fit), *confounding_checks(fit)]


