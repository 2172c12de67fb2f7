"""Validation against a known truth: a real fit passes, a wrong truth fails, numbers by hand."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.bench import Estimates, FitValidation, Thresholds, validate_estimates, validate_fit
from bayesmmm.cli import app
from bayesmmm.errors import SpecError
from bayesmmm.synth import Simulation, simulate_preset

runner = CliRunner()
HOLDOUT = 13


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate_preset("small_business", seed=0)


@pytest.fixture(scope="module")
def fitted(sim: Simulation) -> bm.Fit:
    """The issue's settings (ess_bulk >= 400 needs them): 4 chains x 1000 x 1000 on the
    first 91 of 104 weeks; the last 13 are the holdout."""
    train = sim.data.iloc[:-HOLDOUT]
    return bm.fit(train, bm.ModelSpec(**sim.spec_kwargs), chains=4, warmup=1000, draws=1000,
                  seed=0, progress=False)


@pytest.fixture(scope="module")
def report(fitted: bm.Fit, sim: Simulation) -> FitValidation:
    return validate_fit(fitted, sim.truth, test=sim.data.iloc[-HOLDOUT:])


def test_small_business_fit_passes_every_threshold(report: FitValidation) -> None:
    failed = {c.name: (c.value, c.threshold_text) for c in report.failed}
    assert report.passed, f"failed checks: {failed}"
    names = {c.name for c in report.checks}
    assert {"mape", "r2", "holdout_mape", "holdout_r2", "coverage_94", "max_r_hat",
            "divergences", "min_ess_bulk", "durbin_watson"} <= names
    # every truth parameter of the national classic model is in the summary
    assert len(report.parameters) == 20
    assert report.parameters["channel"].sum() == 12  # alpha, lam, beta x 4 channels
    assert report.metrics["n_coverage"] == 16  # 12 channel parameters + 4 ROIs


def test_roi_truth_is_taken_over_the_fitted_periods(report: FitValidation,
                                                    sim: Simulation) -> None:
    """The fit covers 91 of 104 weeks: true ROI = true contribution there / spend there."""
    n = len(sim.data) - HOLDOUT
    for channel in report.roi.index:
        contrib = np.asarray(sim.truth["contributions"][channel][:n]).sum()
        spend = sim.data[channel].iloc[:n].sum()
        assert report.roi.loc[channel, "truth"] == pytest.approx(contrib / spend, rel=1e-9)


def _tripled(truth: dict) -> dict:
    """A wrong truth: every channel's effect (ROI, contributions, parameters) x 3."""
    wrong = copy.deepcopy(truth)
    channels = set(wrong["roi"])
    wrong["roi"] = {c: 3 * v for c, v in wrong["roi"].items()}
    wrong["total_contribution"] = {c: 3 * v for c, v in wrong["total_contribution"].items()}
    wrong["contributions"] = {k: list(3 * np.asarray(v)) if k in channels else v
                              for k, v in wrong["contributions"].items()}
    for name in wrong["parameters"]:
        if name.startswith(("adstock_", "saturation_")):
            wrong["parameters"][name] *= 3
    return wrong


def test_wrong_truth_fails_coverage(fitted: bm.Fit, sim: Simulation) -> None:
    report = validate_fit(fitted, _tripled(sim.truth))
    failed = {c.name for c in report.failed}
    assert not report.passed
    assert {"coverage_94", "roi_mean_abs_rel_error", "contribution_srmse"} <= failed
    assert report.metrics["coverage_94"] < 0.3
    assert "max_r_hat" not in failed and "mape" not in failed  # the fit itself is fine


def _toy() -> tuple[Estimates, dict]:
    summary = pd.DataFrame(
        {"mean": [0.5, 2.0, 10.0], "sd": [0.1, 0.5, 1.0], "hdi_3%": [0.3, 1.0, 8.0],
         "hdi_97%": [0.7, 3.0, 12.0], "hdi_25%": [0.45, 1.8, 9.0], "hdi_75%": [0.55, 2.2, 11.0],
         "ess_bulk": [900.0, 350.0, 1200.0], "ess_tail": [800.0, 700.0, 500.0],
         "r_hat": [1.0, 1.02, 1.001]},
        index=["adstock_alpha[tv]", "saturation_lam[tv]", "intercept"])
    roi = pd.DataFrame({"spend": [100.0], "roi": [1.5], "hdi_3%": [1.1], "hdi_97%": [2.0]},
                       index=pd.Index(["tv"], name="channel"))
    est = Estimates(summary=summary, roi=roi,
                    contributions={"tv": np.array([[10.0, 20.0, 30.0, 40.0]])},
                    fit_metrics={"r2": 0.9, "mape": 5.0, "durbin_watson": 2.0},
                    divergences=2)
    truth = {"parameters": {"adstock_alpha[tv]": 0.4, "saturation_lam[tv]": 4.0,
                            "intercept": 10.5, "y_sigma": 0.1},
             "roi": {"tv": 1.0}, "total_contribution": {"tv": 100.0},
             "contributions": {"tv": [12.0, 18.0, 30.0, 40.0]}}
    return est, truth


