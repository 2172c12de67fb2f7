"""An averaged fit (forms='auto') through every surface a single fit has: the verdict, the
warnings (structures that disagree), the report, and the planning commands of the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.analysis import roi_ranges, structure_checks, verdict
from bayesmmm.cli import app
from bayesmmm.errors import SpecError
from bayesmmm.model import AveragedFit
from bayesmmm.report import PLOTS, fit_figures, plot_data_trace, report_html

FILE = Path(__file__).parents[1] / "model" / "fitfiles" / "averaged_v1.nc"
runner = CliRunner()


@pytest.fixture(scope="module")
def averaged() -> AveragedFit:
    fit = bm.load(FILE)
    assert isinstance(fit, AveragedFit)
    return fit


def _with_elpd(fit: AveragedFit, elpd: dict[str, float]) -> AveragedFit:
    table = pd.DataFrame({"elpd_loo": elpd})
    return AveragedFit(fit.fits, fit.weights, table, fit.meta)


def test_load_reads_either_kind_of_fit_file() -> None:
    assert isinstance(bm.load(FILE), AveragedFit)
    single = bm.load(Path(__file__).parents[1] / "model" / "fitfiles" / "example_v2.nc")
    assert isinstance(single, bm.Fit)
    with pytest.raises(bm.FitFileError, match=r"bayesmmm\.load "):
        bm.load_fit(FILE)


def test_overlapping_structures_say_nothing(averaged: AveragedFit) -> None:
    findings = structure_checks(averaged)  # the members' 94% intervals overlap here
    assert [f.channel for f in findings] == ["x1", "x2"]
    assert all(f.status == "ok" and f.value == 0 for f in findings)


def test_disagreeing_structures_give_the_range_not_one_number(averaged: AveragedFit) -> None:
    narrow = {f.channel: f for f in structure_checks(averaged, hdi_prob=0.1)}
    x1 = narrow["x1"]
    assert x1.status == "care" and x1.value > 0
    rois = {k: f.roi(hdi_prob=0.1).loc["x1"] for k, f in averaged.fits.items()}
    rois["mixture"] = averaged.roi(hdi_prob=0.1).loc["x1"]  # the range covers it too
    low = min(r["hdi_45%"] for r in rois.values())
    high = max(r["hdi_55%"] for r in rois.values())
    assert f"range {bm_number(low)} to {bm_number(high)}" in x1.advice
    assert "lift test" in x1.advice and "delayed+hill" in x1.advice
    # the same numbers as a table, for code that reports the range
    ranges = roi_ranges(averaged, hdi_prob=0.1)
    assert list(ranges.index) == ["x1", "x2"] and ranges.loc["x1", "disagree"]
    assert ranges.loc["x1", ["low", "high"]].tolist() == pytest.approx([low, high])
    assert ranges.loc["x1", "gap"] == pytest.approx(x1.value)
    assert not roi_ranges(averaged)["disagree"].any()  # at 94% they overlap


def test_only_structures_within_loo_noise_are_compared(averaged: AveragedFit) -> None:
    close = _with_elpd(averaged, {"delayed+hill": -100.0, "geometric+logistic": -103.0})
    far = _with_elpd(averaged, {"delayed+hill": -100.0, "geometric+logistic": -110.0})
    assert len(structure_checks(close, hdi_prob=0.1)) == 2
    assert structure_checks(far, hdi_prob=0.1) == []


def test_a_pilot_that_predicts_as_well_but_carries_no_weight_is_compared(
        averaged: AveragedFit) -> None:
    """A structure the search did not keep (pruned, or no stacking weight) but whose pilot
    predicted within LOO noise: its pilot ROIs take part, labelled "(pilot)"."""
    member = next(iter(averaged.fits))
    alone = AveragedFit({member: averaged.fits[member]}, {member: 1.0})
    assert structure_checks(alone) == []  # one structure: nothing to compare
    x1 = averaged.fits[member].roi().loc["x1"]
    far = float(x1["hdi_97%"]) + 10.0
    pilot_roi = {"weibull_pdf+hill": {"x1": [far + 1.0, far, far + 2.0],
                                       "x2": [float(x) for x in averaged.fits[member].roi()
                                              .loc["x2", ["roi", "hdi_3%", "hdi_97%"]]]}}
    rival = AveragedFit(alone.fits, alone.weights, None, {"pilot_roi": pilot_roi})
    found = {f.channel: f for f in structure_checks(rival)}
    assert found["x1"].status == "care" and found["x1"].value == pytest.approx(10.0)
    assert "weibull_pdf+hill (pilot)" in found["x1"].advice
    assert "a pilot's interval is from a short fit" in found["x1"].advice
    assert found["x2"].status == "ok"
    assert structure_checks(rival, hdi_prob=0.5) == []  # pilots keep 94% intervals only


def test_a_rival_estimate_outside_the_averaged_interval_asks_for_the_range(
        averaged: AveragedFit) -> None:
    """Intervals that overlap are not enough: when a structure that predicts as well has
    its estimate outside the mixture's interval (stacking gave it no weight), the
    averaged interval understates the uncertainty, and the range is asked for."""
    member = next(iter(averaged.fits))
    alone = AveragedFit({member: averaged.fits[member]}, {member: 1.0})
    x1 = alone.roi().loc["x1"]
    lo, hi = float(x1["hdi_3%"]), float(x1["hdi_97%"])
    # a wide pilot interval that overlaps the member's, its estimate above it
    pilot_roi = {"geometric+hill": {"x1": [hi + 1.0, lo, hi + 5.0],
                                     "x2": [float(v) for v in alone.roi()
                                            .loc["x2", ["roi", "hdi_3%", "hdi_97%"]]]}}
    rival = AveragedFit(alone.fits, alone.weights, None, {"pilot_roi": pilot_roi})
    ranges = roi_ranges(rival)
    assert ranges.loc["x1", "gap"] == 0 and ranges.loc["x1", "disagree"]
    assert ranges.loc["x1", "outside"] == "geometric+hill (pilot)"
    assert ranges.loc["x1", ["low", "high"]].tolist() == pytest.approx([lo, hi + 5.0])
    assert not ranges.loc["x2", "disagree"] and ranges.loc["x2", "outside"] == ""
    found = {f.channel: f for f in structure_checks(rival)}
    assert found["x1"].status == "care" and found["x1"].value == 0
    assert f"the averaged interval [{bm_number(lo)}, {bm_number(hi)}] leaves out the " \
           "estimate of geometric+hill (pilot)" in found["x1"].advice
    assert f"range {bm_number(lo)} to {bm_number(hi + 5.0)}" in found["x1"].advice
    assert found["x2"].status == "ok"


def test_a_rival_that_leaves_the_roi_far_more_open_asks_for_the_range(
        averaged: AveragedFit) -> None:
    """Same estimate, far wider interval (a flexible curve the data cannot pin): the
    averaged interval of the confident structures understates the uncertainty."""
    member = next(iter(averaged.fits))
    alone = AveragedFit({member: averaged.fits[member]}, {member: 1.0})
    mean, lo, hi = (float(v) for v in alone.roi().loc["x1", ["roi", "hdi_3%", "hdi_97%"]])
    width = hi - lo
    x2 = [float(v) for v in alone.roi().loc["x2", ["roi", "hdi_3%", "hdi_97%"]]]
    wide = {"geometric+hill": {"x1": [mean, lo - width, hi + width], "x2": x2}}
    rival = AveragedFit(alone.fits, alone.weights, None, {"pilot_roi": wide})
    ranges = roi_ranges(rival)
    assert ranges.loc["x1", "wider"] == pytest.approx(3.0)
    assert ranges.loc["x1", "disagree"] and ranges.loc["x1", "outside"] == ""
    assert not ranges.loc["x2", "disagree"]
    found = {f.channel: f for f in structure_checks(rival)}
    assert "leave x1's ROI far more open than the averaged interval" in found["x1"].advice
    assert "their range is 3.0x as wide" in found["x1"].advice
    # a little wider is the pilots' roughness, not a finding
    slight = {"geometric+hill": {"x1": [mean, lo - 0.2 * width, hi + 0.2 * width],
                                  "x2": x2}}
    calm = AveragedFit(alone.fits, alone.weights, None, {"pilot_roi": slight})
    assert not roi_ranges(calm)["disagree"].any()


def test_the_verdict_holds_each_member_and_the_mixture(averaged: AveragedFit) -> None:
    v = verdict(averaged)
    names = [c.name for c in v.checks]
    for label in averaged.fits:
        assert f"{label}: max r_hat" in names and f"{label}: divergences" in names
    assert {"R²", "MAPE %", "structures disagree [x1]"} <= set(names)
    # the fixture's members are short fits: their r_hat is too high to use
    assert v.status == "bad"
    assert any(r.startswith("delayed+hill: ") for r in v.reasons)


def test_the_report_of_an_averaged_fit(averaged: AveragedFit) -> None:
    page = report_html(averaged, n_periods=8)
    assert "Model-averaged answers (averaged over structures: delayed+hill 70%, " \
           "geometric+logistic 30%)" in page
    for label in ("delayed_hill", "geometric_logistic"):
        assert f'id="figure-trace_{label}"' in page
    assert 'id="figure-saturation"' in page
    assert "x1 (averaged: geometric, delayed)" in page  # the adstock forms mixed
    assert 'id="table-allocation"' in page


def test_every_registered_plot_draws_an_averaged_fit(averaged: AveragedFit) -> None:
    figures = fit_figures(averaged)
    assert list(figures) == [p.name for p in PLOTS.of("fit")]
    # the diagnostic plots show one member's parameters, named in the title
    trace = figures["trace"].layout.title.text
    assert "structure delayed+hill (weight 0.70; 2 structures fitted)" in trace
    assert "structure delayed+hill" in figures["rank"].layout.title.text
    assert "structure delayed+hill" in figures["prior_posterior"].layout.title.text
    # ... the heaviest by default, another on request, the same draws as the member's own
    member = averaged.fits["geometric+logistic"]
    other = PLOTS.get("trace").draw(averaged, structure="geometric+logistic")
    assert "structure geometric+logistic (weight 0.30" in other.layout.title.text
    pd.testing.assert_frame_equal(
        plot_data_trace(averaged, structure="geometric+logistic"), plot_data_trace(member))
    assert plot_data_trace(averaged)["parameter"].str.startswith("adstock_theta").any()
    with pytest.raises(SpecError, match=r"not a member.*Fix: use one of \['delayed\+hill'"):
        PLOTS.get("rank").draw(averaged, structure="weibull_pdf+tanh")
    with pytest.raises(SpecError, match="this fit has one structure"):
        PLOTS.get("rank").draw(member, structure="delayed+hill")


@pytest.mark.parametrize("command", [
    ["optimize", str(FILE), "--periods", "8"],
    ["whatif", str(FILE), "--channel", "x1", "--spend-increase", "1", "--periods", "8"],
])
def test_planning_commands_take_an_averaged_fit(command: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*command, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert any((tmp_path / "out").glob("*.csv"))


def bm_number(value: float) -> str:
    from bayesmmm.analysis._checks._common import _num

    return _num(float(value))
