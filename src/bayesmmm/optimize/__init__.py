"""Optimize layer: budget allocation, what-if questions, scenarios and response curves.

>>> from bayesmmm.optimize import optimize_budget, FixedBudget, Bound
>>> alloc = optimize_budget(fit, FixedBudget(1_000_000), n_periods=13,      # doctest: +SKIP
...                         bounds={"tv": Bound.percent(30, 30)})
>>> alloc.to_frame(); alloc.summary()                                        # doctest: +SKIP

``simulator(fit, n_periods=13)`` is the what-if simulator for notebooks: a slider per
channel, or a table of preset moves without ipywidgets. Every answer is computed from
the model's own media function on posterior draws; see ``docs/optimizer.md`` for the
definitions (horizon, carry-over, bounds, goals).
"""

from bayesmmm.optimize._allocate import Allocation, optimize_budget
from bayesmmm.optimize._curves import ResponseCurves, response_curves, saturation_point
from bayesmmm.optimize._frontier import bound_sensitivity, efficiency_frontier
from bayesmmm.optimize._goal_choice import check_goal, goal_from
from bayesmmm.optimize._goals import (
    Bound,
    ExpectedSales,
    FixedBudget,
    Goal,
    MeanMinusSd,
    Objective,
    SalesQuantile,
    TargetMarginalROI,
    TargetROI,
    parse_amount,
    parse_bound,
    parse_objective,
)
from bayesmmm.optimize._planner import Planner, historical_spend
from bayesmmm.optimize._scenarios import Scenario, compare_scenarios, load_scenarios
from bayesmmm.optimize._simulator import Simulation, SimulatorView, simulate, simulator
from bayesmmm.optimize._whatif import PlanComparison, WhatIf, analyze_channel, evaluate_plan

__all__ = ["Allocation", "Bound", "ExpectedSales", "FixedBudget", "Goal", "MeanMinusSd",
           "Objective", "PlanComparison", "Planner", "ResponseCurves", "SalesQuantile",
           "Scenario", "Simulation", "SimulatorView", "TargetMarginalROI", "TargetROI",
           "WhatIf", "analyze_channel", "bound_sensitivity", "check_goal",
           "compare_scenarios", "efficiency_frontier", "evaluate_plan", "goal_from",
           "historical_spend", "load_scenarios", "optimize_budget", "parse_amount",
           "parse_bound", "parse_objective", "response_curves", "saturation_point",
           "simulate", "simulator"]
