"""goal_from: the one rule by which the CLI, the service and the report choose a goal."""

from __future__ import annotations

import pytest

from bayesmmm.errors import SpecError
from bayesmmm.model import Fit
from bayesmmm.optimize import (
    FixedBudget,
    TargetMarginalROI,
    TargetROI,
    check_goal,
    goal_from,
    historical_spend,
)


def test_no_goal_is_the_historical_budget(two_channels: Fit) -> None:
    goal = goal_from(two_channels, 13)
    assert goal == FixedBudget(float(historical_spend(two_channels, 13).sum()))


@pytest.mark.parametrize(("given", "goal"), [
    ({"budget": 2000.0}, FixedBudget(2000.0)),
    ({"budget": "1.5k"}, FixedBudget(1500.0)),
    ({"target_roi": 2.0}, TargetROI(2.0)),
    ({"target_marginal_roi": 0.5}, TargetMarginalROI(0.5)),
], ids=["budget", "amount-text", "target-roi", "target-mroi"])
def test_the_goal_given(two_channels: Fit, given: dict[str, object], goal: object) -> None:
    assert goal_from(two_channels, 13, **given) == goal  # type: ignore[arg-type]


@pytest.mark.parametrize(("spelling", "message"), [
    ("fields", "give exactly one of budget, target_roi and target_marginal_roi"),
    ("flags", "give one of --budget, --target-roi and --target-marginal-roi"),
])
def test_more_than_one_goal_is_refused(two_channels: Fit, spelling: str, message: str
                                       ) -> None:
    with pytest.raises(SpecError, match=message):
        check_goal(100.0, 2.0, spelling=spelling)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=message):
        goal_from(two_channels, 13, budget="1k", target_marginal_roi=2.0,
                  spelling=spelling)  # type: ignore[arg-type]


@pytest.mark.parametrize(("given", "message"), [
    ({"budget": "lots"}, "not an amount"),
    ({"budget": 0.0}, "FixedBudget.total must be > 0"),
    ({"target_roi": -1.0}, "TargetROI.value must be > 0"),
])
def test_bad_values_are_refused(two_channels: Fit, given: dict[str, object], message: str
                                ) -> None:
    with pytest.raises(SpecError, match=message):
        goal_from(two_channels, 13, **given)  # type: ignore[arg-type]
