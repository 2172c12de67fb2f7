"""A truth file of another data set is refused by name, not with a KeyError.

(These test ``bayesmmm.bench.validate_fit``; they sit here because the bench tests are
being edited in parallel, and can move to ``tests/bench/test_validate.py`` unchanged.)
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bayesmmm as bm
from bayesmmm.bench import Estimates, validate_estimates, validate_fit
from bayesmmm.cli import app
from bayesmmm.errors import SpecError


def _estimates(geos: tuple[str, ...] = ()) -> Estimates:
    summary = pd.DataFrame({"mean": [0.5], "hdi_3%": [0.3], "hdi_97%": [0.7],
                            "hdi_25%": [0.45], "hdi_75%": [0.55], "ess_bulk": [900.0],
                            "ess_tail": [800.0], "r_hat": [1.0]}, index=["adstock_alpha[x1]"])
    roi = pd.DataFrame({"spend": [100.0], "roi": [1.5], "hdi_3%": [1.1], "hdi_97%": [2.0]},
                       index=pd.Index(["x1"], name="channel"))
    n = max(len(geos), 1)
    return Estimates(summary=summary, roi=roi, contributions={"x1": np.ones((n, 4))},
                     fit_metrics={"r2": 0.9, "mape": 5.0, "durbin_watson": 2.0},
                     divergences=0, geos=geos)


TRUTH: dict[str, Any] = {
    "parameters": {"adstock_alpha[tv]": 0.4}, "roi": {"tv": 1.0, "search": 2.0},
    "total_contribution": {"tv": 4.0, "search": 4.0},
    "contributions": {"intercept": [1.0] * 4, "tv": [1.0] * 4, "search": [1.0] * 4}}


def test_truth_of_other_channels_names_both_sides() -> None:
    with pytest.raises(SpecError, match="does not belong to this fit") as exc:
        validate_estimates(_estimates(), TRUTH)
    text = str(exc.value)
    assert "['x1'] are not in the truth" in text and "['search', 'tv']" in text
    assert "Fix: pass the truth.json" in text


def test_truth_of_other_geos_or_national() -> None:
    truth = copy.deepcopy(TRUTH)
    truth["roi"]["x1"] = 1.0
    truth["total_contribution"]["x1"] = 8.0
    truth["contributions"]["x1"] = {"north": [1.0] * 4, "south": [1.0] * 4}
    with pytest.raises(SpecError, match=r"geo\(s\) \['east'\] are not in the truth"):
        validate_estimates(_estimates(("east", "north")), truth)
    with pytest.raises(SpecError, match="the fit is national but the truth has geos"):
        validate_estimates(_estimates(), truth)
    truth["contributions"]["x1"] = [1.0] * 4
    with pytest.raises(SpecError, match="the truth is national"):
        validate_estimates(_estimates(("north", "south")), truth)
    truth["contributions"]["x1"] = {"north": [1.0] * 4, "south": [1.0] * 4}
    assert validate_estimates(_estimates(("north", "south")), truth).roi.index.tolist() == ["x1"]


@pytest.fixture(scope="module")
def tiny_fit() -> bm.Fit:
    """The example data (channels x1, x2), sampled just enough to save and reload."""
    return bm.fit(bm.example_data(), bm.example_spec(), seed=1, chains=1, warmup=30,
                  draws=30, progress=False)


def test_validate_fit_with_a_truth_of_another_data_set(tiny_fit: bm.Fit,
                                                       tmp_path: Path) -> None:
    from bayesmmm.synth import simulate_preset

    truth = simulate_preset("small_business", seed=0).truth
    with pytest.raises(SpecError, match=r"channel\(s\) \['x1', 'x2'\] are not in the truth"):
        validate_fit(tiny_fit, truth)
    fit_path = tiny_fit.save(tmp_path / "fit.nc")
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(truth))
    result = CliRunner().invoke(app, ["validate-fit", str(fit_path), str(truth_path)])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "KeyError" not in result.output
    assert "does not belong to this fit" in result.output and "'x1'" in result.output
