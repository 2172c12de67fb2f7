"""CLI: model options on `fit`, panels, and `compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bayesmmm.cli import app
from bayesmmm.datasets import example_path
from bayesmmm.synth import ChannelConfig, SimulationConfig, simulate

runner = CliRunner()
SAMPLER = ["--chains", "1", "--warmup", "100", "--draws", "100"]
COLS = ["--date-column", "date_week", "--y-column", "y", "-c", "x1", "-c", "x2",
        "--control", "event_1", "--control", "event_2"]


def test_compare_ranks_presets_and_writes_files(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(example_path()), *COLS, "--preset", "classic",
                                 "--preset", "hill_adstock", "--holdout", "13", *SAMPLER,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "comparison.csv", index_col="model")
    assert set(table.index) == {"classic", "hill_adstock"}
    assert {"elpd_loo", "holdout_mape", "rank"} <= set(table.columns)
    assert "predicts best by PSIS-LOO" in (out / "recommendation.txt").read_text()
    assert "Model comparison" in result.output


def test_compare_unknown_preset_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", str(example_path()), *COLS, "--preset", "hill",
                                 "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "Unknown preset 'hill'" in result.output


def test_fit_a_panel_with_options(tmp_path: Path) -> None:
    cfg = SimulationConfig(channels=(ChannelConfig("tv", pattern="flighted"),
                                     ChannelConfig("search")), n_weeks=60, n_geos=2, name="t")
    sim = simulate(cfg, seed=0)
    data = tmp_path / "panel.csv"
    sim.data.to_csv(data, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["fit", str(data), "--date-column", "date", "--y-column", "y",
                                 "-c", "tv", "-c", "search", "--panel", "geo", "--trend",
                                 "linear", "--holidays", "US", "--saturation", "hill",
                                 "--yearly-seasonality", "0", *SAMPLER, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "in 2 panel cells" in result.output
    by_panel = pd.read_csv(out / "roi_by_panel.csv")
    assert set(by_panel["panel"]) == {"geo_01", "geo_02"} and len(by_panel) == 4
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    # two geos: each geo's beta pooled, the curves' shapes shared (geo_shared="auto")
    assert "saturation_beta_geo[geo_01, tv]" in summary.index
    assert "saturation_kappa[tv]" in summary.index
    assert not any(i.startswith("saturation_kappa_geo") for i in summary.index)
    assert any(i.startswith("gamma_control[holiday_") for i in summary.index)
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["fit_metrics"]["r2"] > 0.5


def test_fit_config_with_lift_tests_and_bad_one(tmp_path: Path) -> None:
    cfg = tmp_path / "spec.json"
    cfg.write_text(json.dumps({
        "date_column": "date_week", "y_column": "y", "channel_columns": ["x1", "x2"],
        "lift_tests": [{"channel": "x1", "start": "2019-03-04", "end": "2019-03-25",
                        "spend_change": 0.5, "lift": 1500, "lift_se": 300}]}))
    result = runner.invoke(app, ["fit", str(example_path()), "--config", str(cfg), *SAMPLER,
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    cfg.write_text(json.dumps({
        "date_column": "date_week", "y_column": "y", "channel_columns": ["x1", "x2"],
        "lift_tests": [{"channel": "x1", "start": "2030-03-04", "end": "2030-03-25",
                        "spend_change": 0.5, "lift": 1500, "lift_se": 300}]}))
    result = runner.invoke(app, ["fit", str(example_path()), "--config", str(cfg), *SAMPLER,
                                 "--out", str(tmp_path / "p")])
    assert result.exit_code == 2 and "no period of the data lies in 2030-03-04" in result.output


@pytest.mark.slow
def test_fit_with_forms_auto_writes_the_comparison(tmp_path: Path) -> None:
    out = tmp_path / "auto"
    result = runner.invoke(app, ["fit", str(example_path()), *COLS, "--control", "t",
                                 "--forms", "auto", "--chains", "2", "--warmup", "300",
                                 "--draws", "300", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "averaged over structures: " in result.output
    table = pd.read_csv(out / "comparison.csv", index_col="model")
    assert len(table) == 9 and table["weight"].sum() == pytest.approx(1.0)
    diagnostics = json.loads((out / "diagnostics.json").read_text())
    assert sum(diagnostics["structures"]["weights"].values()) == pytest.approx(1.0)
    assert {"roi.csv", "contributions.csv", "fit.nc"} <= {p.name for p in out.iterdir()}


def test_compare_structures_given_as_forms(tmp_path: Path) -> None:
    out = tmp_path / "forms"
    result = runner.invoke(app, ["compare", str(example_path()), *COLS, "--forms",
                                 "geometric+logistic", "--forms", "delayed+hill",
                                 "--holdout", "0", *SAMPLER, "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "comparison.csv", index_col="model")
    assert set(table.index) == {"geometric+logistic", "delayed+hill"}
    bad = runner.invoke(app, ["compare", str(example_path()), *COLS, "--forms", "hill",
                              "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "give ADSTOCK+SATURATION" in bad.output


def test_fit_quick_is_an_approximate_preview_that_says_so(tmp_path: Path) -> None:
    out = tmp_path / "quick"
    result = runner.invoke(app, ["fit", str(example_path()), *COLS, "--control", "t",
                                 "--quick", "--approx-steps", "2000", "--draws", "200",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "This is an approximate fit (ADVI" in result.output
    diagnostics = json.loads((out / "diagnostics.json").read_text())
    assert diagnostics["sampler"]["sampler"] == "advi"
    assert "pareto_k" in diagnostics["sampler"]["approximation"]


def test_fit_estimate_says_how_long_and_fits_nothing(tmp_path: Path) -> None:
    out = tmp_path / "est"
    result = runner.invoke(app, ["fit", str(example_path()), *COLS, "--chains", "2",
                                 "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "This fit would take about" in result.output
    assert "leapfrog steps per iteration" in result.output
    assert not out.exists()
