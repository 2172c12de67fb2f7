"""The budget goal a user asked for: the one rule by which the CLI (``bayesmmm
optimize``), the service (optimizeBudget) and the report choose it."""

from __future__ import annotations

from typing import Literal

from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit, Fit
from bayesmmm.optimize._goals import (
    FixedBudget,
    Goal,
    TargetMarginalROI,
    TargetROI,
    parse_amount,
)
from bayesmmm.optimize._planner import historical_spend

__all__ = ["GoalSpelling", "check_goal", "goal_from"]

#: How a surface spells the three goals: ``"flags"`` (the command line) or ``"fields"``
#: (requests, Python); it only changes the wording of the "one goal" message.
GoalSpelling = Literal["flags", "fields"]
_ONE_GOAL = {
    "flags": "give one of --budget, --target-roi and --target-marginal-roi",
    "fields": "give exactly one of budget, target_roi and target_marginal_roi (or none: the "
              "historical spend over n_periods)",
}


def check_goal(budget: float | str | None = None, target_roi: float | None = None,
               target_marginal_roi: float | None = None, *,
               spelling: GoalSpelling = "fields") -> None:
    """Refuse more than one goal (``SpecError``); :func:`goal_from`'s first rule, for a
    surface that checks a request before it loads the fit."""
    given = [g for g in (budget, target_roi, target_marginal_roi) if g is not None]
    if len(given) > 1:
        raise SpecError(_ONE_GOAL[spelling])


def goal_from(fit: Fit | AveragedFit, n_periods: int, *, budget: float | str | None = None,
              target_roi: float | None = None, target_marginal_roi: float | None = None,
              spelling: GoalSpelling = "fields") -> Goal:
    """The budget goal a user asked for: the one constructor of the CLI, the service and
    the report.

    Parameters
    ----------
    fit : Fit
        Gives the default budget.
    n_periods : int
        The planning horizon, in periods of the data.
    budget : float or str, optional
        Spend exactly this much (:class:`FixedBudget`); text such as ``"500k"`` is read
        by :func:`parse_amount`.
    target_roi, target_marginal_roi : float, optional
        :class:`TargetROI` or :class:`TargetMarginalROI` instead of a budget.
    spelling : {"fields", "flags"}
        How the message for more than one goal names them.

    Returns
    -------
    FixedBudget, TargetROI or TargetMarginalROI
        None given: ``FixedBudget`` of the historical spend over ``n_periods`` (all
        channels and geos, at the mean rate of the fitted data).

    Raises
    ------
    SpecError
        More than one goal, an amount that is not one, or a value <= 0.
    """
    check_goal(budget, target_roi, target_marginal_roi, spelling=spelling)
    if target_roi is not None:
        return TargetROI(target_roi)
    if target_marginal_roi is not None:
        return TargetMarginalROI(target_marginal_roi)
    if budget is not None:
        return FixedBudget(parse_amount(budget) if isinstance(budget, str) else budget)
    return FixedBudget(float(historical_spend(fit, n_periods).sum()))
