"""The simulator reproduces its own ground truth exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.synth import ChannelTruth, simulate_classic, spend_pattern

from ..conftest import three_channel_sim


def test_components_plus_noise_equal_y() -> None:
    sim = three_channel_sim(seed=3)
    parts = np.sum([np.asarray(v) for v in sim.truth["contributions"].values()], axis=0)
    np.testing.assert_allclose(parts + np.asarray(sim.truth["noise"]), sim.data["y"], rtol=1e-9)


def test_truth_roi_and_scaled_parameters() -> None:
    sim = three_channel_sim(seed=4)
    for name in ("tv", "search", "social"):
        contribution = np.sum(sim.truth["contributions"][name])
        assert sim.truth["total_contribution"][name] == pytest.approx(contribution)
        assert sim.truth["roi"][name] == pytest.approx(contribution / sim.data[name].sum())
    p = sim.truth["parameters"]
    s = np.abs(sim.data["y"]).max() / 1000.0  # model divides y by max |y|
    assert p["saturation_beta[tv]"] == pytest.approx(1.2 / s)
    assert p["adstock_alpha[search]"] == 0.2 and p["saturation_lam[social]"] == 4.0


def test_same_seed_same_data_and_valid() -> None:
    a, b = three_channel_sim(seed=5), three_channel_sim(seed=5)
    assert a.data.equals(b.data)
    assert not a.data.equals(three_channel_sim(seed=6).data)
    spec = bm.ModelSpec(**a.spec_kwargs)
    report = bm.validate(a.data, date_column=spec.date_column, y_column=spec.y_column,
                         channel_columns=spec.channel_columns,
                         control_columns=spec.control_columns)
    assert report.ok, report.format()


@pytest.mark.parametrize("pattern", ["always_on", "seasonal", "flighted", "bursts"])
def test_spend_patterns(pattern: str) -> None:
    x = spend_pattern(pattern, 104, 500.0, np.random.default_rng(0))  # type: ignore[arg-type]
    assert x.shape == (104,) and (x >= 0).all() and x.mean() == pytest.approx(500.0)
    if pattern == "flighted":
        assert (x == 0).mean() > 0.2


def test_unknown_pattern() -> None:
    with pytest.raises(ValueError, match="Unknown spend pattern 'pulsed'"):
        spend_pattern("pulsed", 10, 1.0, np.random.default_rng(0))  # type: ignore[arg-type]


def test_save_writes_csv_and_truth(tmp_path: Path) -> None:
    sim = simulate_classic([ChannelTruth("tv", 0.5, 2.0, 1.0)], n_periods=60, seed=1)
    data, truth = sim.save(tmp_path)
    assert bm.load_table(data).shape == sim.data.shape
    assert json.loads(truth.read_text())["parameters"]["adstock_alpha[tv]"] == 0.5