def test_metrics_by_hand() -> None:
    est, truth = _toy()
    report = validate_estimates(est, truth)
    p = report.parameters
    assert list(p.index) == ["adstock_alpha[tv]", "saturation_lam[tv]", "intercept"]  # no y_sigma
    assert p.loc["adstock_alpha[tv]", "bias"] == pytest.approx(0.1)
    assert p.loc["adstock_alpha[tv]", "rel_error"] == pytest.approx(0.25)
    assert p.loc["saturation_lam[tv]", "rel_error"] == pytest.approx(-0.5)
    assert list(p["in_hdi_50"]) == [False, False, True]
    assert list(p["in_hdi_94"]) == [True, False, True]
    assert list(p["channel"]) == [True, True, False]
    assert report.roi.loc["tv", "rel_error"] == pytest.approx(0.5)
    assert bool(report.roi.loc["tv", "in_hdi_94"]) is False  # 1.0 is below the HDI (1.1)
    # SRMSE: errors (-2, 2, 0, 0) -> RMSE sqrt(2); mean truth 25
    assert report.contributions.loc["tv", "srmse"] == pytest.approx(math.sqrt(2) / 25)
    assert report.contributions.loc["tv", "total_rel_error"] == pytest.approx(0.0)
    m = report.metrics
    assert m["coverage_94"] == pytest.approx(1 / 3)  # alpha in; lam out; ROI out
    assert m["coverage_50"] == pytest.approx(1 / 3)
    assert m["max_r_hat"] == pytest.approx(1.02) and m["min_ess_bulk"] == 350
    checks = {c.name: c for c in report.checks}
    assert checks["mape"].passed and checks["r2"].passed and checks["durbin_watson"].passed
    for name in ("coverage_94", "max_r_hat", "divergences", "min_ess_bulk"):
        assert not checks[name].passed, name
    assert "holdout_mape" not in checks
    table = report.table()
    assert list(table.columns) == ["value", "threshold", "passed"]
    assert table.loc["divergences", "threshold"] == "<= 0"
    assert table.loc["durbin_watson", "threshold"] == "in [1.5, 2.5]"


def test_thresholds_override_and_validate() -> None:
    est, truth = _toy()
    lenient = Thresholds(coverage_94_min=0.3, r_hat_max=1.05, divergences_max=5,
                         ess_bulk_min=300, roi_error_max=1.0)
    assert validate_estimates(est, truth, lenient).passed
    assert Thresholds.from_dict({"mape_max": 5, "durbin_watson_range": [1, 3]}) == \
        Thresholds(mape_max=5, durbin_watson_range=(1, 3))
    with pytest.raises(SpecError, match="coverage_94_min"):
        Thresholds(coverage_94_min=90)
    with pytest.raises(SpecError, match="Unknown threshold"):
        Thresholds.from_dict({"mape": 5})
    with pytest.raises(SpecError, match="finite number"):
        Thresholds(r2_min=float("nan"))


def test_panel_contributions_cover_every_geo_and_period() -> None:
    est, truth = _toy()
    geo_est = Estimates(summary=est.summary, roi=est.roi, fit_metrics=est.fit_metrics,
                        contributions={"tv": np.array([[1.0, 1.0], [3.0, 3.0]])},
                        divergences=0, geos=("b", "a"))
    truth["contributions"] = {"tv": {"a": [3.0, 3.0], "b": [1.0, 3.0]}}  # by label, not order
    c = validate_estimates(geo_est, truth).contributions
    assert c.loc["tv", "srmse"] == pytest.approx(math.sqrt(4 / 4) / 2.5)


def test_to_dict_is_strict_json(report: FitValidation) -> None:
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["passed"] is True
    assert {c["name"] for c in data["checks"]} == {c.name for c in report.checks}
    assert data["parameters"][0]["parameter"] == "intercept"
    assert data["thresholds"]["ess_bulk_min"] == 400


def test_cli_validate_fit(tmp_path: Path, fitted: bm.Fit, sim: Simulation) -> None:
    fit_path = fitted.save(tmp_path / "fit.nc")
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(sim.truth))
    test_path = tmp_path / "test.csv"
    sim.data.iloc[-HOLDOUT:].to_csv(test_path, index=False)
    out = tmp_path / "report" / "report.json"
    result = runner.invoke(app, ["validate-fit", str(fit_path), str(truth_path), "--test",
                                 str(test_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for word in ("coverage_94", "min_ess_bulk", "holdout_mape", "Validation passed"):
        assert word in result.output
    saved = json.loads(out.read_text())
    assert saved["passed"] is True and any(c["name"] == "holdout_r2" for c in saved["checks"])
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.json"]  # atomic

    truth_path.write_text(json.dumps(_tripled(sim.truth)))
    result = runner.invoke(app, ["validate-fit", str(fit_path), str(truth_path)])
    assert result.exit_code == 1, result.output
    assert "failed" in result.output and "coverage_94" in result.output


def test_cli_validate_fit_unreadable_inputs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate-fit", str(tmp_path / "none.nc"),
                                 str(tmp_path / "truth.json")])
    assert result.exit_code == 1 and "does not exist" in result.output
    bad = tmp_path / "bad.nc"
    bad.write_text("not a fit")
    result = runner.invoke(app, ["validate-fit", str(bad), str(tmp_path / "truth.json")])
    assert result.exit_code == 1 and "not a readable fit file" in result.output
