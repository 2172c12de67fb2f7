"""Issue 24, item 7: the plan is compared with a mix the bounds allow, and a plan that
does not beat it on the full posterior says so and why (library, CLI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bayesmmm.cli import app
from bayesmmm.model import Fit
from bayesmmm.optimize import Bound, SalesQuantile, optimize_budget
from tests.optimize.conftest import hand_fit


@pytest.fixture(scope="module")
def poor_x1() -> Fit:
    """x1 returns far less than x2; x2 ran at twice x1's level."""
    media = np.column_stack([np.full(52, 100.0), np.full(52, 200.0)])
    return hand_fit(media, beta=[0.5, 3.0], lam=[1.5, 0.8], n_draws=40, spread=0.3,
                    names=["x1", "x2"])


def test_infeasible_historical_mix_is_not_the_comparison(poor_x1: Fit) -> None:
    # Over 4 periods the historical spend is x1 400, x2 800; at a budget of 600 the
    # historical mix is x1 200, x2 400, but x1 may only move by 30% (280 .. 520).
    alloc = optimize_budget(poor_x1, 600.0, n_periods=4,
                            bounds={"x1": Bound.percent(30, 30), "x2": (0.2, 2)})
    table = alloc.channels
    assert table.loc["x1", "historical_at_budget"] == pytest.approx(200.0)
    assert table.loc["x1", "comparison"] == pytest.approx(280.0)  # moved into the bounds
    assert table["comparison"].sum() == pytest.approx(600.0)
    assert alloc.comparison == "historical mix moved into the bounds"
    note = next(n for n in alloc.notes if "outside the bounds" in n)
    assert "'x1' would spend 200, its bounds allow 280 .. 520" in note and "Fix:" in note
    # The comparison is a mix the user may choose: the plan never loses to it ...
    assert alloc.totals["uplift"] >= -1e-6 * alloc.totals["sales"]
    # ... while the historical mix itself (not allowed) would have sold more.
    assert alloc.totals["historical_sales"] > alloc.totals["sales"]
    assert "moved into the bounds" in alloc.summary()
    assert alloc.warnings == ()


def test_feasible_historical_mix_stays_the_comparison(poor_x1: Fit) -> None:
    alloc = optimize_budget(poor_x1, 600.0, n_periods=4, bounds={"x1": (0.2, 3.0)})
    assert alloc.comparison == "historical mix"
    assert alloc.channels["comparison"].to_numpy() == pytest.approx(
        alloc.channels["historical_at_budget"].to_numpy())
    assert not any("outside the bounds" in n for n in alloc.notes)
    assert alloc.totals["comparison_sales"] == pytest.approx(alloc.totals["historical_sales"])


def test_a_plan_that_loses_on_the_full_posterior_says_why(five_channels_wide: Fit) -> None:
    # A risk-averse objective on a handful of draws: the plan loses in the mean.
    alloc = optimize_budget(five_channels_wide, 3000.0, n_periods=6,
                            objective=SalesQuantile(0.2), n_draws=5)
    assert alloc.totals["uplift"] < 0 and alloc.totals["prob_better"] < 0.5
    [warning] = alloc.warnings
    assert "20% quantile" in warning and "5 of the 60 posterior draws" in warning
    assert "no clear improvement" in warning
    assert "Caution:" in alloc.summary()


@pytest.fixture(scope="module")
def five_channels_wide() -> Fit:
    rng = np.random.default_rng(3)
    media = rng.uniform(0.2, 1.0, size=(80, 5)) * np.array([100, 250, 60, 400, 150])
    return hand_fit(media, beta=[1.0, 2.5, 0.8, 3.0, 1.2], lam=[2.0, 1.0, 3.0, 0.7, 1.5],
                    alpha=[0.3, 0.6, 0.1, 0.5, 0.2], l_max=5, n_draws=60, spread=0.6)


def test_cli_says_the_historical_mix_is_outside_the_bounds(poor_x1: Fit, tmp_path: Path
                                                           ) -> None:
    fit_file = poor_x1.save(tmp_path / "fit.nc")
    result = CliRunner().invoke(app, [
        "optimize", str(fit_file), "--periods", "4", "--budget", "600",
        "--bounds", "x1=-30%:+30%", "--bounds", "x2=0.2:2", "--out", str(tmp_path / "o")],
        env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "outside the bounds" in text and "'x1' would spend 200" in text
    assert "comparison" in text and "moved into the bounds" in text
