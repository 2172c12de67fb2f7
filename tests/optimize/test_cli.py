"""`bayesmmm optimize`, `whatif` and `scenarios`: files written, tables, exit codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmmm.cli import app
from tests.optimize.conftest import hand_fit

runner = CliRunner()


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    media = np.column_stack([np.full(52, 100.0), np.full(52, 200.0), np.full(52, 50.0)])
    fit = hand_fit(media, beta=[2.0, 3.0, 1.0], lam=[1.5, 0.8, 2.0], alpha=0.3,
                   names=["tv", "search", "social"], n_draws=20, spread=0.1)
    return fit.save(tmp_path_factory.mktemp("fit") / "fit.nc")


def test_optimize_writes_the_allocation(fit_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "opt"
    result = runner.invoke(app, ["optimize", str(fit_file), "--periods", "4", "--budget", "2k",
                                 "--bounds", "tv=0.5:2", "--bounds", "search=-30%:+20%",
                                 "--bounds", "social=100:500abs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Optimal allocation over 4 periods" in result.output
    assert "Wrote allocation.csv" in result.output
    table = pd.read_csv(out / "allocation.csv", index_col=0)
    assert table.loc["total", "optimal"] == pytest.approx(2000.0)
    assert table.loc["search", "optimal"] <= 1.2 * 800 * (1 + 1e-9)
    assert 100 - 1e-9 <= table.loc["social", "optimal"] <= 500 + 1e-9


@pytest.mark.parametrize("goal", [["--target-roi", "5"], ["--target-marginal-roi", "3"],
                                  ["--objective", "q20"], ["--fix", "tv"]])
def test_optimize_goals(fit_file: Path, tmp_path: Path, goal: list[str]) -> None:
    result = runner.invoke(app, ["optimize", str(fit_file), "--periods", "4", *goal,
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "allocation.csv").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--bounds", "tv"], "CHANNEL=LOW:HIGH"),
    (["--bounds", "tv=2:1"], "above"),
    (["--bounds", "radio=0:1"], "Unknown channel"),
    (["--budget", "10", "--bounds", "tv=1:2"], "infeasible bounds"),
    (["--budget", "lots"], "not an amount"),
    (["--budget", "5k", "--target-roi", "2"], "one of --budget"),
    (["--objective", "median"], "Unknown objective"),
    (["--pattern", "weekly"], "Unknown pattern"),
], ids=["no-eq", "reversed", "channel", "infeasible", "amount", "two-goals", "objective",
        "pattern"])
def test_optimize_bad_input_exits_2(fit_file: Path, tmp_path: Path, args: list[str],
                                    message: str) -> None:
    result = runner.invoke(app, ["optimize", str(fit_file), "--periods", "4", *args,
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_optimize_missing_fit_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["optimize", str(tmp_path / "none.nc"), "--periods", "4"])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_whatif(fit_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["whatif", str(fit_file), "--channel", "tv",
                                 "--spend-increase", "500", "--periods", "4",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "recommended" in result.output.lower()
    frame = pd.read_csv(tmp_path / "whatif.csv", index_col=0)
    assert float(frame.loc["spend_change", "value"]) == 500.0
    cut = runner.invoke(app, ["whatif", str(fit_file), "--channel", "tv",
                              "--spend-increase=-100", "--periods", "4",
                              "--out", str(tmp_path)])
    assert cut.exit_code == 0, cut.output
    bad = runner.invoke(app, ["whatif", str(fit_file), "--channel", "radio",
                              "--spend-increase", "5", "--periods", "4", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "Unknown channel" in bad.output


def test_scenarios(fit_file: Path, tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("n_periods: 4\nscenarios:\n  aggressive: {default: +30%}\n"
                    "  conservative: {default: -15%}\n  digital-first: {tv: -30%, "
                    "search: +40%, social: +40%}\n")
    result = runner.invoke(app, ["scenarios", str(fit_file), str(spec), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "scenarios.csv", index_col=0)
    assert list(table.index) == ["current", "aggressive", "conservative", "digital-first"]
    assert "digital-first" in result.output
    spec.write_text("aggressive: {default: +30%}\n")
    no_periods = runner.invoke(app, ["scenarios", str(fit_file), str(spec)])
    assert no_periods.exit_code == 2 and "--periods" in no_periods.output
    spec.write_text("aggressive: {radio: +30%}\n")
    bad = runner.invoke(app, ["scenarios", str(fit_file), str(spec), "--periods", "4",
                              "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown channel" in bad.output
