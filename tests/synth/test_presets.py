"""Presets: stated shapes, realistic effects, a clear error for an unknown name."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmmm as bm
from bayesmmm.synth import PRESET_NAMES, preset, simulate_preset

SHAPES = {  # weeks, geos, channels, controls
    "small_business": (104, 1, 4, 2),
    "growing_business": (131, 2, 6, 2),
    "medium_business": (156, 8, 8, 4),
    "large_business": (208, 50, 30, 10),
}


def test_preset_names() -> None:
    assert tuple(SHAPES) == PRESET_NAMES


@pytest.mark.parametrize("name", SHAPES)
def test_preset_shape_and_realism(name: str) -> None:
    weeks, geos, channels, controls = SHAPES[name]
    cfg = preset(name)
    assert cfg.name == name and cfg.description
    sim = simulate_preset(name, seed=0)
    panel = ["geo"] if geos > 1 else []
    assert sim.data.shape == (weeks * geos, len(panel) + 2 + channels + controls)
    assert list(sim.data.columns[:len(panel) + 2]) == [*panel, "date", "y"]
    if panel:
        assert sim.data["geo"].nunique() == geos
    s = sim.truth["summary"]
    assert (s["n_weeks"], s["n_geos"], len(s["channels"]), len(s["controls"])) == SHAPES[name]
    assert 0.15 <= s["media_share"] <= 0.40
    assert 0.85 <= s["r2_true_mean"] <= 0.95
    assert all(0.3 <= r <= 5.0 for r in sim.truth["roi"].values())
    assert all(np.isfinite(v) for v in sim.truth["parameters"].values())
    spec = bm.ModelSpec(**sim.spec_kwargs)
    assert spec.channel_columns == tuple(s["channels"])


@pytest.mark.parametrize("name", ["small_business", "medium_business"])
def test_classic_presets_use_classic_forms(name: str) -> None:
    cfg = preset(name)
    assert {(c.adstock, c.saturation) for c in cfg.channels} == {("geometric", "logistic")}


def test_other_presets_vary_forms_and_patterns() -> None:
    for name in ("growing_business", "large_business"):
        cfg = preset(name)
        assert len({c.adstock for c in cfg.channels}) >= 4
        assert len({c.saturation for c in cfg.channels}) >= 4
        assert "launch" in {c.pattern for c in cfg.channels}


def test_unknown_preset_lists_choices() -> None:
    with pytest.raises(ValueError, match=r"Unknown preset 'tiny'; expected one of \['small_bus"):
        simulate_preset("tiny")
